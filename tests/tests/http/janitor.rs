//! The janitor runs inside the server, beside the traffic.

use crate::on_both_backends;
use crate::support::{TestApp, TestDatabase};
use latchkey_model::{ClientId, GrantType, RecordId, Timestamp, TokenRecord};
use latchkey_store::StoreError;
use std::time::{Duration, Instant};

on_both_backends!(the_server_deletes_expired_tokens_in_the_background);

async fn the_server_deletes_expired_tokens_in_the_background(db: TestDatabase) {
    let store = latchkey_core::testing::open_like_a_server(&db);
    let long_ago = Timestamp::from_unix_seconds(1_000_000_000);
    let record = |expires: Timestamp| {
        let mut record = TokenRecord::new(
            RecordId::generate(&mut rand::rngs::OsRng),
            ClientId::parse("svc").unwrap(),
            GrantType::ClientCredentials,
            "http://issuer.example",
            long_ago,
        );
        record.access_token_hash = Some(store.hasher().unwrap().hash(&format!("at-{}", record.id)));
        record.access_token_expires = Some(expires);
        record
    };
    let expired = record(long_ago.plus_seconds(600));
    let live = record(Timestamp::from_unix_seconds(4_000_000_000));
    let client = latchkey_store::testing::bare_client("svc", long_ago);
    let (seed_expired, seed_live) = (expired.clone(), live.clone());
    store
        .write(move |repo| {
            repo.insert_client(&client)?;
            repo.insert_token(&seed_expired)?;
            repo.insert_token(&seed_live)
        })
        .unwrap();
    let app = TestApp::spawn_with(db, |config| config.janitor_interval_seconds = 1).await;

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let id = expired.id.clone();
        match store.read(move |repo| repo.get_token(&id)) {
            Err(StoreError::NotFound) => break,
            Ok(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(20)).await,
            other => panic!("the expired record should be gone by now: {other:?}"),
        }
    }
    let id = live.id.clone();
    assert!(store.read(move |repo| repo.get_token(&id)).is_ok(), "a live token stays");
    assert_eq!(app.get("/healthz").await.status(), 200, "serving all along");
}
