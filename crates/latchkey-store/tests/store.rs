//! The store's behaviour, case by case, on SQLite and on PostgreSQL.
//!
//! Every case runs on a fresh real database: a SQLite file, or a PostgreSQL database created for the test
//! and dropped after it. PostgreSQL cases are `#[ignore]`d unless asked for (`--ignored`), and then fail,
//! never skip, when `LATCHKEY_TEST_POSTGRES_URL` is missing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use latchkey_model::{
    Client, ClientCredentials, ClientId, GrantType, PageRequest, PasswordHash, PlainSecret, RecordId,
    RedirectUri, ResponseMode, Scope, SecretHash, SecretKind, Stage, Timestamp, TokenRecord, User, Username,
};
use latchkey_store::testing::TestDatabase;
use latchkey_store::{Backend, ClientChanges, DatabaseUrl, Store, StoreError, StoreOptions, UserChanges};
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

latchkey_store::on_both_backends!(
    token_record_round_trips_every_field,
    each_indexed_lookup_finds_its_record,
    uniqueness_is_reported_as_conflict,
    a_token_needs_a_known_client,
    update_replaces_the_record,
    revoke_user_counts_and_spares_others,
    revoke_client_counts_and_spares_others,
    listings_paginate_newest_first,
    clients_and_users_crud,
    deleting_a_client_deletes_its_tokens,
    a_failed_write_leaves_nothing,
    unreachable_database_is_unavailable,
    lost_database_is_unavailable,
    migrations_revert_and_reapply,
    a_client_changed_by_another_server_is_seen_at_once,
    a_client_cached_from_a_rolled_back_change_is_never_used,
    revoking_a_user_reaches_a_token_made_beside_it,
    revoking_a_client_reaches_a_token_made_beside_it,
);

const T0: i64 = 1_800_000_000;

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_unix_seconds(T0 + seconds)
}

fn client(id: &str) -> Client {
    Client {
        id: ClientId::parse(id).unwrap(),
        name: format!("Client {id}"),
        credentials: ClientCredentials::Secret(
            latchkey_store::testing::test_hasher().hash(&format!("{id}-secret")),
        ),
        redirect_uris: vec![
            RedirectUri::parse("https://app.example.com/cb").unwrap(),
            RedirectUri::parse("http://127.0.0.1/cb?x=1").unwrap(),
        ],
        grant_types: [GrantType::AuthorizationCode, GrantType::RefreshToken, GrantType::ClientCredentials]
            .into(),
        scope: Scope::parse("openid profile email offline_access").unwrap(),
        access_token_ttl_seconds: 600,
        refresh_token_ttl_seconds: Some(86_400),
        id_token_signing_alg: Default::default(),
        created_at: at(0),
        updated_at: at(1),
    }
}

fn user(name: &str) -> User {
    let mut claims = serde_json::Map::new();
    claims.insert("given_name".into(), serde_json::json!("Ada"));
    claims.insert("address".into(), serde_json::json!({ "country": "UK" }));
    User {
        username: Username::parse(name).unwrap(),
        subject: format!("sub-{name}"),
        password_hash: PasswordHash::from_phc(format!("$argon2id$v=19$m=19456,t=2,p=1$salt${name}")),
        email: Some(format!("{name}@example.com")),
        email_verified: true,
        name: Some(format!("User {name}")),
        claims,
        disabled: false,
        created_at: at(0),
        updated_at: at(2),
    }
}

fn secret(kind: SecretKind) -> SecretHash {
    PlainSecret::generate(kind, &mut rand::thread_rng()).hash(&latchkey_store::testing::test_hasher())
}

/// A record with every field set to a distinctive value.
fn full_record(client_id: &str, username: Option<&str>, created: Timestamp) -> TokenRecord {
    let mut rng = rand::thread_rng();
    let id = RecordId::generate(&mut rng);
    let mut record = TokenRecord::new(
        id,
        ClientId::parse(client_id).unwrap(),
        GrantType::AuthorizationCode,
        "https://issuer.example",
        created,
    );
    record.code_hash = Some(secret(SecretKind::AuthorizationCode));
    record.code_expires = Some(created.plus_seconds(60));
    record.code_redeemed_at = Some(created.plus_seconds(5));
    record.access_token_hash = Some(secret(SecretKind::AccessToken));
    record.access_token_expires = Some(created.plus_seconds(3600));
    record.refresh_token_hash = Some(secret(SecretKind::RefreshToken));
    record.refresh_token_expires = Some(created.plus_seconds(86_400));
    record.id_token_hash =
        Some(latchkey_store::testing::test_hasher().hash(&format!("id-token-{}", record.id)));
    record.username = username.map(|u| Username::parse(u).unwrap());
    record.audience = vec![client_id.to_owned(), "https://api.example.com".to_owned()];
    record.scope = Scope::parse("openid profile offline_access").unwrap();
    record.scope_descriptions = BTreeMap::from([
        ("openid".to_owned(), "Sign you in".to_owned()),
        ("profile".to_owned(), "Your name".to_owned()),
    ]);
    record.stage = Stage::Login(2);
    record.state = Some(latchkey_model::State::from_bytes(b"state-\xfc-\"quoted\" %41".to_vec()));
    record.redirect_uri = Some(RedirectUri::parse("https://app.example.com/cb").unwrap());
    record.response_type = Some(latchkey_model::ResponseType::Code);
    record.response_mode = Some(ResponseMode::FormPost);
    record.nonce = Some("n-0S6_WzA2Mj".to_owned());
    record.code_challenge = Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".to_owned());
    record.code_challenge_method = Some("S256".to_owned());
    record.auth_time = Some(created.plus_seconds(-30));
    record.properties.insert("acr".into(), serde_json::json!("urn:mace:incommon:iap:silver"));
    record.properties.insert("custom".into(), serde_json::json!({ "team": 7, "tags": ["a", "b"] }));
    record.name = Some("CI token".to_owned());
    record.active_at = Some(created.plus_seconds(10));
    record.revoked_at = None;
    record.family_id = RecordId::generate(&mut rng);
    record
}

