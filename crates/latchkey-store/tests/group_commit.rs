//! Group commit on SQLite: what a batch of writers sharing one transaction may and may not do to each other.
//!
//! Each case holds the writer thread inside a first piece of work, queues the pieces under test behind it,
//! and then lets it go, so that those pieces are certainly one batch (the batch counters say so).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use latchkey_model::{
    ClientId, GrantType, PlainSecret, RecordId, SecretHash, SecretKind, Timestamp, TokenRecord,
};
use latchkey_store::testing::{bare_client, TestDatabase};
use latchkey_store::{Store, StoreError, StoreOptions, WriteBatches, WRITE_BEHIND_LIMIT};
use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc;
use std::task::{Context, Poll, Waker};

type Answer = Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send>>;

fn now() -> Timestamp {
    Timestamp::from_unix_seconds(1_800_000_000)
}

fn token() -> (TokenRecord, SecretHash) {
    let mut rng = rand::thread_rng();
    let hash = PlainSecret::generate(SecretKind::AccessToken, &mut rng)
        .hash(&latchkey_store::testing::test_hasher());
    let mut record = TokenRecord::new(
        RecordId::generate(&mut rng),
        ClientId::parse("app").unwrap(),
        GrantType::ClientCredentials,
        "https://issuer.example",
        now(),
    );
    record.access_token_hash = Some(hash);
    record.access_token_expires = Some(now().plus_seconds(3600));
    (record, hash)
}

fn stored(store: &Store, hash: &SecretHash) -> bool {
    store.read(|repo| repo.find_token_by_access_token(hash)).unwrap().is_some()
}

