//! A server built without the legacy grants (`--no-default-features`): the implicit and password grants
//! are refused as unsupported, even for a client registered with them before, and discovery does not list
//! them; the code flow works as ever.

use crate::on_both_backends;
use crate::support::{
    location, redirect_params, tokens_for, Fixture, TestDatabase, ADMIN_TOKEN, LEGACY, SPA_REDIRECT,
};
use serde_json::{json, Value};

on_both_backends!(the_legacy_grants_are_not_there);

async fn the_legacy_grants_are_not_there(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let metadata: Value = fixture.app.get("/.well-known/openid-configuration").await.json().await.unwrap();
    assert_eq!(metadata["response_types_supported"], json!(["code"]));
    assert_eq!(
        metadata["grant_types_supported"],
        json!(["authorization_code", "refresh_token", "client_credentials"])
    );

    let password =
        [("grant_type", "password"), ("username", "alice"), ("password", "x"), ("scope", "openid")];
    let refused = fixture.token(LEGACY, &password).await;
    assert_eq!(refused.status(), 400);
    assert_eq!(refused.json::<Value>().await.unwrap()["error"], "unsupported_grant_type");

    let implicit = format!(
        "/authorize?response_type=token&client_id=legacy-spa&redirect_uri={}&scope=openid&state=s1&nonce=n1",
        url::form_urlencoded::byte_serialize(SPA_REDIRECT.as_bytes()).collect::<String>()
    );
    let mut browser = fixture.browser();
    let answer = browser.get(&implicit).await;
    assert_eq!(answer.status(), 303);
    let params = redirect_params(&location(&answer));
    assert_eq!((params["error"].as_str(), params["state"].as_str()), ("unsupported_response_type", "s1"));

    let register = fixture
        .app
        .http
        .post(fixture.url("/admin/clients"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"id": "old-spa", "public": true, "redirectUris": [SPA_REDIRECT], "grantTypes": ["implicit"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(register.status(), 400);
    let why = register.json::<Value>().await.unwrap()["error_description"].as_str().unwrap().to_owned();
    assert!(why.contains("not built into this server"), "{why}");

    let tokens = tokens_for(&fixture, "openid offline_access").await;
    assert!(tokens["access_token"].is_string() && tokens["refresh_token"].is_string(), "the code flow works");
}
