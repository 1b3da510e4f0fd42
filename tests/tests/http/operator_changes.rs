//! What an operator changes reaches everything already issued, at once, and two operators acting together
//! cannot undo each other: a scope taken from a client, a password reset, a disabling, a secret rotation,
//! and bounds on every number.

use crate::on_both_backends;
use crate::support::{
    authorize_url, redirect_params, status_and_json, tokens_for, Fixture, TestDatabase, APP, APP_REDIRECT,
    SERVICE,
};
use reqwest::Method;
use serde_json::{json, Value};

on_both_backends!(
    a_scope_taken_from_a_client_reaches_the_grants_it_holds,
    a_password_reset_ends_the_users_sessions_and_grants,
    a_password_reset_racing_a_disabling_leaves_the_user_disabled,
    a_rename_racing_a_secret_rotation_keeps_the_new_secret,
    numbers_an_operator_gives_are_bounded,
);

async fn introspected(fixture: &Fixture, token: &str) -> Value {
    fixture.client_post("/introspect", APP, &[("token", token)]).await.json().await.unwrap()
}

async fn a_scope_taken_from_a_client_reaches_the_grants_it_holds(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let before = tokens_for(&fixture, "openid profile email offline_access api:read latchkey:tokens").await;
    let old_access = before["access_token"].as_str().unwrap();
    assert!(fixture.userinfo(old_access).await["email"].is_string());
    let through_grant = json!({"name": "made through the grant", "scopes": ["openid", "email"]});
    let (_, made) =
        status_and_json(fixture.call(Method::POST, "/api/tokens", old_access, Some(through_grant)).await)
            .await;
    let outright = json!({"username": "alice", "name": "made outright", "scopes": ["openid", "email"]});
    let (_, outright) =
        status_and_json(fixture.admin(Method::POST, "/admin/tokens", Some(outright)).await).await;

    let narrowed = json!({"scopes": ["openid", "offline_access", "api:read"]});
    assert_eq!(fixture.admin(Method::PATCH, "/admin/clients/app", Some(narrowed)).await.status(), 200);

    // Every use of the grant is bounded by what the client may have now.
    let claims = fixture.userinfo(old_access).await;
    assert!(
        claims["sub"].is_string() && claims.get("email").is_none() && claims.get("name").is_none(),
        "{claims}"
    );
    assert_eq!(introspected(&fixture, old_access).await["scope"], "api:read offline_access openid");
    let made = made["token"].as_str().unwrap();
    assert_eq!(
        introspected(&fixture, made).await["scope"],
        "openid",
        "a token made through the grant follows it"
    );
    let outright = outright["token"].as_str().unwrap();
    assert_eq!(introspected(&fixture, outright).await["scope"], "email openid", "one made outright stands");
    let create = json!({"name": "after the change"});
    let refused = fixture.call(Method::POST, "/api/tokens", old_access, Some(create.clone())).await;
    assert_eq!(status_and_json(refused).await.1["error"], "insufficient_scope");

    let refresh =
        [("grant_type", "refresh_token"), ("refresh_token", before["refresh_token"].as_str().unwrap())];
    let refreshed: Value = fixture.token(APP, &refresh).await.json().await.unwrap();
    assert_eq!(refreshed["scope"], "api:read offline_access openid", "{refreshed}");
    let new_access = refreshed["access_token"].as_str().unwrap();
    let refused = fixture.call(Method::POST, "/api/tokens", new_access, Some(create)).await;
    assert_eq!(
        refused.status(),
        403,
        "a refresh token whose client lost latchkey:tokens makes no personal token"
    );
    let asked = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refreshed["refresh_token"].as_str().unwrap()),
        ("scope", "openid email"),
    ];
    assert_eq!(status_and_json(fixture.token(APP, &asked).await).await.1["error"], "invalid_scope");
}

