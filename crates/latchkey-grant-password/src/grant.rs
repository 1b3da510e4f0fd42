//! The password grant's steps (RFC 6749 §4.3.2–4.3.3).

use crate::PasswordRequest;
use latchkey_core::keys::Keyring;
use latchkey_core::throttle::{self, Attempt, LoginSource};
use latchkey_core::tokens::{finish, mint, wants_refresh_token, TokenKeys, TokenResponse};
use latchkey_core::{OAuthError, Outcome};
use latchkey_model::{AuthMethod, Client, GrantType, RecordId, Scope, Timestamp, TokenRecord, User};
use latchkey_store::Repo;
use rand::{CryptoRng, RngCore};

/// The answer for a wrong password and for an unknown user alike (§5.2).
pub fn wrong_credentials() -> OAuthError {
    OAuthError::invalid_grant("the username or password is wrong")
}

/// A counted attempt, waiting for its password check.
pub struct PasswordCheck {
    client: Client,
    /// `None` for an unknown or disabled user: checked against a dummy hash so both read and take the same.
    user: Option<Box<User>>,
    password: String,
    scope: Scope,
}

/// A password that matched: the grant may be issued.
pub struct Verified {
    client: Client,
    user: Box<User>,
    scope: Scope,
}

/// Step 1: checks the client and scope, then counts the attempt for the account and the client address.
pub fn begin(
    repo: &mut Repo<'_>,
    client: Client,
    request: PasswordRequest,
    client_address: &str,
    now: Timestamp,
) -> Outcome<PasswordCheck> {
    if !client.allows_grant(GrantType::Password) {
        return Err(OAuthError::unauthorized_client("this client may not use the password grant").into());
    }
    let scope = match request.scope {
        None => client.scope.clone(),
        Some(scope) if scope.is_subset_of(&client.scope) => scope,
        Some(_) => {
            return Err(OAuthError::invalid_scope("the scope is wider than the client is allowed").into())
        }
    };
    match throttle::begin_attempt(repo, &request.username, &LoginSource::address(client_address), now)? {
        Attempt::Allowed(user) => Ok(PasswordCheck { client, user, password: request.password, scope }),
        Attempt::Locked(until) => {
            let wait = until.unix_seconds().saturating_sub(now.unix_seconds()).max(1);
            Err(OAuthError::invalid_grant(format!("too many failed attempts; try again in {wait} s")).into())
        }
    }
}

impl PasswordCheck {
    /// Step 2: the Argon2id comparison; slow on purpose, so keep it out of transactions and off the
    /// request threads.
    pub fn run(self) -> Result<Verified, OAuthError> {
        let matches = throttle::password_matches(self.user.as_deref(), &self.password);
        match (self.user, matches) {
            (Some(user), true) => Ok(Verified { client: self.client, user, scope: self.scope }),
            _ => Err(wrong_credentials()),
        }
    }
}

/// Step 3: the tokens, once the password matched: an access token, a refresh token when the client may have
/// one (and, for OpenID Connect, `offline_access` was granted), and an ID token for `openid`. A user
/// disabled, or whose password was reset, while the password was being checked gets nothing.
pub fn issue(
    repo: &mut Repo<'_>,
    verified: Verified,
    client_address: &str,
    issuer: &str,
    keyring: &Keyring,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Outcome<TokenResponse> {
    let Verified { client, user, scope } = verified;
    // Held against a revocation of the user or the client made at the same instant.
    repo.hold_client(&client.id)?;
    repo.hold_user(&user.username)?;
    // The password was checked against the hash read in step 1: a reset or a disabling since then wins.
    if repo
        .find_user(&user.username)?
        .is_none_or(|now| now.disabled || now.password_hash != user.password_hash)
    {
        return Err(wrong_credentials().into());
    }
    throttle::succeeded(repo, &user.username, &LoginSource::address(client_address), now)?;
    let mut record =
        TokenRecord::new(RecordId::generate(rng), client.id.clone(), GrantType::Password, issuer, now);
    record.username = Some(user.username.clone());
    record.audience = vec![client.id.to_string()];
    record.scope = scope;
    record.auth_time = Some(now);
    record.set_auth_methods(&[AuthMethod::Password]);
    let with_refresh = wants_refresh_token(&client, &record);
    let minted = mint(&mut record, &client, with_refresh, repo.hasher()?, now, rng);
    let response = finish(
        &mut record,
        &client,
        Some(&user),
        minted,
        None,
        TokenKeys { signing: keyring, hashing: repo.hasher()? },
        now,
    )?;
    repo.insert_token(&record)?;
    latchkey_core::grant_cap::keep_newest(repo, &record, now)?;
    Ok(response)
}
