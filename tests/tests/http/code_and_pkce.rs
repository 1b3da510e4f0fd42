//! Security checklist B (codes and PKCE) and the token endpoint basics (C25–C28).

use crate::on_both_backends;
use crate::support::{
    authorize_url, redirect_params, Fixture, TestDatabase, APP, APP_REDIRECT, OTHER, SPA_REDIRECT,
};

on_both_backends!(
    a_reused_code_is_refused_and_revokes_what_it_issued,
    concurrent_redemptions_give_exactly_one_success,
    codes_expire_after_sixty_seconds,
    codes_are_bound_to_their_client_and_redirect_uri,
    pkce_refuses_wrong_missing_and_downgraded_verifiers,
    public_clients_redeem_with_pkce_alone,
    token_endpoint_answers_like_rfc_6749,
);

/// Runs the browser part of a flow for `alice` and returns (code, verifier).
async fn new_code(fixture: &Fixture, client: &str, redirect: &str) -> (String, String) {
    let (url, verifier) =
        authorize_url(&fixture.app.server.url(), client, redirect, "openid offline_access", &[]);
    let location = fixture.browser().authorize(&url, "alice").await;
    (redirect_params(&location)["code"].clone(), verifier)
}

fn exchange<'a>(code: &'a str, verifier: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", APP_REDIRECT),
        ("code_verifier", verifier),
    ]
}

async fn error_of(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap();
    (status, body["error"].as_str().unwrap_or_default().to_owned())
}

async fn a_reused_code_is_refused_and_revokes_what_it_issued(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let (code, verifier) = new_code(&fixture, "app", APP_REDIRECT).await;
    let first: serde_json::Value =
        fixture.token(APP, &exchange(&code, &verifier)).await.json().await.unwrap();
    let access = first["access_token"].as_str().unwrap().to_owned();
    let refresh = first["refresh_token"].as_str().unwrap().to_owned();
    let userinfo = |token: String| fixture.app.http.get(fixture.url("/userinfo")).bearer_auth(token).send();
    assert_eq!(userinfo(access.clone()).await.unwrap().status(), 200);

    fixture.advance(30);
    assert_eq!(
        error_of(fixture.token(APP, &exchange(&code, &verifier)).await).await,
        (400, "invalid_grant".into())
    );
    assert_eq!(userinfo(access).await.unwrap().status(), 401, "the first access token is revoked");
    let refreshed = fixture.token(APP, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
    assert_eq!(error_of(refreshed).await, (400, "invalid_grant".into()), "and so is the refresh token");
}

async fn concurrent_redemptions_give_exactly_one_success(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let (code, verifier) = new_code(&fixture, "app", APP_REDIRECT).await;
    let form = exchange(&code, &verifier);
    let attempts = (0..6).map(|_| fixture.token(APP, &form));
    let statuses: Vec<u16> =
        futures::future::join_all(attempts).await.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 400), "{statuses:?}");
}

async fn codes_expire_after_sixty_seconds(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let (code, verifier) = new_code(&fixture, "app", APP_REDIRECT).await;
    fixture.advance(60);
    assert_eq!(
        error_of(fixture.token(APP, &exchange(&code, &verifier)).await).await,
        (400, "invalid_grant".into())
    );
    let (code, verifier) = new_code(&fixture, "app", APP_REDIRECT).await;
    fixture.advance(59);
    assert_eq!(fixture.token(APP, &exchange(&code, &verifier)).await.status(), 200);
}

