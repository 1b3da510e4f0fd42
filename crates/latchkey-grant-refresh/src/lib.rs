//! The refresh token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2).
//!
//! Every use of a refresh token retires it and issues a new one in a new record of the same family. The
//! retired token stays findable by its hash, so presenting it again is recognised as reuse: the request
//! fails and every live token of the family is revoked, whoever holds it.

use latchkey_core::keys::Keyring;
use latchkey_core::tokens::{mint, respond, TokenResponse};
use latchkey_core::{ErrorCode, OAuthError, Step};
use latchkey_model::{Client, GrantType, RecordId, Scope, SecretHash, Stage, Timestamp, TokenRecord};
use latchkey_store::{Consumed, Repo};
use rand::{CryptoRng, RngCore};

/// Where a record whose access token was issued for a narrower scope keeps the scope of its grant.
const GRANTED_SCOPE_PROPERTY: &str = "granted_scope";

/// The scope the resource owner granted to the family `record` belongs to.
fn granted_scope(record: &TokenRecord) -> Scope {
    record
        .properties
        .get(GRANTED_SCOPE_PROPERTY)
        .and_then(|value| value.as_str())
        .and_then(|text| Scope::parse(text).ok())
        .unwrap_or_else(|| record.scope.clone())
}

/// The parameters of a `refresh_token` token request.
#[derive(Clone)]
pub struct RefreshRequest {
    pub refresh_token: String,
    /// A narrower scope, or `None` for the scope originally granted.
    pub scope: Option<String>,
}

/// Rotates the refresh token of an already authenticated `client`.
pub fn refresh(
    repo: &mut Repo<'_>,
    client: &Client,
    request: &RefreshRequest,
    keyring: &Keyring,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Step<TokenResponse> {
    if !client.allows_grant(GrantType::RefreshToken) {
        return Ok(Err(OAuthError::new(ErrorCode::UnauthorizedClient, "client may not use refresh tokens")));
    }
    let presented = SecretHash::of(&request.refresh_token);
    let Some(current) = repo.find_token_by_refresh_token(&presented)? else {
        return Ok(Err(OAuthError::invalid_grant("unknown refresh token")));
    };
    // Checked before the token is taken: another client's token, or a refused scope, leaves it usable by
    // its holder.
    if current.client_id != client.id {
        return Ok(Err(OAuthError::invalid_grant("the refresh token was issued to another client")));
    }
    // §6: the refresh token keeps the scope the owner granted; a narrower request narrows only what this
    // response issues, and the next refresh may ask for all of it again.
    let granted = granted_scope(&current);
    let scope = match request.scope.as_deref() {
        None => granted.clone(),
        Some(text) => match Scope::parse(text) {
            Ok(scope) if scope.is_subset_of(&granted) => scope,
            _ => return Ok(Err(OAuthError::invalid_scope("the scope may only narrow what was granted"))),
        },
    };
    let old = match repo.consume_refresh_token(&presented, now)? {
        Consumed::First(old) => old,
        Consumed::Unknown => return Ok(Err(OAuthError::invalid_grant("unknown refresh token"))),
        Consumed::Replayed(old) => {
            repo.revoke_family(&old.family_id, now)?;
            return Ok(Err(OAuthError::invalid_grant(
                "refresh token already used; the whole grant is revoked",
            )));
        }
    };
    if old.refresh_token_expires.is_some_and(|expires| expires.has_passed(now)) {
        return Ok(Err(OAuthError::invalid_grant("refresh token expired")));
    }
    let user = match &old.username {
        Some(username) => match repo.find_user(username)? {
            Some(user) if !user.disabled => Some(user),
            _ => return Ok(Err(OAuthError::invalid_grant("the user no longer exists or is disabled"))),
        },
        None => None,
    };

    // The new record continues the grant: same family, user, client and authentication, new secrets.
    let mut next = old.clone();
    next.id = RecordId::generate(rng);
    next.created_at = now;
    next.active_at = None;
    next.revoked_at = None;
    next.code_hash = None;
    next.code_expires = None;
    next.code_redeemed_at = None;
    if scope != granted {
        next.properties.insert(GRANTED_SCOPE_PROPERTY.into(), granted.to_string().into());
    } else {
        next.properties.remove(GRANTED_SCOPE_PROPERTY);
    }
    next.scope = scope;
    next.stage = Stage::Complete;
    let minted = mint(&mut next, client, true, now, rng);
    // A refresh token's lifetime counts from the grant, not from each rotation (RFC 9700 §4.14.2).
    next.refresh_token_expires = old.refresh_token_expires;
    // No nonce on refresh: it belongs to the authentication, not to later tokens (OpenID Connect Core §12.2).
    let response = match respond(&mut next, client, user.as_ref(), minted, None, keyring, now) {
        Ok(response) => response,
        Err(error) => return Ok(Err(error)),
    };
    repo.insert_token(&next)?;
    Ok(Ok(response))
}
