use crate::on_both_backends;
use crate::support::{TestApp, TestDatabase};
use latchkey_model::{ClientId, PageRequest};

on_both_backends!(
    every_response_carries_security_headers,
    every_response_names_its_request,
    unknown_paths_get_a_json_404,
    oversized_bodies_are_refused_before_reading,
    data_survives_a_restart,
);

async fn every_response_carries_security_headers(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    for path in [
        "/healthz",
        "/readyz",
        "/.well-known/openid-configuration",
        "/jwks.json",
        "/no-such-page",
        "/authorize",
        "/token",
    ] {
        let response = app.get(path).await;
        let headers = response.headers();
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert!(
            headers["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"),
            "{path}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert!(headers.get("strict-transport-security").is_none(), "no HSTS on a plain-http issuer");
    }
    for path in ["/healthz", "/readyz", "/no-such-page", "/authorize"] {
        assert_eq!(app.get(path).await.headers()["cache-control"], "no-store", "{path}");
    }
    // Discovery and keys are public documents browsers may fetch cross-origin; nothing else is.
    for path in ["/authorize", "/token", "/userinfo", "/healthz"] {
        assert!(app.get(path).await.headers().get("access-control-allow-origin").is_none(), "{path}");
    }
}

/// `X-Request-Id` on every answer, the one in every log line of the request: new for each request, or a
/// trusted proxy's own when it is a plain token; anything else sent is replaced, never echoed.
async fn every_response_names_its_request(db: TestDatabase) {
    let behind_proxy = |config: &mut latchkey_server::Config| {
        config.trusted_proxies = latchkey_server::config::Setting::parse("127.0.0.1").unwrap();
    };
    let app = TestApp::spawn_with(db, behind_proxy).await;
    let id_of =
        |response: &reqwest::Response| response.headers()["x-request-id"].to_str().unwrap().to_owned();
    let (first, second) = (id_of(&app.get("/healthz").await), id_of(&app.get("/no-such-page").await));
    assert_eq!(first.len(), 16);
    assert_ne!(first, second);
    let send =
        |app: &TestApp, id: &'static str| app.http.get(app.url("/healthz")).header("x-request-id", id).send();
    assert_eq!(id_of(&send(&app, "edge-7f3a.2").await.unwrap()), "edge-7f3a.2", "the proxy's id");
    let forged = id_of(&send(&app, "x\" forged=\"1").await.unwrap());
    assert_eq!(forged.len(), 16, "{forged}");
    // From a peer that is no trusted proxy, even a plain token is replaced.
    let direct = TestApp::spawn(TestDatabase::sqlite()).await;
    assert_ne!(id_of(&send(&direct, "edge-7f3a.2").await.unwrap()), "edge-7f3a.2");
}

async fn unknown_paths_get_a_json_404(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let response = app.get("/no/such/thing?code=secret").await;
    assert_eq!(response.status(), 404);
    assert_eq!(response.json::<serde_json::Value>().await.unwrap()["error"], "not_found");
    let wrong_method = app.http.post(app.url("/healthz")).send().await.unwrap();
    assert!(wrong_method.status().is_client_error(), "{}", wrong_method.status());
}

async fn oversized_bodies_are_refused_before_reading(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let body = vec![b'a'; 2 * 1024 * 1024];
    let response = app.http.post(app.url("/healthz")).body(body).send().await.unwrap();
    assert_eq!(response.status(), 413);
    assert_eq!(response.json::<serde_json::Value>().await.unwrap()["error"], "payload_too_large");
    // Forms have a lower limit (64 KiB): the token endpoint says so in JSON, the login page with a page.
    let form = format!("grant_type=client_credentials&pad={}", "a".repeat(65 * 1024));
    let post_form = |path: &str| {
        app.http
            .post(app.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.clone())
            .send()
    };
    let token = post_form("/token").await.unwrap();
    assert_eq!(token.status(), 413);
    assert_eq!(token.json::<serde_json::Value>().await.unwrap()["error"], "payload_too_large");
    let login = post_form("/login").await.unwrap();
    assert_eq!(login.status(), 413);
    assert!(login.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert_eq!(app.get("/healthz").await.status(), 200, "the server carries on");
}

async fn data_survives_a_restart(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let store = latchkey_core::testing::open_like_a_server(&app.db);
    let (client, _) = latchkey_core::registration::register_client(
        latchkey_core::registration::NewClient {
            id: "kept".into(),
            name: None,
            secret: latchkey_core::registration::SecretChoice::Generate,
            redirect_uris: vec![],
            grant_types: vec!["client_credentials".into()],
            scopes: vec!["read".into()],
            access_token_ttl_seconds: None,
            refresh_token_ttl_seconds: None,
            id_token_signing_alg: Default::default(),
        },
        store.hasher().unwrap(),
        latchkey_model::Timestamp::from_unix_seconds(1_800_000_000),
        &mut rand_core(),
    )
    .unwrap();
    store.write(move |repo| repo.insert_client(&client)).unwrap();
    drop(store);
    let TestApp { server, db, .. } = app;
    server.stop().await.unwrap();

    let app = TestApp::spawn(db).await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    let store = latchkey_core::testing::open_like_a_server(&app.db);
    let clients = store.read(|repo| repo.list_clients(&PageRequest::first(10))).unwrap();
    assert_eq!(
        clients.items.iter().map(|c| c.id.clone()).collect::<Vec<_>>(),
        [ClientId::parse("kept").unwrap()]
    );
}

fn rand_core() -> impl rand::RngCore + rand::CryptoRng {
    rand::rngs::OsRng
}
