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
        Self::sqlite_in(&std::env::temp_dir())
    }

    /// A SQLite file in `dir`.
    pub fn sqlite_in(dir: &std::path::Path) -> Self {
        let file = dir.join(format!("{}.db", unique_name()));
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
        Self::postgres_on(&admin_url)
    }

    /// A fresh database on the server `admin_url` names.
    pub fn postgres_on(admin_url: &str) -> Result<Self, StoreError> {
        let name = unique_name();
        let mut admin = PgConnection::establish(admin_url)?;
        admin.batch_execute(&format!("CREATE DATABASE {name}"))?;
        let url = with_database(admin_url, &name);
        Ok(Self {
            backend: Backend::Postgres,
            url,
            sqlite_file: None,
            postgres: Some((admin_url.to_owned(), name)),
        })
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

/// A PostgreSQL server of the test's own (`initdb`, `pg_ctl`) on a free port, for tests that stop the
/// database under a running server and start it again; the machine's shared server stays up for the
/// others. PostgreSQL refuses to run as root, so as root it runs as the `postgres` user.
pub struct PrivateCluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
}

fn postgres_bin() -> Result<PathBuf, StoreError> {
    let found = std::process::Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|out| out.status.success());
    let from_config = found.map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    let candidates = from_config.into_iter().chain(
        std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .map(|version| version.path().join("bin")),
    );
    candidates.filter(|bin| bin.join("initdb").exists()).last().ok_or_else(|| {
        StoreError::Unavailable("no PostgreSQL server binaries (initdb) on this machine".into())
    })
}

fn as_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false)
}

impl PrivateCluster {
    /// Creates the cluster and starts it.
    pub fn start() -> Result<Self, StoreError> {
        let bin = postgres_bin()?;
        let dir = std::env::temp_dir().join(unique_name());
        std::fs::create_dir_all(&dir).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(|e| StoreError::Unavailable(e.to_string()))?
            .port();
        let cluster = Self { dir, bin, port };
        if as_root() {
            cluster.run("chown", &["-R", "postgres:postgres", &cluster.dir.to_string_lossy()], false)?;
        }
        let data = cluster.data();
        cluster.run(
            &cluster.tool("initdb"),
            &["-D", &data, "-U", "postgres", "--auth=trust", "-E", "UTF8"],
            true,
        )?;
        cluster.resume()?;
        Ok(cluster)
    }

    fn data(&self) -> String {
        self.dir.join("data").to_string_lossy().into_owned()
    }

    fn tool(&self, name: &str) -> String {
        self.bin.join(name).to_string_lossy().into_owned()
    }

    fn run(&self, program: &str, args: &[&str], as_postgres: bool) -> Result<(), StoreError> {
        let mut command = if as_postgres && as_root() {
            let mut command = std::process::Command::new("runuser");
            command.args(["-u", "postgres", "--", program]);
            command
        } else {
            std::process::Command::new(program)
        };
        let output =
            command.args(args).output().map_err(|e| StoreError::Unavailable(format!("{program}: {e}")))?;
        if !output.status.success() {
            return Err(StoreError::Unavailable(format!(
                "{program} {args:?}: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        Ok(())
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server (`pg_ctl stop -m fast`): connected clients are cut off.
    pub fn stop(&self) -> Result<(), StoreError> {
        self.run(&self.tool("pg_ctl"), &["-D", &self.data(), "-m", "fast", "-w", "stop"], true)
    }

    /// Starts it again.
    pub fn resume(&self) -> Result<(), StoreError> {
        let options = format!("-p {} -k {} -c listen_addresses=127.0.0.1", self.port, self.dir.display());
        let log = self.dir.join("server.log").to_string_lossy().into_owned();
        self.run(&self.tool("pg_ctl"), &["-D", &self.data(), "-o", &options, "-l", &log, "-w", "start"], true)
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let _ = self.run(&self.tool("pg_ctl"), &["-D", &self.data(), "-m", "immediate", "-w", "stop"], true);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A fixed hash key for tests that make hashes of their own, outside any server.
pub fn test_hasher() -> latchkey_model::SecretHasher {
    latchkey_model::SecretHasher::new(&[0x5a; latchkey_model::HASH_KEY_BYTES])
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