fn seeded(db: &TestDatabase) -> Store {
    let store = db.open().unwrap();
    store
        .write(|repo| {
            for id in ["app", "other"] {
                repo.insert_client(&client(id))?;
            }
            for name in ["alice", "bob"] {
                repo.insert_user(&user(name))?;
            }
            Ok(())
        })
        .unwrap();
    store
}

fn insert(store: &Store, record: &TokenRecord) {
    let record = record.clone();
    store.write(move |repo| repo.insert_token(&record)).unwrap();
}

fn token_record_round_trips_every_field(db: &TestDatabase) {
    let store = seeded(db);
    let record = full_record("app", Some("alice"), at(100));
    insert(&store, &record);
    let loaded = store.read(|repo| repo.get_token(&record.id)).unwrap();
    assert_eq!(loaded, record);

    // The minimal record (client credentials: no user, no code, nothing optional) round-trips too.
    let bare = TokenRecord::new(
        RecordId::generate(&mut rand::thread_rng()),
        ClientId::parse("app").unwrap(),
        GrantType::ClientCredentials,
        "https://issuer.example",
        at(0),
    );
    insert(&store, &bare);
    assert_eq!(store.read(|repo| repo.get_token(&bare.id)).unwrap(), bare);
    assert_eq!(
        store.read(|repo| repo.get_token(&RecordId::parse("missing").unwrap())),
        Err(StoreError::NotFound)
    );
}

fn each_indexed_lookup_finds_its_record(db: &TestDatabase) {
    let store = seeded(db);
    let records: Vec<TokenRecord> = (0..5).map(|i| full_record("app", Some("alice"), at(i))).collect();
    for record in &records {
        insert(&store, record);
    }
    let target = records[2].clone();
    let found = store
        .read(|repo| {
            Ok([
                repo.find_token_by_code(target.code_hash.as_ref().unwrap())?,
                repo.find_token_by_access_token(target.access_token_hash.as_ref().unwrap())?,
                repo.find_token_by_refresh_token(target.refresh_token_hash.as_ref().unwrap())?,
                repo.find_token_by_id_token(target.id_token_hash.as_ref().unwrap())?,
            ])
        })
        .unwrap();
    for record in found {
        assert_eq!(record.as_ref().map(|r| &r.id), Some(&target.id));
    }
    let unknown = latchkey_store::testing::test_hasher().hash("never issued");
    let missing = store
        .read(|repo| {
            Ok([
                repo.find_token_by_code(&unknown)?,
                repo.find_token_by_access_token(&unknown)?,
                repo.find_token_by_refresh_token(&unknown)?,
                repo.find_token_by_id_token(&unknown)?,
            ])
        })
        .unwrap();
    assert!(missing.iter().all(Option::is_none));
    // Hashes live in separate columns: an access token's hash is not a refresh token.
    let crossed = store
        .read(|repo| repo.find_token_by_refresh_token(target.access_token_hash.as_ref().unwrap()))
        .unwrap();
    assert!(crossed.is_none());
}

fn uniqueness_is_reported_as_conflict(db: &TestDatabase) {
    let store = seeded(db);
    let original = full_record("app", Some("alice"), at(0));
    insert(&store, &original);
    let fresh = || full_record("app", Some("bob"), at(1));
    let mut same_id = fresh();
    same_id.id = original.id.clone();
    let mut same_code = fresh();
    same_code.code_hash = original.code_hash;
    let mut same_access = fresh();
    same_access.access_token_hash = original.access_token_hash;
    let mut same_refresh = fresh();
    same_refresh.refresh_token_hash = original.refresh_token_hash;
    let mut same_id_token = fresh();
    same_id_token.id_token_hash = original.id_token_hash;
    for duplicate in [same_id, same_code, same_access, same_refresh, same_id_token] {
        let result = store.write(move |repo| repo.insert_token(&duplicate));
        assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    }
    let result = store.write(|repo| repo.insert_client(&client("app")));
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    let result = store.write(|repo| repo.insert_user(&user("alice")));
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    let mut same_subject = user("carol");
    same_subject.subject = "sub-alice".into();
    let result = store.write(move |repo| repo.insert_user(&same_subject));
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    // Many records without a code (NULL) are fine: uniqueness applies to values only.
    for i in 0..3 {
        let mut record = fresh();
        record.code_hash = None;
        record.id_token_hash = None;
        record.created_at = at(10 + i);
        insert(&store, &record);
    }
}

