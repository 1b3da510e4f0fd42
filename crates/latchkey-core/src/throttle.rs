//! Throttling of logins, per account and per client address (NIST SP 800-63B §5.2.2). Every path that
//! checks a password (the login page, the password grant) goes through here, so there is no way around the
//! counters. The counters live in the database, so they hold across every server.
//!
//! An attempt is counted before the password is checked, atomically, so parallel guesses cannot exceed the
//! limit. The lock-out is bounded: after the free attempts each further one locks for twice as long as the
//! one before, up to a cap; an attempt refused by a lock is not counted, so it lengthens nothing.
//!
//! A lock must not become a way to shut the owner out. So an attempt from a source the user has signed in
//! from before (the same browser, known by a long-lived device cookie, or the same address group) is counted
//! against that user and source alone: a stranger's guesses, however many and from wherever, lock the
//! account for strangers only. Address groups are IPv4 addresses and IPv6 /64 networks (one subscriber's
//! allocation), so an attacker cannot escape the address limit by walking through one network.

use crate::password::verify_password;
use latchkey_model::{SecretHash, Timestamp, User, Username};
use latchkey_store::{LoginAttempt, Repo, StoreError};
use std::net::IpAddr;

pub const FREE_ACCOUNT_ATTEMPTS: i64 = 5;
pub const FREE_ADDRESS_ATTEMPTS: i64 = 20;
pub const FIRST_LOCK_SECONDS: i64 = 30;
pub const MAX_LOCK_SECONDS: i64 = 15 * 60;
/// A counter with no attempt for this long, and no lock in force, starts again from zero.
pub const FORGET_AFTER_SECONDS: i64 = 60 * 60;
/// A source the user has not signed in from for this long is a stranger again.
pub const KNOWN_FOR_SECONDS: i64 = 90 * 24 * 60 * 60;

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

/// Counted by the name exactly as typed: it is the name looked up, so no other spelling can reset it. A
/// name that is no username at all is counted under one subject for all of them: such attempts cannot
/// succeed, and the table does not grow by one row per junk name.
fn account_subject(username: &str) -> String {
    match Username::parse(username) {
        Ok(name) => format!("user:{}", name.as_str()),
        Err(_) => "user-invalid".to_owned(),
    }
}

fn address_subject(group: &str) -> String {
    format!("ip:{group}")
}

/// A prefix of its own, so that no typed name can make an account subject that equals it (a name such as
/// `alice@ip:…` would otherwise spend alice's known-address budget).
fn known_source_subject(username: &str, source: &str) -> String {
    format!("known:{source}|{username}")
}

/// The group an address is limited as: an IPv4 address itself, an IPv6 address's /64.
pub fn address_group(address: &str) -> String {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let network = std::net::Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64));
            format!("{network}/64")
        }
        Ok(IpAddr::V6(v6)) => v6.to_ipv4_mapped().map_or_else(|| address.to_owned(), |v4| v4.to_string()),
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => address.to_owned(),
    }
}

/// Where a login attempt comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginSource {
    /// The client's address (see the server's `trusted_proxies`).
    pub address: String,
    /// The SHA-256 of the browser's device cookie, when it sent one.
    pub browser: Option<SecretHash>,
}

impl LoginSource {
    /// From an address alone (the password grant: no browser).
    pub fn address(address: &str) -> Self {
        Self { address: address.to_owned(), browser: None }
    }

    fn group(&self) -> String {
        address_group(&self.address)
    }

    /// The names this source can be known by, most specific first.
    fn keys(&self) -> Vec<String> {
        let browser = self.browser.as_ref().map(|hash| format!("browser:{}", hash.to_hex()));
        browser.into_iter().chain([address_subject(&self.group())]).collect()
    }
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
    source: &LoginSource,
    now: Timestamp,
) -> Result<Attempt, StoreError> {
    let forget_before = now.plus_seconds(-FORGET_AFTER_SECONDS);
    let account_lock = |n| lock_seconds(n, FREE_ACCOUNT_ATTEMPTS);
    let known = repo.known_sign_in_source(username, &source.keys(), now.plus_seconds(-KNOWN_FOR_SECONDS))?;
    let outcomes = match known {
        // The owner's own browser or network: its own budget, untouched by anyone else's guesses.
        Some(known) => {
            vec![repo.count_login_attempt(
                &known_source_subject(username, &known),
                now,
                forget_before,
                account_lock,
            )?]
        }
        None => vec![
            repo.count_login_attempt(&account_subject(username), now, forget_before, account_lock)?,
            repo.count_login_attempt(&address_subject(&source.group()), now, forget_before, |n| {
                lock_seconds(n, FREE_ADDRESS_ATTEMPTS)
            })?,
        ],
    };
    for outcome in outcomes {
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

/// After a successful login: the count the attempt was made against starts again, the address is not held
/// to the attempt that succeeded (many people may share one address, a proxy's or an office's), and the
/// source becomes known for this user. A sign-in from a known source leaves the strangers' count of the
/// account alone: the owner signing in does not buy an attacker elsewhere a fresh set of guesses.
pub fn succeeded(
    repo: &mut Repo<'_>,
    username: &Username,
    source: &LoginSource,
    now: Timestamp,
) -> Result<(), StoreError> {
    let name = username.as_str();
    let keys = source.keys();
    match repo.known_sign_in_source(name, &keys, now.plus_seconds(-KNOWN_FOR_SECONDS))? {
        Some(known) => repo.clear_login_failures(&known_source_subject(name, &known))?,
        // Only a stranger's attempt was counted against the address, so only then is one forgiven.
        None => {
            repo.clear_login_failures(&account_subject(name))?;
            repo.forgive_login_attempt(&address_subject(&source.group()))?;
        }
    }
    for key in &keys {
        repo.remember_sign_in(name, key, now)?;
    }
    Ok(())
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

    #[test]
    fn ipv6_addresses_are_grouped_by_their_64() {
        assert_eq!(address_group("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(address_group("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
        assert_ne!(address_group("2001:db8:1:3::1"), address_group("2001:db8:1:2::1"));
        assert_eq!(address_group("192.0.2.7"), "192.0.2.7");
        assert_eq!(address_group("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(address_group("unknown"), "unknown");
    }
}
