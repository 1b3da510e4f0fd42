//! The expired-data janitor: deletes token records, browser sessions and failed-login counters nothing can
//! use any more. It works in batches, each its own short transaction, so it runs beside live traffic
//! without holding the write lock for long. Each batch holds [`Exclusive::Janitor`]: when servers share a
//! database, a server that finds another one's batch running leaves the sweep to it.

use crate::throttle::{FORGET_AFTER_SECONDS, KNOWN_FOR_SECONDS};
use latchkey_model::Timestamp;
use latchkey_store::{Exclusive, Repo, Store, StoreError, TokenRetention};

/// Rows deleted per transaction.
pub const BATCH: i64 = 500;
/// An authorization request not completed within an hour was abandoned.
pub const ABANDONED_AFTER_SECONDS: i64 = 60 * 60;
/// How long a revoked record is kept at least. While any record of its refresh family is live it is kept
/// longer, whatever its age: a rotated refresh token presented again must be recognised as reuse and revoke
/// the family (RFC 9700 §4.14.2).
pub const REVOKED_KEPT_SECONDS: i64 = 30 * 24 * 60 * 60;

/// What one sweep deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub tokens: u64,
    pub sessions: u64,
    pub login_failures: u64,
    /// Sign-in sources no longer known (see [`crate::throttle`]).
    pub known_sign_ins: u64,
    /// Another server was sweeping, and this one left the rest to it.
    pub left_to_another_server: bool,
}

/// One full pass at `now`. Sessions idle since before `session_idle_before` are ended too.
pub fn sweep(
    store: &Store,
    now: Timestamp,
    session_idle_before: Timestamp,
    batch: i64,
) -> Result<Swept, StoreError> {
    let batch = batch.max(1);
    let retention = TokenRetention {
        now,
        abandoned_before: now.plus_seconds(-ABANDONED_AFTER_SECONDS),
        revoked_before: now.plus_seconds(-REVOKED_KEPT_SECONDS),
    };
    let forget_before = now.plus_seconds(-FORGET_AFTER_SECONDS);
    let mut swept = Swept::default();
    let mut batches = Batches { store, batch, yielded: false };
    swept.tokens = batches.run(|repo| repo.purge_tokens(&retention, batch))?;
    swept.sessions = batches.run(|repo| repo.purge_sessions(now, session_idle_before, batch))?;
    swept.login_failures = batches.run(|repo| repo.purge_login_failures(now, forget_before, batch))?;
    let unknown_before = now.plus_seconds(-KNOWN_FOR_SECONDS);
    swept.known_sign_ins = batches.run(|repo| repo.purge_known_sign_ins(unknown_before, batch))?;
    swept.left_to_another_server = batches.yielded;
    Ok(swept)
}

struct Batches<'s> {
    store: &'s Store,
    batch: i64,
    /// Set once another server held the janitor's lock: nothing more is done here.
    yielded: bool,
}

impl Batches<'_> {
    /// Repeats `one`, each time in its own transaction, until a batch comes back short.
    fn run(&mut self, one: impl Fn(&mut Repo<'_>) -> Result<u64, StoreError>) -> Result<u64, StoreError> {
        let full = u64::try_from(self.batch).unwrap_or(u64::MAX);
        let mut total = 0u64;
        while !self.yielded {
            let deleted = self.store.write(|repo| {
                if !repo.try_hold_exclusive(Exclusive::Janitor)? {
                    return Ok(None);
                }
                one(repo).map(Some)
            })?;
            let Some(deleted) = deleted else {
                self.yielded = true;
                break;
            };
            total = total.saturating_add(deleted);
            if deleted < full {
                break;
            }
        }
        Ok(total)
    }
}
