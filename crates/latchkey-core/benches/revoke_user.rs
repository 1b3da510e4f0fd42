//! Revoking a user who holds many tokens (`latchkey_core::revoke_all::user`, what `POST
//! /admin/users/{name}/revoke` and `latchkey revoke-user` run): 100 k live token records, one transaction.
//!
//! SQLite always; PostgreSQL too when `LATCHKEY_TEST_POSTGRES_URL` is set. The size can be changed with
//! `LATCHKEY_BENCH_TOKENS=10000`. Each sample re-arms the records (untimed) and times one revocation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use latchkey_core::revoke_all;
use latchkey_model::{GrantType, PlainSecret, RecordId, Scope, SecretKind, Timestamp, TokenRecord, Username};
use latchkey_store::testing::TestDatabase;
use latchkey_store::Store;
use std::time::{Duration, Instant};

const NOW: Timestamp = Timestamp::from_unix_seconds(1_800_000_000);

fn size() -> u64 {
    std::env::var("LATCHKEY_BENCH_TOKENS").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000)
}

fn populated(db: &TestDatabase, size: u64) -> Store {
    let store = db.open().unwrap();
    let client = latchkey_store::testing::bare_client("bench", NOW);
    let users = ["alice", "bob"].map(|name| latchkey_store::testing::bare_user(name, NOW));
    store
        .write(|repo| {
            repo.insert_client(&client)?;
            users.iter().try_for_each(|user| repo.insert_user(user))
        })
        .unwrap();
    // Alice holds `size` records; Bob a tenth as many, which must survive.
    for (owner, count) in [("alice", size), ("bob", size / 10)] {
        let mut n = 0;
        while n < count {
            let end = (n + 10_000).min(count);
            store
                .write(|repo| {
                    for _ in n..end {
                        let mut record = TokenRecord::new(
                            RecordId::generate(&mut rand::rngs::OsRng),
                            client.id.clone(),
                            GrantType::AuthorizationCode,
                            "https://issuer.example",
                            NOW,
                        );
                        record.username = Some(Username::parse(owner).unwrap());
                        let access = PlainSecret::generate(SecretKind::AccessToken, &mut rand::rngs::OsRng);
                        record.access_token_hash = Some(access.hash(&latchkey_store::testing::test_hasher()));
                        record.access_token_expires = Some(NOW.plus_seconds(3600));
                        let refresh = PlainSecret::generate(SecretKind::RefreshToken, &mut rand::rngs::OsRng);
                        record.refresh_token_hash =
                            Some(refresh.hash(&latchkey_store::testing::test_hasher()));
                        record.scope = Scope::parse("openid profile").unwrap();
                        repo.insert_token(&record)?;
                    }
                    Ok(())
                })
                .unwrap();
            n = end;
        }
    }
    store
}

fn revoke_user(c: &mut Criterion) {
    let size = size();
    let mut databases = vec![("sqlite", TestDatabase::sqlite())];
    if std::env::var("LATCHKEY_TEST_POSTGRES_URL").is_ok() {
        databases.push(("postgres", TestDatabase::postgres().unwrap()));
    }
    for (backend, db) in databases {
        let store = populated(&db, size);
        let alice = Username::parse("alice").unwrap();
        let mut group = c.benchmark_group(format!("revoke_user/{backend}"));
        group
            .sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .warm_up_time(Duration::from_millis(1))
            .measurement_time(Duration::from_secs(5));
        group.bench_function(format!("{size} tokens"), |b| {
            b.iter_custom(|iterations| {
                let mut spent = Duration::ZERO;
                for _ in 0..iterations {
                    db.execute_sql("UPDATE tokens SET revoked_at = NULL WHERE username = 'alice'").unwrap();
                    let started = Instant::now();
                    let revoked = store.write(|repo| revoke_all::user(repo, &alice, NOW)).unwrap().unwrap();
                    spent += started.elapsed();
                    assert_eq!(revoked.revoked, size, "every one of alice's tokens, none of bob's");
                }
                spent
            })
        });
        group.finish();
    }
}

criterion_group!(benches, revoke_user);
criterion_main!(benches);
