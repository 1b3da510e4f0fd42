//! The owner token API (docs/API.md): personal tokens and the metadata of every token, seen by its owner.

use crate::on_both_backends;
use crate::support::{tokens_for, Fixture, TestDatabase, LEGACY, PASSWORD, SERVICE, START};
use serde_json::{json, Value};

on_both_backends!(
    a_token_without_the_manage_scope_is_refused,
    a_token_made_through_a_grant_ends_no_later_and_with_it,
    the_secret_is_shown_once_and_works_like_an_access_token,
    active_at_moves_after_use_at_most_once_a_minute,
    deleting_current_ends_the_very_token,
    a_user_cannot_see_or_touch_another_users_tokens,
    bad_input_is_refused_with_400_and_nothing_is_written,
);

/// With a refresh token (14 days), so new tokens may live that long.
async fn alice(fixture: &Fixture) -> String {
    tokens_for(fixture, "openid profile api:read offline_access latchkey:tokens").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn create(fixture: &Fixture, bearer: &str, body: Value) -> Value {
    let response = fixture.call(reqwest::Method::POST, "/api/tokens", bearer, Some(body)).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn list(fixture: &Fixture, bearer: &str) -> Vec<Value> {
    let response = fixture.call(reqwest::Method::GET, "/api/tokens", bearer, None).await;
    assert_eq!(response.status(), 200);
    response.json::<Value>().await.unwrap()["tokens"].as_array().unwrap().clone()
}

async fn view(fixture: &Fixture, bearer: &str, id: &str) -> reqwest::Response {
    fixture.call(reqwest::Method::GET, &format!("/api/tokens/{id}"), bearer, None).await
}

async fn the_secret_is_shown_once_and_works_like_an_access_token(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let bearer = alice(&fixture).await;
    let created = create(
        &fixture,
        &bearer,
        json!({"name": "CI deploy", "ttl": "7d", "scopes": ["openid", "api:read"], "data": {"team": "ops"}}),
    )
    .await;
    let secret = created["token"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("lk_pat_"), "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["type"], "personal");
    assert_eq!(created["origin"], "api");
    assert_eq!(created["name"], "CI deploy");
    assert_eq!(created["username"], "alice");
    assert_eq!(created["createdAt"], START * 1000, "milliseconds");
    assert_eq!(created["expiresAt"], (START + 7 * 86_400) * 1000);
    assert_eq!(created["activeAt"], Value::Null);
    assert_eq!(created["data"], json!({"team": "ops"}));
    let mut scopes: Vec<&str> =
        created["scopes"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    scopes.sort_unstable();
    assert_eq!(scopes, ["api:read", "openid"]);

    // Never again: not in a listing, not in a view.
    let shown = view(&fixture, &bearer, &id).await.text().await.unwrap();
    assert!(!shown.contains(&secret) && !shown.contains("\"token\""), "{shown}");
    let listed = list(&fixture, &bearer).await;
    assert!(listed.iter().any(|token| token["id"] == id.as_str()));
    assert!(!serde_json::to_string(&listed).unwrap().contains(&secret));
    assert!(listed
        .iter()
        .any(|token| token["type"] == "oauth2-refresh" && token["origin"] == "authorization_code"));

    // It authenticates like an access token: UserInfo, introspection by a resource server, this API.
    assert!(fixture.userinfo(&secret).await["sub"].is_string());
    let introspected: Value = fixture
        .app
        .http
        .post(fixture.url("/introspect"))
        .basic_auth(SERVICE.0, Some(SERVICE.1))
        .form(&[("token", secret.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(introspected["active"], true, "{introspected}");
    assert_eq!(introspected["username"], "alice");
    // Without latchkey:tokens it cannot manage tokens, not even itself.
    let refused = view(&fixture, &secret, "current").await;
    assert_eq!(refused.status(), 403);
    assert!(refused.headers()["www-authenticate"].to_str().unwrap().contains("insufficient_scope"));
    let plain = create(&fixture, &bearer, json!({"name": "plain"})).await;
    assert!(!plain["scopes"].as_array().unwrap().contains(&json!("latchkey:tokens")), "only when asked for");
    assert_eq!(view(&fixture, plain["token"].as_str().unwrap(), "current").await.status(), 403);
    let manager =
        create(&fixture, &bearer, json!({"name": "manager", "scopes": ["openid", "latchkey:tokens"]})).await;
    assert_eq!(view(&fixture, manager["token"].as_str().unwrap(), "current").await.status(), 200);

    // And it ends when it says.
    fixture.advance(7 * 86_400);
    assert!(fixture.userinfo(&secret).await["sub"].is_null());
}

/// The token's `activeAt`, once the last uses noted (off the requests' path) are written.
async fn active_at(fixture: &Fixture, bearer: &str, id: &str) -> Value {
    fixture.app.server.settle().await;
    view(fixture, bearer, id).await.json::<Value>().await.unwrap()["activeAt"].clone()
}

async fn active_at_moves_after_use_at_most_once_a_minute(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let bearer = alice(&fixture).await;
    let created = create(&fixture, &bearer, json!({"name": "laptop"})).await;
    let (id, secret) = (created["id"].as_str().unwrap(), created["token"].as_str().unwrap());
    // No ttl: as long as the grant it was made through (its refresh token lasts 14 days).
    assert_eq!(created["expiresAt"], (START + 14 * 86_400) * 1000);

    fixture.advance(5);
    assert!(fixture.userinfo(secret).await["sub"].is_string());
    assert_eq!(active_at(&fixture, &bearer, id).await, (START + 5) * 1000);
    fixture.advance(30);
    assert!(fixture.userinfo(secret).await["sub"].is_string());
    assert_eq!(active_at(&fixture, &bearer, id).await, (START + 5) * 1000, "coalesced within a minute");
    fixture.advance(31);
    assert!(fixture.userinfo(secret).await["sub"].is_string());
    assert_eq!(active_at(&fixture, &bearer, id).await, (START + 66) * 1000);

    // A resource server introspecting the token is a use too.
    fixture.advance(60);
    let introspected = fixture
        .app
        .http
        .post(fixture.url("/introspect"))
        .basic_auth(SERVICE.0, Some(SERVICE.1))
        .form(&[("token", secret)])
        .send()
        .await
        .unwrap();
    assert_eq!(introspected.json::<Value>().await.unwrap()["active"], true);
    assert_eq!(active_at(&fixture, &bearer, id).await, (START + 126) * 1000);
}

async fn deleting_current_ends_the_very_token(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let bearer = alice(&fixture).await;
    let one_off =
        create(&fixture, &bearer, json!({"name": "one-off", "scopes": ["openid", "latchkey:tokens"]})).await;
    let secret = one_off["token"].as_str().unwrap().to_owned();
    let deleted = fixture.call(reqwest::Method::DELETE, "/api/tokens/current", &secret, None).await;
    assert_eq!(deleted.status(), 204);
    let next = fixture.call(reqwest::Method::GET, "/api/tokens", &secret, None).await;
    assert_eq!(next.status(), 401, "the very next request");
    assert!(next.headers()["www-authenticate"].to_str().unwrap().contains("invalid_token"));
    assert!(fixture.userinfo(&secret).await["sub"].is_null());

    let other = create(&fixture, &bearer, json!({"name": "two"})).await;
    let id = other["id"].as_str().unwrap();
    assert_eq!(
        fixture.call(reqwest::Method::DELETE, &format!("/api/tokens/{id}"), &bearer, None).await.status(),
        204
    );
    assert!(fixture.userinfo(other["token"].as_str().unwrap()).await["sub"].is_null());
    assert!(list(&fixture, &bearer).await.iter().all(|token| token["id"] != id), "gone from the listing");
    assert_eq!(view(&fixture, &bearer, id).await.status(), 404);
}

async fn a_user_cannot_see_or_touch_another_users_tokens(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let bearer = alice(&fixture).await;
    let created = create(&fixture, &bearer, json!({"name": "alice's"})).await;
    let id = created["id"].as_str().unwrap();
    let bob: Value = fixture
        .token(
            LEGACY,
            &[
                ("grant_type", "password"),
                ("username", "bob"),
                ("password", PASSWORD),
                ("scope", "openid latchkey:tokens"),
            ],
        )
        .await
        .json()
        .await
        .unwrap();
    let bob = bob["access_token"].as_str().unwrap();
    let path = format!("/api/tokens/{id}");
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let response = fixture.call(method.clone(), &path, bob, None).await;
        assert_eq!(response.status(), 404, "{method}: as if it did not exist");
    }
    let patch = fixture.call(reqwest::Method::PATCH, &path, bob, Some(json!({"name": "mine now"}))).await;
    assert_eq!(patch.status(), 404);
    assert!(list(&fixture, bob).await.iter().all(|token| token["username"] == "bob"));
    assert_eq!(
        view(&fixture, &bearer, id).await.json::<Value>().await.unwrap()["name"],
        "alice's",
        "untouched"
    );
    assert!(fixture.userinfo(created["token"].as_str().unwrap()).await["sub"].is_string(), "still works");
    for unknown in ["/api/tokens/0123456789abcdef0123456789abcdef", "/api/tokens/not-an-id"] {
        assert_eq!(fixture.call(reqwest::Method::GET, unknown, &bearer, None).await.status(), 404);
    }
}

async fn bad_input_is_refused_with_400_and_nothing_is_written(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let bearer = alice(&fixture).await;
    let before = list(&fixture, &bearer).await.len();
    let past = (START - 60) * 1000;
    for body in [
        json!({"name": "x", "colour": "red"}),
        json!({"name": ""}),
        json!({"name": "x".repeat(101)}),
        json!({"name": "x", "ttl": "5w"}),
        json!({"name": "x", "ttl": 0}),
        json!({"name": "x", "ttl": "30d", "expiresAt": past + 3_600_000}),
        json!({"name": "x", "expiresAt": past}),
        json!({"name": "x", "scopes": ["openid", "admin"]}),
        json!({"name": "x", "scopes": ["bad scope"]}),
        json!({"name": "x", "data": ["not", "an", "object"]}),
        json!({"name": "x", "data": {"big": "x".repeat(5000)}}),
        json!({"scopes": ["openid"]}),
        // serde alone would read a struct from an array of its fields.
        json!(["x", null, null, null, null]),
    ] {
        let response = fixture.call(reqwest::Method::POST, "/api/tokens", &bearer, Some(body.clone())).await;
        assert_eq!(response.status(), 400, "{body}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"], "invalid_request", "{body}");
        assert!(error["error_description"].is_string(), "{body}");
    }
    let wrong_method = fixture.call(reqwest::Method::PUT, "/api/tokens/current", &bearer, None).await;
    assert_eq!(wrong_method.status(), 405);
    assert_eq!(wrong_method.headers()["allow"], "GET, PATCH, DELETE");
    let not_json = fixture
        .app
        .http
        .post(fixture.url("/api/tokens"))
        .bearer_auth(&bearer)
        .body("name=x")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
    let broken = fixture
        .app
        .http
        .post(fixture.url("/api/tokens"))
        .bearer_auth(&bearer)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(broken.status(), 400);
    assert_eq!(list(&fixture, &bearer).await.len(), before, "nothing was written");

    let created = create(&fixture, &bearer, json!({"name": "keep me"})).await;
    let path = format!("/api/tokens/{}", created["id"].as_str().unwrap());
    for body in [json!({"name": "y", "extra": 1}), json!({"name": "y".repeat(101)}), json!({"data": 5})] {
        let response = fixture.call(reqwest::Method::PATCH, &path, &bearer, Some(body.clone())).await;
        assert_eq!(response.status(), 400, "{body}");
    }
    let renamed = fixture
        .call(reqwest::Method::PATCH, &path, &bearer, Some(json!({"name": "renamed", "data": {"k": 1}})))
        .await;
    assert_eq!(renamed.status(), 200);
    let shown: Value = view(&fixture, &bearer, created["id"].as_str().unwrap()).await.json().await.unwrap();
    assert_eq!((shown["name"].clone(), shown["data"].clone()), (json!("renamed"), json!({"k": 1})));

    let anonymous = fixture.app.http.get(fixture.url("/api/tokens")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    let paged = fixture.call(reqwest::Method::GET, "/api/tokens?limit=1&cursor=%21%21", &bearer, None).await;
    assert_eq!(paged.status(), 400, "a cursor this server did not make");
}

async fn a_token_without_the_manage_scope_is_refused(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    // An ordinary client's access token must not become a personal token that never expires.
    let ordinary = tokens_for(&fixture, "openid profile").await["access_token"].as_str().unwrap().to_owned();
    for (method, path) in [(reqwest::Method::GET, "/api/tokens"), (reqwest::Method::POST, "/api/tokens")] {
        let response = fixture.call(method, path, &ordinary, Some(json!({"name": "escalate"}))).await;
        assert_eq!(response.status(), 403);
        assert_eq!(response.json::<Value>().await.unwrap()["error"], "insufficient_scope");
    }
    let bearer = alice(&fixture).await;
    assert_eq!(
        list(&fixture, &bearer).await.iter().filter(|t| t["type"] == "personal").count(),
        0,
        "nothing created"
    );
}

async fn a_token_made_through_a_grant_ends_no_later_and_with_it(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    // An access token without a refresh token: its grant ends with it, ten minutes from now.
    let short =
        tokens_for(&fixture, "openid latchkey:tokens").await["access_token"].as_str().unwrap().to_owned();
    let capped = create(&fixture, &short, json!({"name": "wants a month", "ttl": "30d"})).await;
    assert_eq!(capped["expiresAt"], (START + 600) * 1000, "no later than the grant it was made through");
    let unbounded = create(&fixture, &short, json!({"name": "wants forever"})).await;
    assert_eq!(unbounded["expiresAt"], (START + 600) * 1000);

    // Through a grant with a refresh token: resetting the client ends the tokens made through it.
    let long = alice(&fixture).await;
    let derived = create(&fixture, &long, json!({"name": "derived"})).await;
    let standalone = fixture
        .app
        .http
        .post(fixture.url("/admin/tokens"))
        .bearer_auth(crate::support::ADMIN_TOKEN)
        .json(&json!({"username": "alice", "name": "made by an operator", "scopes": ["openid"]}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert!(fixture.userinfo(derived["token"].as_str().unwrap()).await["sub"].is_string());
    let reset = fixture
        .app
        .http
        .post(fixture.url("/admin/clients/app/revoke"))
        .bearer_auth(crate::support::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 200);
    assert!(
        fixture.userinfo(derived["token"].as_str().unwrap()).await["sub"].is_null(),
        "ended with its client"
    );
    assert!(
        fixture.userinfo(standalone["token"].as_str().unwrap()).await["sub"].is_string(),
        "unrelated: kept"
    );
}
