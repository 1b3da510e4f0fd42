//! The authorization code grant below HTTP, on a real database with a clock that moves only when told:
//! a request validated and settled, the code issued, then redeemed (RFC 6749 §4.1, RFC 7636).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use latchkey_core::testing::{confidential, World, PKCE_CHALLENGE, PKCE_VERIFIER, REDIRECT_URI};
use latchkey_core::{ErrorCode, Failure, Form};
use latchkey_grant_code::authorize::{self, Next};
use latchkey_grant_code::exchange::{exchange, CodeExchange};
use latchkey_grant_code::request::{client_id, validate};
use latchkey_model::{Client, PlainSecret, ResponseType};
use latchkey_store::testing::TestDatabase;

latchkey_store::on_both_backends!(
    a_code_is_redeemed_once_with_its_verifier_and_nonce,
    a_code_expires_by_the_injected_clock,
    a_replayed_code_revokes_what_it_issued,
    another_clients_code_is_refused_without_spending_it,
    a_redirect_uri_left_out_at_authorization_may_be_left_out_at_the_token_endpoint,
    a_redirect_uri_named_at_authorization_must_be_named_again,
    a_new_grant_past_the_cap_revokes_the_oldest,
);

struct Setup {
    world: World,
    app: Client,
}

fn setup(db: &TestDatabase) -> Setup {
    let world = World::new(TestDatabase::create(db.backend()).unwrap());
    let app = world.client(confidential(
        "app",
        &["authorization_code", "refresh_token"],
        &["openid", "offline_access"],
    ));
    world.client(confidential("other", &["authorization_code"], &["openid"]));
    world.user("alice");
    world.consent("alice", &app, "openid offline_access");
    Setup { world, app }
}

/// Validates `pairs` for `app`, settles the request for signed-in alice, and issues the code.
fn code(setup: &Setup, pairs: &[(&str, &str)]) -> PlainSecret {
    let world = &setup.world;
    let form = Form::from_pairs(pairs.iter().copied());
    let (_, session) = world.signed_in("alice");
    world
        .step(|repo| {
            let id = client_id(&form).unwrap();
            let request =
                validate(&form, repo.find_client(&id)?, &ResponseType::ALL).expect("a valid request");
            let rng = &mut rand::rngs::OsRng;
            let mut record =
                authorize::begin(repo, &request, world.issuer.as_str(), &session.id_hash, world.now(), rng)?;
            let consent = repo.find_consent(session.username.as_ref().unwrap(), &setup.app.id)?;
            let Next::Issue { username, auth_time, methods } =
                authorize::next_step(&record, Some(&session), consent.as_ref(), world.now())
            else {
                panic!("signed in and consented");
            };
            Ok(latchkey_grant_code::code::issue_code(
                repo,
                &mut record,
                username,
                auth_time,
                &methods,
                world.now(),
                rng,
            )?)
        })
        .unwrap()
}

fn full_request() -> Vec<(&'static str, &'static str)> {
    vec![
        ("response_type", "code"),
        ("client_id", "app"),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "openid offline_access"),
        ("nonce", "n-0S6_WzA2Mj"),
        ("code_challenge", PKCE_CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
}

fn redeem(
    setup: &Setup,
    client: &str,
    code: &PlainSecret,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
) -> Result<serde_json::Value, ErrorCode> {
    let world = &setup.world;
    let request = CodeExchange {
        code: code.clone(),
        redirect_uri: redirect_uri.map(str::to_owned),
        code_verifier: verifier.map(str::to_owned),
    };
    let client = world
        .store
        .read(|repo| repo.find_client(&latchkey_model::ClientId::parse(client).unwrap()))
        .unwrap()
        .unwrap();
    let outcome = world
        .step(|repo| exchange(repo, &client, &request, &world.keys, world.now(), &mut rand::rngs::OsRng));
    match outcome {
        Ok(response) => Ok(serde_json::to_value(response).unwrap()),
        Err(Failure::Refused(error)) => Err(error.code),
        Err(Failure::Storage(error)) => panic!("storage: {error}"),
    }
}

fn claims(id_token: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = id_token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap())
        .unwrap()
}

fn a_code_is_redeemed_once_with_its_verifier_and_nonce(db: &TestDatabase) {
    let setup = setup(db);
    let code = code(&setup, &full_request());
    let wrong = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX";
    assert_eq!(redeem(&setup, "app", &code, Some(REDIRECT_URI), Some(wrong)), Err(ErrorCode::InvalidGrant));
    assert_eq!(
        redeem(&setup, "app", &code, Some(REDIRECT_URI), Some(PKCE_VERIFIER)),
        Err(ErrorCode::InvalidGrant),
        "spent"
    );

    let code = self::code(&setup, &full_request());
    let tokens = redeem(&setup, "app", &code, Some(REDIRECT_URI), Some(PKCE_VERIFIER)).unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(tokens["refresh_token"].as_str().unwrap().starts_with("lk_rt_"), "offline_access was granted");
    let id_token = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id_token["nonce"], "n-0S6_WzA2Mj", "the nonce of the authorization request");
    assert_eq!(id_token["amr"], serde_json::json!(["pwd"]), "how alice signed in");
    assert_eq!(id_token["auth_time"], setup.world.now().unix_seconds());
}

