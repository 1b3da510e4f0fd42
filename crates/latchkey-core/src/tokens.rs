//! Minting the tokens of a grant onto its record, and the token response (RFC 6749 §5.1, OpenID Connect
//! Core §3.1.3.3), built here and nowhere else.

use crate::id_token::{issue_id_token, IdTokenContent};
use crate::keys::Keyring;
use crate::OAuthError;
use latchkey_model::{
    Client, GrantType, PlainSecret, SecretHasher, SecretKind, Stage, Timestamp, TokenRecord, User,
};
use rand::{CryptoRng, RngCore};
use serde::Serialize;

/// The one token type Latchkey issues (RFC 6750); every response and introspection says it this way.
pub const BEARER: &str = "Bearer";

/// The successful token response (RFC 6749 §5.1, OpenID Connect Core §3.1.3.3).
#[derive(Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    pub scope: String,
}

impl TokenResponse {
    /// The response for what was just minted on `record`.
    pub fn of(record: &TokenRecord, client: &Client, minted: Minted, id_token: Option<String>) -> Self {
        Self {
            access_token: minted.access_token.expose().to_owned(),
            token_type: BEARER,
            expires_in: client.access_token_ttl_seconds,
            refresh_token: minted.refresh_token.map(|token| token.expose().to_owned()),
            id_token,
            scope: record.scope.to_string(),
        }
    }
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// The secrets just minted; they exist in the clear only until the response is written.
pub struct Minted {
    pub access_token: PlainSecret,
    pub refresh_token: Option<PlainSecret>,
}

/// Whether this grant gets a refresh token: the client must be allowed the refresh grant, and an OpenID
/// Connect request must have asked for `offline_access` (Core §11) — a plain OAuth request needs no scope.
pub fn wants_refresh_token(client: &Client, record: &TokenRecord) -> bool {
    client.allows_grant(GrantType::RefreshToken)
        && (!record.scope.contains("openid") || record.scope.contains("offline_access"))
}

/// Puts a fresh access token (and, if asked, refresh token) on the record, stored as hashes.
pub fn mint(
    record: &mut TokenRecord,
    client: &Client,
    with_refresh: bool,
    hasher: &SecretHasher,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Minted {
    let access_token = PlainSecret::generate(SecretKind::AccessToken, rng);
    record.access_token_hash = Some(access_token.hash(hasher));
    record.access_token_expires = Some(now.plus_seconds(client.access_token_ttl_seconds));
    let refresh_token = with_refresh.then(|| PlainSecret::generate(SecretKind::RefreshToken, rng));
    record.refresh_token_hash = refresh_token.as_ref().map(|token| token.hash(hasher));
    record.refresh_token_expires =
        refresh_token.as_ref().and(client.refresh_token_ttl_seconds).map(|ttl| now.plus_seconds(ttl));
    Minted { access_token, refresh_token }
}

/// Signs the ID token of a token response for `user`: with `at_hash`, `auth_time` and the `amr` of how the
/// user signed in, and the `nonce` only for the first response of an authentication (OpenID Connect Core
/// §12.2).
pub fn sign_id_token(
    record: &TokenRecord,
    client: &Client,
    user: &User,
    access_token: &PlainSecret,
    nonce: Option<&str>,
    keyring: &Keyring,
    now: Timestamp,
) -> Result<String, OAuthError> {
    let methods = record.auth_methods();
    let amr: Vec<&str> = methods.iter().map(|method| method.amr()).collect();
    let id_token = issue_id_token(
        keyring,
        &IdTokenContent {
            issuer: &record.issuer,
            client_id: client.id.as_str(),
            subject: &user.subject,
            nonce,
            auth_time: record.auth_time,
            // The access token fetches them from UserInfo.
            user_claims: None,
            authentication_methods: &amr,
            now,
            lifetime_seconds: client.access_token_ttl_seconds,
            access_token: Some(access_token),
            code: None,
            alg: client.id_token_signing_alg,
        },
    )?;
    Ok(id_token)
}

/// What a grant's tokens are signed and hashed with.
#[derive(Clone, Copy)]
pub struct TokenKeys<'k> {
    pub signing: &'k Keyring,
    pub hashing: &'k SecretHasher,
}

/// Finishes a grant: the ID token when the scope has `openid` and there is a user, the record complete, and
/// the response. The record is updated in memory; the caller stores it.
pub fn finish(
    record: &mut TokenRecord,
    client: &Client,
    user: Option<&User>,
    minted: Minted,
    nonce: Option<&str>,
    keys: TokenKeys<'_>,
    now: Timestamp,
) -> Result<TokenResponse, OAuthError> {
    let id_token = match user {
        Some(user) if record.scope.contains("openid") => {
            Some(sign_id_token(record, client, user, &minted.access_token, nonce, keys.signing, now)?)
        }
        _ => None,
    };
    // Its hash finds the record for `id_token_hint`. A continued record (a refresh) must not keep its
    // predecessor's: each hash names one record.
    record.id_token_hash = id_token.as_deref().map(|id_token| keys.hashing.hash(id_token));
    record.stage = Stage::Complete;
    Ok(TokenResponse::of(record, client, minted, id_token))
}
