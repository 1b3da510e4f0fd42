//! The browser flow as steps, below HTTP: authorize → login → consent → the answer, then the token
//! endpoint, on a real database with a clock that moves only when told.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{context, world};
use latchkey_core::testing::{confidential, PASSWORD, PKCE_CHALLENGE, PKCE_VERIFIER, REDIRECT_URI, SECRET};
use latchkey_core::Form;
use latchkey_endpoints::browser::{self, Answer, Decision, LoginError, LoginSubmission, Notice, Reply};
use latchkey_endpoints::token::ClientRequest;
use latchkey_endpoints::Context;
use latchkey_model::PlainSecret;
use latchkey_store::testing::TestDatabase;
use std::collections::HashMap;

on_both_backends!(
    a_browser_signs_in_consents_and_its_client_gets_tokens,
    a_wrong_password_shows_the_form_again_and_counts,
    forms_from_another_page_or_browser_are_refused,
    denying_answers_access_denied_and_ends_the_request,
    a_request_that_cannot_be_trusted_ends_on_a_page,
);

fn request() -> Form {
    Form::from_pairs([
        ("response_type", "code"),
        ("client_id", "app"),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "openid offline_access latchkey:tokens"),
        ("state", "st-1"),
        ("nonce", "n-1"),
        ("code_challenge", PKCE_CHALLENGE),
        ("code_challenge_method", "S256"),
    ])
}

fn setup(db: &TestDatabase) -> (latchkey_core::testing::World, Context) {
    let world = world(db);
    world.client(confidential(
        "app",
        &["authorization_code", "refresh_token"],
        &["openid", "offline_access", "latchkey:tokens"],
    ));
    world.user("alice");
    let ctx = context(&world);
    (world, ctx)
}

fn request_id(answer: &Answer) -> String {
    match answer {
        Answer::GoToLogin { request_id } | Answer::GoToConsent { request_id } => request_id.clone(),
        other => panic!("expected a step of the flow: {other:?}"),
    }
}

async fn login(ctx: &Context, session: &PlainSecret, request_id: &str, password: &str) -> Reply {
    let form = match browser::login_page(ctx, Some(session.clone()), request_id.to_owned()).await.unwrap() {
        Answer::LoginForm(form) => form,
        other => panic!("the login form: {other:?}"),
    };
    let submission = LoginSubmission {
        session: Some(session.clone()),
        csrf: Some(form.csrf),
        request_id: request_id.to_owned(),
        username: "alice".into(),
        password: password.into(),
        client_address: "192.0.2.7".into(),
        device: None,
    };
    browser::password_login(ctx, submission).await.unwrap()
}

async fn consent(ctx: &Context, session: &PlainSecret, request_id: &str, decision: Decision) -> Reply {
    let form = match browser::consent_page(ctx, Some(session.clone()), request_id.to_owned()).await.unwrap() {
        Answer::ConsentForm(form) => form,
        other => panic!("the consent form: {other:?}"),
    };
    assert_eq!(form.client_name, "app application");
    assert!(form.scopes.iter().any(|(scope, words)| scope == "latchkey:tokens" && words.contains("revoke")));
    browser::decide(ctx, Some(session.clone()), Some(form.csrf), request_id.to_owned(), decision)
        .await
        .unwrap()
}

fn params(answer: &Answer) -> HashMap<String, String> {
    let Answer::Respond(response) = answer else { panic!("an answer for the client: {answer:?}") };
    response.form_fields().into_iter().collect()
}

async fn a_browser_signs_in_consents_and_its_client_gets_tokens(db: &TestDatabase) {
    let (_world, ctx) = setup(db);
    let started = browser::authorize(&ctx, request(), None).await.unwrap();
    let first_session = started.new_session.expect("a new anonymous session");
    let id = request_id(&started.answer);
    assert!(matches!(started.answer, Answer::GoToLogin { .. }));

    let signed_in = login(&ctx, &first_session, &id, PASSWORD).await;
    let session = signed_in.new_session.expect("a new session after login");
    assert_ne!(session.expose(), first_session.expose());
    assert!(matches!(signed_in.answer, Answer::GoToConsent { .. }));
    let reused = browser::consent_page(&ctx, Some(first_session), id.clone()).await.unwrap();
    assert!(matches!(reused, Answer::Notice(Notice::Stale)), "the pre-login session no longer works");

    let allowed = consent(&ctx, &session, &id, Decision::Allow).await;
    let answer = params(&allowed.answer);
    assert_eq!((answer["state"].as_str(), answer["iss"].as_str()), ("st-1", "https://id.example.com"));
    let code = answer["code"].clone();

    let credentials = latchkey_core::client_auth::PresentedCredentials {
        basic: Some(("app".into(), SECRET.into())),
        ..Default::default()
    };
    let form = Form::from_pairs([
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", PKCE_VERIFIER),
    ]);
    let tokens = latchkey_endpoints::token::token(
        &ctx,
        ClientRequest { credentials, form, client_address: "192.0.2.7".into() },
    )
    .await
    .unwrap();
    assert!(tokens.refresh_token.is_some() && tokens.id_token.is_some());
    assert_eq!(tokens.scope, "latchkey:tokens offline_access openid");

    // Signed in and consented: the next request goes straight back to the client.
    let again = browser::authorize(&ctx, request(), Some(session)).await.unwrap();
    assert!(again.new_session.is_none());
    assert!(params(&again.answer).contains_key("code"));
}

