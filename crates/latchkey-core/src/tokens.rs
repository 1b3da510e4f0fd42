//! Minting the tokens of a grant onto its record (RFC 6749 §5.1 response).

use latchkey_model::{Client, GrantType, PlainSecret, SecretKind, Timestamp, TokenRecord};
use rand::{CryptoRng, RngCore};
use serde::Serialize;

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
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Minted {
    let access_token = PlainSecret::generate(SecretKind::AccessToken, rng);
    record.access_token_hash = Some(access_token.hash());
    record.access_token_expires = Some(now.plus_seconds(client.access_token_ttl_seconds));
    let refresh_token = with_refresh.then(|| PlainSecret::generate(SecretKind::RefreshToken, rng));
    record.refresh_token_hash = refresh_token.as_ref().map(PlainSecret::hash);
    record.refresh_token_expires =
        refresh_token.as_ref().and(client.refresh_token_ttl_seconds).map(|ttl| now.plus_seconds(ttl));
    Minted { access_token, refresh_token }
}

/// Finishes a grant: signs the ID token when the scope has `openid` and there is a user (the `nonce` only
/// for the first response of an authentication, OpenID Connect Core §12.2), records its hash, and builds the
/// response. The record is updated in memory; the caller stores it.
pub fn respond(
    record: &mut TokenRecord,
    client: &Client,
    user: Option<&latchkey_model::User>,
    minted: Minted,
    nonce: Option<&str>,
    keyring: &crate::keys::Keyring,
    now: Timestamp,
) -> Result<TokenResponse, crate::OAuthError> {
    use crate::id_token::{issue_id_token, IdTokenContent};
    let id_token = match user {
        Some(user) if record.scope.contains("openid") => Some(issue_id_token(
            keyring,
            &IdTokenContent {
                issuer: &record.issuer,
                client_id: client.id.as_str(),
                subject: &user.subject,
                nonce,
                auth_time: record.auth_time,
                // The access token fetches them from UserInfo.
                user_claims: None,
                // A password is the one way a user signs in to Latchkey.
                authentication_methods: if record.auth_time.is_some() { &["pwd"] } else { &[] },
                now,
                lifetime_seconds: client.access_token_ttl_seconds,
                access_token: Some(&minted.access_token),
                code: None,
                alg: client.id_token_signing_alg,
            },
        )?),
        _ => None,
    };
    record.id_token_hash = id_token.as_deref().map(latchkey_model::SecretHash::of);
    record.stage = latchkey_model::Stage::Complete;
    Ok(TokenResponse {
        access_token: minted.access_token.expose().to_owned(),
        token_type: "Bearer",
        expires_in: client.access_token_ttl_seconds,
        refresh_token: minted.refresh_token.map(|t| t.expose().to_owned()),
        id_token,
        scope: record.scope.to_string(),
    })
}