fn a_token_needs_a_known_client(db: &TestDatabase) {
    let store = seeded(db);
    let orphan = full_record("nobody", None, at(0));
    let result = store.write(move |repo| repo.insert_token(&orphan));
    assert!(matches!(result, Err(StoreError::Constraint(_))), "{result:?}");
}

fn update_replaces_the_record(db: &TestDatabase) {
    let store = seeded(db);
    let mut record = full_record("app", Some("alice"), at(0));
    insert(&store, &record);
    record.stage = Stage::Complete;
    record.code_hash = None;
    record.access_token_hash = Some(secret(SecretKind::AccessToken));
    record.properties.clear();
    let updated = record.clone();
    store.write(move |repo| repo.update_token(&updated)).unwrap();
    assert_eq!(store.read(|repo| repo.get_token(&record.id)).unwrap(), record);
    let missing = full_record("app", None, at(0));
    assert_eq!(store.write(move |repo| repo.update_token(&missing)), Err(StoreError::NotFound));

    // A copy read before a revocation, written back after it, must not bring the record back to life.
    let mut stale = full_record("app", Some("alice"), at(0));
    insert(&store, &stale);
    let id = stale.id.clone();
    assert!(store.write(|repo| repo.revoke_token(&id, at(5))).unwrap());
    stale.name = Some("renamed".into());
    let write_back = stale.clone();
    store.write(move |repo| repo.update_token(&write_back)).unwrap();
    let reloaded = store.read(|repo| repo.get_token(&id)).unwrap();
    assert_eq!(reloaded.revoked_at, Some(at(5)));
    assert_eq!(reloaded.name.as_deref(), Some("renamed"));
    assert!(!store.write(|repo| repo.revoke_token(&id, at(6))).unwrap(), "already revoked");
}

fn revoke_user_counts_and_spares_others(db: &TestDatabase) {
    let store = seeded(db);
    for i in 0..3 {
        insert(&store, &full_record("app", Some("alice"), at(i)));
    }
    insert(&store, &full_record("other", Some("alice"), at(5)));
    let mut already = full_record("app", Some("alice"), at(6));
    already.revoked_at = Some(at(7));
    insert(&store, &already);
    for i in 0..2 {
        insert(&store, &full_record("app", Some("bob"), at(i)));
    }
    let alice = Username::parse("alice").unwrap();
    let bob = Username::parse("bob").unwrap();
    assert_eq!(store.write(|repo| repo.revoke_user(&alice, at(100))).unwrap(), 4);
    assert_eq!(store.write(|repo| repo.revoke_user(&alice, at(101))).unwrap(), 0, "nothing left to revoke");
    let (alices, bobs) = store
        .read(|repo| {
            Ok((
                repo.list_tokens_by_username(&alice, &PageRequest::first(100))?,
                repo.list_tokens_by_username(&bob, &PageRequest::first(100))?,
            ))
        })
        .unwrap();
    assert_eq!(alices.items.len(), 5);
    assert!(alices.items.iter().all(TokenRecord::is_revoked));
    assert_eq!(
        alices.items.iter().find(|r| r.id == already.id).unwrap().revoked_at,
        Some(at(7)),
        "earlier revocation kept"
    );
    assert_eq!(bobs.items.len(), 2);
    assert!(bobs.items.iter().all(|r| !r.is_revoked()));
}

fn revoke_client_counts_and_spares_others(db: &TestDatabase) {
    let store = seeded(db);
    for i in 0..4 {
        insert(&store, &full_record("app", Some("alice"), at(i)));
    }
    insert(&store, &full_record("other", Some("alice"), at(0)));
    let app = ClientId::parse("app").unwrap();
    let other = ClientId::parse("other").unwrap();
    assert_eq!(store.write(|repo| repo.revoke_client(&app, at(50))).unwrap(), 4);
    let others = store.read(|repo| repo.list_tokens_by_client(&other, &PageRequest::first(10))).unwrap();
    assert_eq!(others.items.len(), 1);
    assert!(!others.items[0].is_revoked());
}

