//! The hash key (security checklist H63): a row written into the database without it matches nothing;
//! the plain SHA-256 hashes an earlier version stored are converted once, keeping every token; servers
//! starting together share one key; a wrong key-encryption key is refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use latchkey_core::caller::{authenticate_bearer, Requirement};
use latchkey_core::client_auth::{authenticate_client, AuthContext, PresentedCredentials};
use latchkey_core::hash_key::{convert_plain_hashes, in_transaction, reseal, unlock};
use latchkey_core::introspection::find_token;
use latchkey_core::keys::{KeyEncryptionKey, KeyError};
use latchkey_core::throttle::{self, LoginSource};
use latchkey_core::ErrorCode;
use latchkey_model::{
    AuthMethod, ClientCredentials, GrantType, RecordId, Scope, SecretHash, Session, Stage, Timestamp,
    TokenRecord, Username,
};
use latchkey_store::testing::{bare_client, bare_user, TestDatabase};
use latchkey_store::{Repo, Store};
use sha2::{Digest, Sha256};

latchkey_store::on_both_backends!(
    a_token_row_written_without_the_hash_key_is_refused,
    a_client_row_written_without_the_hash_key_does_not_authenticate,
    plain_hashes_stored_before_are_converted_once,
    removing_the_hash_key_turns_no_forged_row_into_a_token,
    only_stored_secrets_hold_back_a_new_key,
    a_wrong_key_encryption_key_makes_no_hash_key_beside_signing_keys,
    a_conversion_that_fails_half_way_leaves_nothing,
    servers_starting_together_share_one_hash_key,
    a_wrong_key_encryption_key_is_refused,
    a_new_key_encryption_key_takes_over_the_hash_key
);

const START: i64 = 1_800_000_000;
const TOKEN: &str = "lk_at_chosen-by-whoever-writes-to-the-database-0123456789";
const CLIENT_SECRET: &str = "a-client-secret-chosen-by-the-forger-0123456789";

fn now() -> Timestamp {
    Timestamp::from_unix_seconds(START)
}

