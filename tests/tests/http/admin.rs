//! The admin API (docs/API.md): revoke everything of a user or a client, rotate keys; its credential.

use crate::on_both_backends;
use crate::support::{
    authorize_url, redirect_params, status_and_json, tokens_for, tokens_via, Fixture, TestApp, TestDatabase,
    ADMIN_TOKEN, APP, APP_REDIRECT, LEGACY, OTHER, PASSWORD,
};
use latchkey_model::{ClientId, PageRequest, TokenRecord, Username};
use serde_json::Value;

on_both_backends!(
    the_admin_api_wants_its_credential,
    revoking_a_user_ends_every_token_code_and_session,
    revoking_a_client_leaves_other_clients_alone,
    rotated_keys_are_published_at_once_and_sign_from_the_announced_instant,
    admin_revocation_answers_503_when_storage_fails,
    operators_manage_users,
    operators_manage_clients,
    operators_list_create_and_end_tokens,
);

async fn admin(fixture: &Fixture, path: &str, credential: Option<&str>) -> reqwest::Response {
    let request = fixture.app.http.post(fixture.url(path));
    let request = match credential {
        Some(credential) => request.bearer_auth(credential),
        None => request,
    };
    request.send().await.unwrap()
}

async fn ok_json(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    response.json().await.unwrap()
}