fn listings_paginate_newest_first(db: &TestDatabase) {
    let store = seeded(db);
    // 25 records, several sharing a creation second, so the id breaks ties.
    let mut expected = Vec::new();
    for i in 0..25 {
        let record = full_record("app", Some("alice"), at(i / 3));
        insert(&store, &record);
        expected.push(record);
    }
    insert(&store, &full_record("app", Some("bob"), at(1)));
    let alice = Username::parse("alice").unwrap();
    let mut seen = Vec::new();
    let mut page = PageRequest::first(10);
    let mut pages = 0;
    loop {
        let request = page.clone();
        let alice = alice.clone();
        let batch = store.read(move |repo| repo.list_tokens_by_username(&alice, &request)).unwrap();
        pages += 1;
        assert!(batch.items.len() <= 10);
        seen.extend(batch.items);
        match batch.next {
            Some(cursor) => page = PageRequest::after(10, cursor),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 25);
    let ids: HashSet<_> = seen.iter().map(|r| r.id.clone()).collect();
    assert_eq!(ids.len(), 25, "no record on two pages");
    let keys: Vec<_> = seen.iter().map(|r| (r.created_at, r.id.clone())).collect();
    let mut sorted = keys.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(keys, sorted, "newest first, ties by id");
    assert!(seen.iter().all(|r| r.username.as_ref() == Some(&alice)));

    let by_client = store
        .read(|repo| repo.list_tokens_by_client(&ClientId::parse("app").unwrap(), &PageRequest::first(1000)))
        .unwrap();
    assert_eq!(by_client.items.len(), 26);
    assert!(by_client.next.is_none());
    let exact = store
        .read(|repo| repo.list_tokens_by_client(&ClientId::parse("app").unwrap(), &PageRequest::first(26)))
        .unwrap();
    assert!(exact.next.is_none(), "a full last page has no next cursor");

    let forged = PageRequest::after(10, latchkey_model::Cursor::from_opaque("not-a-cursor"));
    let result = store.read(move |repo| repo.list_tokens_by_username(&alice, &forged));
    assert!(matches!(result, Err(StoreError::InvalidInput(_))), "{result:?}");
}

fn clients_and_users_crud(db: &TestDatabase) {
    let store = db.open().unwrap();
    let mut public = client("spa");
    public.credentials = ClientCredentials::Public;
    public.grant_types = [GrantType::AuthorizationCode].into();
    public.refresh_token_ttl_seconds = None;
    let stored = public.clone();
    store.write(move |repo| repo.insert_client(&stored)).unwrap();
    store.write(|repo| repo.insert_client(&client("api"))).unwrap();
    let spa = ClientId::parse("spa").unwrap();
    assert_eq!(store.read(|repo| repo.find_client(&spa)).unwrap(), Some(public.clone()));
    public.name = "Renamed".into();
    public.redirect_uris.push(RedirectUri::parse("com.example.app:/cb").unwrap());
    public.updated_at = at(5);
    let changes = ClientChanges {
        name: Some(public.name.clone()),
        redirect_uris: Some(public.redirect_uris.clone()),
        grant_types: None,
        scope: None,
        access_token_ttl_seconds: None,
        refresh_token_ttl_seconds: None,
        id_token_signing_alg: None,
        updated_at: at(5),
    };
    assert_eq!(changes.applied_to(&store.read(|repo| repo.find_client(&spa)).unwrap().unwrap()), public);
    store.write(|repo| repo.amend_client(&spa, &changes)).unwrap();
    assert_eq!(store.read(|repo| repo.find_client(&spa)).unwrap(), Some(public.clone()));
    assert_eq!(
        store.write(|repo| repo.find_client_for_update(&spa)).unwrap().map(|c| c.name),
        Some("Renamed".to_owned())
    );
    // Only a client with a secret has one to replace; the rest of the row is left as it was.
    let new_secret = latchkey_store::testing::test_hasher().hash("new secret");
    assert!(!store.write(|repo| repo.replace_client_secret(&spa, &new_secret, at(6))).unwrap());
    let api = ClientId::parse("api").unwrap();
    assert!(store.write(|repo| repo.replace_client_secret(&api, &new_secret, at(6))).unwrap());
    let rekeyed = store.read(|repo| repo.find_client(&api)).unwrap().unwrap();
    assert_eq!(rekeyed.credentials, ClientCredentials::Secret(new_secret));
    assert_eq!((rekeyed.name.as_str(), rekeyed.updated_at), (client("api").name.as_str(), at(6)));
    let missing = ClientId::parse("missing").unwrap();
    assert_eq!(store.write(|repo| repo.amend_client(&missing, &changes)), Err(StoreError::NotFound));
    let first = store.read(|repo| repo.list_clients(&PageRequest::first(1))).unwrap();
    assert_eq!(first.items[0].id.as_str(), "api");
    let second =
        store.read(move |repo| repo.list_clients(&PageRequest::after(1, first.next.unwrap()))).unwrap();
    assert_eq!(second.items[0].id.as_str(), "spa");
    assert!(second.next.is_none());
    assert_eq!(store.read(|repo| repo.count_clients()).unwrap(), 2);
    store.write(|repo| repo.delete_client(&spa)).unwrap();
    assert_eq!(store.read(|repo| repo.find_client(&spa)).unwrap(), None);
    assert_eq!(store.write(|repo| repo.delete_client(&spa)), Err(StoreError::NotFound));

    let mut ada = user("ada");
    store.write(|repo| repo.insert_user(&user("ada"))).unwrap();
    store.write(|repo| repo.insert_user(&user("zed"))).unwrap();
    let name = ada.username.clone();
    assert_eq!(store.read(|repo| repo.find_user(&name)).unwrap(), Some(ada.clone()));
    ada.disabled = true;
    ada.email = None;
    ada.updated_at = at(7);
    let changes = UserChanges {
        password_hash: None,
        email: Some(None),
        name: None,
        disabled: Some(true),
        updated_at: at(7),
    };
    store.write(|repo| repo.amend_user(&name, &changes)).unwrap();
    assert_eq!(store.read(|repo| repo.find_user(&name)).unwrap(), Some(ada.clone()));
    // A second change of another field leaves the first in place.
    let rehashed = PasswordHash::from_phc("$argon2id$v=19$m=19456,t=2,p=1$bmV3$bmV3");
    let changes = UserChanges { password_hash: Some(rehashed.clone()), ..UserChanges::new(at(8)) };
    store.write(|repo| repo.amend_user(&name, &changes)).unwrap();
    let stored = store.read(|repo| repo.find_user(&name)).unwrap().unwrap();
    assert_eq!((stored.password_hash, stored.disabled, stored.email), (rehashed, true, None));
    let nobody = Username::parse("nobody").unwrap();
    assert_eq!(store.write(|repo| repo.amend_user(&nobody, &changes)), Err(StoreError::NotFound));
    let users = store.read(|repo| repo.list_users(&PageRequest::first(10))).unwrap();
    assert_eq!(users.items.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), ["ada", "zed"]);
    store.write(|repo| repo.delete_user(&name)).unwrap();
    assert_eq!(store.read(|repo| repo.count_users()).unwrap(), 1);
    assert_eq!(store.write(|repo| repo.delete_user(&name)), Err(StoreError::NotFound));
}

