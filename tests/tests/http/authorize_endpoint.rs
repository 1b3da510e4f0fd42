//! Security checklist A (authorization endpoint and redirect URIs), E47 (prompt=none), response modes
//! (OAuth 2.0 Multiple Response Types §2, Form Post Response Mode §2) and prompt/max_age
//! (OpenID Connect Core §3.1.2.1).

use crate::on_both_backends;
use crate::support::{
    authorize_url, hidden_field, location, redirect_params, Fixture, TestDatabase, APP_REDIRECT, SPA_REDIRECT,
};

on_both_backends!(
    untrusted_redirects_get_a_page_never_a_redirect,
    loopback_redirects_may_change_only_the_port,
    errors_after_validation_go_back_with_state_and_iss,
    repeated_parameters_are_refused_unknown_ones_ignored,
    prompt_none_without_a_session_is_login_required,
    long_state_is_echoed_exactly,
    request_objects_are_refused_not_ignored,
    post_is_accepted_like_get,
    fragment_and_form_post_carry_the_same_answer,
    prompt_login_and_max_age_ask_for_the_password_again,
);

fn query(base: &str, pairs: &[(&str, &str)]) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        serializer.append_pair(k, v);
    }
    format!("{base}/authorize?{}", serializer.finish())
}

async fn assert_error_page(fixture: &Fixture, url: &str) {
    let response = fixture.app.http.get(url).send().await.unwrap();
    assert_eq!(response.status(), 400, "{url}");
    assert!(response.headers().get("location").is_none(), "{url} must not redirect");
    let html = response.text().await.unwrap();
    assert!(html.contains("cannot be completed"), "{html}");
}

async fn untrusted_redirects_get_a_page_never_a_redirect(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let base = fixture.app.server.url();
    for variant in [
        "https://APP.example.com/cb",
        "https://app.example.com/CB",
        "https://app.example.com/cb/",
        "https://app.example.com/cb?x=1",
        "https://app.example.com/cb/%2e%2e/",
        "https://app.example.com/cb/..;/",
        "https://app.example.com/cb%252F",
        "https://user@app.example.com/cb",
        "https://a@b@app.example.com/cb",
        "https://app.example.com.evil.com/cb",
        "https://app.example.com@evil.com/cb",
        "http://app.example.com/cb",
        "https://evil.example.com/cb",
        "javascript:alert(1)",
    ] {
        let (url, _) = authorize_url(&base, "app", variant, "openid", &[]);
        assert_error_page(&fixture, &url).await;
    }
    // Unknown or missing client.
    assert_error_page(&fixture, &authorize_url(&base, "nobody", APP_REDIRECT, "openid", &[]).0).await;
    assert_error_page(&fixture, &query(&base, &[("response_type", "code"), ("redirect_uri", APP_REDIRECT)]))
        .await;
    // Two URIs registered, none sent.
    assert_error_page(
        &fixture,
        &query(&base, &[("response_type", "code"), ("client_id", "app"), ("scope", "openid")]),
    )
    .await;
    // Even a bad scope must not be redirected to an unregistered URI.
    let (url, _) = authorize_url(&base, "app", "https://evil.example.com/cb", "admin", &[]);
    assert_error_page(&fixture, &url).await;
}

async fn loopback_redirects_may_change_only_the_port(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let base = fixture.app.server.url();
    let (url, _) = authorize_url(&base, "app", "http://127.0.0.1:51234/cb", "openid", &[]);
    let response = fixture.app.http.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 303, "any port on the registered loopback URI");
    for variant in
        ["http://127.0.0.1:51234/other", "http://127.0.0.1:51234/cb?x=1", "http://localhost:51234/cb"]
    {
        assert_error_page(&fixture, &authorize_url(&base, "app", variant, "openid", &[]).0).await;
    }
}

