//! Group commit: the write transactions of this process, run by one writer thread, as many as are waiting
//! (up to [`MAX_BATCH`]) in one database transaction that commits once.
//!
//! SQLite has one writer at a time, and a commit costs a WAL write whatever it holds; when requests queue for
//! the lock, most of their time goes to taking turns. Here each request hands its work to the writer and
//! waits for the answer. The writer takes everything queued, opens one `BEGIN IMMEDIATE` transaction, runs
//! each piece in its own savepoint, commits, and only then answers. So:
//!
//! - a piece that fails (its closure returns an error, or panics) rolls back to its savepoint: the others in
//!   the batch still commit, and it alone is answered with its error;
//! - a storage failure (the database unavailable, full, or corrupt; a failed `COMMIT`) fails the whole batch:
//!   everything is rolled back and every piece is answered with that error, which callers turn into a 503;
//! - nobody hears `Ok` before the commit that made their work durable has returned;
//! - the writer never waits for company: a lone request is a batch of one, run at once, without a savepoint.
//!
//! The writer still takes the process's writer lock around each batch, so synchronous writers (the command
//! line, maintenance loops) and other processes on the same file stay serialised with it.

use crate::client_cache::ClientCache;
use crate::connection::AnyConnection;
use crate::file_identity::WriterLock;
use crate::pool::Pool;
use crate::{Repo, StoreError};
use diesel::connection::{AnsiTransactionManager, Connection, TransactionManager};
use latchkey_model::SecretHasher;
use parking_lot::FairMutex;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The most pieces one transaction takes: enough to amortise a commit over a full queue, few enough that a
/// failed batch costs little to redo and a batch never holds the lock for long.
pub(crate) const MAX_BATCH: usize = 256;

type Manager = <AnyConnection as Connection>::TransactionManager;

/// What running one piece left in the transaction.
enum Ran {
    /// Its changes stay.
    Kept,
    /// It failed on its own; its changes are rolled back.
    Undone,
    /// The database failed under it; the whole batch must go.
    BatchFails(StoreError),
}

/// One piece of work with the channel its answer goes back on.
trait Piece: Send {
    fn run(&mut self, repo: &mut Repo<'_>) -> Ran;
    /// Answers the waiting request: its own result once the batch committed, the batch's error otherwise.
    fn answer(self: Box<Self>, batch: Result<(), StoreError>);
}

struct Pending<F, R> {
    work: Option<F>,
    result: Option<Result<R, StoreError>>,
    reply: Reply<R>,
}

/// Where a piece's answer goes.
enum Reply<R> {
    /// To the request waiting for it.
    Waiting(tokio::sync::oneshot::Sender<Result<R, StoreError>>),
    /// Nobody waits (see [`GroupCommit::write_behind`]): a failure is logged.
    Behind(&'static str),
}

impl<F, R> Piece for Pending<F, R>
where
    F: FnOnce(&mut Repo<'_>) -> Result<R, StoreError> + Send,
    R: Send,
{
    fn run(&mut self, repo: &mut Repo<'_>) -> Ran {
        let Some(work) = self.work.take() else {
            return Ran::Undone;
        };
        let (result, ran) = match catch_unwind(AssertUnwindSafe(|| work(repo))) {
            Ok(Ok(value)) => (Ok(value), Ran::Kept),
            Ok(Err(error)) if error.is_storage_failure() => (Err(error.clone()), Ran::BatchFails(error)),
            Ok(Err(error)) => (Err(error), Ran::Undone),
            Err(_) => (Err(StoreError::Corrupt("a storage task panicked".into())), Ran::Undone),
        };
        self.result = Some(result);
        ran
    }

    fn answer(self: Box<Self>, batch: Result<(), StoreError>) {
        let answer = match (batch, self.result) {
            (Ok(()), Some(result)) => result,
            (Ok(()), None) => Err(StoreError::Corrupt("a storage task was not run".into())),
            (Err(error), _) => Err(error),
        };
        match self.reply {
            // The request may have gone away (its client hung up); its work is committed or not regardless.
            Reply::Waiting(reply) => drop(reply.send(answer)),
            Reply::Behind(what) => {
                if let Err(error) = answer {
                    tracing::warn!(%error, "could not record {what}");
                }
            }
        }
    }
}

/// The handle requests queue their work on; the writer thread stops when the last handle is dropped.
pub(crate) struct GroupCommit {
    queue: mpsc::Sender<Box<dyn Piece>>,
    counts: Arc<Counts>,
}

/// How many batches the writer has closed and how many pieces they held: the average batch size is what
/// group commit buys, and operators may want to see it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WriteBatches {
    pub batches: u64,
    pub pieces: u64,
    /// Pieces queued and not yet taken into a batch.
    pub queued: u64,
}

#[derive(Default)]
struct Counts {
    batches: AtomicU64,
    pieces: AtomicU64,
    queued: AtomicU64,
}

impl GroupCommit {
    /// Starts the writer thread.
    pub(crate) fn start(
        pool: Pool,
        clients: Arc<ClientCache>,
        hasher: Arc<OnceLock<SecretHasher>>,
        writers: Arc<FairMutex<WriterLock>>,
        busy_timeout: Duration,
    ) -> Result<Self, StoreError> {
        let (queue, waiting) = mpsc::channel();
        let counts = Arc::new(Counts::default());
        let writer = Writer { pool, clients, hasher, writers, busy_timeout, waiting, counts: counts.clone() };
        std::thread::Builder::new()
            .name("latchkey-writer".into())
            .spawn(move || writer.run())
            .map_err(|error| StoreError::Unavailable(format!("cannot start the writer thread: {error}")))?;
        Ok(Self { queue, counts })
    }

