//! Fills a database with token records for load measurements: `COUNT` client_credentials grants of the
//! client `CLIENT` (which must exist), each with a live access token, written through the store in batches
//! of 10 000 a transaction so a million rows take seconds, not hours.
//!
//! usage: cargo run --release -p latchkey-store --example seed_tokens -- DATABASE_URL CLIENT COUNT
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use latchkey_model::{ClientId, GrantType, PlainSecret, RecordId, Scope, SecretKind, Timestamp, TokenRecord};
use latchkey_store::{DatabaseUrl, Store, StoreOptions};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

const BATCH: u64 = 10_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, client, count] = args.as_slice() else {
        panic!("usage: seed_tokens DATABASE_URL CLIENT COUNT");
    };
    let url = DatabaseUrl::parse(url).expect("a database URL");
    let client = ClientId::parse(client).expect("a client id");
    let count: u64 = count.parse().expect("a count");
    let store = Store::open(&url, &StoreOptions::default()).expect("the database opens");
    // Nobody ever presents these tokens, so any key makes fitting hashes.
    let hasher = latchkey_model::SecretHasher::new(&rand::random());
    #[allow(clippy::disallowed_methods)] // a tool outside the server: the machine's clock is the point
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let scope = Scope::parse("read").unwrap();
    let started = Instant::now();
    let mut written = 0;
    while written < count {
        let batch = BATCH.min(count - written);
        let records: Vec<TokenRecord> = (0..batch)
            .map(|n| {
                // Spread over the last day, all still live for a day more, as a busy service's would be.
                let issued = Timestamp::from_unix_seconds(now - 86_400 + ((written + n) % 86_400) as i64);
                let mut record = TokenRecord::new(
                    RecordId::generate(&mut rand::rngs::OsRng),
                    client.clone(),
                    GrantType::ClientCredentials,
                    "http://127.0.0.1",
                    issued,
                );
                record.access_token_hash = Some(
                    PlainSecret::generate(SecretKind::AccessToken, &mut rand::rngs::OsRng).hash(&hasher),
                );
                record.access_token_expires = Some(Timestamp::from_unix_seconds(now + 86_400));
                record.scope = scope.clone();
                record.audience = vec![client.as_str().to_owned()];
                record.stage = latchkey_model::Stage::Complete;
                record
            })
            .collect();
        store
            .write(|repo| {
                for record in &records {
                    repo.insert_token(record)?;
                }
                Ok(())
            })
            .expect("a batch commits");
        written += batch;
    }
    eprintln!("{written} token records written in {:.1} s", started.elapsed().as_secs_f64());
}