fn deleting_a_client_deletes_its_tokens(db: &TestDatabase) {
    let store = seeded(db);
    let record = full_record("other", Some("alice"), at(0));
    insert(&store, &record);
    store.write(|repo| repo.delete_client(&ClientId::parse("other").unwrap())).unwrap();
    assert_eq!(store.read(|repo| repo.get_token(&record.id)), Err(StoreError::NotFound));
}

fn a_failed_write_leaves_nothing(db: &TestDatabase) {
    let store = seeded(db);
    let record = full_record("app", Some("alice"), at(0));
    let inserted = record.clone();
    let result: Result<(), StoreError> = store.write(move |repo| {
        repo.insert_token(&inserted)?;
        repo.insert_client(&client("app")) // conflicts: the whole transaction must roll back
    });
    assert!(matches!(result, Err(StoreError::Conflict(_))));
    assert_eq!(store.read(|repo| repo.get_token(&record.id)), Err(StoreError::NotFound));
    // The connection is clean for the next transaction.
    insert(&store, &record);
}

fn unreachable_database_is_unavailable(db: &TestDatabase) {
    let options = StoreOptions { connect_timeout: Duration::from_millis(500), ..StoreOptions::default() };
    let url = match db.backend() {
        Backend::Postgres => DatabaseUrl::parse("postgres://postgres@127.0.0.1:1/none").unwrap(),
        Backend::Sqlite => DatabaseUrl::parse("sqlite:///nonexistent-directory/latchkey.db").unwrap(),
    };
    let result = Store::open(&url, &options);
    match result {
        Err(StoreError::Unavailable(message)) => assert!(!message.is_empty()),
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

fn lost_database_is_unavailable(db: &TestDatabase) {
    let options = StoreOptions {
        connect_timeout: Duration::from_millis(500),
        sqlite_busy_timeout: Duration::from_millis(100),
        max_connections: 2,
        sqlite_max_pages: None,
    };
    let store = db.open_with(&options).unwrap();
    store.write(|repo| repo.insert_client(&client("app"))).unwrap();
    let record = full_record("app", None, at(0));
    match db.backend() {
        Backend::Postgres => {
            db.drop_now().unwrap();
            let inserted = record.clone();
            assert!(matches!(
                store.write(move |repo| repo.insert_token(&inserted)),
                Err(StoreError::Unavailable(_))
            ));
            assert!(matches!(store.read(|repo| repo.count_clients()), Err(StoreError::Unavailable(_))));
            assert!(matches!(store.ping(), Err(StoreError::Unavailable(_))));
        }
        Backend::Sqlite => {
            // Another process holds the write lock: writes cannot happen and must say so, not hang or succeed.
            use diesel::connection::SimpleConnection;
            use diesel::Connection;
            let path = db.url().trim_start_matches("sqlite://").to_owned();
            let mut holder = diesel::SqliteConnection::establish(&path).unwrap();
            holder.batch_execute("BEGIN EXCLUSIVE").unwrap();
            let inserted = record.clone();
            assert!(matches!(
                store.write(move |repo| repo.insert_token(&inserted)),
                Err(StoreError::Unavailable(_))
            ));
            assert!(matches!(store.ping(), Err(StoreError::Unavailable(_))));
            holder.batch_execute("ROLLBACK").unwrap();
            // Once the lock is gone the same store works again: nothing was half-written.
            assert_eq!(store.read(|repo| repo.get_token(&record.id)), Err(StoreError::NotFound));
            store.ping().unwrap();
            insert(&store, &record);
        }
    }
}

fn credentials_of(store: &Store, id: &str) -> Option<ClientCredentials> {
    let id = ClientId::parse(id).unwrap();
    store.read(|repo| repo.find_client(&id)).unwrap().map(|client| client.credentials)
}

/// Two stores on one database are two servers: each caches clients, and a change made through one is what
/// the other's next look-up returns.
fn a_client_changed_by_another_server_is_seen_at_once(db: &TestDatabase) {
    let (here, there) = (seeded(db), db.open().unwrap());
    let id = ClientId::parse("app").unwrap();
    let original = credentials_of(&here, "app");
    assert!(original.is_some());
    assert_eq!(credentials_of(&here, "app"), original, "a second look-up, from the cache, is the same");

    let rotated = latchkey_store::testing::test_hasher().hash("rotated-secret");
    let changed = there.write(|repo| repo.replace_client_secret(&id, &rotated, at(5))).unwrap();
    assert!(changed);
    assert_eq!(credentials_of(&here, "app"), Some(ClientCredentials::Secret(rotated)));
    // Also inside a write transaction (where grants authenticate their client).
    let seen = here.write(|repo| repo.find_client(&id)).unwrap().map(|c| c.credentials);
    assert_eq!(seen, Some(ClientCredentials::Secret(rotated)));

    let mut renamed = ClientChanges::new(at(6));
    renamed.name = Some("Renamed".into());
    there.write(|repo| repo.amend_client(&id, &renamed)).unwrap();
    assert_eq!(here.read(|repo| repo.find_client(&id)).unwrap().unwrap().name, "Renamed");

    there.write(|repo| repo.delete_client(&id)).unwrap();
    assert_eq!(credentials_of(&here, "app"), None, "a deleted client is gone on the next look-up");
}

/// A transaction that changes a client and reads it back caches what it read; if it then rolls back, that
/// entry must never be served, even after another change to the clients table commits.
fn a_client_cached_from_a_rolled_back_change_is_never_used(db: &TestDatabase) {
    let (here, there) = (seeded(db), db.open().unwrap());
    let id = ClientId::parse("app").unwrap();
    let rolled_back = here.write(|repo| {
        repo.replace_client_secret(
            &id,
            &latchkey_store::testing::test_hasher().hash("never-committed"),
            at(5),
        )?;
        assert!(repo.find_client(&id)?.is_some());
        Err::<(), _>(StoreError::NotFound)
    });
    assert_eq!(rolled_back, Err(StoreError::NotFound));
    let committed = latchkey_store::testing::test_hasher().hash("committed-elsewhere");
    assert!(there.write(|repo| repo.replace_client_secret(&id, &committed, at(6))).unwrap());
    assert_eq!(credentials_of(&here, "app"), Some(ClientCredentials::Secret(committed)));
}

fn migrations_revert_and_reapply(db: &TestDatabase) {
    let store = db.open().unwrap();
    latchkey_store::testing::revert_all_migrations(&store).unwrap();
    assert!(store.read(|repo| repo.count_clients()).is_err(), "tables are gone after revert");
    assert!(store.migrate().unwrap() >= 1);
    assert_eq!(store.migrate().unwrap(), 0, "nothing pending the second time");
    assert_eq!(store.read(|repo| repo.count_clients()).unwrap(), 0, "the reserved client is not counted");
    let reserved = ClientId::parse(latchkey_model::PERSONAL_CLIENT_ID).unwrap();
    let found = store.read(|repo| repo.find_client(&reserved)).unwrap().expect("the reserved client exists");
    assert!(found.is_reserved() && found.grant_types.is_empty() && found.scope.is_empty());
    assert_eq!(found.credentials, ClientCredentials::Public);
    assert!(store.read(|repo| repo.list_clients(&PageRequest::first(10))).unwrap().items.is_empty());
}

#[test]
fn both_backends_have_the_same_migrations() {
    let names = |backend: &str| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations").join(backend);
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(names("sqlite"), names("postgres"));
    assert!(!names("sqlite").is_empty());
}

#[test]
fn in_memory_sqlite_keeps_its_data_across_transactions() {
    let store = Store::open(&DatabaseUrl::SqliteMemory, &StoreOptions::default()).unwrap();
    store.write(|repo| repo.insert_client(&client("app"))).unwrap();
    assert_eq!(store.read(|repo| repo.count_clients()).unwrap(), 1);
}

mod flows {
    //! Single-use secrets, sessions, consent and login throttling: the store operations the flows rely on
    //! for their atomicity.
    use super::*;
    use latchkey_model::{Consent, Session};
    use latchkey_store::{Consumed, LoginAttempt};

    latchkey_store::on_both_backends!(
        a_code_is_redeemed_once_even_concurrently,
        a_refresh_token_is_consumed_once_and_its_family_revoked,
        sessions_expire_and_end_with_the_user,
        consent_is_remembered_per_user_and_client,
        concurrent_login_failures_all_count,
    );

    fn a_code_is_redeemed_once_even_concurrently(db: &TestDatabase) {
        let store = seeded(db);
        let mut record = full_record("app", Some("alice"), at(0));
        record.code_redeemed_at = None;
        let code = record.code_hash.unwrap();
        insert(&store, &record);
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let store = store.clone();
                std::thread::spawn(move || store.write(move |repo| repo.redeem_code(&code, at(1))).unwrap())
            })
            .collect();
        let outcomes: Vec<Consumed> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let first = outcomes.iter().filter(|o| matches!(o, Consumed::First(_))).count();
        let replays = outcomes.iter().filter(|o| matches!(o, Consumed::Replayed(_))).count();
        assert_eq!((first, replays), (1, 7), "exactly one redemption wins");
        let unknown = latchkey_store::testing::test_hasher().hash("nope");
        assert_eq!(store.write(move |repo| repo.redeem_code(&unknown, at(1))).unwrap(), Consumed::Unknown);
        // A revoked record's code is never redeemable, even if it was never used.
        let mut revoked = full_record("app", Some("alice"), at(0));
        revoked.code_redeemed_at = None;
        let code = revoked.code_hash.unwrap();
        let id = revoked.id.clone();
        insert(&store, &revoked);
        store.write(|repo| repo.revoke_user(&Username::parse("alice").unwrap(), at(2))).unwrap();
        assert!(store.read(|repo| repo.get_token(&id)).unwrap().is_revoked());
        assert!(matches!(
            store.write(move |repo| repo.redeem_code(&code, at(3))).unwrap(),
            Consumed::Replayed(_)
        ));
    }

    fn a_refresh_token_is_consumed_once_and_its_family_revoked(db: &TestDatabase) {
        let store = seeded(db);
        let first = full_record("app", Some("alice"), at(0));
        let mut rotated = full_record("app", Some("alice"), at(1));
        rotated.family_id = first.family_id.clone();
        let unrelated = full_record("app", Some("alice"), at(2));
        for record in [&first, &rotated, &unrelated] {
            insert(&store, record);
        }
        let refresh = first.refresh_token_hash.unwrap();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let store = store.clone();
                std::thread::spawn(move || {
                    store.write(move |repo| repo.consume_refresh_token(&refresh, at(3))).unwrap()
                })
            })
            .collect();
        let outcomes: Vec<Consumed> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(outcomes.iter().filter(|o| matches!(o, Consumed::First(_))).count(), 1);
        let family = first.family_id.clone();
        assert_eq!(
            store.write(move |repo| repo.revoke_family(&family, at(4))).unwrap(),
            1,
            "the rotated record"
        );
        assert!(!store.read(|repo| repo.get_token(&unrelated.id)).unwrap().is_revoked());
    }

    fn sessions_expire_and_end_with_the_user(db: &TestDatabase) {
        let store = seeded(db);
        let session = Session {
            id_hash: secret(SecretKind::Session),
            username: Some(Username::parse("alice").unwrap()),
            auth_time: Some(at(0)),
            created_at: at(0),
            last_seen_at: at(0),
            expires_at: at(100),
            auth_methods: vec![latchkey_model::AuthMethod::Password],
        };
        let stored = session.clone();
        store.write(move |repo| repo.insert_session(&stored)).unwrap();
        let hash = session.id_hash;
        assert_eq!(store.read(move |repo| repo.find_session(&hash, at(99))).unwrap(), Some(session.clone()));
        assert_eq!(store.read(move |repo| repo.find_session(&hash, at(100))).unwrap(), None, "expired");
        let alice = Username::parse("alice").unwrap();
        assert_eq!(store.write(move |repo| repo.delete_user_sessions(&alice)).unwrap(), 1);
        assert_eq!(store.read(move |repo| repo.find_session(&hash, at(1))).unwrap(), None);
    }

    fn consent_is_remembered_per_user_and_client(db: &TestDatabase) {
        let store = seeded(db);
        let consent = Consent {
            username: Username::parse("alice").unwrap(),
            client_id: ClientId::parse("app").unwrap(),
            scope: Scope::parse("openid profile").unwrap(),
            granted_at: at(0),
        };
        let saved = consent.clone();
        store.write(move |repo| repo.save_consent(&saved)).unwrap();
        let widened = Consent {
            scope: Scope::parse("openid profile email").unwrap(),
            granted_at: at(5),
            ..consent.clone()
        };
        let saved = widened.clone();
        store.write(move |repo| repo.save_consent(&saved)).unwrap();
        let (user, client) = (consent.username.clone(), consent.client_id.clone());
        assert_eq!(store.read(move |repo| repo.find_consent(&user, &client)).unwrap(), Some(widened));
        let (user, other) = (consent.username.clone(), ClientId::parse("other").unwrap());
        assert_eq!(store.read(move |repo| repo.find_consent(&user, &other)).unwrap(), None);
    }

    fn concurrent_login_failures_all_count(db: &TestDatabase) {
        let store = db.open_with(&StoreOptions { max_connections: 8, ..StoreOptions::default() }).unwrap();
        // Five attempts, then a lock-out of 60 s: twelve parallel attempts must let exactly five through.
        let lock_after_five = |attempts: i64| (attempts >= 5).then_some(60);
        let threads: Vec<_> = (0..12)
            .map(|_| {
                let store = store.clone();
                std::thread::spawn(move || {
                    store
                        .write(move |repo| {
                            repo.count_login_attempt("user:alice", at(0), at(-3600), lock_after_five)
                        })
                        .unwrap()
                })
            })
            .collect();
        let outcomes: Vec<LoginAttempt> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let allowed = outcomes.iter().filter(|o| matches!(o, LoginAttempt::Allowed { .. })).count();
        assert_eq!(allowed, 5, "{outcomes:?}");
        let lock_times: Vec<_> = outcomes
            .iter()
            .filter_map(|o| match o {
                LoginAttempt::Locked(t) => Some(*t),
                _ => None,
            })
            .collect();
        assert!(lock_times.iter().all(|t| *t == at(60)), "{lock_times:?}");
        let locked = store.read(|repo| repo.login_locked_until("user:alice", at(10))).unwrap();
        assert_eq!(locked, Some(at(60)));
        assert_eq!(
            store.read(|repo| repo.login_locked_until("user:alice", at(60))).unwrap(),
            None,
            "bounded"
        );
        assert_eq!(store.read(|repo| repo.login_locked_until("ip:10.0.0.1", at(0))).unwrap(), None);
        store.write(|repo| repo.clear_login_failures("user:alice")).unwrap();
        assert_eq!(store.read(|repo| repo.login_locked_until("user:alice", at(10))).unwrap(), None);
        let count = |subject: &'static str, now: i64, forget_before: i64| {
            store
                .write(move |repo| {
                    repo.count_login_attempt(subject, at(now), at(forget_before), lock_after_five)
                })
                .unwrap()
        };
        assert_eq!(count("user:alice", 11, -3600), LoginAttempt::Allowed { attempts: 1 }, "a success resets");
        assert_eq!(count("user:alice", 12, -3600), LoginAttempt::Allowed { attempts: 2 });
        store.write(|repo| repo.forgive_login_attempt("user:alice")).unwrap();
        assert_eq!(count("user:alice", 13, -3600), LoginAttempt::Allowed { attempts: 2 }, "one taken back");
        // Quiet since before `forget_before`: counting starts again.
        assert_eq!(count("user:alice", 5000, 14), LoginAttempt::Allowed { attempts: 1 });
        // A lock in force is never forgotten early.
        for now in 5001..5005 {
            count("user:alice", now, 0);
        }
        assert!(matches!(count("user:alice", 5006, 5100), LoginAttempt::Locked(_)));
    }
}

