//! The expired-data janitor: deletes token records, browser sessions and failed-login counters nothing can
//! use any more. It works in batches, each its own short transaction, so it runs beside live traffic
//! without holding the write lock for long.

use crate::throttle::FORGET_AFTER_SECONDS;
use latchkey_model::Timestamp;
use latchkey_store::{Store, StoreError, TokenRetention};

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
    Ok(Swept {
        tokens: in_batches(batch, || store.write(|repo| repo.purge_tokens(&retention, batch)))?,
        sessions: in_batches(batch, || {
            store.write(|repo| repo.purge_sessions(now, session_idle_before, batch))
        })?,
        login_failures: in_batches(batch, || {
            store.write(|repo| repo.purge_login_failures(now, forget_before, batch))
        })?,
    })
}

/// Repeats `one` until a batch comes back short.
fn in_batches(batch: i64, mut one: impl FnMut() -> Result<u64, StoreError>) -> Result<u64, StoreError> {
    let full = u64::try_from(batch).unwrap_or(u64::MAX);
    let mut total = 0u64;
    loop {
        let deleted = one()?;
        total = total.saturating_add(deleted);
        if deleted < full {
            return Ok(total);
        }
    }
}
