//! Refresh-token rotation with reuse detection (RFC 6749 §6, RFC 9700 §4.14.2).
//!
//! Every use of a refresh token retires it and issues a new one in a new record of the same family. The
//! retired token stays findable by its hash, so presenting it again is recognised as reuse: the request
//! fails and every live token of the family is revoked, whoever holds it.

use crate::keys::Keyring;
use crate::tokens::{mint, respond, TokenResponse};
use crate::{OAuthError, Step};
use latchkey_model::{Client, RecordId, Scope, SecretHash, Stage, Timestamp, TokenRecord};
use latchkey_store::{Consumed, Repo};
use rand::{CryptoRng, RngCore};

/// Where a record whose access token was issued for a narrower scope keeps the scope of its grant.
const GRANTED_SCOPE_PROPERTY: &str = "granted_scope";

/// The scope the resource owner granted to the family `record` belongs to.
pub fn granted_scope(record: &TokenRecord) -> Scope {
    record
        .properties
        .get(GRANTED_SCOPE_PROPERTY)
        .and_then(|value| value.as_str())
        .and_then(|text| Scope::parse(text).ok())
        .unwrap_or_else(|| record.scope.clone())
}

/// Rotates `presented` for `client`, issuing `scope` (`None`: everything granted). Refusals that happen
/// before the token is taken (another client's token, a wider scope) leave it usable by its holder.
pub fn rotate(
    repo: &mut Repo<'_>,
    client: &Client,
    presented: &str,
    scope: Option<&Scope>,
    keyring: &Keyring,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Step<TokenResponse> {
    let presented = SecretHash::of(presented);
    let Some(current) = repo.find_token_by_refresh_token(&presented)? else {
        return Ok(Err(OAuthError::invalid_grant("unknown refresh token")));
    };
    if current.client_id != client.id {
        return Ok(Err(OAuthError::invalid_grant("the refresh token was issued to another client")));
    }
    // §6: the refresh token keeps the scope the owner granted; a narrower request narrows only what this
    // response issues, and the next refresh may ask for all of it again.
    let granted = granted_scope(&current);
    let scope = match scope {
        None => granted.clone(),
        Some(scope) if scope.is_subset_of(&granted) => scope.clone(),
        Some(_) => return Ok(Err(OAuthError::invalid_scope("the scope may only narrow what was granted"))),
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