/// Polls the write once, which puts its work on the writer's queue, and hands back the rest of it.
fn queue(
    store: &Store,
    work: impl FnOnce(&mut latchkey_store::Repo<'_>) -> Result<(), StoreError> + Send + 'static,
) -> Answer {
    let store = store.clone();
    let mut answer: Answer = Box::pin(async move { store.write_async(work).await });
    let poll = answer.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    assert!(matches!(poll, Poll::Pending), "a queued write cannot be answered before the writer runs it");
    answer
}

/// Occupies the writer until the returned sender is dropped (or sent to); returns once the writer is inside.
fn hold_writer(store: &Store) -> (mpsc::Sender<()>, Answer) {
    let (release, gate) = mpsc::channel::<()>();
    let (inside, entered) = mpsc::channel();
    let held = queue(store, move |_| {
        inside.send(()).unwrap();
        let _ = gate.recv();
        Ok(())
    });
    entered.recv().unwrap();
    (release, held)
}

fn opened(db: &TestDatabase, options: &StoreOptions) -> Store {
    let store = db.open_with(options).unwrap();
    store.write(|repo| repo.insert_client(&bare_client("app", now()))).unwrap();
    store
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().build().unwrap()
}

fn since(store: &Store, before: WriteBatches) -> (u64, u64) {
    let after = store.write_batches().unwrap();
    (after.batches - before.batches, after.pieces - before.pieces)
}

#[test]
fn a_failing_piece_leaves_the_others_in_its_batch_committed() {
    let db = TestDatabase::sqlite();
    let store = opened(&db, &StoreOptions::default());
    let before = store.write_batches().unwrap();
    let (first, second, third, fourth) = (token(), token(), token(), token());

    let (release, held) = hold_writer(&store);
    let kept = first.0.clone();
    let a = queue(&store, move |repo| repo.insert_token(&kept));
    // Writes a token, then meets a real uniqueness violation: all of its work must go, and only its work.
    let (undone, duplicate) = (second.0.clone(), first.0.clone());
    let b = queue(&store, move |repo| {
        repo.insert_token(&undone)?;
        repo.insert_token(&duplicate)
    });
    let panicked = third.0.clone();
    let c = queue(&store, move |repo| {
        repo.insert_token(&panicked)?;
        panic!("a bug in one request's work");
    });
    let kept = fourth.0.clone();
    let d = queue(&store, move |repo| repo.insert_token(&kept));
    drop(release);

    let rt = runtime();
    assert_eq!(rt.block_on(held), Ok(()));
    assert_eq!(rt.block_on(a), Ok(()));
    assert!(matches!(rt.block_on(b), Err(StoreError::Conflict(_))));
    assert!(matches!(rt.block_on(c), Err(StoreError::Corrupt(_))));
    assert_eq!(rt.block_on(d), Ok(()));
    assert_eq!(since(&store, before), (2, 5), "the four pieces under test were one batch");

    assert!(stored(&store, &first.1));
    assert!(!stored(&store, &second.1), "the failed piece's first write was rolled back with it");
    assert!(!stored(&store, &third.1), "the panicked piece's write was rolled back");
    assert!(stored(&store, &fourth.1));
}

#[test]
fn a_storage_failure_fails_the_whole_batch_and_writes_none_of_it() {
    let db = TestDatabase::sqlite();
    // A real "database or disk is full": the file may not grow past 1,000 pages (4 MB).
    let store = opened(&db, &StoreOptions { sqlite_max_pages: Some(1_000), ..StoreOptions::default() });
    let before = store.write_batches().unwrap();
    let (small, huge, last) = (token(), token(), token());

    let (release, held) = hold_writer(&store);
    let record = small.0.clone();
    let a = queue(&store, move |repo| repo.insert_token(&record));
    let mut record = huge.0.clone();
    record.properties.insert("blob".into(), serde_json::Value::String("x".repeat(6 << 20)));
    let b = queue(&store, move |repo| repo.insert_token(&record));
    let record = last.0.clone();
    let c = queue(&store, move |repo| repo.insert_token(&record));
    drop(release);

    let rt = runtime();
    assert_eq!(rt.block_on(held), Ok(()));
    for answer in [a, b, c] {
        match rt.block_on(answer) {
            Err(StoreError::Unavailable(message)) => assert!(message.contains("full"), "{message}"),
            other => panic!("every piece of a failed batch is told the database failed, got {other:?}"),
        }
    }
    assert_eq!(since(&store, before), (2, 4));
    for (_, hash) in [&small, &huge, &last] {
        assert!(!stored(&store, hash), "nothing of a failed batch is written");
    }

    // The writer goes on: the next batch commits.
    let record = small.0.clone();
    assert_eq!(rt.block_on(store.write_async(move |repo| repo.insert_token(&record))), Ok(()));
    assert!(stored(&store, &small.1));
}

#[test]
fn a_lone_writer_is_a_batch_of_one_and_is_answered_after_its_commit() {
    let db = TestDatabase::sqlite();
    let store = opened(&db, &StoreOptions::default());
    let rt = runtime();
    for _ in 0..3 {
        let before = store.write_batches().unwrap();
        let (record, hash) = token();
        assert_eq!(rt.block_on(store.write_async(move |repo| repo.insert_token(&record))), Ok(()));
        assert_eq!(since(&store, before), (1, 1));
        // Another connection sees it: the answer came after the commit.
        let other = db.open().unwrap();
        assert!(stored(&other, &hash));
    }
}

#[test]
fn a_refused_lone_writer_writes_nothing() {
    let db = TestDatabase::sqlite();
    let store = opened(&db, &StoreOptions::default());
    let (record, hash) = token();
    let answer = runtime().block_on(store.write_async(move |repo| {
        repo.insert_token(&record)?;
        Err::<(), _>(StoreError::NotFound)
    }));
    assert_eq!(answer, Err(StoreError::NotFound));
    assert!(!stored(&store, &hash));
}

#[test]
fn writes_behind_past_the_limit_are_dropped_not_queued() {
    let db = TestDatabase::sqlite();
    let store = opened(&db, &StoreOptions::default());
    let (release, held) = hold_writer(&store);
    let (kept, _) = token();
    let record = kept.clone();
    store.write_behind("a test record", move |repo| repo.insert_token(&record));
    for _ in 0..WRITE_BEHIND_LIMIT + 10 {
        store.write_behind("a test record", |_| Ok(()));
    }
    assert_eq!(store.write_batches().unwrap().queued, WRITE_BEHIND_LIMIT, "bounded, whatever is offered");
    drop(release);
    let rt = runtime();
    assert_eq!(rt.block_on(held), Ok(()));
    rt.block_on(store.settle());
    assert_eq!(store.write_batches().unwrap().queued, 0);
    assert!(
        stored(&store, kept.access_token_hash.as_ref().unwrap()),
        "those queued before the limit are written"
    );
}