async fn a_password_reset_ends_the_users_sessions_and_grants(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let (url, verifier) =
        authorize_url(&fixture.app.server.url(), "app", APP_REDIRECT, "openid offline_access", &[]);
    let mut browser = fixture.browser();
    let code = redirect_params(&browser.authorize(&url, "alice").await)["code"].clone();
    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", APP_REDIRECT),
        ("code_verifier", &verifier),
    ];
    let tokens: Value = fixture.token(APP, &exchange).await.json().await.unwrap();

    let reset = json!({"password": "a brand new passphrase"});
    assert_eq!(fixture.admin(Method::PATCH, "/admin/users/alice", Some(reset)).await.status(), 200);

    let refresh =
        [("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"].as_str().unwrap())];
    assert_eq!(status_and_json(fixture.token(APP, &refresh).await).await.1["error"], "invalid_grant");
    assert!(fixture.userinfo(tokens["access_token"].as_str().unwrap()).await["sub"].is_null());
    // The browser that signed in with the old password is signed out: prompt=none gets no code.
    let (silent, _) =
        authorize_url(&fixture.app.server.url(), "app", APP_REDIRECT, "openid", &[("prompt", "none")]);
    let answer = browser.get(&silent).await;
    let params = redirect_params(&crate::support::location(&answer));
    assert_eq!(params.get("error").map(String::as_str), Some("login_required"), "{params:?}");
    assert!(!params.contains_key("code"));
}

async fn a_password_reset_racing_a_disabling_leaves_the_user_disabled(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    for round in 0..8 {
        let name = format!("carol{round}");
        let user = json!({"username": name, "password": "first passphrase"});
        assert_eq!(fixture.admin(Method::POST, "/admin/users", Some(user)).await.status(), 201);
        let path = format!("/admin/users/{name}");
        let reset = fixture.admin(Method::PATCH, &path, Some(json!({"password": "second passphrase"})));
        let disable = fixture.admin(Method::PATCH, &path, Some(json!({"disabled": true})));
        let (reset, disable) = futures::join!(reset, disable);
        assert_eq!((reset.status().as_u16(), disable.status().as_u16()), (200, 200));
        let (_, user) = status_and_json(fixture.admin(Method::GET, &path, None).await).await;
        assert_eq!(user["disabled"], true, "round {round}: the reset must not undo the disabling");
    }
}

async fn a_rename_racing_a_secret_rotation_keeps_the_new_secret(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let old_secret = "rotation-secret-0123456789abcdefghijk";
    for round in 0..8 {
        let id = format!("batch{round}");
        let client = json!({"id": id, "secret": old_secret, "grantTypes": ["client_credentials"], "scopes": ["api:read"]});
        assert_eq!(fixture.admin(Method::POST, "/admin/clients", Some(client)).await.status(), 201);
        let path = format!("/admin/clients/{id}");
        let secret_path = format!("{path}/secret");
        let rotate = fixture.admin(Method::POST, &secret_path, None);
        let rename = fixture.admin(Method::PATCH, &path, Some(json!({"name": "Nightly batch"})));
        let (rotated, renamed) = futures::join!(rotate, rename);
        assert_eq!(renamed.status(), 200);
        let (_, rotated) = status_and_json(rotated).await;
        let new_secret = rotated["clientSecret"].as_str().unwrap();
        let grant = [("grant_type", "client_credentials")];
        let with_old = fixture.token((&id, old_secret), &grant).await;
        assert_eq!(with_old.status(), 401, "round {round}: the rename must not bring the old secret back");
        assert_eq!(fixture.token((&id, new_secret), &grant).await.status(), 200);
    }
    assert_eq!(fixture.token(SERVICE, &[("grant_type", "client_credentials")]).await.status(), 200);
}

async fn numbers_an_operator_gives_are_bounded(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    for change in [
        json!({"accessTokenTtl": i64::MAX}),
        json!({"accessTokenTtl": 0}),
        json!({"accessTokenTtl": 8 * 24 * 3600}),
        json!({"refreshTokenTtl": i64::MAX}),
        json!({"refreshTokenTtl": -1}),
    ] {
        let (status, body) =
            status_and_json(fixture.admin(Method::PATCH, "/admin/clients/app", Some(change.clone())).await)
                .await;
        assert_eq!(status, 400, "{change}");
        assert_eq!(body["error"], "invalid_request", "{change}");
    }
    let (_, app) = status_and_json(fixture.admin(Method::GET, "/admin/clients/app", None).await).await;
    assert_eq!(app["accessTokenTtl"], 600, "nothing was written");
    let huge = json!({"id": "huge", "grantTypes": ["client_credentials"], "accessTokenTtl": i64::MAX});
    assert_eq!(fixture.admin(Method::POST, "/admin/clients", Some(huge)).await.status(), 400);
    assert_eq!(fixture.admin(Method::GET, "/admin/clients/huge", None).await.status(), 404);
    // The code exchange, which answered 500 and burnt the code with such a lifetime, works as before.
    let tokens = tokens_for(&fixture, "openid").await;
    assert_eq!(tokens["expires_in"], 600);
}
