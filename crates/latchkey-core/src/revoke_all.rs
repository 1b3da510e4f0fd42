//! What an operator does to everything a user or a client holds at once: after a compromised account, a
//! leaked client secret, or an app reset. Each runs in the caller's one transaction, so it either happens
//! completely or not at all.

use latchkey_model::{ClientId, Timestamp, TokenRecord, Username};
use latchkey_store::{Repo, StoreError};
use serde::Serialize;

/// What revoking a user ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct UserRevocation {
    /// Token records revoked: every live access token, refresh token and unredeemed code of the user.
    pub revoked: u64,
    /// Browser sessions ended: the user must sign in again everywhere.
    pub sessions: u64,
}

/// Revokes every token record of `username` and ends every browser session, so that nothing issued before
/// `now` works after it: not an access or refresh token, not a code still waiting to be redeemed (a revoked
/// record's code is refused), not a signed-in browser. `None` when there is no such user.
pub fn user(
    repo: &mut Repo<'_>,
    username: &Username,
    now: Timestamp,
) -> Result<Option<UserRevocation>, StoreError> {
    if repo.find_user(username)?.is_none() {
        return Ok(None);
    }
    let revoked = repo.revoke_user(username, now)?;
    let sessions = repo.delete_user_sessions(username)?;
    // Whoever signed in as the user (an intruder, say) is a stranger to the login throttle again.
    repo.forget_sign_ins(username)?;
    Ok(Some(UserRevocation { revoked, sessions }))
}

/// Ends one token at `now`. A record holding a refresh token takes its whole grant with it (every rotation,
/// every token made through it), as RFC 7009 §2.1 has for a revoked refresh token. Returns how many records
/// were revoked.
pub fn token(repo: &mut Repo<'_>, record: &TokenRecord, now: Timestamp) -> Result<u64, StoreError> {
    if record.refresh_token_hash.is_some() {
        repo.revoke_family(&record.family_id, now)
    } else {
        repo.revoke_token(&record.id, now).map(u64::from)
    }
}

/// Revokes every token record of `client_id` (an app reset); other clients' tokens are untouched. `None`
/// when there is no such client.
pub fn client(repo: &mut Repo<'_>, client_id: &ClientId, now: Timestamp) -> Result<Option<u64>, StoreError> {
    if repo.find_client(client_id)?.is_none() {
        return Ok(None);
    }
    repo.revoke_client(client_id, now).map(Some)
}
