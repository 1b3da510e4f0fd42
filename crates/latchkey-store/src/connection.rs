//! One connection type for both backends, built by hand so that the real connection error reaches the user
//! (the derived `establish` tries each backend in turn and keeps none of their errors).

use crate::{DatabaseUrl, StoreError};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, SqliteConnection};
use std::time::Duration;

#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

pub(crate) fn connect(
    url: &DatabaseUrl,
    sqlite_busy_timeout: Duration,
    sqlite_max_pages: Option<u32>,
) -> Result<AnyConnection, StoreError> {
    match url {
        DatabaseUrl::Postgres(url) => Ok(AnyConnection::Postgresql(PgConnection::establish(url)?)),
        DatabaseUrl::SqliteFile(path) => sqlite(path, sqlite_busy_timeout, sqlite_max_pages),
        DatabaseUrl::SqliteMemory => sqlite(":memory:", sqlite_busy_timeout, sqlite_max_pages),
    }
}

fn is_locked(error: &diesel::result::Error) -> bool {
    matches!(error, diesel::result::Error::DatabaseError(_, info) if info.message().contains("locked"))
}

fn sqlite(path: &str, busy_timeout: Duration, max_pages: Option<u32>) -> Result<AnyConnection, StoreError> {
    let mut conn = SqliteConnection::establish(path)?;
    // WAL lets readers proceed while one writer commits; synchronous=NORMAL is durable across process crashes
    // in WAL mode (only an OS crash can lose the last commits); the busy timeout turns lock contention into a
    // short wait instead of an error.
    conn.batch_execute(&format!("PRAGMA busy_timeout = {};", busy_timeout.as_millis()))?;
    // Switching a new file to WAL needs a moment alone with it, and SQLite answers "locked" at once rather
    // than calling the busy handler when another process is switching it too (servers started together on
    // a new file): wait for it here, within the busy timeout.
    let deadline = std::time::Instant::now() + busy_timeout;
    loop {
        match conn.batch_execute("PRAGMA journal_mode = WAL;") {
            Ok(()) => break,
            Err(error) if is_locked(&error) && std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(error) => return Err(error.into()),
        }
    }
    conn.batch_execute("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")?;
    if path != ":memory:" {
        // The store's checkpoint thread keeps the log short; see [`crate::checkpoint`].
        let pages = crate::checkpoint::LAST_RESORT_PAGES;
        conn.batch_execute(&format!("PRAGMA wal_autocheckpoint = {pages};"))?;
    }
    if let Some(pages) = max_pages {
        conn.batch_execute(&format!("PRAGMA max_page_count = {pages};"))?;
    }
    Ok(AnyConnection::Sqlite(conn))
}
