//! Who is calling with a bearer token (RFC 6750): the one check behind UserInfo and the owner token API.
//! A token passes only while its record is live, its user exists and is enabled, and the scope it needs is
//! within what it may do now (its grant, bounded by its client's current scope).

use crate::{ErrorCode, OAuthError, Outcome};
use latchkey_model::{GrantType, Scope, Timestamp, TokenRecord, User, Username};
use latchkey_store::{Repo, StoreError};

/// What a resource asks of the token presented to it.
#[derive(Debug, Clone, Copy)]
pub struct Requirement<'a> {
    /// The scope the token must carry (RFC 6750 §3.1: otherwise `insufficient_scope`).
    pub scope: &'a str,
}

/// A token that passed, with everything the resource needs to answer.
#[derive(Debug, Clone)]
pub struct Caller {
    pub record: TokenRecord,
    pub user: User,
    /// What the token may do now.
    pub scope: Scope,
}

/// What `record` may do now: what was granted, within its client's current scope
/// ([`TokenRecord::scope_in_force`]). A personal token made through a grant (it joined the grant's family)
/// stays within the current scope of that grant's client; one made outright stands as it was made.
pub fn scope_in_force(repo: &mut Repo<'_>, record: &TokenRecord) -> Result<Scope, StoreError> {
    let personal = record.grant_type == GrantType::Personal && record.username.is_some();
    let bounding = match personal {
        false => Some(record.client_id.clone()),
        true if record.family_id != record.id => match repo.get_token(&record.family_id) {
            Ok(grant) => Some(grant.client_id),
            Err(StoreError::NotFound) => None,
            Err(other) => return Err(other),
        },
        true => None,
    };
    match bounding {
        None => Ok(record.scope.clone()),
        Some(id) => Ok(match repo.find_client(&id)? {
            Some(client) if personal => record.scope.intersection(&client.scope),
            Some(client) => record.scope_in_force(&client),
            None => Scope::empty(),
        }),
    }
}

impl Caller {
    pub fn username(&self) -> &Username {
        &self.user.username
    }
}

fn invalid_token() -> OAuthError {
    OAuthError::new(ErrorCode::InvalidToken, "the access token is invalid, expired or revoked")
}

/// Checks `token` for a resource acting for a user. Refusals are `invalid_token` (missing, unknown,
/// expired, revoked, the user gone or disabled, a token without a user) and `insufficient_scope`.
pub fn authenticate_bearer(
    repo: &mut Repo<'_>,
    token: &str,
    requirement: Requirement<'_>,
    now: Timestamp,
) -> Outcome<Caller> {
    let Some(record) = repo.find_token_by_access_token(&repo.hasher()?.hash(token))? else {
        return Err(invalid_token().into());
    };
    if !record.access_token_is_active(now) {
        return Err(invalid_token().into());
    }
    let Some(username) = &record.username else { return Err(invalid_token().into()) };
    let user = match repo.find_user(username)? {
        Some(user) if !user.disabled => user,
        _ => return Err(invalid_token().into()),
    };
    let scope = scope_in_force(repo, &record)?;
    if !scope.contains(requirement.scope) {
        let needs = requirement.scope;
        let refusal = OAuthError {
            scope: Some(needs.to_owned()),
            ..OAuthError::new(ErrorCode::InsufficientScope, format!("the token needs the {needs} scope"))
        };
        return Err(refusal.into());
    }
    Ok(Caller { record, user, scope })
}
