//! Latchkey's storage: one diesel code base over SQLite and PostgreSQL.
//!
//! [`Store::open`] picks the backend from the URL, builds a connection pool and applies the embedded
//! migrations. Work happens in transactions: [`Store::read`] and [`Store::write`] hand a [`Repo`] to a closure;
//! one flow step is one transaction. Diesel calls block, so async callers go through [`Store::read_async`]
//! (on the calling thread for a SQLite file, else on the blocking thread pool) and [`Store::write_async`]
//! (SQLite: the next group commit of the writer thread; PostgreSQL: the blocking thread pool).

mod checkpoint;
mod client_cache;
mod connection;
mod error;
mod file_identity;
mod group_commit;
mod migrations;
mod pool;
mod probe;
mod repo;
mod rows;
mod schema;
#[cfg(feature = "test-support")]
pub mod testing;
mod url;

pub use error::StoreError;
pub use repo::{
    ClientChanges, Consumed, Exclusive, LoginAttempt, Repo, TokenQuery, TokenRetention, UserChanges,
};
pub use url::{DatabaseUrl, DatabaseUrlError};

use client_cache::ClientCache;
use connection::AnyConnection;
use diesel::connection::AnsiTransactionManager;
use group_commit::GroupCommit;
pub use group_commit::WriteBatches;
use latchkey_model::SecretHasher;
use parking_lot::FairMutex;
use pool::{Manager, Pool};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

#[derive(Clone, Copy)]
enum Access {
    Read,
    Write,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Tuning knobs; the defaults suit a single server.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Most connections the pool opens (SQLite in memory always uses one: each connection would be a
    /// database of its own).
    pub max_connections: u32,
    /// How long a request waits for a free connection before it is answered "unavailable".
    pub connect_timeout: Duration,
    /// How long SQLite waits on a lock held by another writer before giving up.
    pub sqlite_busy_timeout: Duration,
    /// The most pages (4 KiB each) a SQLite database may grow to; a write past it fails as "database or disk
    /// is full", like a full disk. `None`: no cap but the disk's.
    pub sqlite_max_pages: Option<u32>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            connect_timeout: Duration::from_secs(5),
            sqlite_busy_timeout: Duration::from_secs(5),
            sqlite_max_pages: None,
        }
    }
}

#[derive(Clone)]
pub struct Store {
    pool: Pool,
    backend: Backend,
    /// SQLite allows one writer at a time. Writers of this process take turns here (a fair lock, without
    /// holding a pooled connection) instead of in SQLite's busy handler, which sleeps and retries (up to
    /// 100 ms a nap) and so turns a short queue into a long tail. A writer that cannot get its turn within
    /// the busy timeout is told the database is unavailable, as SQLite would have said. Other processes
    /// still meet the busy timeout.
    sqlite_writers: Arc<FairMutex<file_identity::WriterLock>>,
    sqlite_busy_timeout: Duration,
    /// SQLite's asynchronous writes, committed in groups by one writer thread (see [`group_commit`]).
    group_commit: Option<Arc<GroupCommit>>,
    clients: Arc<ClientCache>,
    /// The key of the secret hashes stored here, given once the server has unsealed it (see
    /// [`Store::set_hasher`]).
    hasher: Arc<OnceLock<SecretHasher>>,
    /// PostgreSQL's writes behind still running.
    behind: Arc<InFlight>,
    /// Held by every clone; the checkpoint thread stops when the last one is gone.
    _alive: Arc<()>,
    /// See [`Store::read_async`].
    reads_inline: bool,
    /// See [`probe`].
    readiness: Arc<probe::SharedProbe>,
}

/// The most writes [`Store::write_behind`] keeps waiting; past it, new ones are dropped (they are best
/// effort: a token's last use, noted again on its next use).
pub const WRITE_BEHIND_LIMIT: u64 = 4_096;

/// The connection pool's figures (for metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolState {
    pub connections: u32,
    pub idle: u32,
}

