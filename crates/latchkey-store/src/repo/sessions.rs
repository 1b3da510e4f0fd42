//! Browser sessions, remembered consent, failed-login counters and signing keys.

use super::Repo;
use crate::schema::{consents, login_failures, sessions, signing_keys};
use crate::StoreError;

/// Whether a login attempt may check the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginAttempt {
    /// Go ahead; this is attempt number `attempts` since the last success.
    Allowed { attempts: i64 },
    /// Too many attempts: refused without checking, until then.
    Locked(Timestamp),
}
use diesel::prelude::*;
use latchkey_model::{
    AuthMethod, ClientId, Consent, Scope, SecretHash, Session, SigningKeyRecord, Timestamp, Username,
};

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = sessions, treat_none_as_null = true)]
struct SessionRow {
    id_hash: String,
    username: Option<String>,
    auth_time: Option<i64>,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
    amr: String,
}

impl From<&Session> for SessionRow {
    fn from(s: &Session) -> Self {
        Self {
            id_hash: s.id_hash.to_hex(),
            username: s.username.as_ref().map(Username::to_string),
            auth_time: s.auth_time.map(Timestamp::unix_seconds),
            created_at: s.created_at.unix_seconds(),
            last_seen_at: s.last_seen_at.unix_seconds(),
            expires_at: s.expires_at.unix_seconds(),
            amr: s.auth_methods.iter().map(|m| m.amr()).collect::<Vec<_>>().join(" "),
        }
    }
}

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;
    fn try_from(row: SessionRow) -> Result<Self, StoreError> {
        Ok(Session {
            id_hash: SecretHash::from_hex(&row.id_hash)
                .map_err(|e| StoreError::corrupt("sessions.id_hash", e))?,
            username: row
                .username
                .map(|u| Username::parse(&u).map_err(|e| StoreError::corrupt("sessions.username", e)))
                .transpose()?,
            auth_time: row.auth_time.map(Timestamp::from_unix_seconds),
            created_at: Timestamp::from_unix_seconds(row.created_at),
            last_seen_at: Timestamp::from_unix_seconds(row.last_seen_at),
            expires_at: Timestamp::from_unix_seconds(row.expires_at),
            auth_methods: row
                .amr
                .split_whitespace()
                .map(|amr| AuthMethod::parse(amr).ok_or_else(|| StoreError::corrupt("sessions.amr", amr)))
                .collect::<Result<_, _>>()?,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys)]
struct KeyRow {
    kid: String,
    alg: String,
    private_key: String,
    public_jwk: String,
    created_at: i64,
    retired_at: Option<i64>,
    expires_at: Option<i64>,
    signs_from: i64,
}

impl From<KeyRow> for SigningKeyRecord {
    fn from(row: KeyRow) -> Self {
        SigningKeyRecord {
            kid: row.kid,
            alg: row.alg,
            encrypted_private_key: row.private_key,
            public_jwk: row.public_jwk,
            created_at: Timestamp::from_unix_seconds(row.created_at),
            signs_from: Timestamp::from_unix_seconds(row.signs_from),
            retired_at: row.retired_at.map(Timestamp::from_unix_seconds),
            expires_at: row.expires_at.map(Timestamp::from_unix_seconds),
        }
    }
}

/// Runs `insert` in a savepoint: `false` when a concurrent writer had inserted the same key first (only the
/// savepoint rolls back, and the caller updates the row that is there instead).
fn insert_unless_taken(
    conn: &mut crate::connection::AnyConnection,
    insert: impl FnOnce(&mut crate::connection::AnyConnection) -> diesel::QueryResult<usize>,
) -> Result<bool, StoreError> {
    match conn.transaction(insert) {
        Ok(_) => Ok(true),
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
            Ok(false)
        }
        Err(other) => Err(other.into()),
    }
}

