//! The code exchange driven through oxide-auth's access-token machine, in-process on SQLite, with the clock
//! as an input: expiry is decided by the injected `now`, whatever the wall clock says.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use latchkey_core::keys::{KeyEncryptionKey, Keyring};
use latchkey_core::registration::{register_client, register_user, NewClient, NewUser, SecretChoice};
use latchkey_core::ErrorCode;
use latchkey_grant_code::authorize::{self, Next};
use latchkey_grant_code::exchange::{exchange, CodeExchange};
use latchkey_grant_code::request::{validate, Params};
use latchkey_model::{Client, Consent, PlainSecret, Scope, SecretKind, Session, Timestamp, Username};
use latchkey_store::testing::TestDatabase;
use latchkey_store::Store;

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
/// 2001: long before the wall clock, so a check against the wall clock would call every code expired.
const LONG_AGO: Timestamp = Timestamp::from_unix_seconds(1_000_000_000);

struct World {
    _db: TestDatabase,
    store: Store,
    client: Client,
    keys: Keyring,
    session: Session,
}

fn world(now: Timestamp) -> World {
    let db = TestDatabase::sqlite();
    let store = db.open().unwrap();
    let rng = &mut rand::rngs::OsRng;
    let (client, _) = register_client(
        NewClient {
            id: "app".into(),
            name: None,
            secret: SecretChoice::Given("app-secret-0123456789abcdefghijklmnop".into()),
            redirect_uris: vec!["https://app.example.com/cb".into()],
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            scopes: vec!["openid".into(), "offline_access".into()],
            access_token_ttl_seconds: None,
            refresh_token_ttl_seconds: None,
            id_token_signing_alg: Default::default(),
        },
        now,
        rng,
    )
    .unwrap();
    let user = register_user(
        NewUser {
            username: "alice".into(),
            password: "correct horse battery".into(),
            email: None,
            name: None,
        },
        now,
        rng,
    )
    .unwrap();
    let session = Session {
        id_hash: PlainSecret::generate(SecretKind::Session, rng).hash(),
        username: Some(Username::parse("alice").unwrap()),
        auth_time: Some(now),
        created_at: now,
        last_seen_at: now,
        expires_at: now.plus_seconds(3600),
    };
    let consent = Consent {
        username: Username::parse("alice").unwrap(),
        client_id: client.id.clone(),
        scope: Scope::parse("openid offline_access").unwrap(),
        granted_at: now,
    };
    let kek = KeyEncryptionKey::generate(rng);
    let keys = store
        .write(|repo| {
            repo.insert_client(&client)?;
            repo.insert_user(&user)?;
            repo.insert_session(&session)?;
            repo.save_consent(&consent)?;
            Ok(Keyring::load_or_create(repo, &kek, now, &mut rand::rngs::OsRng))
        })
        .unwrap()
        .unwrap();
    World { _db: db, store, client, keys, session }
}

fn new_code(world: &World, now: Timestamp) -> String {
    let params = Params(
        [
            ("response_type", "code"),
            ("client_id", "app"),
            ("redirect_uri", "https://app.example.com/cb"),
            ("scope", "openid offline_access"),
            ("nonce", "n-0S6_WzA2Mj"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .to_vec(),
    );
    let code = world
        .store
        .write(|repo| {
            let request = validate(&params, |id| repo.find_client(id))?.expect("valid request");
            let rng = &mut rand::rngs::OsRng;
            let mut record =
                authorize::begin(repo, &request, "https://id.example.com", &world.session.id_hash, now, rng)?;
            let consent = repo.find_consent(&Username::parse("alice").unwrap(), &world.client.id)?;
            let Next::Issue { username, auth_time } =
                authorize::next_step(&record, Some(&world.session), consent.as_ref(), now)
            else {
                panic!("logged in and consented");
            };
            authorize::issue_code(repo, &mut record, username, auth_time, now, rng)
        })
        .unwrap()
        .expect("code issued");
    code.expose().to_owned()
}

fn redeem(world: &World, code: &str, verifier: &str, now: Timestamp) -> Result<serde_json::Value, ErrorCode> {
    let request = CodeExchange {
        code: code.to_owned(),
        redirect_uri: Some("https://app.example.com/cb".into()),
        code_verifier: Some(verifier.into()),
    };
    world
        .store
        .write(|repo| exchange(repo, &world.client, &request, &world.keys, now, &mut rand::rngs::OsRng))
        .unwrap()
        .map(|response| serde_json::to_value(&response).unwrap())
        .map_err(|error| error.code)
}

#[test]
fn the_injected_clock_decides_expiry_not_the_wall_clock() {
    let world = world(LONG_AGO);
    let fresh = new_code(&world, LONG_AGO);
    let response = redeem(&world, &fresh, VERIFIER, LONG_AGO.plus_seconds(59)).expect("redeemed within 60 s");
    assert!(response["access_token"].as_str().unwrap().starts_with("lk_at_"));
    assert!(response["refresh_token"].as_str().unwrap().starts_with("lk_rt_"));
    assert!(response["id_token"].is_string());

    let stale = new_code(&world, LONG_AGO);
    assert_eq!(redeem(&world, &stale, VERIFIER, LONG_AGO.plus_seconds(60)), Err(ErrorCode::InvalidGrant));
}

#[test]
fn the_nonce_reaches_the_id_token_and_a_wrong_verifier_is_invalid_grant() {
    let now = Timestamp::from_unix_seconds(1_900_000_000);
    let world = world(now);
    let code = new_code(&world, now);
    let response = redeem(&world, &code, VERIFIER, now).unwrap();
    let id_token = response["id_token"].as_str().unwrap();
    let payload = id_token.split('.').nth(1).unwrap();
    use base64::Engine;
    let claims: serde_json::Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap())
            .unwrap();
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj", "carried through the access-token stage by the nonce addon");

    let code = new_code(&world, now);
    let wrong = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX";
    assert_eq!(redeem(&world, &code, wrong, now), Err(ErrorCode::InvalidGrant));
    assert_eq!(redeem(&world, &code, VERIFIER, now), Err(ErrorCode::InvalidGrant), "the code was spent");
}
