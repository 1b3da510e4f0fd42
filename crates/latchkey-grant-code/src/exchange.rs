//! Redeeming a code at the token endpoint (RFC 6749 §4.1.3–4.1.4, RFC 7636 §4.5–4.6, OpenID Connect Core
//! §3.1.3): exactly once, for the client it was issued to, with the commitments of its authorization
//! request (redirect URI, PKCE verifier, nonce). A second presentation revokes everything the first one
//! issued (§4.1.2).

use crate::authorize::redirect_uri_presented;
use crate::pkce;
use latchkey_core::keys::Keyring;
use latchkey_core::tokens::{finish, mint, wants_refresh_token, TokenKeys, TokenResponse};
use latchkey_core::{Form, OAuthError, Outcome};
use latchkey_model::{Client, GrantType, PlainSecret, Timestamp, TokenRecord};
use latchkey_store::{Consumed, Repo};
use rand::{CryptoRng, RngCore};

/// The parameters of an `authorization_code` token request (§4.1.3).
#[derive(Clone)]
pub struct CodeExchange {
    pub code: PlainSecret,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
}

impl CodeExchange {
    pub fn from_form(form: &Form) -> Result<Self, OAuthError> {
        Ok(Self {
            code: PlainSecret::from_presented(form.required("code")?),
            redirect_uri: form.text("redirect_uri")?,
            code_verifier: form.text("code_verifier")?,
        })
    }
}

/// Exchanges a code for tokens, for an already authenticated `client`.
pub fn exchange(
    repo: &mut Repo<'_>,
    client: &Client,
    request: &CodeExchange,
    keyring: &Keyring,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Outcome<TokenResponse> {
    if !client.allows_grant(GrantType::AuthorizationCode) {
        return Err(OAuthError::unauthorized_client("client may not use this grant").into());
    }
    let hash = request.code.hash(repo.hasher()?);
    // Refusals that need no redemption come first, so that presenting them cannot spend the code for the
    // client it was issued to.
    if let Some(record) = repo.find_token_by_code(&hash)? {
        if record.client_id != client.id {
            return Err(OAuthError::invalid_grant("the code was issued to another client").into());
        }
        if redirect_uri_presented(&record) && request.redirect_uri.is_none() {
            let why = "redirect_uri is required: the authorization request named one";
            return Err(OAuthError::invalid_request(why).into());
        }
    }
    let mut record = match repo.redeem_code(&hash, now)? {
        Consumed::First(record) => record,
        Consumed::Unknown => return Err(OAuthError::invalid_grant("unknown authorization code").into()),
        Consumed::Replayed(record) => {
            repo.revoke_family(&record.family_id, now)?;
            return Err(
                OAuthError::invalid_grant("authorization code already used; its tokens are revoked").into()
            );
        }
    };
    if record.code_expires.is_none_or(|expires| expires.has_passed(now)) {
        return Err(OAuthError::invalid_grant("authorization code expired").into());
    }
    check_commitments(&record, request)?;
    let Some(username) = &record.username else {
        return Err(OAuthError::invalid_grant("authorization was not completed").into());
    };
    let user = match repo.find_user(username)? {
        Some(user) if !user.disabled => user,
        _ => return Err(OAuthError::invalid_grant("the user no longer exists or is disabled").into()),
    };
    let with_refresh = wants_refresh_token(client, &record);
    let minted = mint(&mut record, client, with_refresh, repo.hasher()?, now, rng);
    let nonce = record.nonce.clone();
    let response = finish(
        &mut record,
        client,
        Some(&user),
        minted,
        nonce.as_deref(),
        TokenKeys { signing: keyring, hashing: repo.hasher()? },
        now,
    )?;
    repo.update_token(&record)?;
    latchkey_core::grant_cap::keep_newest(repo, &record, now)?;
    Ok(response)
}

/// What the authorization request committed the token request to: the exact `redirect_uri` string when
/// one was named (§4.1.3; RFC 9700 §4.1.3 compares strings, not parsed URLs), and the PKCE verifier exactly
/// when a challenge was made (RFC 7636 §4.6, RFC 9700 §4.8: a verifier without a challenge is a downgrade).
fn check_commitments(record: &TokenRecord, request: &CodeExchange) -> Result<(), OAuthError> {
    let expected = record.redirect_uri.as_ref().map(|uri| uri.as_str());
    if let Some(presented) = request.redirect_uri.as_deref() {
        if expected != Some(presented) {
            return Err(OAuthError::invalid_grant("redirect_uri does not match the authorization request"));
        }
    }
    pkce::precheck(record.code_challenge.as_deref(), request.code_verifier.as_deref())?;
    match (&record.code_challenge, &request.code_verifier) {
        (Some(challenge), Some(verifier)) => pkce::verify(challenge, verifier),
        _ => Ok(()),
    }
}
