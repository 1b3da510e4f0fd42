//! Insert and each indexed look-up of the token record on SQLite, at 1 k and 1 M records.
//!
//! Sizes can be changed with `LATCHKEY_BENCH_SIZES=1000,100000`. Look-ups pick a random existing record
//! each iteration, so the page cache is not flattered by one hot row.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use latchkey_model::{
    Client, ClientCredentials, ClientId, GrantType, PlainSecret, RecordId, Scope, SecretHash, SecretKind,
    Timestamp, TokenRecord,
};
use latchkey_store::testing::TestDatabase;
use latchkey_store::Store;
use rand::Rng;
use std::time::Duration;

struct Issued {
    code: SecretHash,
    access: SecretHash,
    refresh: SecretHash,
    id_token: SecretHash,
}

fn record(rng: &mut impl Rng, n: u64) -> (TokenRecord, Issued) {
    let now = Timestamp::from_unix_seconds(1_800_000_000 + i64::try_from(n).unwrap());
    let mut record = TokenRecord::new(
        RecordId::generate(&mut rand::rngs::OsRng),
        ClientId::parse("bench").unwrap(),
        GrantType::AuthorizationCode,
        "https://issuer.example",
        now,
    );
    let issued = Issued {
        code: PlainSecret::generate(SecretKind::AuthorizationCode, &mut rand::rngs::OsRng)
            .hash(&latchkey_store::testing::test_hasher()),
        access: PlainSecret::generate(SecretKind::AccessToken, &mut rand::rngs::OsRng)
            .hash(&latchkey_store::testing::test_hasher()),
        refresh: PlainSecret::generate(SecretKind::RefreshToken, &mut rand::rngs::OsRng)
            .hash(&latchkey_store::testing::test_hasher()),
        id_token: latchkey_store::testing::test_hasher().hash(&format!("id-{n}-{}", rng.gen::<u64>())),
    };
    record.code_hash = Some(issued.code);
    record.access_token_hash = Some(issued.access);
    record.refresh_token_hash = Some(issued.refresh);
    record.id_token_hash = Some(issued.id_token);
    record.code_expires = Some(now.plus_seconds(60));
    record.access_token_expires = Some(now.plus_seconds(3600));
    record.scope = Scope::parse("openid profile").unwrap();
    record.audience = vec!["bench".into()];
    (record, issued)
}

fn populated(size: u64) -> (TestDatabase, Store, Vec<Issued>) {
    let db = TestDatabase::sqlite();
    let store = db.open().unwrap();
    let client = Client {
        id: ClientId::parse("bench").unwrap(),
        name: "bench".into(),
        credentials: ClientCredentials::Public,
        redirect_uris: vec![],
        grant_types: [GrantType::ClientCredentials].into(),
        scope: Scope::empty(),
        access_token_ttl_seconds: 3600,
        refresh_token_ttl_seconds: None,
        id_token_signing_alg: Default::default(),
        created_at: Timestamp::from_unix_seconds(0),
        updated_at: Timestamp::from_unix_seconds(0),
    };
    store.write(|repo| repo.insert_client(&client)).unwrap();
    let mut rng = rand::thread_rng();
    let mut samples = Vec::new();
    let batch = 10_000;
    let mut n = 0;
    while n < size {
        let end = (n + batch).min(size);
        let records: Vec<(TokenRecord, Issued)> = (n..end).map(|i| record(&mut rng, i)).collect();
        store
            .write(|repo| {
                for (record, _) in &records {
                    repo.insert_token(record)?;
                }
                Ok(())
            })
            .unwrap();
        // Keep a spread-out sample of hashes to look up.
        samples.extend(
            records.into_iter().step_by(usize::try_from((size / 1000).max(1)).unwrap()).map(|(_, i)| i),
        );
        n = end;
    }
    (db, store, samples)
}

fn sizes() -> Vec<u64> {
    std::env::var("LATCHKEY_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1_000, 1_000_000])
}

fn token_store(c: &mut Criterion) {
    for size in sizes() {
        let (_db, store, samples) = populated(size);
        let mut group = c.benchmark_group("sqlite");
        group.sample_size(50).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
        let mut rng = rand::thread_rng();
        let mut counter = size;

        group.bench_with_input(BenchmarkId::new("insert", size), &size, |b, _| {
            b.iter(|| {
                counter += 1;
                let (record, _) = record(&mut rng, counter);
                store.write(move |repo| repo.insert_token(&record)).unwrap();
            })
        });
        type Lookup = fn(
            &mut latchkey_store::Repo<'_>,
            &Issued,
        ) -> Result<Option<TokenRecord>, latchkey_store::StoreError>;
        let lookups: [(&str, Lookup); 4] = [
            ("by_code", |repo, i| repo.find_token_by_code(&i.code)),
            ("by_access_token", |repo, i| repo.find_token_by_access_token(&i.access)),
            ("by_refresh_token", |repo, i| repo.find_token_by_refresh_token(&i.refresh)),
            ("by_id_token", |repo, i| repo.find_token_by_id_token(&i.id_token)),
        ];
        for (name, lookup) in lookups {
            group.bench_with_input(BenchmarkId::new(name, size), &size, |b, _| {
                b.iter(|| {
                    let issued = &samples[rng.gen_range(0..samples.len())];
                    let found = store.read(|repo| lookup(repo, issued)).unwrap();
                    assert!(found.is_some());
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, token_store);
criterion_main!(benches);