fn a_code_expires_by_the_injected_clock(db: &TestDatabase) {
    let setup = setup(db);
    let code = code(&setup, &full_request());
    setup.world.advance(60);
    assert_eq!(
        redeem(&setup, "app", &code, Some(REDIRECT_URI), Some(PKCE_VERIFIER)),
        Err(ErrorCode::InvalidGrant)
    );
    let code = self::code(&setup, &full_request());
    setup.world.advance(59);
    assert!(
        redeem(&setup, "app", &code, Some(REDIRECT_URI), Some(PKCE_VERIFIER)).is_ok(),
        "one second to spare"
    );
}

fn a_replayed_code_revokes_what_it_issued(db: &TestDatabase) {
    let setup = setup(db);
    let code = code(&setup, &full_request());
    let tokens = redeem(&setup, "app", &code, Some(REDIRECT_URI), Some(PKCE_VERIFIER)).unwrap();
    assert_eq!(
        redeem(&setup, "app", &code, Some(REDIRECT_URI), Some(PKCE_VERIFIER)),
        Err(ErrorCode::InvalidGrant)
    );
    let access = setup.world.hasher().hash(tokens["access_token"].as_str().unwrap());
    let record = setup.world.store.read(|repo| repo.find_token_by_access_token(&access)).unwrap().unwrap();
    assert!(record.is_revoked(), "the replay revoked the tokens of the first redemption");
}

fn another_clients_code_is_refused_without_spending_it(db: &TestDatabase) {
    let setup = setup(db);
    let code = code(&setup, &full_request());
    assert_eq!(
        redeem(&setup, "other", &code, Some(REDIRECT_URI), Some(PKCE_VERIFIER)),
        Err(ErrorCode::InvalidGrant)
    );
    assert!(
        redeem(&setup, "app", &code, Some(REDIRECT_URI), Some(PKCE_VERIFIER)).is_ok(),
        "still good for its client"
    );
}

fn a_redirect_uri_left_out_at_authorization_may_be_left_out_at_the_token_endpoint(db: &TestDatabase) {
    let setup = setup(db);
    // Plain OAuth (no openid) may leave redirect_uri out when the client registered exactly one (§3.1.2.3).
    let request = [("response_type", "code"), ("client_id", "app"), ("scope", "offline_access")];
    let code = code(&setup, &request);
    assert!(redeem(&setup, "app", &code, None, None).is_ok(), "RFC 6749 §4.1.3: not required then");
    let code = self::code(&setup, &request);
    assert_eq!(
        redeem(&setup, "app", &code, Some("https://app.example.com/other"), None),
        Err(ErrorCode::InvalidGrant),
        "one given anyway must be the registered one"
    );
    let code = self::code(&setup, &request);
    assert!(redeem(&setup, "app", &code, Some(REDIRECT_URI), None).is_ok());
}

fn a_redirect_uri_named_at_authorization_must_be_named_again(db: &TestDatabase) {
    let setup = setup(db);
    let code = code(&setup, &full_request());
    assert_eq!(redeem(&setup, "app", &code, None, Some(PKCE_VERIFIER)), Err(ErrorCode::InvalidRequest));
    assert!(
        redeem(&setup, "app", &code, Some(REDIRECT_URI), Some(PKCE_VERIFIER)).is_ok(),
        "refused before it was taken"
    );
}

/// RFC 6819 §4.4.1.11: a user keeps at most so many live grants with one client; a new one past that
/// revokes the oldest, every rotation of it, and nothing of other clients' or other users'.
fn a_new_grant_past_the_cap_revokes_the_oldest(db: &TestDatabase) {
    use latchkey_core::grant_cap::GRANTS_KEPT_PER_USER_AND_CLIENT as KEPT;
    let setup = setup(db);
    let world = &setup.world;
    let other = world.client(confidential("elsewhere", &["authorization_code"], &["openid"]));
    world.user("bob");
    let elsewhere = world.grant(&other, Some("alice"), "openid").0;
    let bobs = world.grant(&setup.app, Some("bob"), "openid").0;
    let earlier: Vec<_> = (0..KEPT)
        .map(|_| {
            world.advance(1);
            world.grant(&setup.app, Some("alice"), "openid offline_access").0
        })
        .collect();
    world.advance(1);
    let code = code(&setup, &full_request());
    redeem(&setup, "app", &code, Some(REDIRECT_URI), Some(PKCE_VERIFIER)).unwrap();

    let revoked = |record: &latchkey_model::TokenRecord| {
        let id = record.id.clone();
        world.store.read(move |repo| repo.get_token(&id)).unwrap().is_revoked()
    };
    assert!(revoked(&earlier[0]), "the oldest grant makes room");
    assert!(earlier[1..].iter().all(|record| !revoked(record)), "the other {} stay", KEPT - 1);
    assert!(!revoked(&elsewhere) && !revoked(&bobs), "another client's, another user's");
}