/// A token for the owner is being made in one transaction (a refresh, a login, a personal token: each holds
/// the owner's row first) while another revokes everything the owner holds. Whichever way they meet, the new
/// token ends revoked: the revocation waits for the maker's commit and then sees its row. (Without the row
/// lock, PostgreSQL's READ COMMITTED revocation runs beside the uncommitted insert and misses it.)
fn a_token_made_beside_a_revocation_ends_revoked(
    db: &TestDatabase,
    hold: fn(&mut latchkey_store::Repo<'_>) -> Result<(), StoreError>,
    revoke: fn(&mut latchkey_store::Repo<'_>) -> Result<u64, StoreError>,
) {
    let (maker, revoker) = (seeded(db), db.open().unwrap());
    let made = full_record("app", Some("alice"), at(1));
    let (inserted, waiting) = std::sync::mpsc::channel::<()>();
    let (started, revoking) = std::sync::mpsc::channel::<()>();
    let making = {
        let made = made.clone();
        std::thread::spawn(move || {
            maker.write(move |repo| {
                hold(repo)?;
                repo.insert_token(&made)?;
                inserted.send(()).unwrap();
                // Give the revocation time to reach the database while this insert is not committed yet.
                revoking.recv().unwrap();
                std::thread::sleep(Duration::from_millis(300));
                Ok(())
            })
        })
    };
    waiting.recv().unwrap();
    let revocation = std::thread::spawn(move || {
        started.send(()).unwrap();
        revoker.write(revoke)
    });
    making.join().unwrap().unwrap();
    assert_eq!(revocation.join().unwrap(), Ok(1), "the revocation saw the token made beside it");
    let stored = db.open().unwrap().read(|repo| repo.get_token(&made.id)).unwrap();
    assert!(stored.is_revoked());
}

fn revoking_a_user_reaches_a_token_made_beside_it(db: &TestDatabase) {
    a_token_made_beside_a_revocation_ends_revoked(
        db,
        |repo| repo.hold_user(&Username::parse("alice").unwrap()),
        |repo| repo.revoke_user(&Username::parse("alice").unwrap(), at(2)),
    );
}

fn revoking_a_client_reaches_a_token_made_beside_it(db: &TestDatabase) {
    a_token_made_beside_a_revocation_ends_revoked(
        db,
        |repo| repo.hold_client(&ClientId::parse("app").unwrap()),
        |repo| repo.revoke_client(&ClientId::parse("app").unwrap(), at(2)),
    );
}
