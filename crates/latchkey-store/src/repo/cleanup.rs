//! Deleting what can no longer be used, a batch at a time, so a clean-up never holds the write lock long
//! while the server serves traffic. Each call deletes at most `batch` rows and returns how many it deleted;
//! the caller repeats until fewer come back.

use super::Repo;
use crate::schema::{login_failures, sessions, tokens};
use crate::StoreError;
use diesel::prelude::*;
use latchkey_model::Timestamp;

/// The horizons of [`Repo::purge_tokens`].
#[derive(Debug, Clone, Copy)]
pub struct TokenRetention {
    pub now: Timestamp,
    /// Authorization requests begun before this and never completed are abandoned.
    pub abandoned_before: Timestamp,
    /// Revoked records are kept until this long after their revocation, so that a rotated refresh token
    /// presented again is still recognised as reuse (and revokes its family).
    pub revoked_before: Timestamp,
}

impl Repo<'_> {
    /// Deletes token records nothing can use any more: revoked before `revoked_before` with no live record
    /// left in their refresh family; or not revoked,
    /// begun before `abandoned_before`, and with every credential gone or expired (an access token expired
    /// or never issued, a refresh token with an expiry that passed or never issued, a code expired or never
    /// issued). A credential without an expiry (a refresh token, a personal token) keeps its record.
    pub fn purge_tokens(&mut self, retention: &TokenRetention, batch: i64) -> Result<u64, StoreError> {
        use tokens::dsl;
        let now = retention.now.unix_seconds();
        let access_gone = dsl::access_token_hash.is_null().or(dsl::access_token_expires.lt(now));
        let refresh_gone = dsl::refresh_token_hash.is_null().or(dsl::refresh_token_expires.lt(now));
        let code_gone = dsl::code_hash.is_null().or(dsl::code_expires.lt(now));
        let unusable = dsl::revoked_at
            .is_null()
            .and(dsl::created_at.lt(retention.abandoned_before.unix_seconds()))
            .and(access_gone)
            .and(refresh_gone)
            .and(code_gone);
        // A revoked record is the evidence that its refresh token was rotated away: while any record of its
        // family is still live, presenting the old token again must be recognised as reuse.
        let family = diesel::alias!(tokens as family);
        let family_live = diesel::dsl::exists(
            family
                .filter(family.field(dsl::family_id).eq(dsl::family_id))
                .filter(family.field(dsl::revoked_at).is_null()),
        );
        let long_revoked =
            dsl::revoked_at.lt(retention.revoked_before.unix_seconds()).and(diesel::dsl::not(family_live));
        let doomed: Vec<String> =
            dsl::tokens.select(dsl::id).filter(long_revoked.or(unusable)).limit(batch).load(self.conn)?;
        let deleted = diesel::delete(dsl::tokens.filter(dsl::id.eq_any(doomed))).execute(self.conn)?;
        Ok(deleted as u64)
    }

    /// Deletes browser sessions past their absolute end, or idle since before `idle_before`.
    pub fn purge_sessions(
        &mut self,
        now: Timestamp,
        idle_before: Timestamp,
        batch: i64,
    ) -> Result<u64, StoreError> {
        use sessions::dsl;
        let over =
            dsl::expires_at.le(now.unix_seconds()).or(dsl::last_seen_at.lt(idle_before.unix_seconds()));
        let doomed: Vec<String> =
            dsl::sessions.select(dsl::id_hash).filter(over).limit(batch).load(self.conn)?;
        let deleted = diesel::delete(dsl::sessions.filter(dsl::id_hash.eq_any(doomed))).execute(self.conn)?;
        Ok(deleted as u64)
    }

    /// Forgets sign-in sources not used since `before`.
    pub fn purge_known_sign_ins(&mut self, before: Timestamp, batch: i64) -> Result<u64, StoreError> {
        use crate::schema::known_sign_ins::dsl;
        let doomed: Vec<(String, String)> = dsl::known_sign_ins
            .select((dsl::username, dsl::source))
            .filter(dsl::signed_in_at.lt(before.unix_seconds()))
            .limit(batch)
            .load(self.conn)?;
        let mut deleted = 0;
        for (username, source) in &doomed {
            deleted += diesel::delete(dsl::known_sign_ins.find((username, source))).execute(self.conn)?;
        }
        Ok(deleted as u64)
    }

    /// Deletes failed-login counters quiet since before `forget_before` whose lock (if any) has ended.
    pub fn purge_login_failures(
        &mut self,
        now: Timestamp,
        forget_before: Timestamp,
        batch: i64,
    ) -> Result<u64, StoreError> {
        use login_failures::dsl;
        let forgotten = dsl::updated_at
            .lt(forget_before.unix_seconds())
            .and(dsl::locked_until.is_null().or(dsl::locked_until.le(now.unix_seconds())));
        let doomed: Vec<String> =
            dsl::login_failures.select(dsl::subject).filter(forgotten).limit(batch).load(self.conn)?;
        let deleted =
            diesel::delete(dsl::login_failures.filter(dsl::subject.eq_any(doomed))).execute(self.conn)?;
        Ok(deleted as u64)
    }
}
