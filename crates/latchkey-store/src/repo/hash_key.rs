//! The hash key's row (sealed: only the key-encryption key, which the database never sees, opens it), and
//! the one-time conversion of the plain SHA-256 hashes stored before secret hashes were keyed.

use super::Repo;
use crate::schema::{clients, hash_keys, known_sign_ins, sessions, tokens};
use crate::StoreError;
use diesel::prelude::*;
use latchkey_model::{SecretHasher, Timestamp, UnkeyedHash};

/// The one row's name.
const SECRET_HASHES: &str = "secret_hashes";

/// Rows converted per statement round, so a large table is never read into memory at once.
const BATCH: i64 = 1_000;

/// The `known_sign_ins.source` of a browser: its device cookie's hash after this prefix.
const BROWSER_SOURCE: &str = "browser:";

/// The first source after every browser's (`;` follows `:`): sources from [`BROWSER_SOURCE`] up to it are
/// browsers', compared byte for byte on both databases, where SQLite's `LIKE` would ignore case.
const AFTER_BROWSER_SOURCES: &str = "browser;";

fn keyed(hasher: &SecretHasher, column: &str, plain: &str) -> Result<String, StoreError> {
    let plain = UnkeyedHash::from_hex(plain).map_err(|e| StoreError::corrupt(column, e))?;
    Ok(hasher.rekey(&plain).to_hex())
}

fn keyed_opt(
    hasher: &SecretHasher,
    column: &str,
    plain: Option<String>,
) -> Result<Option<String>, StoreError> {
    plain.map(|plain| keyed(hasher, column, &plain)).transpose()
}

