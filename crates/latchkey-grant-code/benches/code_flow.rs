//! One full authorization code flow in-process on SQLite, for a user who is logged in and has consented:
//! validate the authorization request, create the record and issue the code (one transaction), then redeem
//! it with PKCE for an access token, a refresh token and an RS256 ID token (another transaction).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{criterion_group, criterion_main, Criterion};
use latchkey_core::keys::{KeyEncryptionKey, Keyring};
use latchkey_core::registration::{register_client, register_user, NewClient, NewUser, SecretChoice};
use latchkey_grant_code::authorize::{self, Next};
use latchkey_grant_code::exchange::{exchange, CodeExchange};
use latchkey_grant_code::request::{validate, Params};
use latchkey_model::{Consent, PlainSecret, Scope, SecretKind, Session, Timestamp, Username};
use latchkey_store::testing::TestDatabase;

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn code_flow(c: &mut Criterion) {
    let db = TestDatabase::sqlite();
    let store = db.open().unwrap();
    let now = Timestamp::from_unix_seconds(1_800_000_000);
    let rng = &mut rand::rngs::OsRng;
    let (client, _) = register_client(
        NewClient {
            id: "app".into(),
            name: None,
            secret: SecretChoice::Given("app-secret-0123456789abcdefghijklmnop".into()),
            redirect_uris: vec!["https://app.example.com/cb".into()],
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            scopes: vec!["openid".into(), "profile".into(), "offline_access".into()],
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
        scope: Scope::parse("openid profile offline_access").unwrap(),
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
    let params = Params(
        [
            ("response_type", "code"),
            ("client_id", "app"),
            ("redirect_uri", "https://app.example.com/cb"),
            ("scope", "openid profile offline_access"),
            ("state", "xyz"),
            ("nonce", "n-1"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .to_vec(),
    );

    c.bench_function("code_flow/authorize+token (sqlite)", |b| {
        b.iter(|| {
            let code = store
                .write(|repo| {
                    let request = validate(&params, |id| repo.find_client(id))?.expect("valid request");
                    let rng = &mut rand::rngs::OsRng;
                    let mut record = authorize::begin(
                        repo,
                        &request,
                        "https://id.example.com",
                        &session.id_hash,
                        now,
                        rng,
                    )?;
                    let consent = repo.find_consent(&consent.username, &client.id)?;
                    let Next::Issue { username, auth_time } =
                        authorize::next_step(&record, Some(&session), consent.as_ref(), now)
                    else {
                        panic!("logged in and consented");
                    };
                    authorize::issue_code(repo, &mut record, username, auth_time, now, rng)
                        .map(|issued| issued.expect("code issued"))
                })
                .unwrap();
            let request = CodeExchange {
                code: code.expose().to_owned(),
                redirect_uri: Some("https://app.example.com/cb".into()),
                code_verifier: Some(VERIFIER.into()),
            };
            let response = store
                .write(|repo| exchange(repo, &client, &request, &keys, now, &mut rand::rngs::OsRng))
                .unwrap()
                .unwrap();
            assert!(response.id_token.is_some() && response.refresh_token.is_some());
        })
    });
}

criterion_group!(benches, code_flow);
criterion_main!(benches);
