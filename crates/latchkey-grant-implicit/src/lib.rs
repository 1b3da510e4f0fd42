//! The implicit grant (RFC 6749 §4.2) and the OpenID Connect implicit flow (Core §3.2). Legacy (RFC 9700
//! §2.1.2 says not to use it): off unless a client is registered with it.
//!
//! The request is validated and walks through login and consent exactly like a code request (the
//! authorization endpoint is shared); at the end, instead of a code, the tokens themselves go back in the
//! fragment (or a form post). Never a refresh token (§4.2.2).

use latchkey_core::claims::user_claims;
use latchkey_core::id_token::{issue_id_token, IdTokenContent};
use latchkey_core::keys::Keyring;
use latchkey_core::tokens::mint;
use latchkey_core::{OAuthError, Step};
use latchkey_model::{Client, SecretHash, Timestamp, TokenRecord, User};
use latchkey_store::Repo;
use rand::{CryptoRng, RngCore};

/// Whether `response_type` is answered with tokens rather than a code.
pub fn is_implicit(response_type: Option<&str>) -> bool {
    matches!(response_type, Some("token" | "id_token" | "id_token token"))
}

/// Issues what the settled `record` asked for: an access token for `token`, an ID token (with `nonce`, and
/// `at_hash` when an access token goes with it) for `id_token`. Returns the response parameters, without
/// `state` and `iss`, which every authorization response carries and the caller adds.
pub fn issue(
    repo: &mut Repo<'_>,
    record: &mut TokenRecord,
    client: &Client,
    user: &User,
    keyring: &Keyring,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Step<Vec<(String, String)>> {
    let response_type = record.response_type.clone().unwrap_or_default();
    let mut params = Vec::new();
    let access_token = if response_type.split(' ').any(|word| word == "token") {
        let minted = mint(record, client, false, now, rng);
        params.push(("access_token".to_owned(), minted.access_token.expose().to_owned()));
        params.push(("token_type".to_owned(), "Bearer".to_owned()));
        params.push(("expires_in".to_owned(), client.access_token_ttl_seconds.to_string()));
        params.push(("scope".to_owned(), record.scope.to_string()));
        Some(minted.access_token)
    } else {
        None
    };
    if response_type.split(' ').any(|word| word == "id_token") {
        // Without an access token there is no UserInfo call, so the claims ride in the ID token.
        let claims = access_token.is_none().then(|| user_claims(user, &record.scope));
        let content = IdTokenContent {
            issuer: &record.issuer,
            client_id: client.id.as_str(),
            subject: &user.subject,
            nonce: record.nonce.as_deref(),
            auth_time: record.auth_time,
            user_claims: claims.as_ref(),
            authentication_methods: &["pwd"],
            now,
            lifetime_seconds: client.access_token_ttl_seconds,
            access_token: access_token.as_ref(),
            code: None,
            alg: client.id_token_signing_alg,
        };
        let id_token = match issue_id_token(keyring, &content) {
            Ok(id_token) => id_token,
            Err(error) => return Ok(Err(error)),
        };
        record.id_token_hash = Some(SecretHash::of(&id_token));
        params.push(("id_token".to_owned(), id_token));
    }
    if params.is_empty() {
        return Ok(Err(OAuthError::server_error()));
    }
    repo.update_token(record)?;
    Ok(Ok(params))
}