impl Repo<'_> {
    /// The sealed hash key, if one was made.
    pub fn sealed_hash_key(&mut self) -> Result<Option<String>, StoreError> {
        Ok(hash_keys::table.find(SECRET_HASHES).select(hash_keys::sealed).get_result(self.conn).optional()?)
    }

    /// Stores the hash key, sealed. Call under [`super::Exclusive::SigningKeys`]: a second one conflicts.
    pub fn insert_sealed_hash_key(&mut self, sealed: &str, now: Timestamp) -> Result<(), StoreError> {
        diesel::insert_into(hash_keys::table)
            .values((
                hash_keys::name.eq(SECRET_HASHES),
                hash_keys::sealed.eq(sealed),
                hash_keys::created_at.eq(now.unix_seconds()),
            ))
            .execute(self.conn)?;
        Ok(())
    }

    /// Replaces the sealed hash key with the same key sealed again (under a new key-encryption key).
    pub fn reseal_hash_key(&mut self, sealed: &str) -> Result<(), StoreError> {
        diesel::update(hash_keys::table.find(SECRET_HASHES))
            .set(hash_keys::sealed.eq(sealed))
            .execute(self.conn)?;
        Ok(())
    }

    /// Whether any secret hash is stored: a client secret, a code or token, a session or a known browser.
    /// A database without a hash key that holds none is new, and may be given a key; one that holds some
    /// was either written before keys existed or had its key removed, and only an operator can tell which.
    pub fn holds_secret_hashes(&mut self) -> Result<bool, StoreError> {
        use diesel::dsl::exists;
        let clients = diesel::select(exists(clients::table.filter(clients::secret_hash.is_not_null())));
        let tokens = diesel::select(exists(tokens::table.select(tokens::id)));
        let sessions = diesel::select(exists(sessions::table.select(sessions::id_hash)));
        let browsers = diesel::select(exists(
            known_sign_ins::table
                .filter(known_sign_ins::source.ge(BROWSER_SOURCE))
                .filter(known_sign_ins::source.lt(AFTER_BROWSER_SOURCES))
                .select(known_sign_ins::source),
        ));
        Ok(clients.get_result::<bool>(self.conn)?
            || tokens.get_result::<bool>(self.conn)?
            || sessions.get_result::<bool>(self.conn)?
            || browsers.get_result::<bool>(self.conn)?)
    }

    /// Replaces every stored plain SHA-256 of a secret with its keyed hash under `hasher`: client secrets,
    /// codes and tokens, browser sessions and known browsers. Returns how many rows changed. Run once, in
    /// the transaction that makes the hash key: afterwards nothing stored is a plain hash. It is one
    /// transaction, so it converts everything or nothing; it is run with every server stopped.
    ///
    /// Logins half-way through at that moment keep their session's old hash in the pending record, so they
    /// start again; everything issued stays valid.
    pub fn key_plain_hashes(&mut self, hasher: &SecretHasher) -> Result<u64, StoreError> {
        Ok(self.key_client_secrets(hasher)?
            + self.key_token_hashes(hasher)?
            + self.key_session_ids(hasher)?
            + self.key_known_browsers(hasher)?)
    }

    fn key_client_secrets(&mut self, hasher: &SecretHasher) -> Result<u64, StoreError> {
        let rows: Vec<(String, String)> = clients::table
            .filter(clients::secret_hash.is_not_null())
            .select((clients::id, clients::secret_hash.assume_not_null()))
            .load(self.conn)?;
        for (id, plain) in &rows {
            let secret_hash = keyed(hasher, "clients.secret_hash", plain)?;
            diesel::update(clients::table.find(id))
                .set(clients::secret_hash.eq(secret_hash))
                .execute(self.conn)?;
        }
        Ok(rows.len() as u64)
    }

    fn key_token_hashes(&mut self, hasher: &SecretHasher) -> Result<u64, StoreError> {
        type Hashes = (String, Option<String>, Option<String>, Option<String>, Option<String>);
        let (mut after, mut changed) = (String::new(), 0_u64);
        loop {
            let rows: Vec<Hashes> = tokens::table
                .filter(tokens::id.gt(&after))
                .order(tokens::id)
                .limit(BATCH)
                .select((
                    tokens::id,
                    tokens::code_hash,
                    tokens::access_token_hash,
                    tokens::refresh_token_hash,
                    tokens::id_token_hash,
                ))
                .load(self.conn)?;
            let Some((last, ..)) = rows.last() else {
                return Ok(changed);
            };
            after = last.clone();
            for (id, code, access, refresh, id_token) in rows {
                diesel::update(tokens::table.find(&id))
                    .set((
                        tokens::code_hash.eq(keyed_opt(hasher, "tokens.code_hash", code)?),
                        tokens::access_token_hash.eq(keyed_opt(hasher, "tokens.access_token_hash", access)?),
                        tokens::refresh_token_hash.eq(keyed_opt(
                            hasher,
                            "tokens.refresh_token_hash",
                            refresh,
                        )?),
                        tokens::id_token_hash.eq(keyed_opt(hasher, "tokens.id_token_hash", id_token)?),
                    ))
                    .execute(self.conn)?;
                changed += 1;
            }
        }
    }

    fn key_session_ids(&mut self, hasher: &SecretHasher) -> Result<u64, StoreError> {
        let ids: Vec<String> = sessions::table.select(sessions::id_hash).load(self.conn)?;
        for plain in &ids {
            let id_hash = keyed(hasher, "sessions.id_hash", plain)?;
            diesel::update(sessions::table.find(plain))
                .set(sessions::id_hash.eq(id_hash))
                .execute(self.conn)?;
        }
        Ok(ids.len() as u64)
    }

    fn key_known_browsers(&mut self, hasher: &SecretHasher) -> Result<u64, StoreError> {
        let rows: Vec<(String, String)> = known_sign_ins::table
            .filter(known_sign_ins::source.ge(BROWSER_SOURCE))
            .filter(known_sign_ins::source.lt(AFTER_BROWSER_SOURCES))
            .select((known_sign_ins::username, known_sign_ins::source))
            .load(self.conn)?;
        for (username, source) in &rows {
            let plain = source.strip_prefix(BROWSER_SOURCE).unwrap_or_default();
            let keyed_source = format!("{BROWSER_SOURCE}{}", keyed(hasher, "known_sign_ins.source", plain)?);
            diesel::update(known_sign_ins::table.find((username, source)))
                .set(known_sign_ins::source.eq(keyed_source))
                .execute(self.conn)?;
        }
        Ok(rows.len() as u64)
    }
}