async fn a_wrong_password_shows_the_form_again_and_counts(db: &TestDatabase) {
    let (world, ctx) = setup(db);
    let started = browser::authorize(&ctx, request(), None).await.unwrap();
    let session = started.new_session.unwrap();
    let id = request_id(&started.answer);
    let failed = login(&ctx, &session, &id, "not the password").await;
    match failed.answer {
        Answer::LoginForm(form) => {
            assert_eq!((form.error, form.username.as_str()), (Some(LoginError::Failed), "alice"))
        }
        other => panic!("the form again: {other:?}"),
    }
    assert!(failed.new_session.is_none(), "no new session for a failed login");
    let record =
        world.store.read(|repo| repo.get_token(&latchkey_model::RecordId::parse(&id).unwrap())).unwrap();
    assert_eq!(record.stage, latchkey_model::Stage::Login(1));
    for _ in 1..latchkey_core::throttle::FREE_ACCOUNT_ATTEMPTS {
        login(&ctx, &session, &id, "still wrong").await;
    }
    match login(&ctx, &session, &id, PASSWORD).await.answer {
        Answer::LoginForm(form) => {
            assert!(matches!(form.error, Some(LoginError::LockedOut { retry_after }) if retry_after > 0))
        }
        other => panic!("locked out: {other:?}"),
    }
}

async fn forms_from_another_page_or_browser_are_refused(db: &TestDatabase) {
    let (_world, ctx) = setup(db);
    let started = browser::authorize(&ctx, request(), None).await.unwrap();
    let session = started.new_session.unwrap();
    let id = request_id(&started.answer);
    let forged = LoginSubmission {
        session: Some(session.clone()),
        csrf: Some("forged".into()),
        request_id: id.clone(),
        username: "alice".into(),
        password: PASSWORD.into(),
        client_address: "192.0.2.7".into(),
        device: None,
    };
    let refused = browser::password_login(&ctx, forged).await.unwrap();
    assert!(matches!(refused.answer, Answer::Notice(Notice::FormExpired)));
    let other_browser = browser::authorize(&ctx, request(), None).await.unwrap().new_session.unwrap();
    let stolen = browser::login_page(&ctx, Some(other_browser), id).await.unwrap();
    assert!(matches!(stolen, Answer::Notice(Notice::Stale)), "a flow belongs to the browser that began it");
}

async fn denying_answers_access_denied_and_ends_the_request(db: &TestDatabase) {
    let (_world, ctx) = setup(db);
    let started = browser::authorize(&ctx, request(), None).await.unwrap();
    let id = request_id(&started.answer);
    let session = login(&ctx, &started.new_session.unwrap(), &id, PASSWORD).await.new_session.unwrap();
    let denied = consent(&ctx, &session, &id, Decision::Deny).await;
    let answer = params(&denied.answer);
    assert_eq!((answer["error"].as_str(), answer["state"].as_str()), ("access_denied", "st-1"));
    let over = browser::consent_page(&ctx, Some(session), id).await.unwrap();
    assert!(matches!(over, Answer::Notice(Notice::Stale)));
}

async fn a_request_that_cannot_be_trusted_ends_on_a_page(db: &TestDatabase) {
    let (_world, ctx) = setup(db);
    let evil = Form::from_pairs([
        ("response_type", "code"),
        ("client_id", "app"),
        ("redirect_uri", "https://evil.example.com/cb"),
        ("scope", "openid"),
    ]);
    let reply = browser::authorize(&ctx, evil, None).await.unwrap();
    assert!(reply.new_session.is_none(), "nothing is started for a refused request");
    match reply.answer {
        Answer::Notice(Notice::Refused { code, description }) => {
            assert_eq!(code, "invalid_request");
            assert!(description.contains("redirect_uri"), "{description}");
        }
        other => panic!("a page, never a redirect: {other:?}"),
    }
}
