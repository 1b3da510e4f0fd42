//! Throttling of logins, per account and per client address (NIST SP 800-63B §5.2.2). Every path that
//! checks a password (the login page, the password grant) goes through here, so there is no way around the
//! counters.
//!
//! An attempt is counted before the password is checked, atomically, so parallel guesses cannot exceed the
//! limit. The lock-out is bounded: after the free attempts each further one locks for twice as long as the
//! one before, up to a cap, so a lock slows an attacker down but never shuts the owner out for good; a
//! successful login resets the account's count.

use crate::password::verify_password;
use latchkey_model::{Timestamp, User, Username};
use latchkey_store::{LoginAttempt, Repo, StoreError};

pub const FREE_ACCOUNT_ATTEMPTS: i64 = 5;
pub const FREE_ADDRESS_ATTEMPTS: i64 = 20;
pub const FIRST_LOCK_SECONDS: i64 = 30;
pub const MAX_LOCK_SECONDS: i64 = 15 * 60;
/// A counter with no attempt for this long, and no lock in force, starts again from zero.
pub const FORGET_AFTER_SECONDS: i64 = 60 * 60;

/// Seconds to lock after attempt number `attempts` when `free` are allowed: none before the last free one,
/// then 30 s, 60 s, 120 s, … up to 15 minutes.
pub fn lock_seconds(attempts: i64, free: i64) -> Option<i64> {
    let over = attempts.checked_sub(free)?;
    if over < 0 {
        return None;
    }
    let doubling = u32::try_from(over.min(20)).unwrap_or(20);
    Some(FIRST_LOCK_SECONDS.saturating_mul(1_i64 << doubling).min(MAX_LOCK_SECONDS))
}

/// Counted by the name exactly as typed: it is the name looked up, so no other spelling can reset it.
fn account_subject(username: &str) -> String {
    format!("user:{username}")
}

fn address_subject(address: &str) -> String {
    format!("ip:{address}")
}

/// The first half of a login: count the attempt and fetch the user. Run it in a write transaction, then
/// check the password outside any transaction with [`password_matches`], then call [`succeeded`] on success.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt {
    /// Go ahead and check the password against this user (`None`: unknown or disabled, checked against a
    /// dummy hash so the answer takes as long and reads the same).
    Allowed(Option<Box<User>>),
    /// Too many attempts for this account or address; refused until then.
    Locked(Timestamp),
}

pub fn begin_attempt(
    repo: &mut Repo<'_>,
    username: &str,
    client_address: &str,
    now: Timestamp,
) -> Result<Attempt, StoreError> {
    let forget_before = now.plus_seconds(-FORGET_AFTER_SECONDS);
    let account = repo.count_login_attempt(&account_subject(username), now, forget_before, |n| {
        lock_seconds(n, FREE_ACCOUNT_ATTEMPTS)
    })?;
    let address = repo.count_login_attempt(&address_subject(client_address), now, forget_before, |n| {
        lock_seconds(n, FREE_ADDRESS_ATTEMPTS)
    })?;
    for outcome in [account, address] {
        if let LoginAttempt::Locked(until) = outcome {
            return Ok(Attempt::Locked(until));
        }
    }
    let user = match Username::parse(username) {
        Ok(name) => repo.find_user(&name)?,
        Err(_) => None,
    };
    Ok(Attempt::Allowed(user.filter(|user| !user.disabled).map(Box::new)))
}

/// Argon2id check; slow on purpose, so keep it out of transactions.
pub fn password_matches(user: Option<&User>, password: &str) -> bool {
    let matches = verify_password(user.map(|u| &u.password_hash), password);
    matches && user.is_some()
}

/// After a successful login: the account's count starts again, and the address is not held to the attempt
/// that succeeded (many people may share one address, a proxy's or an office's).
pub fn succeeded(repo: &mut Repo<'_>, username: &Username, client_address: &str) -> Result<(), StoreError> {
    repo.clear_login_failures(&account_subject(username.as_str()))?;
    repo.forgive_login_attempt(&address_subject(client_address))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_grows_then_caps() {
        assert_eq!(lock_seconds(4, 5), None);
        assert_eq!(lock_seconds(5, 5), Some(30));
        assert_eq!(lock_seconds(6, 5), Some(60));
        assert_eq!(lock_seconds(9, 5), Some(480));
        assert_eq!(lock_seconds(10, 5), Some(MAX_LOCK_SECONDS));
        assert_eq!(lock_seconds(10_000, 5), Some(MAX_LOCK_SECONDS));
        assert_eq!(lock_seconds(i64::MIN, 5), None);
    }
}
