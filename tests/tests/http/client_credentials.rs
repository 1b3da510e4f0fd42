//! The client credentials grant (RFC 6749 §4.4) and security checklist C27, C30 and C31.

use crate::on_both_backends;
use crate::support::{Fixture, TestDatabase, APP, SERVICE, SERVICE_SECRET};
use latchkey_model::GrantType;

on_both_backends!(
    a_service_gets_a_token_and_no_refresh_token,
    scope_is_limited_to_what_the_client_may_have,
    only_confidential_clients_allowed_the_grant_get_tokens,
);

async fn a_service_gets_a_token_and_no_refresh_token(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let response = fixture.token(SERVICE, &[("grant_type", "client_credentials")]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "api:read api:write", "by default everything that needs no user");
    assert!(body.get("refresh_token").is_none(), "RFC 6749 §4.4.3: {body}");
    assert!(body.get("id_token").is_none(), "{body}");
    let access_token = body["access_token"].as_str().unwrap().to_owned();
    assert!(access_token.starts_with("lk_at_"));

    // Stored as a hash only, as a complete record of grant type C with no user.
    let store = latchkey_core::testing::open_like_a_server(&fixture.app.db);
    let hash = store.hasher().unwrap().hash(&access_token);
    let record = store.read(move |repo| repo.find_token_by_access_token(&hash)).unwrap().unwrap();
    assert_eq!(record.grant_type, GrantType::ClientCredentials);
    assert_eq!(record.client_id.as_str(), "service");
    assert!(record.username.is_none());
    assert!(record.refresh_token_hash.is_none());
    assert_eq!(record.access_token_expires.unwrap().unix_seconds(), crate::support::START + 600);

    // client_secret_post works the same; every request gets its own token.
    let response = fixture
        .app
        .http
        .post(fixture.url("/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "service"),
            ("client_secret", SERVICE_SECRET),
            ("scope", "api:read"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["scope"], "api:read");
    assert_ne!(body["access_token"], access_token.as_str());
}

async fn scope_is_limited_to_what_the_client_may_have(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    for scope in ["api:admin", "api:read api:admin", "openid", "api:read offline_access", "bad\"scope"] {
        let response =
            fixture.token(SERVICE, &[("grant_type", "client_credentials"), ("scope", scope)]).await;
        assert_eq!(response.status(), 400, "{scope}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_scope", "{scope}: {body}");
        assert!(body.get("access_token").is_none());
    }
}

async fn only_confidential_clients_allowed_the_grant_get_tokens(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    // A confidential client not allowed the grant.
    let response = fixture.token(APP, &[("grant_type", "client_credentials")]).await;
    assert_eq!(response.status(), 400);
    assert_eq!(response.json::<serde_json::Value>().await.unwrap()["error"], "unauthorized_client");
    // A public client has no credentials to present (RFC 6749 §4.4).
    let response = fixture
        .app
        .http
        .post(fixture.url("/token"))
        .form(&[("grant_type", "client_credentials"), ("client_id", "spa")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(response.json::<serde_json::Value>().await.unwrap()["error"], "unauthorized_client");
    // A wrong secret: 401 with a Basic challenge, no token.
    let response = fixture.token(("service", "wrong-secret"), &[("grant_type", "client_credentials")]).await;
    assert_eq!(response.status(), 401);
    assert!(response.headers()["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    assert_eq!(response.json::<serde_json::Value>().await.unwrap()["error"], "invalid_client");
}
