//! One full authorization code flow in-process on SQLite, through the endpoint layer, for a browser that is
//! signed in and whose user has consented: `/authorize` (validate, begin, issue the code: one transaction),
//! then `/token` (authenticate the client, redeem with PKCE, an access token, a refresh token and an RS256
//! ID token: another transaction). Argon2id is not part of it: the user signed in before.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use latchkey_core::client_auth::PresentedCredentials;
use latchkey_core::testing::{confidential, World, PKCE_CHALLENGE, PKCE_VERIFIER, REDIRECT_URI, SECRET};
use latchkey_core::Form;
use latchkey_endpoints::browser::{self, Answer};
use latchkey_endpoints::token::{self, ClientRequest};

fn code_flow(c: &mut Criterion) {
    let world = World::sqlite();
    let client = world.client(confidential(
        "app",
        &["authorization_code", "refresh_token"],
        &["openid", "profile", "offline_access"],
    ));
    world.user("alice");
    world.consent("alice", &client, "openid profile offline_access");
    let (session, _) = world.signed_in("alice");
    let ctx = common::context(&world);
    let request = Form::from_pairs([
        ("response_type", "code"),
        ("client_id", "app"),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "openid profile offline_access"),
        ("state", "af0ifjsldkj"),
        ("nonce", "n-0S6_WzA2Mj"),
        ("code_challenge", PKCE_CHALLENGE),
        ("code_challenge_method", "S256"),
    ]);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    c.bench_function("code flow: authorize with a session and consent, then redeem with PKCE", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let reply = browser::authorize(&ctx, request.clone(), Some(session.clone())).await.unwrap();
                let Answer::Respond(answer) = reply.answer else { panic!("straight back to the client") };
                let code = answer.form_fields().into_iter().find(|(name, _)| name == "code").unwrap().1;
                let form = Form::from_pairs([
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("redirect_uri", REDIRECT_URI),
                    ("code_verifier", PKCE_VERIFIER),
                ]);
                let credentials =
                    PresentedCredentials { basic: Some(("app".into(), SECRET.into())), ..Default::default() };
                token::token(&ctx, ClientRequest { credentials, form, client_address: "192.0.2.1".into() })
                    .await
                    .unwrap()
            })
        })
    });
}

criterion_group!(benches, code_flow);
criterion_main!(benches);