/// A count of tasks running, and a way to wait for none.
#[derive(Default)]
struct InFlight {
    running: std::sync::atomic::AtomicU64,
    done: tokio::sync::Notify,
}

impl InFlight {
    fn started(&self) {
        self.running.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    fn running(&self) -> u64 {
        self.running.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn finished(&self) {
        self.running.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        self.done.notify_waiters();
    }

    async fn settled(&self) {
        loop {
            let done = self.done.notified();
            if self.running() == 0 {
                return;
            }
            done.await;
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend).finish_non_exhaustive()
    }
}

impl Store {
    /// Connects, creating the SQLite file if needed, and applies pending migrations.
    pub fn open(url: &DatabaseUrl, options: &StoreOptions) -> Result<Self, StoreError> {
        let store = Self::connect(url, options)?;
        store.migrate()?;
        Ok(store)
    }

    /// Connects without touching the schema.
    pub fn connect(url: &DatabaseUrl, options: &StoreOptions) -> Result<Self, StoreError> {
        let manager = Manager {
            url: url.clone(),
            sqlite_busy_timeout: options.sqlite_busy_timeout,
            sqlite_max_pages: options.sqlite_max_pages,
        };
        // Open one connection first: if the database is unreachable, this error is the database's own
        // words, where the pool would only report a time-out.
        if !matches!(url, DatabaseUrl::SqliteMemory) {
            drop(diesel::r2d2::ManageConnection::connect(&manager)?);
        }
        let builder = diesel::r2d2::Pool::builder().connection_timeout(options.connect_timeout);
        let builder = match url {
            // The one connection is the database: keep it for the life of the store.
            DatabaseUrl::SqliteMemory => {
                builder.max_size(1).min_idle(Some(1)).idle_timeout(None).max_lifetime(None)
            }
            _ => builder.max_size(options.max_connections.max(1)).min_idle(Some(0)),
        };
        let pool = builder.build_unchecked(manager);
        let backend = if url.is_sqlite() { Backend::Sqlite } else { Backend::Postgres };
        let file = match url {
            DatabaseUrl::SqliteFile(path) => Some(file_identity::FileIdentity::of(path)?),
            _ => None,
        };
        let sqlite_writers = Arc::new(FairMutex::new(file_identity::WriterLock { file }));
        let clients = Arc::new(ClientCache::default());
        let hasher = Arc::new(OnceLock::new());
        let group_commit = match backend {
            Backend::Sqlite => Some(Arc::new(GroupCommit::start(
                pool.clone(),
                clients.clone(),
                hasher.clone(),
                sqlite_writers.clone(),
                options.sqlite_busy_timeout,
            )?)),
            Backend::Postgres => None,
        };
        let sqlite_busy_timeout = options.sqlite_busy_timeout;
        let (behind, alive) = (Arc::default(), Arc::new(()));
        let file = matches!(url, DatabaseUrl::SqliteFile(_));
        if file {
            checkpoint::start(url, sqlite_busy_timeout, Arc::downgrade(&alive));
        }
        Ok(Self {
            pool,
            backend,
            sqlite_writers,
            sqlite_busy_timeout,
            group_commit,
            clients,
            hasher,
            behind,
            _alive: alive,
            reads_inline: file,
            readiness: Arc::default(),
        })
    }

    /// Gives the store the key its secret hashes are made with (unsealed from the database by the caller,
    /// which holds the key-encryption key). Until then every [`Repo::hasher`] is refused. A store is given
    /// one key for its life: a second, different one is refused.
    pub fn set_hasher(&self, hasher: SecretHasher) -> Result<(), StoreError> {
        let given = self.hasher.get_or_init(|| hasher.clone());
        if given.hash("") == hasher.hash("") {
            Ok(())
        } else {
            Err(StoreError::Conflict("this store already has another hash key".into()))
        }
    }

    /// The key of the secret hashes, once given (see [`Store::set_hasher`]).
    pub fn hasher(&self) -> Result<&SecretHasher, StoreError> {
        repo::given_hasher(&self.hasher)
    }

    /// Applies pending migrations; returns how many were applied.
    pub fn migrate(&self) -> Result<usize, StoreError> {
        let mut conn = self.pool.get()?;
        migrations::run(&mut conn)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs `work` in a read transaction: one consistent snapshot (on PostgreSQL, `REPEATABLE READ`).
    pub fn read<R>(
        &self,
        work: impl FnOnce(&mut Repo<'_>) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        self.transaction(Access::Read, work)
    }

    /// Runs `work` in a write transaction: all of it commits, or none of it.
    ///
    /// On SQLite the transaction takes the write lock at its start (`BEGIN IMMEDIATE`), so two writers queue
    /// on the busy timeout instead of one failing when it tries to upgrade a read lock. Repository methods
    /// never swallow a database error inside a transaction (expected conflicts run in savepoints), so a
    /// closure that returns `Ok` has really done all its work.
    pub fn write<R>(
        &self,
        work: impl FnOnce(&mut Repo<'_>) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        self.transaction(Access::Write, work)
    }

    fn transaction<R>(
        &self,
        access: Access,
        work: impl FnOnce(&mut Repo<'_>) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let _turn = match (self.backend, access) {
            (Backend::Sqlite, Access::Write) => {
                Some(group_commit::take_turn(&self.sqlite_writers, self.sqlite_busy_timeout)?)
            }
            _ => None,
        };
        let mut conn = self.pool.get()?;
        let conn: &mut AnyConnection = &mut conn;
        match (conn as &mut AnyConnection, access) {
            (conn, Access::Write) => group_commit::begin_write(conn)?,
            (AnyConnection::Sqlite(c), Access::Read) => {
                AnsiTransactionManager::begin_transaction_sql(c, "BEGIN")?
            }
            (AnyConnection::Postgresql(c), Access::Read) => AnsiTransactionManager::begin_transaction_sql(
                c,
                "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY",
            )?,
        }
        match work(&mut Repo { conn, clients: &self.clients, hasher: &self.hasher }) {
            Ok(value) => group_commit::close(conn, true).map(|()| value),
            Err(error) => {
                let _ = group_commit::close(conn, false);
                Err(error)
            }
        }
    }

    /// [`Store::read`] for async callers. A SQLite file is read on the calling thread: in WAL mode a read
    /// never waits for the writer or a lock, and a few indexed look-ups in the page cache take less time
    /// than handing them to another thread and back. PostgreSQL reads (a network round trip each) and the
    /// in-memory database (one connection, shared with the writer) go to the blocking thread pool.
    pub async fn read_async<R, F>(&self, work: F) -> Result<R, StoreError>
    where
        F: FnOnce(&mut Repo<'_>) -> Result<R, StoreError> + Send + 'static,
        R: Send + 'static,
    {
        if self.reads_inline {
            return self.read(work);
        }
        let store = self.clone();
        blocking(move || store.read(work)).await
    }

    /// [`Store::write`] for async callers. On SQLite the work joins the next group commit (see
    /// [`group_commit`]): it runs in a savepoint of a transaction shared with the other writers waiting, and
    /// its result comes back once that transaction has committed. On PostgreSQL, which runs writers side by
    /// side, it runs in a transaction of its own on the blocking thread pool.
    pub async fn write_async<R, F>(&self, work: F) -> Result<R, StoreError>
    where
        F: FnOnce(&mut Repo<'_>) -> Result<R, StoreError> + Send + 'static,
        R: Send + 'static,
    {
        match &self.group_commit {
            Some(group_commit) => group_commit.write(work).await,
            None => {
                let store = self.clone();
                blocking(move || store.write(work)).await
            }
        }
    }

    /// Whether the database can take a write now: one tiny write, committed (a counter row moved on),
    /// so that a full disk, an unwritable log or a database locked by another process shows here, not only
    /// when a token cannot be stored. On SQLite it takes the writer's turn, which also checks that the file
    /// is still the one opened.
    pub fn ping(&self) -> Result<(), StoreError> {
        const PROBE: &str = "UPDATE change_versions SET version = version + 1 WHERE topic = 'readiness'";
        let _turn = match self.backend {
            Backend::Sqlite => Some(group_commit::take_turn(&self.sqlite_writers, self.sqlite_busy_timeout)?),
            Backend::Postgres => None,
        };
        let mut conn = self.pool.get()?;
        let conn: &mut AnyConnection = &mut conn;
        group_commit::begin_write(conn)?;
        let probed = match conn {
            AnyConnection::Sqlite(c) => diesel::RunQueryDsl::execute(diesel::sql_query(PROBE), c),
            AnyConnection::Postgresql(c) => diesel::RunQueryDsl::execute(diesel::sql_query(PROBE), c),
        };
        match probed {
            Ok(1) => group_commit::close(conn, true),
            Ok(_) => {
                let _ = group_commit::close(conn, false);
                Err(StoreError::Corrupt("the readiness row is missing: is the schema migrated?".into()))
            }
            Err(error) => {
                let _ = group_commit::close(conn, false);
                Err(error.into())
            }
        }
    }

    /// Writes `work` without waiting for it: for records no answer depends on (a token's last use). On
    /// SQLite it is queued for the next group commit before this returns; on PostgreSQL it starts on the
    /// blocking thread pool. A failure is logged as failing to record `what`. [`Store::settle`] waits for it.
    /// Past [`WRITE_BEHIND_LIMIT`] writes waiting, `work` is dropped.
    pub fn write_behind<F>(&self, what: &'static str, work: F)
    where
        F: FnOnce(&mut Repo<'_>) -> Result<(), StoreError> + Send + 'static,
    {
        match &self.group_commit {
            Some(group_commit) => group_commit.write_behind(what, work),
            None if self.behind.running() >= WRITE_BEHIND_LIMIT => {
                tracing::debug!("not recording {what}: {WRITE_BEHIND_LIMIT} such writes are running");
            }
            None => {
                let (store, behind) = (self.clone(), self.behind.clone());
                behind.started();
                tokio::task::spawn_blocking(move || {
                    if let Err(error) = store.write(work) {
                        tracing::warn!(%error, "could not record {what}");
                    }
                    behind.finished();
                });
            }
        }
    }

    /// Waits until every write started before this call has committed (or failed): [`Store::write_behind`]'s
    /// among them. Shutting down calls it so that nothing queued is lost.
    pub async fn settle(&self) {
        match &self.group_commit {
            // The writer takes its queue in order: once a write queued now is answered, all before it are.
            Some(group_commit) => drop(group_commit.write(|_| Ok(())).await),
            None => self.behind.settled().await,
        }
    }

    /// The connection pool now.
    pub fn pool_state(&self) -> PoolState {
        let state = self.pool.state();
        PoolState { connections: state.connections, idle: state.idle_connections }
    }

    /// The group commits so far (SQLite; PostgreSQL commits each writer on its own and reports none).
    pub fn write_batches(&self) -> Option<WriteBatches> {
        self.group_commit.as_ref().map(|group_commit| group_commit.batches())
    }

    /// [`Store::ping`] for `/readyz`: callers arriving while a probe runs share its result ([`probe`]).
    pub async fn ping_async(&self) -> Result<(), StoreError> {
        let store = self.clone();
        self.readiness.run(blocking(move || store.ping())).await
    }
}

async fn blocking<R: Send + 'static>(
    work: impl FnOnce() -> Result<R, StoreError> + Send + 'static,
) -> Result<R, StoreError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(error) => Err(StoreError::Corrupt(format!("storage task failed: {error}"))),
    }
}
