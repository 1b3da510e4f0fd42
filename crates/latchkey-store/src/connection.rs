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

fn sqlite(path: &str, busy_timeout: Duration, max_pages: Option<u32>) -> Result<AnyConnection, StoreError> {
    let mut conn = SqliteConnection::establish(path)?;
    // WAL lets readers proceed while one writer commits; synchronous=NORMAL is durable across process crashes
    // in WAL mode (only an OS crash can lose the last commits); the busy timeout turns lock contention into a
    // short wait instead of an error.
    let pragmas = format!(
        "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
        busy_timeout.as_millis()
    );
    conn.batch_execute(&pragmas)?;
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
