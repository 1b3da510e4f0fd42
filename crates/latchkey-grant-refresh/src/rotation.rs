//! Refresh-token rotation with reuse detection (RFC 6749 §6, RFC 9700 §4.14.2).
//!
//! The retired token stays findable by its hash, so presenting it again is recognised as reuse: the request
//! fails and every live token of the family is revoked, whoever holds it.

use crate::RefreshRequest;
use latchkey_core::keys::Keyring;
use latchkey_core::tokens::{finish, mint, TokenKeys, TokenResponse};
use latchkey_core::{OAuthError, Outcome};
use latchkey_model::{Client, GrantType, RecordId, Scope, Stage, Timestamp, TokenRecord};
use latchkey_store::{Consumed, Repo};
use rand::{CryptoRng, RngCore};

/// The scope to issue: what was asked for (or everything granted), which must stay within the grant (§6)
/// and within what the client may have now. Taking a scope away from a client reaches its refresh tokens.
fn scope_to_issue(requested: Option<&Scope>, granted: &Scope, client: &Client) -> Result<Scope, OAuthError> {
    match requested {
        None => Ok(granted.intersection(&client.scope)),
        Some(scope) if !scope.is_subset_of(granted) => {
            Err(OAuthError::invalid_scope("the scope may only narrow what was granted"))
        }
        Some(scope) if !scope.is_subset_of(&client.scope) => {
            Err(OAuthError::invalid_scope("the scope is no longer allowed for this client"))
        }
        Some(scope) => Ok(scope.clone()),
    }
}

/// Rotates the refresh token of an already authenticated `client`. Refusals that happen before the token
/// is taken (another client's token, a scope it may not have) leave it usable by its holder.
pub fn refresh(
    repo: &mut Repo<'_>,
    client: &Client,
    request: &RefreshRequest,
    keyring: &Keyring,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Outcome<TokenResponse> {
    if !client.allows_grant(GrantType::RefreshToken) {
        return Err(OAuthError::unauthorized_client("client may not use refresh tokens").into());
    }
    let presented = request.refresh_token.hash(repo.hasher()?);
    let Some(current) = repo.find_token_by_refresh_token(&presented)? else {
        return Err(OAuthError::invalid_grant("unknown refresh token").into());
    };
    if current.client_id != client.id {
        return Err(OAuthError::invalid_grant("the refresh token was issued to another client").into());
    }
    // The refresh token keeps the scope the owner granted; a narrower request narrows only what this
    // response issues, and the next refresh may ask for all of it again.
    let granted = current.granted_scope();
    let scope = scope_to_issue(request.scope.as_ref(), &granted, client)?;
    // Before the token is taken: a revocation of the user or the client racing this refresh either sees its
    // new token or is seen by it.
    repo.hold_client(&client.id)?;
    if let Some(username) = &current.username {
        repo.hold_user(username)?;
    }
    let old = match repo.consume_refresh_token(&presented, now)? {
        Consumed::First(old) => old,
        Consumed::Unknown => return Err(OAuthError::invalid_grant("unknown refresh token").into()),
        Consumed::Replayed(old) => {
            repo.revoke_family(&old.family_id, now)?;
            let why = "refresh token already used; the whole grant is revoked";
            return Err(OAuthError::invalid_grant(why).into());
        }
    };
    if old.refresh_token_expires.is_some_and(|expires| expires.has_passed(now)) {
        return Err(OAuthError::invalid_grant("refresh token expired").into());
    }
    let user = match &old.username {
        Some(username) => match repo.find_user(username)? {
            Some(user) if !user.disabled => Some(user),
            _ => return Err(OAuthError::invalid_grant("the user no longer exists or is disabled").into()),
        },
        None => None,
    };
    let mut next = continuation(&old, now, rng);
    next.narrow_scope(&granted, scope);
    let minted = mint(&mut next, client, true, repo.hasher()?, now, rng);
    // A refresh token's lifetime counts from the grant, not from each rotation (RFC 9700 §4.14.2).
    next.refresh_token_expires = old.refresh_token_expires;
    // No nonce on refresh: it belongs to the authentication, not to later tokens (OpenID Connect Core §12.2).
    let response = finish(
        &mut next,
        client,
        user.as_ref(),
        minted,
        None,
        TokenKeys { signing: keyring, hashing: repo.hasher()? },
        now,
    )?;
    repo.insert_token(&next)?;
    Ok(response)
}

/// The record that continues `old`'s grant: same family, user, client and authentication; no secrets yet.
fn continuation(old: &TokenRecord, now: Timestamp, rng: &mut (impl RngCore + CryptoRng)) -> TokenRecord {
    let mut next = old.clone();
    next.id = RecordId::generate(rng);
    next.created_at = now;
    next.active_at = None;
    next.revoked_at = None;
    next.code_hash = None;
    next.code_expires = None;
    next.code_redeemed_at = None;
    next.stage = Stage::Complete;
    next
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_model::{ClientCredentials, ClientId};

    fn client(scope: &str) -> Client {
        Client {
            id: ClientId::parse("app").unwrap(),
            name: "App".into(),
            credentials: ClientCredentials::Public,
            redirect_uris: Vec::new(),
            grant_types: [GrantType::RefreshToken].into(),
            scope: Scope::parse(scope).unwrap(),
            access_token_ttl_seconds: 60,
            refresh_token_ttl_seconds: None,
            id_token_signing_alg: Default::default(),
            created_at: Timestamp::from_unix_seconds(0),
            updated_at: Timestamp::from_unix_seconds(0),
        }
    }

    #[test]
    fn the_issued_scope_stays_within_the_grant_and_the_clients_scope() {
        let s = |text: &str| Scope::parse(text).unwrap();
        let granted = s("openid profile api");
        let cases = [
            ("everything, client unchanged", None, "openid profile api", Ok("api openid profile")),
            ("narrower", Some("api"), "openid profile api", Ok("api")),
            ("wider than granted", Some("api admin"), "openid profile api admin", Err("narrow")),
            ("everything, client lost api", None, "openid profile", Ok("openid profile")),
            ("asks for what the client lost", Some("api"), "openid profile", Err("no longer allowed")),
        ];
        for (name, requested, client_scope, expected) in cases {
            let requested = requested.map(s);
            let issued = scope_to_issue(requested.as_ref(), &granted, &client(client_scope));
            match (issued, expected) {
                (Ok(scope), Ok(text)) => assert_eq!(scope.to_string(), text, "{name}"),
                (Err(error), Err(words)) => {
                    assert!(error.description.unwrap_or_default().contains(words), "{name}")
                }
                (other, _) => panic!("{name}: {other:?}"),
            }
        }
    }
}
