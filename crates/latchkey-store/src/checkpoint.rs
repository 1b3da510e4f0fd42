//! Moving SQLite's write-ahead log back into the database file, away from the writer.
//!
//! By default SQLite checkpoints inside the commit that takes the log past 1,000 pages: the request that
//! happens to commit then copies the log into the database and waits for the disk, and every writer queued
//! behind it waits too. Here the connections only checkpoint as a last resort (a log of
//! [`LAST_RESORT_PAGES`]), and a thread of the store's own looks at the log every [`INTERVAL`] and, once
//! [`DUE_PAGES`] wait to be copied, checkpoints passively: it copies what no reader still needs, never blocks
//! readers or the writer, and keeps the log bounded.

use crate::connection::{connect, AnyConnection};
use crate::DatabaseUrl;
use diesel::connection::SimpleConnection;
use diesel::sql_types::BigInt;
use diesel::{QueryableByName, RunQueryDsl, SqliteConnection};
use std::sync::Weak;
use std::time::Duration;

pub(crate) const INTERVAL: Duration = Duration::from_millis(100);

/// The log length, in pages not yet copied back, worth a checkpoint (32 MiB of 4 KiB pages). Each
/// checkpoint syncs the log and the database file, and a writer appending meanwhile can wait on pages the
/// disk is still writing: few large checkpoints cost the writer less than many small ones.
pub(crate) const DUE_PAGES: i64 = 8_192;

/// The log size, in pages, at which a committing connection checkpoints itself (64 MiB of 4 KiB pages).
pub(crate) const LAST_RESORT_PAGES: u32 = 16_384;

/// Starts the checkpointer for `url`; it stops once `alive` can no longer be upgraded (the store is gone).
pub(crate) fn start(url: &DatabaseUrl, busy_timeout: Duration, alive: Weak<()>) {
    // One connection, opened now while the store is open: reconnecting later could create an empty
    // database where an operator removed one.
    let mut conn = match connect(url, busy_timeout, None) {
        Ok(AnyConnection::Sqlite(conn)) => conn,
        Ok(AnyConnection::Postgresql(_)) => return,
        Err(error) => {
            tracing::warn!(%error, "no checkpoint thread");
            return;
        }
    };
    let spawned = std::thread::Builder::new().name("latchkey-checkpoint".into()).spawn(move || loop {
        std::thread::sleep(INTERVAL);
        if alive.strong_count() == 0 {
            return;
        }
        // A busy database is a checkpoint for the next round; nothing waits on this one.
        if let Err(error) = checkpoint_if_due(&mut conn) {
            tracing::debug!(%error, "checkpoint skipped");
        }
    });
    if let Err(error) = spawned {
        // Without the thread, commits checkpoint at the last-resort size: slower, never wrong.
        tracing::warn!(%error, "cannot start the checkpoint thread");
    }
}

/// What `PRAGMA wal_checkpoint` reports: pages in the log, and how many of them are in the database already.
#[derive(QueryableByName)]
struct LogState {
    #[diesel(sql_type = BigInt)]
    log: i64,
    #[diesel(sql_type = BigInt)]
    checkpointed: i64,
}

fn checkpoint_if_due(conn: &mut SqliteConnection) -> Result<(), diesel::result::Error> {
    // `noop` reports the log without touching it.
    let state: LogState = diesel::sql_query("PRAGMA wal_checkpoint(NOOP)").get_result(conn)?;
    if state.log - state.checkpointed >= DUE_PAGES {
        conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE)")?;
    }
    Ok(())
}