impl Repo<'_> {
    pub fn insert_session(&mut self, session: &Session) -> Result<(), StoreError> {
        diesel::insert_into(sessions::table).values(SessionRow::from(session)).execute(self.conn)?;
        Ok(())
    }

    /// The session with this cookie hash, if it exists and has not expired at `now`.
    pub fn find_session(
        &mut self,
        id_hash: &SecretHash,
        now: Timestamp,
    ) -> Result<Option<Session>, StoreError> {
        let row = sessions::table
            .find(id_hash.to_hex())
            .filter(sessions::expires_at.gt(now.unix_seconds()))
            .select(SessionRow::as_select())
            .get_result(self.conn)
            .optional()?;
        row.map(Session::try_from).transpose()
    }

    pub fn update_session(&mut self, session: &Session) -> Result<(), StoreError> {
        diesel::update(sessions::table.find(session.id_hash.to_hex()))
            .set(SessionRow::from(session))
            .execute(self.conn)?;
        Ok(())
    }

    pub fn delete_session(&mut self, id_hash: &SecretHash) -> Result<(), StoreError> {
        diesel::delete(sessions::table.find(id_hash.to_hex())).execute(self.conn)?;
        Ok(())
    }

    /// Ends every browser session of a user; returns how many there were.
    pub fn delete_user_sessions(&mut self, username: &Username) -> Result<u64, StoreError> {
        let deleted = diesel::delete(sessions::table.filter(sessions::username.eq(username.as_str())))
            .execute(self.conn)?;
        Ok(deleted as u64)
    }

    pub fn find_consent(
        &mut self,
        username: &Username,
        client_id: &ClientId,
    ) -> Result<Option<Consent>, StoreError> {
        let row: Option<(String, i64)> = consents::table
            .find((username.as_str(), client_id.as_str()))
            .select((consents::scope, consents::granted_at))
            .get_result(self.conn)
            .optional()?;
        row.map(|(scope, granted_at)| {
            Ok(Consent {
                username: username.clone(),
                client_id: client_id.clone(),
                scope: Scope::parse(&scope).map_err(|e| StoreError::corrupt("consents.scope", e))?,
                granted_at: Timestamp::from_unix_seconds(granted_at),
            })
        })
        .transpose()
    }

    /// Records consent, replacing what the user had allowed this client before.
    pub fn save_consent(&mut self, consent: &Consent) -> Result<(), StoreError> {
        let key = (consent.username.as_str(), consent.client_id.as_str());
        let values = (
            consents::scope.eq(consent.scope.to_string()),
            consents::granted_at.eq(consent.granted_at.unix_seconds()),
        );
        if diesel::update(consents::table.find(key)).set(values.clone()).execute(self.conn)? > 0 {
            return Ok(());
        }
        let inserted = self.conn.transaction(|conn| {
            diesel::insert_into(consents::table)
                .values((
                    consents::username.eq(key.0),
                    consents::client_id.eq(key.1),
                    values.0.clone(),
                    values.1,
                ))
                .execute(conn)
        });
        match inserted {
            Ok(_) => Ok(()),
            // Saved concurrently by another request (savepoint rolled back): this one's answer wins.
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => {
                diesel::update(consents::table.find(key)).set(values).execute(self.conn)?;
                Ok(())
            }
            Err(other) => Err(other.into()),
        }
    }

    pub fn delete_user_consents(&mut self, username: &Username) -> Result<u64, StoreError> {
        let deleted = diesel::delete(consents::table.filter(consents::username.eq(username.as_str())))
            .execute(self.conn)?;
        Ok(deleted as u64)
    }

    /// When the subject (`user:NAME` or `ip:ADDR`) may try again, if it is locked out at `now`.
    pub fn login_locked_until(
        &mut self,
        subject: &str,
        now: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        let locked: Option<Option<i64>> = login_failures::table
            .find(subject)
            .select(login_failures::locked_until)
            .get_result(self.conn)
            .optional()?;
        Ok(locked.flatten().filter(|until| *until > now.unix_seconds()).map(Timestamp::from_unix_seconds))
    }

    /// Counts one more login attempt for `subject` and says whether it may go ahead, atomically: the
    /// counter is bumped first (under the row lock), and only then is the lock-out set, so any number of
    /// parallel attempts cannot slip past the limit. `lock_for(attempts)` decides when and how long to lock.
    /// An attempt refused by a lock in force is not counted: it neither lengthens this lock nor the next.
    pub fn count_login_attempt(
        &mut self,
        subject: &str,
        now: Timestamp,
        forget_before: Timestamp,
        lock_for: impl Fn(i64) -> Option<i64>,
    ) -> Result<LoginAttempt, StoreError> {
        let row = login_failures::table.find(subject);
        let unlocked =
            login_failures::locked_until.is_null().or(login_failures::locked_until.le(now.unix_seconds()));
        // A quiet counter (no attempt since `forget_before`, no lock in force) starts again.
        diesel::update(
            row.filter(login_failures::updated_at.lt(forget_before.unix_seconds())).filter(unlocked),
        )
        .set((login_failures::failures.eq(0_i64), login_failures::locked_until.eq(None::<i64>)))
        .execute(self.conn)?;
        let bump = |conn: &mut crate::connection::AnyConnection| {
            diesel::update(row.filter(unlocked))
                .set((
                    login_failures::failures.eq(login_failures::failures + 1),
                    login_failures::updated_at.eq(now.unix_seconds()),
                ))
                .execute(conn)
        };
        if bump(self.conn)? == 0 {
            let locked: Option<Option<i64>> =
                row.select(login_failures::locked_until).get_result(self.conn).optional()?;
            if let Some(Some(until)) = locked {
                return Ok(LoginAttempt::Locked(Timestamp::from_unix_seconds(until)));
            }
            // First attempt for this subject; if a concurrent request inserted the row first, this attempt
            // is counted on top of it.
            let first = insert_unless_taken(self.conn, |conn| {
                diesel::insert_into(login_failures::table)
                    .values((
                        login_failures::subject.eq(subject),
                        login_failures::failures.eq(1_i64),
                        login_failures::updated_at.eq(now.unix_seconds()),
                    ))
                    .execute(conn)
            })?;
            if !first && bump(self.conn)? == 0 {
                // The concurrent attempt locked it meanwhile.
                let until: Option<i64> = row.select(login_failures::locked_until).get_result(self.conn)?;
                return Ok(LoginAttempt::Locked(Timestamp::from_unix_seconds(until.unwrap_or_default())));
            }
        }
        let attempts: i64 = row.select(login_failures::failures).get_result(self.conn)?;
        if let Some(seconds) = lock_for(attempts) {
            diesel::update(row)
                .set(login_failures::locked_until.eq(now.plus_seconds(seconds).unix_seconds()))
                .execute(self.conn)?;
        }
        Ok(LoginAttempt::Allowed { attempts })
    }

    /// The first of `sources` from which `username` signed in since `since`.
    pub fn known_sign_in_source(
        &mut self,
        username: &str,
        sources: &[String],
        since: Timestamp,
    ) -> Result<Option<String>, StoreError> {
        use crate::schema::known_sign_ins::dsl;
        let known: Vec<String> = dsl::known_sign_ins
            .filter(dsl::username.eq(username))
            .filter(dsl::source.eq_any(sources))
            .filter(dsl::signed_in_at.ge(since.unix_seconds()))
            .select(dsl::source)
            .load(self.conn)?;
        Ok(sources.iter().find(|source| known.contains(source)).cloned())
    }

    /// Records that `username` signed in from `source` at `now`.
    pub fn remember_sign_in(
        &mut self,
        username: &str,
        source: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        use crate::schema::known_sign_ins::dsl;
        let touch = |conn: &mut crate::connection::AnyConnection| {
            diesel::update(dsl::known_sign_ins.find((username, source)))
                .set(dsl::signed_in_at.eq(now.unix_seconds()))
                .execute(conn)
        };
        if touch(self.conn)? == 0 {
            let inserted = insert_unless_taken(self.conn, |conn| {
                diesel::insert_into(dsl::known_sign_ins)
                    .values((
                        dsl::username.eq(username),
                        dsl::source.eq(source),
                        dsl::signed_in_at.eq(now.unix_seconds()),
                    ))
                    .execute(conn)
            })?;
            if !inserted {
                touch(self.conn)?;
            }
        }
        Ok(())
    }

    /// Takes one attempt back off `subject`'s count (never below zero).
    pub fn forgive_login_attempt(&mut self, subject: &str) -> Result<(), StoreError> {
        diesel::update(login_failures::table.find(subject).filter(login_failures::failures.gt(0_i64)))
            .set(login_failures::failures.eq(login_failures::failures - 1))
            .execute(self.conn)?;
        Ok(())
    }

    pub fn clear_login_failures(&mut self, subject: &str) -> Result<(), StoreError> {
        diesel::delete(login_failures::table.find(subject)).execute(self.conn)?;
        Ok(())
    }

    pub fn insert_signing_key(&mut self, key: &SigningKeyRecord) -> Result<(), StoreError> {
        diesel::insert_into(signing_keys::table)
            .values(KeyRow {
                kid: key.kid.clone(),
                alg: key.alg.clone(),
                private_key: key.encrypted_private_key.clone(),
                public_jwk: key.public_jwk.clone(),
                created_at: key.created_at.unix_seconds(),
                retired_at: key.retired_at.map(Timestamp::unix_seconds),
                expires_at: key.expires_at.map(Timestamp::unix_seconds),
                signs_from: key.signs_from.unix_seconds(),
            })
            .execute(self.conn)?;
        Ok(())
    }

    /// Replaces a key's encrypted private half (the same key, encrypted with a new key-encryption key).
    pub fn reencrypt_signing_key(
        &mut self,
        kid: &str,
        encrypted_private_key: &str,
    ) -> Result<(), StoreError> {
        diesel::update(signing_keys::table.find(kid))
            .set(signing_keys::private_key.eq(encrypted_private_key))
            .execute(self.conn)?;
        Ok(())
    }

    /// Keys still published at `now` (active and retired-but-unexpired), oldest first.
    pub fn published_signing_keys(&mut self, now: Timestamp) -> Result<Vec<SigningKeyRecord>, StoreError> {
        let rows = signing_keys::table
            .filter(signing_keys::expires_at.is_null().or(signing_keys::expires_at.gt(now.unix_seconds())))
            .order((signing_keys::created_at.asc(), signing_keys::kid.asc()))
            .select(KeyRow::as_select())
            .load(self.conn)?;
        Ok(rows.into_iter().map(SigningKeyRecord::from).collect())
    }

    /// Retires the active key of `alg`: it stops signing at `stops_signing_at` and leaves the JWKS at
    /// `expires_at`.
    pub fn retire_signing_keys(
        &mut self,
        alg: &str,
        stops_signing_at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<u64, StoreError> {
        let active =
            signing_keys::table.filter(signing_keys::alg.eq(alg)).filter(signing_keys::retired_at.is_null());
        let retired = diesel::update(active)
            .set((
                signing_keys::retired_at.eq(stops_signing_at.unix_seconds()),
                signing_keys::expires_at.eq(expires_at.unix_seconds()),
            ))
            .execute(self.conn)?;
        Ok(retired as u64)
    }
}
