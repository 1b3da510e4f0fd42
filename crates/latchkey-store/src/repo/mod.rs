//! Repositories: what the rest of Latchkey may ask of storage, in model types only.

mod cleanup;
mod clients;
mod hash_key;
mod sessions;
mod tokens;
mod users;

pub use cleanup::TokenRetention;
pub use clients::ClientChanges;
pub use sessions::LoginAttempt;
pub use tokens::{Consumed, TokenQuery};
pub use users::UserChanges;

use crate::client_cache::ClientCache;
use crate::connection::AnyConnection;
use latchkey_model::{Cursor, Page, PageRequest, SecretHasher};
use std::sync::OnceLock;

// Single-row look-ups use `get_result`, never `first`: `first` adds `LIMIT ?`, and SQLite (3.53, as bundled)
// marks a statement whose LIMIT is a parameter to be compiled again whenever that parameter is bound, so
// every execution of a cached `first` statement re-parsed and re-planned its SQL. Every look-up here is by a
// unique key, so the row found is the only one.

/// Access to the data inside one transaction (see [`crate::Store::read`] and [`crate::Store::write`]).
pub struct Repo<'c> {
    pub(crate) conn: &'c mut AnyConnection,
    pub(crate) clients: &'c ClientCache,
    pub(crate) hasher: &'c OnceLock<SecretHasher>,
}

pub(crate) fn given_hasher(hasher: &OnceLock<SecretHasher>) -> Result<&SecretHasher, crate::StoreError> {
    hasher.get().ok_or_else(|| {
        // Only a server still starting (or a tool that never unsealed the key) meets this: refuse, as for a
        // database not ready yet, rather than store or compare a hash made some other way.
        crate::StoreError::Unavailable("the hash key has not been unsealed yet".into())
    })
}

/// The one-past-the-limit row tells whether another page follows, without a second count query.
pub(crate) fn fetch_limit(page: &PageRequest) -> i64 {
    i64::from(page.limit()) + 1
}

pub(crate) fn into_page<T>(
    mut items: Vec<T>,
    page: &PageRequest,
    cursor_of: impl Fn(&T) -> Cursor,
) -> Page<T> {
    let limit = usize::try_from(page.limit()).unwrap_or(usize::MAX);
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(cursor_of)
    } else {
        None
    };
    Page { items, next }
}

/// The key a single-key listing (clients by id, users by name) resumes after; the empty string sorts first.
pub(crate) fn key_after(page: &PageRequest) -> Result<String, crate::StoreError> {
    match &page.after {
        None => Ok(String::new()),
        Some(cursor) => cursor
            .decode(1)
            .and_then(|parts| parts.into_iter().next())
            .ok_or_else(|| crate::StoreError::InvalidInput("invalid page cursor".to_owned())),
    }
}

/// Work that one server at a time does, across every server on the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exclusive {
    /// Making the signing keys or the hash key an empty database lacks, or sealing them again.
    SigningKeys,
    /// A janitor sweep.
    Janitor,
}

impl Exclusive {
    /// PostgreSQL advisory-lock keys: any numbers, as long as every Latchkey process uses the same ones.
    fn lock_key(self) -> i64 {
        match self {
            Exclusive::SigningKeys => 0x6c6b_5f6b_6579_7301,
            Exclusive::Janitor => 0x6c6b_5f6a_616e_6974,
        }
    }
}

#[derive(diesel::QueryableByName)]
struct Locked {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    locked: bool,
}

impl<'c> Repo<'c> {
    /// The key every secret hash is made with (see [`crate::Store::set_hasher`]). Borrowed from the store,
    /// not from this repository, so a hash can be made in the arguments of a call that writes.
    pub fn hasher(&self) -> Result<&'c SecretHasher, crate::StoreError> {
        given_hasher(self.hasher)
    }
}

impl Repo<'_> {
    /// Waits until no other server's transaction holds `work`, and holds it until this transaction ends. On
    /// SQLite a write transaction already excludes every other writer of the file.
    pub fn hold_exclusive(&mut self, work: Exclusive) -> Result<(), crate::StoreError> {
        if let AnyConnection::Postgresql(conn) = &mut *self.conn {
            use diesel::RunQueryDsl;
            diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
                .bind::<diesel::sql_types::BigInt, _>(work.lock_key())
                .execute(conn)?;
        }
        Ok(())
    }

    /// Like [`Repo::hold_exclusive`] without waiting: `false` when another server's transaction holds it.
    pub fn try_hold_exclusive(&mut self, work: Exclusive) -> Result<bool, crate::StoreError> {
        if let AnyConnection::Postgresql(conn) = &mut *self.conn {
            use diesel::RunQueryDsl;
            let row: Locked = diesel::sql_query("SELECT pg_try_advisory_xact_lock($1) AS locked")
                .bind::<diesel::sql_types::BigInt, _>(work.lock_key())
                .get_result(conn)?;
            return Ok(row.locked);
        }
        Ok(true)
    }
}
