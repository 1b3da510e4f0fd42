use crate::connection::AnyConnection;
use crate::StoreError;
use diesel::connection::SimpleConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub(crate) const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
pub(crate) const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// Any number, as long as every Latchkey process uses the same one: it serialises migrations when several
/// servers start on one empty PostgreSQL database at once.
const PG_MIGRATION_LOCK: i64 = 0x6c61_7463_686b_6579;

/// Applies pending migrations; returns how many were applied.
pub(crate) fn run(conn: &mut AnyConnection) -> Result<usize, StoreError> {
    let failed = |e: Box<dyn std::error::Error + Send + Sync>| {
        StoreError::Unavailable(format!("migration failed: {e}"))
    };
    match conn {
        // Inside one `BEGIN IMMEDIATE`: processes starting together on a new file take turns (the second
        // waits out the busy timeout for the first, then finds nothing pending), and each migration's own
        // transaction becomes a savepoint.
        AnyConnection::Sqlite(c) => c.immediate_transaction(|c| {
            c.run_pending_migrations(SQLITE).map(|applied| applied.len()).map_err(failed)
        }),
        AnyConnection::Postgresql(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({PG_MIGRATION_LOCK})"))?;
            let result = c.run_pending_migrations(POSTGRES).map(|applied| applied.len()).map_err(failed);
            c.batch_execute(&format!("SELECT pg_advisory_unlock({PG_MIGRATION_LOCK})"))?;
            result
        }
    }
}

/// Reverts every migration (tests check that each `down.sql` works).
#[cfg(any(test, feature = "test-support"))]
pub(crate) fn revert_all(conn: &mut AnyConnection) -> Result<(), StoreError> {
    let failed =
        |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Unavailable(format!("revert failed: {e}"));
    match conn {
        AnyConnection::Sqlite(c) => c.revert_all_migrations(SQLITE).map(|_| ()).map_err(failed),
        AnyConnection::Postgresql(c) => c.revert_all_migrations(POSTGRES).map(|_| ()).map_err(failed),
    }
}
