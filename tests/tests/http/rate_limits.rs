//! Security checklist J84/J85: rate limits answer 429 with `Retry-After`, per client at the client
//! endpoints, per address at `/authorize` and the login page, per user creating personal tokens, and a cap
//! on how many personal tokens a user may hold.

use crate::on_both_backends;
use crate::support::{
    authorize_url, tokens_for, Fixture, TestDatabase, APP, APP_REDIRECT, SERVICE, SERVICE_SECRET,
};
use latchkey_server::config::Setting;
use serde_json::{json, Value};

on_both_backends!(
    a_client_past_its_rate_is_refused_and_nobody_else_can_spend_it,
    an_address_past_its_rate_gets_the_error_page_before_anything_is_written,
    personal_token_creation_is_limited_and_capped,
);

fn rate(text: &str) -> latchkey_core::rate_limit::Rate {
    Setting::parse(text).unwrap()
}

async fn client_credentials(fixture: &Fixture, client: (&str, &str)) -> reqwest::Response {
    fixture.token(client, &[("grant_type", "client_credentials")]).await
}

async fn a_client_past_its_rate_is_refused_and_nobody_else_can_spend_it(db: TestDatabase) {
    let fixture = Fixture::with(db, |config| config.rate_limit_client = rate("60/3")).await;
    // Someone without the secret: refused as invalid_client, and the service's budget is untouched.
    for _ in 0..10 {
        assert_eq!(client_credentials(&fixture, ("service", "wrong-secret")).await.status(), 401);
    }
    for _ in 0..3 {
        assert_eq!(client_credentials(&fixture, SERVICE).await.status(), 200);
    }
    let refused = client_credentials(&fixture, SERVICE).await;
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["retry-after"], "1");
    assert_eq!(refused.headers()["cache-control"], "no-store");
    assert_eq!(refused.json::<Value>().await.unwrap()["error"], "too_many_requests");
    // Introspection and revocation draw on the same budget.
    let introspected =
        fixture.client_post("/introspect", ("service", SERVICE_SECRET), &[("token", "lk_at_whatever")]).await;
    assert_eq!(introspected.status(), 429);
    // Another client is not affected; a second later the service has one more.
    assert_ne!(client_credentials(&fixture, APP).await.status(), 429);
    fixture.advance(1);
    assert_eq!(client_credentials(&fixture, SERVICE).await.status(), 200);
    assert_eq!(client_credentials(&fixture, SERVICE).await.status(), 429);
}

async fn an_address_past_its_rate_gets_the_error_page_before_anything_is_written(db: TestDatabase) {
    let fixture = Fixture::with(db, |config| config.rate_limit_address = rate("60/4")).await;
    let (url, _) = authorize_url(&fixture.app.server.url(), "app", APP_REDIRECT, "openid", &[]);
    let mut browser = fixture.browser_from("2001:db8:1:1::1");
    for _ in 0..4 {
        assert_eq!(browser.get(&url).await.status(), 303);
    }
    browser.cookie = None;
    browser.forwarded_for = Some("2001:db8:1:1::2".into()); // the same /64
    let refused = browser.get(&url).await;
    assert_eq!(refused.status(), 429);
    assert!(refused.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert!(refused.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(refused.headers().get("location").is_none(), "a page, never a redirect");
    assert!(refused.text().await.unwrap().contains("too many requests"));
    // A request that reaches the flow starts a session (two rows and a cookie); this one started nothing.
    assert!(browser.cookie.is_none(), "nothing was written for the refused request");
    let mut elsewhere = fixture.browser_from("2001:db8:1:2::1");
    assert_eq!(elsewhere.get(&url).await.status(), 303, "another network is not limited");
}

async fn personal_token_creation_is_limited_and_capped(db: TestDatabase) {
    let fixture = Fixture::with(db, |config| {
        config.rate_limit_personal_tokens = rate("60/2");
        config.max_personal_tokens_per_user = 3;
    })
    .await;
    let bearer = tokens_for(&fixture, "openid api:read offline_access latchkey:tokens").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let create = |name: &'static str| {
        fixture.call(
            reqwest::Method::POST,
            "/api/tokens",
            &bearer,
            Some(json!({ "name": name, "scopes": ["api:read"] })),
        )
    };
    assert_eq!(create("one").await.status(), 201);
    assert_eq!(create("two").await.status(), 201);
    let refused = create("three").await;
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    fixture.advance(1);
    let third: Value = create("three").await.json().await.unwrap();
    fixture.advance(60);
    let over = create("four").await;
    assert_eq!(over.status(), 400, "three held: the cap");
    assert!(over.json::<Value>().await.unwrap()["error_description"].as_str().unwrap().contains("at most 3"));
    let id = third["id"].as_str().unwrap();
    assert_eq!(
        fixture.call(reqwest::Method::DELETE, &format!("/api/tokens/{id}"), &bearer, None).await.status(),
        204
    );
    assert_eq!(create("four").await.status(), 201, "room again once one is deleted");
}
