//! Token revocation (RFC 7009).

use crate::introspection::{find_token, Credential, TokenQuestion};
use crate::{ErrorCode, OAuthError, Outcome};
use latchkey_model::{Client, Timestamp};
use latchkey_store::Repo;

/// Revokes `token` for the authenticated `caller`. An unknown or already revoked token is a success
/// (§2.2: the client cannot do anything about it). Revoking a refresh token ends its whole grant, every
/// rotation and access token of it (§2.1); revoking an access token ends the record that holds it.
pub fn revoke(repo: &mut Repo<'_>, caller: &Client, question: &TokenQuestion, now: Timestamp) -> Outcome<()> {
    let Some((kind, record)) = find_token(repo, &question.token, question.hint)? else {
        // §2.2.1: an ID token is ours but not a credential that can be revoked; say so. Anything else is
        // unknown, and revoking the unknown succeeds.
        if repo.find_token_by_id_token(&repo.hasher()?.hash(&question.token))?.is_some() {
            return Err(
                OAuthError::new(ErrorCode::UnsupportedTokenType, "ID tokens cannot be revoked").into()
            );
        }
        return Ok(());
    };
    // §2.1: the server "verifies whether the token was issued to the client making the revocation request".
    if record.client_id != caller.id {
        return Err(OAuthError::unauthorized_client("the token was not issued to this client").into());
    }
    match kind {
        Credential::RefreshToken => repo.revoke_family(&record.family_id, now)?,
        Credential::AccessToken => u64::from(repo.revoke_token(&record.id, now)?),
    };
    Ok(())
}
