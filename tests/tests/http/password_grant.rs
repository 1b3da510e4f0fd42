//! The resource owner password credentials grant (RFC 6749 §4.3): security checklist F50–F52, C30.

use crate::on_both_backends;
use crate::support::{Fixture, TestDatabase, APP, LEGACY, PASSWORD, START};
use serde_json::Value;

on_both_backends!(
    an_allowed_client_gets_tokens_for_the_right_password,
    off_unless_the_client_is_allowed_it,
    unknown_user_and_wrong_password_read_the_same,
    the_token_endpoint_shares_the_login_pages_lock_out,
    successful_logins_do_not_lock_a_shared_address,
);

async fn password(
    fixture: &Fixture,
    client: (&str, &str),
    username: &str,
    pw: &str,
    scope: Option<&str>,
) -> reqwest::Response {
    let mut form = vec![("grant_type", "password"), ("username", username), ("password", pw)];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    fixture.token(client, &form).await
}

async fn an_allowed_client_gets_tokens_for_the_right_password(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let response = password(&fixture, LEGACY, "alice", PASSWORD, Some("openid email offline_access")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["scope"], "email offline_access openid");
    assert!(body["refresh_token"].as_str().is_some_and(|t| t.starts_with("lk_rt_")), "{body}");
    assert!(body["id_token"].is_string(), "{body}");
    let access_token = body["access_token"].as_str().unwrap();
    let userinfo = fixture.userinfo(access_token).await;
    assert_eq!(userinfo["email"], "alice@example.com");

    // The record is of grant type P, for alice, authenticated now.
    let store = latchkey_core::testing::open_like_a_server(&fixture.app.db);
    let hash = store.hasher().unwrap().hash(access_token);
    let record = store.read(move |repo| repo.find_token_by_access_token(&hash)).unwrap().unwrap();
    assert_eq!(record.grant_type, latchkey_model::GrantType::Password);
    assert_eq!(record.username.as_ref().map(|u| u.as_str()), Some("alice"));
    assert_eq!(record.auth_time.map(|t| t.unix_seconds()), Some(START));

    // The refresh token works and rotates.
    let refreshed = fixture
        .token(
            LEGACY,
            &[("grant_type", "refresh_token"), ("refresh_token", body["refresh_token"].as_str().unwrap())],
        )
        .await;
    assert_eq!(refreshed.status(), 200);

    // Without offline_access an OpenID request gets no refresh token; a wider scope is refused.
    let body: Value = password(&fixture, LEGACY, "bob", PASSWORD, Some("openid")).await.json().await.unwrap();
    assert!(body.get("refresh_token").is_none(), "{body}");
    let wider = password(&fixture, LEGACY, "bob", PASSWORD, Some("openid admin")).await;
    assert_eq!(wider.json::<Value>().await.unwrap()["error"], "invalid_scope");
}

async fn off_unless_the_client_is_allowed_it(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let response = password(&fixture, APP, "alice", PASSWORD, None).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized_client");
    assert!(body.get("access_token").is_none());
    let missing = fixture.token(LEGACY, &[("grant_type", "password"), ("username", "alice")]).await;
    assert_eq!(missing.json::<Value>().await.unwrap()["error"], "invalid_request");
}

async fn unknown_user_and_wrong_password_read_the_same(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let wrong = password(&fixture, LEGACY, "alice", "not her password", None).await;
    let unknown = password(&fixture, LEGACY, "nobody-at-all", "not her password", None).await;
    assert_eq!(wrong.status(), 400);
    assert_eq!(wrong.status(), unknown.status());
    let (wrong, unknown) = (wrong.text().await.unwrap(), unknown.text().await.unwrap());
    assert_eq!(wrong, unknown);
    assert!(wrong.contains("invalid_grant"), "{wrong}");
}

async fn the_token_endpoint_shares_the_login_pages_lock_out(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    // Parallel guesses through the token endpoint: five are checked, the rest refused unchecked.
    let guesses = (0..10).map(|i| {
        let guess = format!("guess number {i}");
        let form = [("grant_type", "password"), ("username", "alice"), ("password", guess.as_str())]
            .map(|(k, v)| (k.to_owned(), v.to_owned()));
        fixture.app.http.post(fixture.url("/token")).basic_auth(LEGACY.0, Some(LEGACY.1)).form(&form).send()
    });
    let bodies: Vec<Value> = futures::future::join_all(
        futures::future::join_all(guesses).await.into_iter().map(|r| r.unwrap().json::<Value>()),
    )
    .await
    .into_iter()
    .map(Result::unwrap)
    .collect();
    let locked =
        bodies.iter().filter(|b| b["error_description"].as_str().unwrap_or("").contains("too many")).count();
    assert_eq!(locked, 5, "{bodies:?}");
    // The right password now waits, here and on the login page.
    let response = password(&fixture, LEGACY, "alice", PASSWORD, None).await;
    assert_eq!(response.status(), 400);
    assert!(response.json::<Value>().await.unwrap()["error_description"]
        .as_str()
        .unwrap()
        .contains("too many"));
    let (url, _) = crate::support::authorize_url(
        &fixture.app.server.url(),
        "app",
        crate::support::APP_REDIRECT,
        "openid",
        &[],
    );
    let mut browser = fixture.browser();
    let login = crate::support::location(&browser.get(&url).await);
    assert_eq!(browser.log_in(&login, "alice", PASSWORD).await.status(), 429, "the same counter");
    // The lock is bounded.
    fixture.advance(START);
    assert_eq!(password(&fixture, LEGACY, "alice", PASSWORD, None).await.status(), 200);
}

/// Everyone behind one proxy shares its address: their successful logins must not add up to a lock.
async fn successful_logins_do_not_lock_a_shared_address(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    for i in 0..25 {
        let user = if i % 2 == 0 { "alice" } else { "bob" };
        let response = password(&fixture, LEGACY, user, PASSWORD, Some("openid")).await;
        assert_eq!(response.status(), 200, "login {i}");
    }
}
