//! The resource owner password credentials grant (RFC 6749 §4.3). Legacy (RFC 9700 §2.4 says not to use
//! it), so it is off unless a client is registered with it.
//!
//! It goes through the same throttle as the login page ([`latchkey_core::throttle`]): the attempt is
//! counted before the password is checked, so the token endpoint is no way around the lock-out. Three
//! steps, so the slow hash runs outside any transaction: [`begin`] (count, fetch), [`password_matches`],
//! then [`issue`].

use latchkey_core::keys::Keyring;
use latchkey_core::throttle::{self, Attempt};
use latchkey_core::tokens::{mint, respond, wants_refresh_token, TokenResponse};
use latchkey_core::{ErrorCode, OAuthError, Step};
use latchkey_model::{Client, GrantType, RecordId, Scope, Stage, Timestamp, TokenRecord, User};
use latchkey_store::Repo;
use rand::{CryptoRng, RngCore};

pub use latchkey_core::throttle::password_matches;

/// The parameters of a `password` token request.
#[derive(Clone)]
pub struct PasswordRequest {
    pub username: String,
    pub password: String,
    pub scope: Option<String>,
}

impl std::fmt::Debug for PasswordRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordRequest").field("username", &self.username).finish_non_exhaustive()
    }
}

/// What [`begin`] found: the user to check the password against (`None` for unknown or disabled, checked
/// against a dummy hash so both read and take the same) and the scope to grant.
#[derive(Debug)]
pub struct Begun {
    pub user: Option<Box<User>>,
    pub scope: Scope,
}

/// The answer for a wrong password and for an unknown user alike (RFC 6749 §5.2).
pub fn wrong_credentials() -> OAuthError {
    OAuthError::invalid_grant("the username or password is wrong")
}

/// Checks the client and scope, then counts the attempt for the account and the client address.
pub fn begin(
    repo: &mut Repo<'_>,
    client: &Client,
    request: &PasswordRequest,
    client_address: &str,
    now: Timestamp,
) -> Step<Begun> {
    if !client.allows_grant(GrantType::Password) {
        return Ok(Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client may not use the password grant",
        )));
    }
    let scope = match request.scope.as_deref() {
        None => client.scope.clone(),
        Some(text) => match Scope::parse(text) {
            Ok(scope) if scope.is_subset_of(&client.scope) => scope,
            _ => return Ok(Err(OAuthError::invalid_scope("the scope is wider than the client is allowed"))),
        },
    };
    match throttle::begin_attempt(repo, &request.username, client_address, now)? {
        Attempt::Allowed(user) => Ok(Ok(Begun { user, scope })),
        Attempt::Locked(until) => {
            let wait = until.unix_seconds().saturating_sub(now.unix_seconds()).max(1);
            Ok(Err(OAuthError::invalid_grant(format!("too many failed attempts; try again in {wait} s"))))
        }
    }
}

/// Issues the tokens once the password matched: an access token, a refresh token when the client may have
/// one (and, for OpenID Connect, `offline_access` was granted), and an ID token for `openid`.
#[allow(clippy::too_many_arguments)]
pub fn issue(
    repo: &mut Repo<'_>,
    client: &Client,
    user: &User,
    scope: Scope,
    client_address: &str,
    issuer: &str,
    keyring: &Keyring,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Step<TokenResponse> {
    throttle::succeeded(repo, &user.username, client_address)?;
    let mut record =
        TokenRecord::new(RecordId::generate(rng), client.id.clone(), GrantType::Password, issuer, now);
    record.username = Some(user.username.clone());
    record.audience = vec![client.id.to_string()];
    record.scope = scope;
    record.auth_time = Some(now);
    record.stage = Stage::Complete;
    let with_refresh = wants_refresh_token(client, &record);
    let minted = mint(&mut record, client, with_refresh, now, rng);
    let response = match respond(&mut record, client, Some(user), minted, None, keyring, now) {
        Ok(response) => response,
        Err(error) => return Ok(Err(error)),
    };
    repo.insert_token(&record)?;
    Ok(Ok(response))
}
