//! The expired-data janitor on a real database: what nothing can use goes, what still works stays.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use latchkey_core::janitor::{sweep, Swept};
use latchkey_model::{ClientId, GrantType, RecordId, Scope, Session, Timestamp, TokenRecord, Username};
use latchkey_store::testing::TestDatabase;
use latchkey_store::{Backend, Exclusive, Store, StoreError};

latchkey_store::on_both_backends!(
    the_janitor_deletes_only_what_nothing_can_use,
    a_janitor_finding_another_servers_sweep_leaves_it_alone
);

const NOW: Timestamp = Timestamp::from_unix_seconds(1_800_000_000);
const MINUTE: i64 = 60;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

fn ago(seconds: i64) -> Timestamp {
    NOW.plus_seconds(-seconds)
}

fn record(created: Timestamp) -> TokenRecord {
    let mut record = TokenRecord::new(
        RecordId::generate(&mut rand::rngs::OsRng),
        ClientId::parse("app").unwrap(),
        GrantType::AuthorizationCode,
        "https://issuer.example",
        created,
    );
    record.username = Some(Username::parse("alice").unwrap());
    record.scope = Scope::parse("openid").unwrap();
    record
}

fn with_access(mut record: TokenRecord, expires: Timestamp) -> TokenRecord {
    record.access_token_hash =
        Some(latchkey_store::testing::test_hasher().hash(&format!("at-{}", record.id)));
    record.access_token_expires = Some(expires);
    record
}

fn with_refresh(mut record: TokenRecord, expires: Option<Timestamp>) -> TokenRecord {
    record.refresh_token_hash =
        Some(latchkey_store::testing::test_hasher().hash(&format!("rt-{}", record.id)));
    record.refresh_token_expires = expires;
    record
}

fn revoked(mut record: TokenRecord, at: Timestamp) -> TokenRecord {
    record.revoked_at = Some(at);
    record
}

fn session(name: &str, last_seen: Timestamp, expires: Timestamp) -> Session {
    Session {
        id_hash: latchkey_store::testing::test_hasher().hash(name),
        username: Some(Username::parse("alice").unwrap()),
        auth_time: Some(ago(2 * HOUR)),
        created_at: ago(2 * HOUR),
        last_seen_at: last_seen,
        expires_at: expires,
        auth_methods: vec![latchkey_model::AuthMethod::Password],
    }
}

fn seeded(db: &TestDatabase) -> Store {
    let store = db.open().unwrap();
    store
        .write(|repo| {
            repo.insert_client(&latchkey_store::testing::bare_client("app", NOW))?;
            repo.insert_user(&latchkey_store::testing::bare_user("alice", NOW))
        })
        .unwrap();
    store
}