async fn codes_are_bound_to_their_client_and_redirect_uri(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let (code, verifier) = new_code(&fixture, "app", APP_REDIRECT).await;
    assert_eq!(
        error_of(fixture.token(OTHER, &exchange(&code, &verifier)).await).await,
        (400, "invalid_grant".into())
    );
    // Presenting it did not spend it: the client it was issued to still redeems it.
    assert_eq!(fixture.token(APP, &exchange(&code, &verifier)).await.status(), 200);

    let (code, verifier) = new_code(&fixture, "app", APP_REDIRECT).await;
    let mut wrong_uri = exchange(&code, &verifier);
    wrong_uri[2] = ("redirect_uri", "http://127.0.0.1/cb");
    assert_eq!(error_of(fixture.token(APP, &wrong_uri).await).await, (400, "invalid_grant".into()));

    // The same URL in another spelling: equal once parsed, but RFC 9700 §4.1.3 compares strings.
    let (code, verifier) = new_code(&fixture, "app", APP_REDIRECT).await;
    let mut respelled = exchange(&code, &verifier);
    respelled[2] = ("redirect_uri", "https://app.example.com:443/cb");
    assert_eq!(error_of(fixture.token(APP, &respelled).await).await, (400, "invalid_grant".into()));
    assert_eq!(fixture.token(APP, &exchange(&code, &verifier)).await.status(), 400, "the code was spent");

    // A request without redirect_uri is malformed; it is refused before the code is taken.
    let (code, verifier) = new_code(&fixture, "app", APP_REDIRECT).await;
    let mut without_uri = exchange(&code, &verifier);
    without_uri.remove(2);
    assert_eq!(error_of(fixture.token(APP, &without_uri).await).await, (400, "invalid_request".into()));
    assert_eq!(fixture.token(APP, &exchange(&code, &verifier)).await.status(), 200);

    let (code, verifier) = new_code(&fixture, "app", APP_REDIRECT).await;
    let unauthenticated =
        fixture.app.http.post(fixture.url("/token")).form(&exchange(&code, &verifier)).send().await.unwrap();
    assert_eq!(error_of(unauthenticated).await, (401, "invalid_client".into()));
    let wrong_secret = fixture
        .app
        .http
        .post(fixture.url("/token"))
        .basic_auth("app", Some("wrong"))
        .form(&exchange(&code, &verifier))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_secret.headers()["www-authenticate"], "Basic realm=\"latchkey\"");
    assert_eq!(error_of(wrong_secret).await, (401, "invalid_client".into()));
}

async fn pkce_refuses_wrong_missing_and_downgraded_verifiers(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    for bad in ["verifier-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxy", "short", ""] {
        let (code, _) = new_code(&fixture, "app", APP_REDIRECT).await;
        let mut form = exchange(&code, bad);
        if bad.is_empty() {
            form.pop();
        }
        assert_eq!(error_of(fixture.token(APP, &form).await).await, (400, "invalid_grant".into()), "{bad:?}");
    }
    // Downgrade: no challenge at the authorization endpoint, a verifier at the token endpoint.
    let (url, verifier) = authorize_url(&fixture.app.server.url(), "app", APP_REDIRECT, "openid", &[]);
    let url = url.split("&code_challenge=").next().unwrap().to_owned();
    let location = fixture.browser().authorize(&url, "alice").await;
    let code = redirect_params(&location)["code"].clone();
    assert_eq!(
        error_of(fixture.token(APP, &exchange(&code, &verifier)).await).await,
        (400, "invalid_grant".into())
    );
}

async fn public_clients_redeem_with_pkce_alone(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let (code, verifier) = new_code(&fixture, "spa", SPA_REDIRECT).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", SPA_REDIRECT),
        ("code_verifier", verifier.as_str()),
        ("client_id", "spa"),
    ];
    let response = fixture.app.http.post(fixture.url("/token")).form(&form).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["id_token"].is_string());
}

async fn token_endpoint_answers_like_rfc_6749(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let get = fixture.app.http.get(fixture.url("/token")).send().await.unwrap();
    assert_eq!(get.status(), 405);
    assert_eq!(get.headers()["allow"], "POST");
    assert_eq!(get.json::<serde_json::Value>().await.unwrap()["error"], "invalid_request");
    let (code, verifier) = new_code(&fixture, "app", APP_REDIRECT).await;
    // client_secret_post works; both methods at once is invalid_request.
    let mut form = exchange(&code, &verifier);
    form.extend([("client_id", "app"), ("client_secret", crate::support::APP_SECRET)]);
    let both = fixture
        .app
        .http
        .post(fixture.url("/token"))
        .basic_auth("app", Some(crate::support::APP_SECRET))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(both).await, (400, "invalid_request".into()));
    let post = fixture.app.http.post(fixture.url("/token")).form(&form).send().await.unwrap();
    assert_eq!(post.status(), 200, "client_secret_post");
    for (form, error) in [
        (vec![("grant_type", "magic")], "unsupported_grant_type"),
        (vec![("code", "x")], "invalid_request"),
        (
            vec![("grant_type", "authorization_code"), ("grant_type", "authorization_code"), ("code", "x")],
            "invalid_request",
        ),
        (
            vec![
                ("grant_type", "authorization_code"),
                ("code", "lk_code_unknown"),
                ("redirect_uri", APP_REDIRECT),
            ],
            "invalid_grant",
        ),
    ] {
        let response = fixture.token(APP, &form).await;
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(error_of(response).await.1, error, "{form:?}");
    }
    let json = fixture
        .app
        .http
        .post(fixture.url("/token"))
        .basic_auth("app", Some(crate::support::APP_SECRET))
        .json(&serde_json::json!({"grant_type": "authorization_code"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(json).await, (400, "invalid_request".into()), "only forms are accepted");
}