/// How many of the records listed by `list` are not revoked yet.
fn live(
    fixture: &Fixture,
    list: impl Fn(&mut latchkey_store::Repo<'_>) -> Vec<TokenRecord> + Send + 'static,
) -> u64 {
    let store = latchkey_core::testing::open_like_a_server(&fixture.app.db);
    let records = store.read(move |repo| Ok(list(repo))).unwrap();
    records.iter().filter(|record| !record.is_revoked()).count() as u64
}

fn all_of_user(
    name: &'static str,
) -> impl Fn(&mut latchkey_store::Repo<'_>) -> Vec<TokenRecord> + Send + 'static {
    move |repo| {
        repo.list_tokens_by_username(&Username::parse(name).unwrap(), &PageRequest::first(200)).unwrap().items
    }
}

fn all_of_client(
    id: &'static str,
) -> impl Fn(&mut latchkey_store::Repo<'_>) -> Vec<TokenRecord> + Send + 'static {
    move |repo| {
        repo.list_tokens_by_client(&ClientId::parse(id).unwrap(), &PageRequest::first(200)).unwrap().items
    }
}

async fn the_admin_api_wants_its_credential(db: TestDatabase) {
    let backend = db.backend();
    let fixture = Fixture::new(db).await;
    let almost = &ADMIN_TOKEN[..ADMIN_TOKEN.len() - 1];
    for credential in [None, Some("wrong"), Some(almost)] {
        let response = admin(&fixture, "/admin/users/alice/revoke", credential).await;
        assert_eq!(response.status(), 401, "{credential:?}");
        let challenge = response.headers()["www-authenticate"].to_str().unwrap().to_owned();
        match credential {
            // RFC 6750 §3.1: no error code for a request that had no credentials.
            None => {
                assert_eq!(challenge, "Bearer realm=\"latchkey\"");
                // The body is JSON all the same, as docs/openapi.yaml says of every 401.
                assert_eq!(response.json::<Value>().await.unwrap()["error"], "invalid_request");
            }
            Some(_) => {
                assert!(
                    challenge.starts_with("Bearer realm=\"latchkey\", error=\"invalid_token\""),
                    "{challenge}"
                );
                assert_eq!(response.json::<Value>().await.unwrap()["error"], "invalid_token");
            }
        }
    }
    let basic = fixture
        .app
        .http
        .post(fixture.url("/admin/users/alice/revoke"))
        .basic_auth("admin", Some(ADMIN_TOKEN));
    assert_eq!(basic.send().await.unwrap().status(), 401, "only as a bearer credential");
    // Unknown admin paths do not reveal the API's shape to the unauthenticated.
    assert_eq!(admin(&fixture, "/admin/nothing", None).await.status(), 401);
    let wrong_method = fixture.app.http.put(fixture.url("/admin/users")).send().await.unwrap();
    assert_eq!(wrong_method.status(), 401, "not 405: the method of a real path is not told either");
    assert_eq!(admin(&fixture, "/admin/nothing", Some(ADMIN_TOKEN)).await.status(), 404);
    assert_eq!(admin(&fixture, "/admin/users/nobody/revoke", Some(ADMIN_TOKEN)).await.status(), 404);
    assert_eq!(admin(&fixture, "/admin/clients/nothing/revoke", Some(ADMIN_TOKEN)).await.status(), 404);

    // Without a configured credential the admin API is closed to everyone.
    let closed = TestApp::spawn(TestDatabase::create(backend).unwrap()).await;
    let response =
        closed.http.post(closed.url("/admin/keys/rotate")).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
    assert_eq!(response.status(), 401);
}

async fn revoking_a_user_ends_every_token_code_and_session(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let first = tokens_for(&fixture, "openid offline_access").await;
    let second = tokens_for(&fixture, "openid").await;
    // A code issued and not redeemed yet, in a signed-in browser.
    let (url, verifier) = authorize_url(&fixture.app.server.url(), "app", APP_REDIRECT, "openid", &[]);
    let mut browser = fixture.browser();
    let code = redirect_params(&browser.authorize(&url, "alice").await)["code"].clone();
    let bob = fixture
        .token(
            LEGACY,
            &[("grant_type", "password"), ("username", "bob"), ("password", PASSWORD), ("scope", "openid")],
        )
        .await
        .json::<Value>()
        .await
        .unwrap();
    let expected = live(&fixture, all_of_user("alice"));
    assert!(expected >= 3, "two grants and one pending code: {expected}");

    let revoked = ok_json(admin(&fixture, "/admin/users/alice/revoke", Some(ADMIN_TOKEN)).await).await;
    assert_eq!(revoked["revoked"], expected, "{revoked}");
    assert!(revoked["sessions"].as_u64().unwrap() >= 1, "{revoked}");
    assert_eq!(live(&fixture, all_of_user("alice")), 0);

    for tokens in [&first, &second] {
        assert!(fixture.userinfo(tokens["access_token"].as_str().unwrap()).await["sub"].is_null());
    }
    let refresh = fixture
        .token(
            APP,
            &[("grant_type", "refresh_token"), ("refresh_token", first["refresh_token"].as_str().unwrap())],
        )
        .await;
    assert_eq!(refresh.json::<Value>().await.unwrap()["error"], "invalid_grant");
    let redeem = fixture
        .token(
            APP,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", APP_REDIRECT),
                ("code_verifier", &verifier),
            ],
        )
        .await;
    assert_eq!(redeem.json::<Value>().await.unwrap()["error"], "invalid_grant", "a code issued before");
    // The browser is signed out: the next authorization asks for a login again.
    let again = browser.get(&url).await;
    assert!(crate::support::location(&again).starts_with("/login"), "{:?}", again.headers());
    // Bob is untouched.
    assert!(fixture.userinfo(bob["access_token"].as_str().unwrap()).await["sub"].is_string());

    let twice = ok_json(admin(&fixture, "/admin/users/alice/revoke", Some(ADMIN_TOKEN)).await).await;
    assert_eq!(twice, serde_json::json!({ "revoked": 0, "sessions": 0 }));
}

async fn revoking_a_client_leaves_other_clients_alone(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let through_app = tokens_via(&fixture, APP, "openid").await;
    let also_app = tokens_via(&fixture, APP, "openid").await;
    let through_other = tokens_via(&fixture, OTHER, "openid").await;
    let expected = live(&fixture, all_of_client("app"));
    assert_eq!(expected, 2);
    let other_before = live(&fixture, all_of_client("other"));

    let revoked = ok_json(admin(&fixture, "/admin/clients/app/revoke", Some(ADMIN_TOKEN)).await).await;
    assert_eq!(revoked, serde_json::json!({ "revoked": expected }));
    for tokens in [&through_app, &also_app] {
        assert!(fixture.userinfo(tokens["access_token"].as_str().unwrap()).await["sub"].is_null());
    }
    assert!(fixture.userinfo(through_other["access_token"].as_str().unwrap()).await["sub"].is_string());
    assert_eq!(live(&fixture, all_of_client("other")), other_before);
    assert_eq!(
        ok_json(admin(&fixture, "/admin/clients/app/revoke", Some(ADMIN_TOKEN)).await).await["revoked"],
        0
    );
}

fn kid_of(id_token: &str) -> String {
    use base64::Engine;
    let header = id_token.split('.').next().unwrap();
    let header: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).unwrap())
            .unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

async fn published_kids(fixture: &Fixture) -> Vec<String> {
    let jwks: Value = fixture.app.get("/jwks.json").await.json().await.unwrap();
    jwks["keys"].as_array().unwrap().iter().map(|key| key["kid"].as_str().unwrap().to_owned()).collect()
}

async fn rotated_keys_are_published_at_once_and_sign_from_the_announced_instant(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let before = tokens_for(&fixture, "openid").await;
    let old_kid = kid_of(before["id_token"].as_str().unwrap());
    let old_kids = published_kids(&fixture).await;

    let rotated = ok_json(admin(&fixture, "/admin/keys/rotate", Some(ADMIN_TOKEN)).await).await;
    let kids: Vec<String> =
        rotated["kids"].as_array().unwrap().iter().map(|k| k.as_str().unwrap().to_owned()).collect();
    assert!(old_kids.iter().all(|kid| kids.contains(kid)), "old keys stay published: {kids:?}");
    assert!(kids.len() > old_kids.len(), "new keys added: {kids:?}");
    assert_eq!(published_kids(&fixture).await.len(), kids.len(), "the JWKS shows them at once");
    let delay = rotated["signs_from"].as_i64().unwrap()
        - latchkey_core::clock::Clock::now(&*fixture.clock).unix_seconds();
    assert_eq!(delay, latchkey_endpoints::keys::PUBLISH_AHEAD_SECONDS, "{rotated}");

    // Published before they sign: until the announced instant the old key goes on signing.
    fixture.advance(delay - 1);
    let meanwhile = tokens_for(&fixture, "openid").await;
    assert_eq!(kid_of(meanwhile["id_token"].as_str().unwrap()), old_kid);
    fixture.advance(1);
    let after = tokens_for(&fixture, "openid").await;
    let new_kid = kid_of(after["id_token"].as_str().unwrap());
    assert_ne!(new_kid, old_kid, "the new key signs from the announced instant");
    assert!(kids.contains(&new_kid));
}

async fn admin_revocation_answers_503_when_storage_fails(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let tokens = tokens_for(&fixture, "openid").await;
    fixture.app.db.execute_sql("ALTER TABLE tokens RENAME TO tokens_away").unwrap();
    let response = admin(&fixture, "/admin/users/alice/revoke", Some(ADMIN_TOKEN)).await;
    assert_eq!(response.status(), 503, "never a count when nothing was revoked");
    assert_eq!(response.json::<Value>().await.unwrap()["error"], "temporarily_unavailable");
    fixture.app.db.execute_sql("ALTER TABLE tokens_away RENAME TO tokens").unwrap();
    assert!(
        fixture.userinfo(tokens["access_token"].as_str().unwrap()).await["sub"].is_string(),
        "the failed revocation changed nothing"
    );
    let revoked = ok_json(admin(&fixture, "/admin/users/alice/revoke", Some(ADMIN_TOKEN)).await).await;
    assert_eq!(revoked["revoked"], 1);
}

async fn password_login(fixture: &Fixture, username: &str, password: &str) -> Value {
    fixture
        .token(
            LEGACY,
            &[
                ("grant_type", "password"),
                ("username", username),
                ("password", password),
                ("scope", "openid"),
            ],
        )
        .await
        .json()
        .await
        .unwrap()
}

async fn operators_manage_users(db: TestDatabase) {
    use reqwest::Method;
    let fixture = Fixture::new(db).await;
    let (status, carol) = status_and_json(
        fixture.admin(Method::POST, "/admin/users", Some(serde_json::json!({"username": "carol", "password": "first password", "email": "carol@example.com"}))).await,
    )
    .await;
    assert_eq!(status, 201, "{carol}");
    assert_eq!(carol["username"], "carol");
    assert!(!carol.to_string().contains("argon2"), "never the hash: {carol}");
    let again = fixture
        .admin(
            Method::POST,
            "/admin/users",
            Some(serde_json::json!({"username": "carol", "password": "first password"})),
        )
        .await;
    assert_eq!(again.status(), 409);
    for bad in [
        serde_json::json!({"username": "dave", "password": "short"}),
        serde_json::json!({"username": "has space", "password": "long enough pw"}),
        serde_json::json!({"username": "dave", "password": "long enough pw", "role": "admin"}),
    ] {
        assert_eq!(
            fixture.admin(Method::POST, "/admin/users", Some(bad.clone())).await.status(),
            400,
            "{bad}"
        );
    }
    assert_eq!(fixture.admin(Method::GET, "/admin/users/dave", None).await.status(), 404, "nothing written");
    let listed = ok_json(fixture.admin(Method::GET, "/admin/users?limit=2", None).await).await;
    assert_eq!(listed["users"].as_array().unwrap().len(), 2);
    assert!(listed["next"].is_string(), "alice, bob, carol: a second page");
    // A known path with a method it does not take: 405 naming the ones it does (RFC 9110 §15.5.6).
    let wrong_method = fixture.admin(Method::PUT, "/admin/users", None).await;
    assert_eq!(wrong_method.status(), 405);
    assert_eq!(wrong_method.headers()["allow"], "POST, GET");
    assert_eq!(fixture.admin(Method::PUT, "/admin/nothing-here", None).await.status(), 404);
    for limit in ["0", "1001"] {
        let refused = fixture.admin(Method::GET, &format!("/admin/users?limit={limit}"), None).await;
        assert_eq!(refused.status(), 400, "limit={limit} is outside the documented 1 to 1000");
    }

    assert!(password_login(&fixture, "carol", "first password").await["access_token"].is_string());
    let changed = fixture
        .admin(Method::PATCH, "/admin/users/carol", Some(serde_json::json!({"password": "second password"})))
        .await;
    assert_eq!(changed.status(), 200);
    assert_eq!(password_login(&fixture, "carol", "first password").await["error"], "invalid_grant");
    let before = password_login(&fixture, "carol", "second password").await;
    let access = before["access_token"].as_str().unwrap();
    assert!(fixture.userinfo(access).await["sub"].is_string());

    let (status, disabled) = status_and_json(
        fixture.admin(Method::PATCH, "/admin/users/carol", Some(serde_json::json!({"disabled": true}))).await,
    )
    .await;
    assert_eq!((status, disabled["disabled"].clone()), (200, Value::Bool(true)));
    assert!(fixture.userinfo(access).await["sub"].is_null(), "disabling revokes");
    assert_eq!(live(&fixture, all_of_user("carol")), 0);
    assert_eq!(password_login(&fixture, "carol", "second password").await["error"], "invalid_grant");

    assert_eq!(fixture.admin(Method::DELETE, "/admin/users/carol", None).await.status(), 204);
    assert_eq!(fixture.admin(Method::GET, "/admin/users/carol", None).await.status(), 404);
    assert_eq!(fixture.admin(Method::DELETE, "/admin/users/carol", None).await.status(), 404);
}

async fn client_credentials(fixture: &Fixture, id: &str, secret: &str) -> reqwest::Response {
    fixture.token((id, secret), &[("grant_type", "client_credentials")]).await
}

async fn operators_manage_clients(db: TestDatabase) {
    use reqwest::Method;
    let fixture = Fixture::new(db).await;
    // The server fetches nothing: keys are registered inline, and a URL to fetch them from is refused.
    for field in ["jwksUri", "jwks_uri", "logoUri", "sectorIdentifierUri"] {
        let mut fetching = serde_json::json!({"id": "fetcher", "grantTypes": ["client_credentials"]});
        fetching[field] = serde_json::json!("http://169.254.169.254/latest/meta-data/");
        let refused = fixture.admin(Method::POST, "/admin/clients", Some(fetching)).await;
        assert_eq!(refused.status(), 400, "{field}");
    }
    assert_eq!(fixture.admin(Method::GET, "/admin/clients/fetcher", None).await.status(), 404);
    let new =
        serde_json::json!({"id": "reports", "grantTypes": ["client_credentials"], "scopes": ["api:read"]});
    let (status, created) =
        status_and_json(fixture.admin(Method::POST, "/admin/clients", Some(new.clone())).await).await;
    assert_eq!(status, 201, "{created}");
    let secret = created["clientSecret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("lk_cs_"));
    let shown = fixture.admin(Method::GET, "/admin/clients/reports", None).await.text().await.unwrap();
    let shown_json: Value = serde_json::from_str(&shown).unwrap();
    assert!(!shown.contains(&secret) && shown_json.get("clientSecret").is_none(), "once only: {shown}");
    assert_eq!(client_credentials(&fixture, "reports", &secret).await.status(), 200);
    assert_eq!(fixture.admin(Method::POST, "/admin/clients", Some(new)).await.status(), 409);

    let (status, rotated) =
        status_and_json(fixture.admin(Method::POST, "/admin/clients/reports/secret", None).await).await;
    assert_eq!(status, 200);
    let fresh = rotated["clientSecret"].as_str().unwrap();
    assert_ne!(fresh, secret);
    assert_eq!(
        client_credentials(&fixture, "reports", &secret).await.status(),
        401,
        "the old secret stops at once"
    );
    assert_eq!(client_credentials(&fixture, "reports", fresh).await.status(), 200);

    let amended = ok_json(
        fixture
            .admin(
                Method::PATCH,
                "/admin/clients/reports",
                Some(serde_json::json!({"scopes": ["api:read", "api:write"], "name": "Reports"})),
            )
            .await,
    )
    .await;
    assert_eq!(amended["name"], "Reports");
    assert_eq!(amended["scopes"], serde_json::json!(["api:read", "api:write"]));
    for bad in [
        serde_json::json!({"grantTypes": ["authorization_code"]}),
        serde_json::json!({"accessTokenTtl": 0}),
        serde_json::json!({"colour": "blue"}),
    ] {
        assert_eq!(
            fixture.admin(Method::PATCH, "/admin/clients/reports", Some(bad.clone())).await.status(),
            400,
            "{bad}"
        );
    }
    assert_eq!(
        ok_json(fixture.admin(Method::GET, "/admin/clients/reports", None).await).await["scopes"],
        serde_json::json!(["api:read", "api:write"]),
        "unchanged by the refusals"
    );
    for bad in [
        serde_json::json!({"id": "latchkey", "grantTypes": ["client_credentials"]}),
        serde_json::json!({"id": "web", "grantTypes": ["authorization_code"]}),
        serde_json::json!({"id": "pub", "public": true, "secret": "x".repeat(40), "grantTypes": ["implicit"]}),
    ] {
        assert_eq!(
            fixture.admin(Method::POST, "/admin/clients", Some(bad.clone())).await.status(),
            400,
            "{bad}"
        );
    }
    let listed = ok_json(fixture.admin(Method::GET, "/admin/clients", None).await).await;
    assert!(listed["clients"].as_array().unwrap().iter().any(|c| c["id"] == "reports"));

    // The client of users' personal tokens is not the operator's to change or delete.
    let personal = fixture
        .admin(Method::POST, "/admin/tokens", Some(serde_json::json!({"username": "alice", "name": "p"})))
        .await;
    let personal: Value = personal.json().await.unwrap();
    for (method, body) in [
        (Method::DELETE, None),
        (Method::PATCH, Some(serde_json::json!({"name": "x"}))),
        (Method::POST, None),
    ] {
        let path =
            if method == Method::POST { "/admin/clients/latchkey/secret" } else { "/admin/clients/latchkey" };
        assert_eq!(fixture.admin(method.clone(), path, body).await.status(), 400, "{method}");
    }
    assert_eq!(
        ok_json(
            fixture
                .admin(Method::GET, &format!("/admin/tokens/{}", personal["id"].as_str().unwrap()), None)
                .await
        )
        .await["type"],
        "personal"
    );

    assert_eq!(fixture.admin(Method::DELETE, "/admin/clients/reports", None).await.status(), 204);
    assert_eq!(fixture.admin(Method::GET, "/admin/clients/reports", None).await.status(), 404);
    assert_eq!(client_credentials(&fixture, "reports", fresh).await.status(), 401);
}

async fn operators_list_create_and_end_tokens(db: TestDatabase) {
    use reqwest::Method;
    let fixture = Fixture::new(db).await;
    tokens_for(&fixture, "openid offline_access").await;
    let (status, personal) = status_and_json(
        fixture.admin(Method::POST,
            "/admin/tokens",
            Some(serde_json::json!({"username": "alice", "name": "ops", "scopes": ["openid"], "ttl": 3600})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{personal}");
    assert_eq!(
        (personal["type"].clone(), personal["origin"].clone()),
        (Value::from("personal"), Value::from("admin"))
    );
    let (status, key) = status_and_json(
        fixture
            .admin(
                Method::POST,
                "/admin/tokens",
                Some(serde_json::json!({"clientId": "service", "name": "reporting", "scopes": ["api:read"]})),
            )
            .await,
    )
    .await;
    assert_eq!(status, 201, "{key}");
    assert_eq!(key["type"], "api-key");
    for bad in [
        serde_json::json!({"name": "no owner"}),
        serde_json::json!({"username": "alice", "clientId": "service", "name": "both"}),
        serde_json::json!({"username": "alice", "name": "x", "shade": 1}),
        serde_json::json!({"clientId": "service", "name": "x", "scopes": ["admin"]}),
    ] {
        assert_eq!(
            fixture.admin(Method::POST, "/admin/tokens", Some(bad.clone())).await.status(),
            400,
            "{bad}"
        );
    }

    let kinds = |listing: &Value| -> Vec<String> {
        listing["tokens"].as_array().unwrap().iter().map(|t| t["type"].as_str().unwrap().to_owned()).collect()
    };
    let all = ok_json(fixture.admin(Method::GET, "/admin/tokens", None).await).await;
    assert_eq!(kinds(&all).len(), 3, "{all}");
    assert_eq!(
        kinds(&ok_json(fixture.admin(Method::GET, "/admin/tokens?type=personal", None).await).await),
        ["personal"]
    );
    assert_eq!(
        kinds(&ok_json(fixture.admin(Method::GET, "/admin/tokens?clientId=service", None).await).await),
        ["api-key"]
    );
    assert_eq!(
        kinds(
            &ok_json(
                fixture.admin(Method::GET, "/admin/tokens?username=alice&type=oauth2-refresh", None).await
            )
            .await
        ),
        ["oauth2-refresh"]
    );
    let first = ok_json(fixture.admin(Method::GET, "/admin/tokens?limit=2", None).await).await;
    let cursor = first["next"].as_str().unwrap();
    let second =
        ok_json(fixture.admin(Method::GET, &format!("/admin/tokens?limit=2&cursor={cursor}"), None).await)
            .await;
    assert_eq!(kinds(&first).len() + kinds(&second).len(), 3);
    assert!(second["next"].is_null());
    for bad in [
        "/admin/tokens?type=magic",
        "/admin/tokens?active=maybe",
        "/admin/tokens?colour=red",
        "/admin/tokens?cursor=%21",
    ] {
        assert_eq!(fixture.admin(Method::GET, bad, None).await.status(), 400, "{bad}");
    }

    let path = format!("/admin/tokens/{}", personal["id"].as_str().unwrap());
    assert_eq!(
        ok_json(
            fixture.admin(Method::PATCH, &path, Some(serde_json::json!({"name": "ops (rotating)"}))).await
        )
        .await["name"],
        "ops (rotating)"
    );
    assert_eq!(ok_json(fixture.admin(Method::GET, &path, None).await).await["name"], "ops (rotating)");
    assert!(fixture.userinfo(personal["token"].as_str().unwrap()).await["sub"].is_string());
    assert_eq!(fixture.admin(Method::DELETE, &path, None).await.status(), 204);
    assert!(fixture.userinfo(personal["token"].as_str().unwrap()).await["sub"].is_null());
    assert_eq!(
        kinds(&ok_json(fixture.admin(Method::GET, "/admin/tokens?active=false", None).await).await),
        ["personal"]
    );
    assert_eq!(
        kinds(&ok_json(fixture.admin(Method::GET, "/admin/tokens?active=true", None).await).await).len(),
        2
    );
    assert_eq!(
        fixture.admin(Method::GET, "/admin/tokens/0123456789abcdef0123456789abcdef", None).await.status(),
        404
    );
}