    pub(crate) fn batches(&self) -> WriteBatches {
        WriteBatches {
            batches: self.counts.batches.load(Ordering::Relaxed),
            pieces: self.counts.pieces.load(Ordering::Relaxed),
            queued: self.counts.queued.load(Ordering::Relaxed),
        }
    }

    /// Runs `work` in the next batch and returns its result once that batch has committed.
    pub(crate) async fn write<R, F>(&self, work: F) -> Result<R, StoreError>
    where
        F: FnOnce(&mut Repo<'_>) -> Result<R, StoreError> + Send + 'static,
        R: Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let piece = Box::new(Pending { work: Some(work), result: None, reply: Reply::Waiting(reply) });
        self.counts.queued.fetch_add(1, Ordering::Relaxed);
        if self.queue.send(piece).is_err() {
            return Err(StoreError::Unavailable("the writer has stopped".into()));
        }
        answer.await.unwrap_or_else(|_| Err(StoreError::Unavailable("the writer has stopped".into())))
    }

    /// Queues `work` for the next batch and returns at once; a failure is logged as failing to record
    /// `what`. Queued before this returns, so a later [`GroupCommit::write`] commits after it.
    pub(crate) fn write_behind<F>(&self, what: &'static str, work: F)
    where
        F: FnOnce(&mut Repo<'_>) -> Result<(), StoreError> + Send + 'static,
    {
        // Nobody waits for these, so nothing slows their producers down: past the limit the writer is far
        // behind, and a best-effort record is dropped rather than queued without bound.
        if self.counts.queued.load(Ordering::Relaxed) >= crate::WRITE_BEHIND_LIMIT {
            tracing::debug!(
                "not recording {what}: the writer is {} writes behind",
                crate::WRITE_BEHIND_LIMIT
            );
            return;
        }
        let piece = Box::new(Pending { work: Some(work), result: None, reply: Reply::Behind(what) });
        self.counts.queued.fetch_add(1, Ordering::Relaxed);
        if self.queue.send(piece).is_err() {
            tracing::warn!("could not record {what}: the writer has stopped");
        }
    }
}

struct Writer {
    pool: Pool,
    clients: Arc<ClientCache>,
    hasher: Arc<OnceLock<SecretHasher>>,
    writers: Arc<FairMutex<WriterLock>>,
    busy_timeout: Duration,
    waiting: mpsc::Receiver<Box<dyn Piece>>,
    counts: Arc<Counts>,
}

impl Writer {
    fn run(self) {
        while let Ok(first) = self.waiting.recv() {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match self.waiting.try_recv() {
                    Ok(piece) => batch.push(piece),
                    Err(_) => break,
                }
            }
            self.counts.queued.fetch_sub(batch.len() as u64, Ordering::Relaxed);
            // Nothing in `commit` is meant to panic; if it ever does, the batch is answered as failed and the
            // writer goes on, rather than every later write finding the writer gone.
            let outcome = catch_unwind(AssertUnwindSafe(|| self.commit(&mut batch)))
                .unwrap_or_else(|_| Err(StoreError::Unavailable("the writer failed on a batch".into())));
            self.counts.batches.fetch_add(1, Ordering::Relaxed);
            self.counts.pieces.fetch_add(batch.len() as u64, Ordering::Relaxed);
            for piece in batch {
                piece.answer(outcome.clone());
            }
        }
    }

    /// Runs the batch in one transaction and commits it (or rolls it back, when no piece kept anything).
    fn commit(&self, batch: &mut [Box<dyn Piece>]) -> Result<(), StoreError> {
        let _turn = take_turn(&self.writers, self.busy_timeout)?;
        let mut conn = self.pool.get()?;
        let conn: &mut AnyConnection = &mut conn;
        begin_write(conn)?;
        match run_all(conn, &self.clients, &self.hasher, batch) {
            Ok(kept) => close(conn, kept),
            Err(error) => {
                let _ = close(conn, false);
                Err(error)
            }
        }
    }
}

/// Runs every piece, each in a savepoint, and tells whether any of them kept its changes. A batch of one
/// needs no savepoint: what it undoes is the whole transaction.
fn run_all(
    conn: &mut AnyConnection,
    clients: &ClientCache,
    hasher: &OnceLock<SecretHasher>,
    batch: &mut [Box<dyn Piece>],
) -> Result<bool, StoreError> {
    let outer = depth(conn)?;
    if let [only] = batch {
        return match only.run(&mut Repo { conn, clients, hasher }) {
            Ran::Kept => Ok(true),
            Ran::Undone => {
                // A panic inside a nested savepoint leaves it open; close it, so that the rollback the
                // caller makes next ends the transaction itself.
                unwind_to(conn, outer)?;
                Ok(false)
            }
            Ran::BatchFails(error) => Err(error),
        };
    }
    let mut kept = false;
    for piece in batch.iter_mut() {
        Manager::begin_transaction(conn).map_err(storage_failure)?;
        match piece.run(&mut Repo { conn, clients, hasher }) {
            Ran::Kept => {
                // A piece that panicked inside a nested savepoint may leave it open; a kept piece has closed
                // its own, so this releases exactly the one opened above.
                Manager::commit_transaction(conn).map_err(storage_failure)?;
                kept = true;
            }
            Ran::Undone => unwind_to(conn, outer)?,
            Ran::BatchFails(error) => return Err(error),
        }
        if depth(conn)? != outer {
            return Err(StoreError::Unavailable("a storage task left a savepoint open".into()));
        }
    }
    Ok(kept)
}

/// Rolls back savepoints until the transaction is at `level` again.
fn unwind_to(conn: &mut AnyConnection, level: u32) -> Result<(), StoreError> {
    while depth(conn)? > level {
        Manager::rollback_transaction(conn).map_err(storage_failure)?;
    }
    Ok(())
}

fn depth(conn: &mut AnyConnection) -> Result<u32, StoreError> {
    let depth = Manager::transaction_manager_status_mut(conn).transaction_depth().map_err(storage_failure)?;
    Ok(depth.map_or(0, std::num::NonZeroU32::get))
}

/// An error from the transaction itself (a savepoint, the commit): whatever its kind, the batch cannot stand.
fn storage_failure(error: diesel::result::Error) -> StoreError {
    match StoreError::from(error) {
        StoreError::Unavailable(message) => StoreError::Unavailable(message),
        other => StoreError::Unavailable(other.to_string()),
    }
}

/// This process's turn to write to SQLite, waiting at most `timeout` (see [`crate::Store`]'s `sqlite_writers`).
/// The turn is refused when the database file is no longer the one opened ([`crate::file_identity`]).
pub(crate) fn take_turn(
    writers: &FairMutex<WriterLock>,
    timeout: Duration,
) -> Result<parking_lot::FairMutexGuard<'_, WriterLock>, StoreError> {
    let turn = writers
        .try_lock_for(timeout)
        .ok_or_else(|| StoreError::Unavailable("the database is busy: too many writers".into()))?;
    if let Some(file) = &turn.file {
        file.check()?;
    }
    Ok(turn)
}

/// Ends the open transaction: commits it when `keep`, else rolls it back. A failed COMMIT can leave the
/// transaction open; it is then rolled back, so that the pooled connection is clean, and the commit's error
/// is what the caller hears.
pub(crate) fn close(conn: &mut AnyConnection, keep: bool) -> Result<(), StoreError> {
    let closed = match keep {
        true => Manager::commit_transaction(conn),
        false => Manager::rollback_transaction(conn),
    };
    closed.map_err(|error| {
        let _ = Manager::rollback_transaction(conn);
        storage_failure(error)
    })
}

/// Opens a write transaction; on SQLite it takes the write lock at once (see [`crate::Store::write`]).
pub(crate) fn begin_write(conn: &mut AnyConnection) -> Result<(), StoreError> {
    match conn {
        AnyConnection::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?,
        AnyConnection::Postgresql(c) => AnsiTransactionManager::begin_transaction(c)?,
    }
    Ok(())
}