/// The hash of `secret` anyone can compute: its plain SHA-256, as stored before hashes were keyed.
fn plain(secret: &str) -> SecretHash {
    let hex: String = Sha256::digest(secret.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect();
    SecretHash::from_hex(&hex).unwrap()
}

/// A store of its own on the backend of `db`, as a server opens it: hash key unsealed.
fn server_store(db: &TestDatabase) -> (TestDatabase, Store) {
    let db = TestDatabase::create(db.backend()).unwrap();
    let store = db.open().unwrap();
    let kek = KeyEncryptionKey::generate(&mut rand::thread_rng());
    unlock(&store, &kek, now(), &mut rand::thread_rng()).unwrap();
    (db, store)
}

/// A live access token for alice (made, with her client, if need be), stored under `hash`.
fn token_stored_as(store: &Store, hash: SecretHash) -> TokenRecord {
    let mut record = TokenRecord::new(
        RecordId::generate(&mut rand::thread_rng()),
        latchkey_model::ClientId::parse("app").unwrap(),
        GrantType::AuthorizationCode,
        "https://id.example.com",
        now(),
    );
    record.username = Some(Username::parse("alice").unwrap());
    record.scope = Scope::parse("openid profile").unwrap();
    record.access_token_hash = Some(hash);
    record.access_token_expires = Some(now().plus_seconds(600));
    record.stage = Stage::Complete;
    let stored = record.clone();
    store
        .write(move |repo| {
            if repo.find_client(&stored.client_id)?.is_none() {
                let client = latchkey_model::Client {
                    scope: Scope::parse("openid profile").unwrap(),
                    ..bare_client("app", now())
                };
                repo.insert_client(&client)?;
                repo.insert_user(&bare_user("alice", now()))?;
            }
            repo.insert_token(&stored)
        })
        .unwrap();
    record
}

fn bearer(repo: &mut Repo<'_>, token: &str) -> Result<(), ErrorCode> {
    match authenticate_bearer(repo, token, Requirement { scope: "openid" }, now()) {
        Ok(_) => Ok(()),
        Err(latchkey_core::Failure::Refused(error)) => Err(error.code),
        Err(other) => panic!("{other:?}"),
    }
}

fn a_token_row_written_without_the_hash_key_is_refused(db: &TestDatabase) {
    let (_db, store) = server_store(db);
    token_stored_as(&store, plain(TOKEN));
    let forged = store.read(|repo| Ok((bearer(repo, TOKEN), find_token(repo, TOKEN, None)?))).unwrap();
    assert_eq!(forged.0, Err(ErrorCode::InvalidToken), "a bearer token no server made");
    assert!(forged.1.is_none(), "introspection finds nothing");

    // The same row under the keyed hash is a token like any other: the refusal above is the key's doing.
    let other = "lk_at_made-with-the-key-0123456789abcdefghijklmnopqrstuv";
    token_stored_as(&store, store.hasher().unwrap().hash(other));
    let genuine = store.read(|repo| Ok((bearer(repo, other), find_token(repo, other, None)?))).unwrap();
    assert_eq!(genuine.0, Ok(()));
    assert!(genuine.1.is_some());
}

fn client_authenticates(store: &Store, id: &str, secret: &str) -> bool {
    let presented = PresentedCredentials { basic: Some((id.into(), secret.into())), ..Default::default() };
    let context =
        AuthContext { audiences: Vec::new(), now: now(), limit: None, client_address: "192.0.2.1".into() };
    store.read(|repo| Ok(authenticate_client(repo, &presented, &context).is_ok())).unwrap()
}

fn a_client_row_written_without_the_hash_key_does_not_authenticate(db: &TestDatabase) {
    let (_db, store) = server_store(db);
    let with = |id: &str, hash: SecretHash| {
        let mut client = bare_client(id, now());
        client.credentials = ClientCredentials::Secret(hash);
        client.grant_types = [GrantType::ClientCredentials].into();
        store.write(move |repo| repo.insert_client(&client)).unwrap();
    };
    with("forged", plain(CLIENT_SECRET));
    with("genuine", store.hasher().unwrap().hash(CLIENT_SECRET));
    assert!(!client_authenticates(&store, "forged", CLIENT_SECRET));
    assert!(client_authenticates(&store, "genuine", CLIENT_SECRET));
}

/// Many more tokens than the conversion reads at a time.
const EARLIER_TOKENS: usize = 1_005;

fn earlier_token(n: usize) -> String {
    format!("lk_at_earlier-{n:05}")
}

/// What a version before keyed hashes left behind: signing keys sealed under `kek`, plain hashes of a
/// client secret, a code, [`EARLIER_TOKENS`] access tokens (the first with a refresh and an ID token), a
/// session and a known browser, and no hash key.
fn earlier_version(db: &TestDatabase, kek: &KeyEncryptionKey) -> RecordId {
    let earlier = db.open().unwrap();
    earlier
        .write(|repo| {
            latchkey_core::keys::Keyring::load_or_create(repo, kek, now(), &mut rand::thread_rng())
                .map_err(|e| latchkey_store::StoreError::Constraint(e.to_string()))
        })
        .unwrap();
    let mut client = bare_client("app", now());
    client.credentials = ClientCredentials::Secret(plain(CLIENT_SECRET));
    client.grant_types = [GrantType::ClientCredentials, GrantType::RefreshToken].into();
    let records: Vec<TokenRecord> = (0..EARLIER_TOKENS)
        .map(|n| {
            let mut record = TokenRecord::new(
                RecordId::generate(&mut rand::thread_rng()),
                client.id.clone(),
                GrantType::AuthorizationCode,
                "https://id.example.com",
                now(),
            );
            record.username = Some(Username::parse("alice").unwrap());
            record.scope = Scope::parse("openid").unwrap();
            record.access_token_hash = Some(plain(&earlier_token(n)));
            record.access_token_expires = Some(now().plus_seconds(600));
            if n == 0 {
                record.code_hash = Some(plain("lk_code_old"));
                record.refresh_token_hash = Some(plain("lk_rt_old-refresh"));
                record.id_token_hash = Some(plain("an.id.token"));
            }
            record.stage = Stage::Complete;
            record
        })
        .collect();
    let first = records[0].id.clone();
    let session = Session {
        id_hash: plain("lk_ses_old-session"),
        username: Some(Username::parse("alice").unwrap()),
        auth_time: Some(now()),
        auth_methods: vec![AuthMethod::Password],
        created_at: now(),
        last_seen_at: now(),
        expires_at: now().plus_seconds(3600),
    };
    let alice = Username::parse("alice").unwrap();
    let browser = LoginSource { address: "192.0.2.7".into(), browser: Some(plain("lk_dev_old-browser")) };
    earlier
        .write(move |repo| {
            repo.insert_client(&client)?;
            repo.insert_user(&bare_user("alice", now()))?;
            for record in &records {
                repo.insert_token(record)?;
            }
            repo.insert_session(&session)?;
            throttle::succeeded(repo, &alice, &browser, now())
        })
        .unwrap();
    first
}

fn no_hash_key(db: &TestDatabase) -> bool {
    db.open().unwrap().read(|repo| repo.sealed_hash_key()).unwrap().is_none()
}

fn convert(store: &Store, kek: &KeyEncryptionKey) -> Result<u64, KeyError> {
    in_transaction(store, |repo| convert_plain_hashes(repo, kek, now(), &mut rand::thread_rng()))
}

fn plain_hashes_stored_before_are_converted_once(db: &TestDatabase) {
    let db = TestDatabase::create(db.backend()).unwrap();
    let kek = KeyEncryptionKey::generate(&mut rand::thread_rng());
    let first = earlier_version(&db, &kek);

    // A server does not convert by itself: it cannot tell these hashes from ones written after a key was
    // removed. It refuses to start and writes nothing.
    let server = db.open().unwrap();
    assert!(matches!(unlock(&server, &kek, now(), &mut rand::thread_rng()), Err(KeyError::HashKeyMissing)));
    assert!(no_hash_key(&db) && server.hasher().is_err());

    // The operator's `latchkey keys convert-hashes`: a wrong key-encryption key writes nothing.
    let wrong = KeyEncryptionKey::generate(&mut rand::thread_rng());
    assert!(matches!(convert(&server, &wrong), Err(KeyError::Undecryptable(_))));
    assert!(no_hash_key(&db), "no key sealed under a key that cannot open the signing keys");
    let converted = convert(&server, &kek).unwrap();
    assert_eq!(
        converted,
        1 + EARLIER_TOKENS as u64 + 1 + 1,
        "the client, the tokens, the session, the browser"
    );
    assert!(matches!(convert(&server, &kek), Err(KeyError::HashKeyExists)), "once");

    unlock(&server, &kek, now(), &mut rand::thread_rng()).unwrap();
    let hasher = server.hasher().unwrap().clone();
    let found = server
        .read(move |repo| {
            let mut tokens = 0;
            for n in 0..EARLIER_TOKENS {
                tokens +=
                    usize::from(repo.find_token_by_access_token(&hasher.hash(&earlier_token(n)))?.is_some());
            }
            let by_code = repo.find_token_by_code(&hasher.hash("lk_code_old"))?.map(|r| r.id);
            let by_refresh =
                repo.find_token_by_refresh_token(&hasher.hash("lk_rt_old-refresh"))?.map(|r| r.id);
            let by_id_token = repo.find_token_by_id_token(&hasher.hash("an.id.token"))?.map(|r| r.id);
            let session = repo.find_session(&hasher.hash("lk_ses_old-session"), now())?.is_some();
            let sources = [format!("browser:{}", hasher.hash("lk_dev_old-browser").to_hex())];
            let browser = repo.known_sign_in_source("alice", &sources, now().plus_seconds(-60))?.is_some();
            let plain_left = repo.find_token_by_access_token(&plain(&earlier_token(0)))?.is_some();
            Ok((tokens, [by_code, by_refresh, by_id_token], session, browser, plain_left))
        })
        .unwrap();
    assert_eq!(found.0, EARLIER_TOKENS, "every token works, past the first batch too");
    assert_eq!(found.1, [Some(first.clone()), Some(first.clone()), Some(first)]);
    assert!(found.2 && found.3, "sessions and known browsers carry over");
    assert!(!found.4, "no plain hash is left to match");
    assert!(client_authenticates(&server, "app", CLIENT_SECRET), "the client's secret still works");
}

fn removing_the_hash_key_turns_no_forged_row_into_a_token(db: &TestDatabase) {
    let (db, store) = server_store(db);
    token_stored_as(&store, store.hasher().unwrap().hash("lk_at_genuine"));
    // Someone with write access plants a token under its plain hash and removes the key, hoping the next
    // server to start makes a new one and converts their row with the rest.
    token_stored_as(&store, plain(TOKEN));
    db.execute_sql("DELETE FROM hash_keys").unwrap();
    let next = db.open().unwrap();
    let kek = KeyEncryptionKey::generate(&mut rand::thread_rng());
    assert!(matches!(unlock(&next, &kek, now(), &mut rand::thread_rng()), Err(KeyError::HashKeyMissing)));
    assert!(no_hash_key(&db), "nothing made, nothing converted");
}

fn servers_starting_together_share_one_hash_key(db: &TestDatabase) {
    let db = TestDatabase::create(db.backend()).unwrap();
    let kek = KeyEncryptionKey::generate(&mut rand::thread_rng());
    let stores: Vec<Store> = (0..4).map(|_| db.open().unwrap()).collect();
    let barrier = std::sync::Barrier::new(stores.len());
    std::thread::scope(|scope| {
        for store in &stores {
            let (kek, barrier) = (&kek, &barrier);
            scope.spawn(move || {
                barrier.wait();
                unlock(store, kek, now(), &mut rand::thread_rng()).unwrap();
            });
        }
    });
    let first = stores[0].hasher().unwrap().hash("x");
    assert!(stores.iter().all(|store| store.hasher().unwrap().hash("x") == first), "one key for all");
    let sealed = stores[0].read(|repo| repo.sealed_hash_key()).unwrap();
    assert!(sealed.is_some_and(|sealed| sealed.split('.').count() == 5), "kept as a compact JWE");
}

fn a_wrong_key_encryption_key_is_refused(db: &TestDatabase) {
    let db = TestDatabase::create(db.backend()).unwrap();
    let kek = KeyEncryptionKey::generate(&mut rand::thread_rng());
    unlock(&db.open().unwrap(), &kek, now(), &mut rand::thread_rng()).unwrap();
    let other = db.open().unwrap();
    let wrong = KeyEncryptionKey::generate(&mut rand::thread_rng());
    match unlock(&other, &wrong, now(), &mut rand::thread_rng()) {
        Err(error @ KeyError::HashKeyUndecryptable) => {
            assert!(error.to_string().contains("hash key cannot be decrypted"), "{error}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(other.hasher().is_err(), "nothing is hashed with a key of its own making");
}

fn a_new_key_encryption_key_takes_over_the_hash_key(db: &TestDatabase) {
    let db = TestDatabase::create(db.backend()).unwrap();
    let (old, new) = (
        KeyEncryptionKey::generate(&mut rand::thread_rng()),
        KeyEncryptionKey::generate(&mut rand::thread_rng()),
    );
    let first = db.open().unwrap();
    unlock(&first, &old, now(), &mut rand::thread_rng()).unwrap();
    let both = KeyEncryptionKey::parse(&format!("{},{}", new.to_base64url(), old.to_base64url())).unwrap();
    assert!(first.write(|repo| Ok(reseal(repo, &both))).unwrap().unwrap(), "sealed again");
    assert!(!first.write(|repo| Ok(reseal(repo, &both))).unwrap().unwrap(), "once");
    let later = db.open().unwrap();
    unlock(&later, &new, now(), &mut rand::thread_rng()).unwrap();
    assert_eq!(later.hasher().unwrap().hash("x"), first.hasher().unwrap().hash("x"), "the same key");
}

fn only_stored_secrets_hold_back_a_new_key(db: &TestDatabase) {
    // A session alone is a stored secret: no key is made beside it.
    let with_session = TestDatabase::create(db.backend()).unwrap();
    let session = Session {
        id_hash: plain("lk_ses_planted"),
        username: None,
        auth_time: None,
        auth_methods: Vec::new(),
        created_at: now(),
        last_seen_at: now(),
        expires_at: now().plus_seconds(3600),
    };
    with_session.open().unwrap().write(move |repo| repo.insert_session(&session)).unwrap();
    let kek = KeyEncryptionKey::generate(&mut rand::thread_rng());
    let refused = unlock(&with_session.open().unwrap(), &kek, now(), &mut rand::thread_rng());
    assert!(matches!(refused, Err(KeyError::HashKeyMissing)), "{refused:?}");

    // A public client, a user and a sign-in known by address only hold no secret hash: a key is made.
    let without = TestDatabase::create(db.backend()).unwrap();
    let alice = Username::parse("alice").unwrap();
    let by_address = LoginSource::address("192.0.2.7");
    without
        .open()
        .unwrap()
        .write(move |repo| {
            repo.insert_client(&bare_client("spa", now()))?;
            repo.insert_user(&bare_user("alice", now()))?;
            throttle::succeeded(repo, &alice, &by_address, now())
        })
        .unwrap();
    unlock(&without.open().unwrap(), &kek, now(), &mut rand::thread_rng()).unwrap();
    assert!(!no_hash_key(&without));
}

fn a_wrong_key_encryption_key_makes_no_hash_key_beside_signing_keys(db: &TestDatabase) {
    let db = TestDatabase::create(db.backend()).unwrap();
    let kek = KeyEncryptionKey::generate(&mut rand::thread_rng());
    db.open()
        .unwrap()
        .write(|repo| {
            latchkey_core::keys::Keyring::load_or_create(repo, &kek, now(), &mut rand::thread_rng())
                .map_err(|e| latchkey_store::StoreError::Constraint(e.to_string()))
        })
        .unwrap();
    let mistyped = KeyEncryptionKey::generate(&mut rand::thread_rng());
    let refused = unlock(&db.open().unwrap(), &mistyped, now(), &mut rand::thread_rng());
    assert!(matches!(refused, Err(KeyError::Undecryptable(_))), "{refused:?}");
    assert!(no_hash_key(&db), "nothing sealed under a key that cannot open the signing keys");
    unlock(&db.open().unwrap(), &kek, now(), &mut rand::thread_rng()).unwrap();
}

fn a_conversion_that_fails_half_way_leaves_nothing(db: &TestDatabase) {
    let db = TestDatabase::create(db.backend()).unwrap();
    let kek = KeyEncryptionKey::generate(&mut rand::thread_rng());
    earlier_version(&db, &kek);
    // The clients convert first and the tokens after them, so the key and the clients are written when
    // the broken token hash stops the conversion.
    db.execute_sql(&format!(
        "UPDATE tokens SET access_token_hash = 'not a hash' WHERE access_token_hash = '{}'",
        plain(&earlier_token(7)).to_hex()
    ))
    .unwrap();
    let store = db.open().unwrap();
    assert!(matches!(convert(&store, &kek), Err(KeyError::Store(latchkey_store::StoreError::Corrupt(_)))));
    assert!(no_hash_key(&db), "the key made before the failure is gone with the rest");
    let secret_hash = store
        .read(|repo| repo.find_client(&latchkey_model::ClientId::parse("app").unwrap()))
        .unwrap()
        .map(|client| client.credentials);
    assert_eq!(secret_hash, Some(ClientCredentials::Secret(plain(CLIENT_SECRET))), "the client is as it was");
}
