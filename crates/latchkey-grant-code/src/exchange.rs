//! Redeeming a code at the token endpoint (RFC 6749 §4.1.3–4.1.4, RFC 7636 §4.5–4.6, OpenID Connect Core
//! §3.1.3).

use crate::pkce;
use latchkey_core::keys::Keyring;
use latchkey_core::tokens::{mint, respond, wants_refresh_token, TokenResponse};
use latchkey_core::{ErrorCode, OAuthError, Step};
use latchkey_model::{Client, GrantType, PlainSecret, Timestamp, TokenRecord};
use latchkey_store::{Consumed, Repo};
use rand::{CryptoRng, RngCore};

/// The parameters of an `authorization_code` token request.
#[derive(Clone)]
pub struct CodeExchange {
    pub code: String,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
}

/// Exchanges a code for tokens, for an already authenticated `client`. A second presentation of the same
/// code fails and revokes everything the first one issued (RFC 6749 §4.1.2).
pub fn exchange(
    repo: &mut Repo<'_>,
    client: &Client,
    request: &CodeExchange,
    keyring: &Keyring,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Step<TokenResponse> {
    if !client.allows_grant(GrantType::AuthorizationCode) {
        return Ok(Err(OAuthError::new(ErrorCode::UnauthorizedClient, "client may not use this grant")));
    }
    let code = PlainSecret::from_presented(request.code.as_str());
    // Another client's code is refused before it is taken, so presenting it cannot spend it for the client
    // it was issued to.
    if repo.find_token_by_code(&code.hash())?.is_some_and(|record| record.client_id != client.id) {
        return Ok(Err(OAuthError::invalid_grant("the code was issued to another client")));
    }
    let mut record = match repo.redeem_code(&code.hash(), now)? {
        Consumed::First(record) => record,
        Consumed::Unknown => return Ok(Err(OAuthError::invalid_grant("unknown authorization code"))),
        Consumed::Replayed(record) => {
            repo.revoke_family(&record.family_id, now)?;
            return Ok(Err(OAuthError::invalid_grant(
                "authorization code already used; its tokens are revoked",
            )));
        }
    };
    if let Err(error) = check(&record, client, request, now) {
        return Ok(Err(error));
    }
    let Some(username) = record.username.clone() else {
        return Ok(Err(OAuthError::invalid_grant("authorization was not completed")));
    };
    let user = match repo.find_user(&username)? {
        Some(user) if !user.disabled => user,
        _ => return Ok(Err(OAuthError::invalid_grant("the user no longer exists or is disabled"))),
    };
    let with_refresh = wants_refresh_token(client, &record);
    let minted = mint(&mut record, client, with_refresh, now, rng);
    let nonce = record.nonce.clone();
    let response = match respond(&mut record, client, Some(&user), minted, nonce.as_deref(), keyring, now) {
        Ok(response) => response,
        Err(error) => return Ok(Err(error)),
    };
    repo.update_token(&record)?;
    Ok(Ok(response))
}

/// The checks of RFC 6749 §4.1.3 on a code that was just taken.
fn check(
    record: &TokenRecord,
    client: &Client,
    request: &CodeExchange,
    now: Timestamp,
) -> Result<(), OAuthError> {
    if record.client_id != client.id {
        return Err(OAuthError::invalid_grant("the code was issued to another client"));
    }
    if record.code_expires.is_none_or(|expires| expires.has_passed(now)) {
        return Err(OAuthError::invalid_grant("authorization code expired"));
    }
    let expected = record.redirect_uri.as_ref().map(|uri| uri.as_str());
    if expected != request.redirect_uri.as_deref() {
        return Err(OAuthError::invalid_grant("redirect_uri does not match the authorization request"));
    }
    pkce::verify(record.code_challenge.as_deref(), request.code_verifier.as_deref())
}
