//! Flow steps in transactions. A step returns an [`Outcome`]: success and refusal commit what the step
//! wrote (a refusal may have revoked something, and that must stick), a storage failure rolls it back.

use crate::error::{Failure, Outcome};
use latchkey_store::{Repo, Store};

/// Keeps a storage failure outside the transaction's result, so the store rolls back on it alone.
fn split<T>(outcome: Outcome<T>) -> Result<Outcome<T>, latchkey_store::StoreError> {
    match outcome {
        Err(Failure::Storage(error)) => Err(error),
        other => Ok(other),
    }
}

/// Runs `step` in one write transaction.
pub fn write<T>(store: &Store, step: impl FnOnce(&mut Repo<'_>) -> Outcome<T>) -> Outcome<T> {
    store.write(|repo| split(step(repo)))?
}

/// Runs `step` in one read transaction (one snapshot).
pub fn read<T>(store: &Store, step: impl FnOnce(&mut Repo<'_>) -> Outcome<T>) -> Outcome<T> {
    store.read(|repo| split(step(repo)))?
}

/// [`write`] on the blocking thread pool.
pub async fn write_async<T, F>(store: &Store, step: F) -> Outcome<T>
where
    F: FnOnce(&mut Repo<'_>) -> Outcome<T> + Send + 'static,
    T: Send + 'static,
{
    store.write_async(move |repo| split(step(repo))).await?
}

/// [`read`] on the blocking thread pool.
pub async fn read_async<T, F>(store: &Store, step: F) -> Outcome<T>
where
    F: FnOnce(&mut Repo<'_>) -> Outcome<T> + Send + 'static,
    T: Send + 'static,
{
    store.read_async(move |repo| split(step(repo))).await?
}
