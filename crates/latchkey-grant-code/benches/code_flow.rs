//! One full authorization code flow in-process on SQLite, for a user who is signed in and has consented:
//! validate the authorization request, create the record and issue the code (one transaction), then redeem
//! it with PKCE for an access token, a refresh token and an RS256 ID token (another transaction).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{criterion_group, criterion_main, Criterion};
use latchkey_core::testing::{confidential, World, REDIRECT_URI};
use latchkey_core::Form;
use latchkey_grant_code::authorize::{self, Next};
use latchkey_grant_code::exchange::{exchange, CodeExchange};
use latchkey_grant_code::request::{client_id, validate};
use latchkey_model::ResponseType;

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn code_flow(c: &mut Criterion) {
    let world = World::sqlite();
    let client = world.client(confidential(
        "app",
        &["authorization_code", "refresh_token"],
        &["openid", "profile", "offline_access"],
    ));
    world.user("alice");
    world.consent("alice", &client, "openid profile offline_access");
    let (_, session) = world.signed_in("alice");
    let form = Form::from_pairs([
        ("response_type", "code"),
        ("client_id", "app"),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "openid profile offline_access"),
        ("state", "af0ifjsldkj"),
        ("nonce", "n-0S6_WzA2Mj"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]);
    c.bench_function("code flow: authorize, issue code, redeem with PKCE", |b| {
        b.iter(|| {
            let now = world.now();
            let code = world
                .step(|repo| {
                    let id = client_id(&form).unwrap();
                    let request = validate(&form, repo.find_client(&id)?, &ResponseType::ALL).unwrap();
                    let rng = &mut rand::rngs::OsRng;
                    let mut record =
                        authorize::begin(repo, &request, world.issuer.as_str(), &session.id_hash, now, rng)?;
                    let consent = repo.find_consent(session.username.as_ref().unwrap(), &client.id)?;
                    let Next::Issue { username, auth_time, methods } =
                        authorize::next_step(&record, Some(&session), consent.as_ref(), now)
                    else {
                        panic!("signed in and consented");
                    };
                    Ok(latchkey_grant_code::code::issue_code(
                        repo,
                        &mut record,
                        username,
                        auth_time,
                        &methods,
                        now,
                        rng,
                    )?)
                })
                .unwrap();
            let request = CodeExchange {
                code,
                redirect_uri: Some(REDIRECT_URI.into()),
                code_verifier: Some(VERIFIER.into()),
            };
            world
                .step(|repo| exchange(repo, &client, &request, &world.keys, now, &mut rand::rngs::OsRng))
                .unwrap()
        })
    });
}

criterion_group!(benches, code_flow);
criterion_main!(benches);