async fn errors_after_validation_go_back_with_state_and_iss(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let base = fixture.app.server.url();
    let cases: Vec<(String, &str)> = vec![
        (authorize_url(&base, "app", APP_REDIRECT, "openid admin", &[]).0, "invalid_scope"),
        (authorize_url(&base, "app", APP_REDIRECT, "openid", &[("prompt", "sideways")]).0, "invalid_request"),
        (authorize_url(&base, "app", APP_REDIRECT, "openid", &[("max_age", "-1")]).0, "invalid_request"),
        (
            query(
                &base,
                &[
                    ("response_type", "device"),
                    ("client_id", "app"),
                    ("redirect_uri", APP_REDIRECT),
                    ("scope", "openid"),
                    ("state", "s1"),
                ],
            ),
            "unsupported_response_type",
        ),
        (
            query(
                &base,
                &[("client_id", "app"), ("redirect_uri", APP_REDIRECT), ("scope", "openid"), ("state", "s1")],
            ),
            "invalid_request",
        ),
        // A public client must use PKCE, with S256.
        (
            query(
                &base,
                &[
                    ("response_type", "code"),
                    ("client_id", "spa"),
                    ("redirect_uri", SPA_REDIRECT),
                    ("scope", "openid"),
                    ("state", "s1"),
                ],
            ),
            "invalid_request",
        ),
        (
            query(
                &base,
                &[
                    ("response_type", "code"),
                    ("client_id", "spa"),
                    ("redirect_uri", SPA_REDIRECT),
                    ("scope", "openid"),
                    ("state", "s1"),
                    ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
                    ("code_challenge_method", "plain"),
                ],
            ),
            "invalid_request",
        ),
    ];
    for (url, error) in cases {
        let response = fixture.app.http.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 303, "{url}");
        let target = location(&response);
        let redirect = if url.contains("client_id=spa") { SPA_REDIRECT } else { APP_REDIRECT };
        assert!(target.starts_with(&format!("{redirect}?")), "{target}");
        let params = redirect_params(&target);
        assert_eq!(params["error"], error, "{url}");
        assert!(params["state"] == "st-123" || params["state"] == "s1");
        assert_eq!(params["iss"], base, "RFC 9207: iss on errors too");
        assert!(!params.contains_key("code"));
        if let Some(description) = params.get("error_description") {
            assert!(!description.contains(['\r', '\n', '\t']));
        }
    }
}

async fn repeated_parameters_are_refused_unknown_ones_ignored(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let base = fixture.app.server.url();
    let (url, _) = authorize_url(&base, "app", APP_REDIRECT, "openid", &[("scope", "profile")]);
    let response = fixture.app.http.get(&url).send().await.unwrap();
    assert_eq!(redirect_params(&location(&response))["error"], "invalid_request");
    let (url, _) = authorize_url(&base, "app", APP_REDIRECT, "openid", &[("client_id", "app")]);
    assert_error_page(&fixture, &url).await;
    let (url, _) =
        authorize_url(&base, "app", APP_REDIRECT, "openid", &[("x-unknown", "1"), ("display", "popup")]);
    let response = fixture.app.http.get(&url).send().await.unwrap();
    assert_eq!(location(&response).split('?').next(), Some("/login"), "unknown parameters are ignored");
}

async fn prompt_none_without_a_session_is_login_required(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let (url, _) =
        authorize_url(&fixture.app.server.url(), "app", APP_REDIRECT, "openid", &[("prompt", "none")]);
    let response = fixture.app.http.get(&url).send().await.unwrap();
    let params = redirect_params(&location(&response));
    assert_eq!(params["error"], "login_required");
    assert!(!params.contains_key("code"));
    // Logged in but never consented: consent_required, still no code.
    let mut browser = fixture.browser();
    let (url, _) = authorize_url(&fixture.app.server.url(), "app", APP_REDIRECT, "openid", &[]);
    browser.authorize(&url, "alice").await;
    let (url, _) =
        authorize_url(&fixture.app.server.url(), "app", APP_REDIRECT, "openid email", &[("prompt", "none")]);
    let params = redirect_params(&location(&browser.get(&url).await));
    assert_eq!(params["error"], "consent_required");
    // Logged in and consented: a silent success.
    let (url, _) =
        authorize_url(&fixture.app.server.url(), "app", APP_REDIRECT, "openid", &[("prompt", "none")]);
    let params = redirect_params(&location(&browser.get(&url).await));
    assert!(params.contains_key("code"), "{params:?}");
}

async fn long_state_is_echoed_exactly(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let state = format!("{}&=?#%é", "s".repeat(2048));
    let (url, _) = authorize_url(&fixture.app.server.url(), "app", APP_REDIRECT, "openid", &[]);
    let url = url.replace(
        "state=st-123",
        &format!("state={}", url::form_urlencoded::byte_serialize(state.as_bytes()).collect::<String>()),
    );
    let location = fixture.browser().authorize(&url, "alice").await;
    assert_eq!(redirect_params(&location)["state"], state);
    let too_long = "s".repeat(5000);
    let url =
        url.replace(&url::form_urlencoded::byte_serialize(state.as_bytes()).collect::<String>(), &too_long);
    let response = fixture.app.http.get(&url).send().await.unwrap();
    assert!(response.status().is_client_error() || response.status() == 303, "a clean refusal, never a 5xx");
}