fn the_janitor_deletes_only_what_nothing_can_use(db: &TestDatabase) {
    let store = seeded(db);
    let keep = vec![
        with_access(record(ago(2 * HOUR)), NOW.plus_seconds(10 * MINUTE)),
        with_refresh(with_access(record(ago(2 * DAY)), ago(DAY)), None),
        with_refresh(with_access(record(ago(2 * DAY)), ago(DAY)), Some(NOW.plus_seconds(DAY))),
        record(ago(10 * MINUTE)),
        revoked(with_access(record(ago(2 * DAY)), ago(DAY)), ago(DAY)),
        with_access(record(ago(30 * MINUTE)), ago(MINUTE)),
    ];
    // A refresh token rotated away long ago, whose family lives on: the old record must stay, so that the
    // old token presented again is still recognised as reuse.
    let successor = with_refresh(with_access(record(ago(31 * DAY)), ago(30 * DAY)), None);
    let mut rotated_away =
        revoked(with_refresh(with_access(record(ago(40 * DAY)), ago(39 * DAY)), None), ago(31 * DAY));
    rotated_away.family_id = successor.family_id.clone();
    let keep: Vec<TokenRecord> = keep.into_iter().chain([successor, rotated_away]).collect();
    let mut pending_with_old_code = record(ago(2 * HOUR));
    pending_with_old_code.code_hash = Some(latchkey_store::testing::test_hasher().hash("old code"));
    pending_with_old_code.code_expires = Some(ago(2 * HOUR - MINUTE));
    let delete = vec![
        with_access(record(ago(3 * HOUR)), ago(HOUR)),
        pending_with_old_code,
        record(ago(5 * HOUR)),
        revoked(with_access(record(ago(40 * DAY)), ago(39 * DAY)), ago(31 * DAY)),
        with_refresh(with_access(record(ago(10 * DAY)), ago(9 * DAY)), Some(ago(1))),
    ];
    let sessions = [
        (session("live", ago(MINUTE), NOW.plus_seconds(HOUR)), true),
        (session("ended", ago(MINUTE), ago(1)), false),
        (session("idle", ago(31 * MINUTE), NOW.plus_seconds(HOUR)), false),
    ];
    store
        .write(|repo| {
            for record in keep.iter().chain(&delete) {
                repo.insert_token(record)?;
            }
            sessions.iter().try_for_each(|(session, _)| repo.insert_session(session))
        })
        .unwrap();
    let at = |offset: i64| NOW.plus_seconds(offset).unix_seconds();
    db.execute_sql(&format!(
        "INSERT INTO login_failures (subject, failures, locked_until, updated_at) VALUES \
         ('account:quiet', 3, NULL, {}), ('account:locked', 9, {}, {}), ('account:recent', 2, NULL, {})",
        at(-2 * HOUR),
        at(MINUTE),
        at(-2 * HOUR),
        at(-10 * MINUTE),
    ))
    .unwrap();

    // Batches of two: the janitor must keep going until a batch comes back short.
    let swept = sweep(&store, NOW, ago(30 * MINUTE), 2).unwrap();
    assert_eq!(
        swept,
        Swept {
            tokens: delete.len() as u64,
            sessions: 2,
            login_failures: 1,
            known_sign_ins: 0,
            left_to_another_server: false
        }
    );
    store
        .read(|repo| {
            for record in &keep {
                assert!(repo.get_token(&record.id).is_ok(), "kept: {record:?}");
            }
            for record in &delete {
                assert!(
                    matches!(repo.get_token(&record.id), Err(StoreError::NotFound)),
                    "deleted: {record:?}"
                );
            }
            for (session, kept) in &sessions {
                assert_eq!(repo.find_session(&session.id_hash, ago(HOUR))?.is_some(), *kept, "{session:?}");
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(sweep(&store, NOW, ago(30 * MINUTE), 2).unwrap(), Swept::default(), "nothing left to do");
}

/// Servers sharing a database: while one server's sweep holds the janitor's lock, another's sweep leaves the
/// work to it (PostgreSQL). On SQLite every write transaction excludes the others already: the second sweep
/// waits for the first and then runs.
fn a_janitor_finding_another_servers_sweep_leaves_it_alone(db: &TestDatabase) {
    let (sweeping, other) = (db.open().unwrap(), db.open().unwrap());
    let (holding, held) = std::sync::mpsc::channel::<()>();
    let first = std::thread::spawn(move || {
        sweeping.write(move |repo| {
            assert!(repo.try_hold_exclusive(Exclusive::Janitor)?);
            holding.send(()).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(300));
            Ok(())
        })
    });
    held.recv().unwrap();
    let swept = sweep(&other, NOW, ago(HOUR), 10).unwrap();
    first.join().unwrap().unwrap();
    assert_eq!(swept.left_to_another_server, db.backend() == Backend::Postgres, "{swept:?}");
    let alone = sweep(&other, NOW, ago(HOUR), 10).unwrap();
    assert!(!alone.left_to_another_server, "with no one else sweeping, it sweeps");
}
