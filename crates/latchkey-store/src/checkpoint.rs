//! Moving SQLite's write-ahead log back into the database file, away from the writer.
//!
//! By default SQLite checkpoints inside the commit that takes the log past 1,000 pages: the request that
//! happens to commit then copies the log into the database and waits for the disk, and every writer queued
//! behind it waits too. Here the connections only checkpoint as a last resort (a log of
//! [`LAST_RESORT_PAGES`]), and a thread of the store's own checkpoints passively every [`INTERVAL`]: it copies
//! what no reader still needs, never blocks readers or the writer, and keeps the log short, so readers do
//! not wade through a long log either.

use crate::connection::{connect, AnyConnection};
use crate::DatabaseUrl;
use diesel::connection::SimpleConnection;
use std::sync::Weak;
use std::time::Duration;

pub(crate) const INTERVAL: Duration = Duration::from_millis(100);

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
        if let Err(error) = conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE)") {
            tracing::debug!(%error, "checkpoint skipped");
        }
    });
    if let Err(error) = spawned {
        // Without the thread, commits checkpoint at the last-resort size: slower, never wrong.
        tracing::warn!(%error, "cannot start the checkpoint thread");
    }
}