async fn request_objects_are_refused_not_ignored(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let base = fixture.app.server.url();
    for (param, error) in [("request", "request_not_supported"), ("request_uri", "request_uri_not_supported")]
    {
        let (url, _) = authorize_url(&base, "app", APP_REDIRECT, "openid", &[(param, "eyJ...")]);
        let response = fixture.app.http.get(&url).send().await.unwrap();
        assert_eq!(redirect_params(&location(&response))["error"], error);
    }
}

async fn post_is_accepted_like_get(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let (url, _) = authorize_url(&fixture.app.server.url(), "app", APP_REDIRECT, "openid", &[]);
    let form: Vec<(String, String)> =
        url::form_urlencoded::parse(url.split_once('?').unwrap().1.as_bytes()).into_owned().collect();
    let response = fixture.app.http.post(fixture.url("/authorize")).form(&form).send().await.unwrap();
    assert_eq!(response.status(), 303);
    assert!(location(&response).starts_with("/login?request="));
}

async fn fragment_and_form_post_carry_the_same_answer(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let base = fixture.app.server.url();
    let mut browser = fixture.browser();
    browser.authorize(&authorize_url(&base, "app", APP_REDIRECT, "openid", &[]).0, "alice").await;

    let (url, _) = authorize_url(&base, "app", APP_REDIRECT, "openid", &[("response_mode", "fragment")]);
    let response = browser.get(&url).await;
    assert_eq!(response.status(), 303);
    let fragment = location(&response);
    assert!(fragment.starts_with(&format!("{APP_REDIRECT}#")), "{fragment}");
    let params = redirect_params(&fragment);
    assert!(params.contains_key("code"));
    assert_eq!(params["state"], "st-123");
    assert_eq!(params["iss"], base);

    let (url, _) = authorize_url(&base, "app", APP_REDIRECT, "openid", &[("response_mode", "form_post")]);
    let response = browser.get(&url).await;
    assert_eq!(response.status(), 200, "form_post answers with a self-submitting page, not a redirect");
    assert!(response.headers().get("location").is_none());
    let csp = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("form-action 'self' https://app.example.com"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let html = response.text().await.unwrap();
    assert!(html.contains(&format!("method=\"post\" action=\"{APP_REDIRECT}\"")), "{html}");
    let code = hidden_field(&html, "code").expect("code field");
    assert!(code.starts_with("lk_code_"), "{code}");
    assert_ne!(Some(&code), params.get("code"), "every request gets its own code");
    assert_eq!(hidden_field(&html, "state").as_deref(), Some("st-123"));
    assert_eq!(hidden_field(&html, "iss").as_deref(), Some(base.as_str()));

    // Errors follow the requested mode too.
    let (url, _) =
        authorize_url(&base, "app", APP_REDIRECT, "openid admin", &[("response_mode", "form_post")]);
    let html = browser.get(&url).await.text().await.unwrap();
    assert_eq!(hidden_field(&html, "error").as_deref(), Some("invalid_scope"), "{html}");
    assert!(hidden_field(&html, "code").is_none());
}

async fn prompt_login_and_max_age_ask_for_the_password_again(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let base = fixture.app.server.url();
    let mut browser = fixture.browser();
    browser.authorize(&authorize_url(&base, "app", APP_REDIRECT, "openid", &[]).0, "alice").await;

    // With a session and remembered consent, a plain request answers at once.
    let response = browser.get(&authorize_url(&base, "app", APP_REDIRECT, "openid", &[]).0).await;
    assert!(redirect_params(&location(&response)).contains_key("code"));

    for extra in [("prompt", "login"), ("max_age", "0")] {
        fixture.advance(5);
        let (url, _) = authorize_url(&base, "app", APP_REDIRECT, "openid", &[extra]);
        let response = browser.get(&url).await;
        let next = location(&response);
        assert!(next.starts_with("/login?request="), "{extra:?} must ask again: {next}");
        let answer = browser.log_in(&next, "alice", crate::support::PASSWORD).await;
        let params = redirect_params(&location(&answer));
        assert!(params.contains_key("code"), "{extra:?}: {params:?}");
    }
    // A max_age the session still satisfies does not ask again.
    let (url, _) = authorize_url(&base, "app", APP_REDIRECT, "openid", &[("max_age", "3600")]);
    let response = browser.get(&url).await;
    assert!(redirect_params(&location(&response)).contains_key("code"));
}
