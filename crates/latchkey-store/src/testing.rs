//! A throw-away database per test, on either backend (feature `test-support`).
//!
//! SQLite: a real file in the temporary directory, removed on drop. PostgreSQL: a fresh database created
//! next to the one `LATCHKEY_TEST_POSTGRES_URL` names, dropped (with its connections) on drop.

use crate::{Backend, DatabaseUrl, Store, StoreError, StoreOptions};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use rand::Rng;
use std::path::PathBuf;

pub const POSTGRES_URL_VAR: &str = "LATCHKEY_TEST_POSTGRES_URL";

pub struct TestDatabase {
    backend: Backend,
    url: String,
    sqlite_file: Option<PathBuf>,
    postgres: Option<(String, String)>,
}

fn unique_name() -> String {
    format!("latchkey_test_{:016x}", rand::thread_rng().gen::<u64>())
}

impl TestDatabase {
    pub fn create(backend: Backend) -> Result<Self, StoreError> {
        match backend {
            Backend::Sqlite => Ok(Self::sqlite()),
            Backend::Postgres => Self::postgres(),
        }
    }

    pub fn sqlite() -> Self {
        let file = std::env::temp_dir().join(format!("{}.db", unique_name()));
        Self {
            backend: Backend::Sqlite,
            url: format!("sqlite://{}", file.display()),
            sqlite_file: Some(file),
            postgres: None,
        }
    }

    /// Needs `LATCHKEY_TEST_POSTGRES_URL`; its absence is an error, never a silent skip.
    pub fn postgres() -> Result<Self, StoreError> {
        let admin_url = std::env::var(POSTGRES_URL_VAR).map_err(|_| {
            StoreError::Unavailable(format!("{POSTGRES_URL_VAR} is not set; PostgreSQL tests need a server"))
        })?;
        let name = unique_name();
        let mut admin = PgConnection::establish(&admin_url)?;
        admin.batch_execute(&format!("CREATE DATABASE {name}"))?;
        let url = with_database(&admin_url, &name);
        Ok(Self { backend: Backend::Postgres, url, sqlite_file: None, postgres: Some((admin_url, name)) })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn database_url(&self) -> Result<DatabaseUrl, StoreError> {
        DatabaseUrl::parse(&self.url).map_err(|e| StoreError::Constraint(e.to_string()))
    }

    /// A migrated store on this database.
    pub fn open(&self) -> Result<Store, StoreError> {
        self.open_with(&StoreOptions { max_connections: 4, ..StoreOptions::default() })
    }

    pub fn open_with(&self, options: &StoreOptions) -> Result<Store, StoreError> {
        Store::open(&self.database_url()?, options)
    }

    /// Runs SQL on this database over a connection of its own, outside the store: for tests that break
    /// the schema under a running server.
    pub fn execute_sql(&self, sql: &str) -> Result<(), StoreError> {
        match &self.sqlite_file {
            Some(file) => {
                let path = file.to_string_lossy();
                diesel::SqliteConnection::establish(&path)?.batch_execute(sql)?;
            }
            None => PgConnection::establish(&self.url)?.batch_execute(sql)?,
        }
        Ok(())
    }

    /// PostgreSQL only: ends every server connection to this database, as a database restart or a failover
    /// would. Returns how many were ended.
    pub fn terminate_connections(&self) -> Result<u64, StoreError> {
        let Some((admin_url, name)) = &self.postgres else {
            return Ok(0);
        };
        let mut admin = PgConnection::establish(admin_url)?;
        let ended = diesel::sql_query(format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ))
        .execute(&mut admin)?;
        Ok(ended as u64)
    }

    /// PostgreSQL only: removes the database while clients may still be connected.
    pub fn drop_now(&self) -> Result<(), StoreError> {
        if let Some((admin_url, name)) = &self.postgres {
            let mut admin = PgConnection::establish(admin_url)?;
            admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
        }
        Ok(())
    }
}

use diesel::RunQueryDsl;

/// `postgres://user@host:port/db?x` with `db` replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..].find('/').map_or(base.len(), |i| authority_start + i);
    format!("{}/{name}{query}", &base[..path_start])
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(file) = &self.sqlite_file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
        }
        let _ = self.drop_now();
    }
}

/// Applies and then reverts every migration: each `down.sql` must undo its `up.sql`.
pub fn revert_all_migrations(store: &Store) -> Result<(), StoreError> {
    let mut conn = store.pool.get()?;
    crate::migrations::revert_all(&mut conn)
}

/// Runs each listed case, a `fn(&TestDatabase)`, on a fresh SQLite file and — with `--ignored` and
/// `LATCHKEY_TEST_POSTGRES_URL` — on a fresh PostgreSQL database. Without the URL the PostgreSQL variants
/// fail instead of passing silently.
#[macro_export]
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $case() { super::$case(&$crate::testing::TestDatabase::sqlite()); } )*
        }
        mod postgres {
            $(
                #[test]
                #[ignore = "needs PostgreSQL: set LATCHKEY_TEST_POSTGRES_URL and run with --ignored"]
                fn $case() {
                    let db = $crate::testing::TestDatabase::postgres();
                    super::$case(&db.expect("PostgreSQL test database"));
                }
            )*
        }
    };
}

/// A public client with no grant of its own: something for token records to belong to in tests and
/// benchmarks that do not go through registration.
#[allow(clippy::panic)] // Test support only: a bad literal here is a bug in the test.
pub fn bare_client(id: &str, now: latchkey_model::Timestamp) -> latchkey_model::Client {
    latchkey_model::Client {
        id: latchkey_model::ClientId::parse(id).unwrap_or_else(|e| panic!("test client id {id:?}: {e}")),
        name: id.to_owned(),
        credentials: latchkey_model::ClientCredentials::Public,
        redirect_uris: Vec::new(),
        grant_types: Default::default(),
        scope: latchkey_model::Scope::empty(),
        access_token_ttl_seconds: 600,
        refresh_token_ttl_seconds: None,
        id_token_signing_alg: Default::default(),
        created_at: now,
        updated_at: now,
    }
}

/// A user whose password can never match (no Argon2 work): for records that need an owner.
#[allow(clippy::panic)] // Test support only: a bad literal here is a bug in the test.
pub fn bare_user(name: &str, now: latchkey_model::Timestamp) -> latchkey_model::User {
    latchkey_model::User {
        username: latchkey_model::Username::parse(name)
            .unwrap_or_else(|e| panic!("test username {name:?}: {e}")),
        subject: format!("sub-{name}"),
        password_hash: latchkey_model::PasswordHash::from_phc("$argon2id$unused"),
        email: None,
        email_verified: false,
        name: None,
        claims: serde_json::Map::new(),
        disabled: false,
        created_at: now,
        updated_at: now,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_name_is_replaced() {
        assert_eq!(super::with_database("postgres://p@h:5432/test", "x"), "postgres://p@h:5432/x");
        assert_eq!(
            super::with_database("postgres://p@h/test?sslmode=disable", "x"),
            "postgres://p@h/x?sslmode=disable"
        );
        assert_eq!(super::with_database("postgres://p@h", "x"), "postgres://p@h/x");
    }
}
