//! Security checklist I (login and consent pages), E46 (max_age), E49 (UserInfo errors) and logout.

use crate::on_both_backends;
use crate::support::{
    authorize_url, hidden_field, location, redirect_params, tokens_for, Fixture, TestDatabase, APP_REDIRECT,
    COOKIE, PASSWORD,
};
use latchkey_model::Timestamp;

on_both_backends!(
    forms_without_the_right_csrf_token_are_forbidden,
    pages_have_framing_caching_and_referrer_protection,
    the_session_cookie_is_locked_down_and_renewed_at_login,
    unknown_user_and_wrong_password_look_the_same,
    parallel_wrong_passwords_cannot_beat_the_lock_out,
    a_known_browser_signs_in_while_an_attacker_hammers_the_account,
    refused_attempts_lengthen_no_lock,
    no_typed_name_spends_the_owners_known_address_budget,
    an_ipv6_network_counts_as_one_address,
    consent_names_client_and_scopes_and_is_remembered,
    a_flow_cannot_be_finished_from_another_browser,
    reflected_values_are_escaped,
    max_age_forces_a_fresh_login_and_reports_auth_time,
    userinfo_refuses_bad_tokens_with_a_challenge,
    logout_ends_the_session_and_returns_to_the_client,
    sessions_end_when_idle_and_after_eight_hours,
);

/// Starts a flow in `browser` and returns the login page URL.
async fn start(fixture: &Fixture, browser: &mut crate::support::Browser, extra: &[(&str, &str)]) -> String {
    let (url, _) = authorize_url(&fixture.app.server.url(), "app", APP_REDIRECT, "openid profile", extra);
    let response = browser.get(&url).await;
    assert_eq!(response.status(), 303);
    location(&response)
}

async fn forms_without_the_right_csrf_token_are_forbidden(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let mut browser = fixture.browser();
    let login = start(&fixture, &mut browser, &[]).await;
    let page = browser.get(&login).await.text().await.unwrap();
    let request = hidden_field(&page, "request").unwrap();
    for csrf in [None, Some("forged"), Some("")] {
        let mut form = vec![("request", request.as_str()), ("username", "alice"), ("password", PASSWORD)];
        if let Some(csrf) = csrf {
            form.push(("csrf", csrf));
        }
        assert_eq!(browser.post("/login", &form).await.status(), 403, "{csrf:?}");
    }
    // Another browser's valid token is no good either.
    let mut other = fixture.browser();
    let other_login = start(&fixture, &mut other, &[]).await;
    let other_csrf = hidden_field(&other.get(&other_login).await.text().await.unwrap(), "csrf").unwrap();
    let form = [
        ("csrf", other_csrf.as_str()),
        ("request", request.as_str()),
        ("username", "alice"),
        ("password", PASSWORD),
    ];
    assert_eq!(browser.post("/login", &form).await.status(), 403);

    // Consent too.
    let consent = location(&browser.log_in(&login, "alice", PASSWORD).await);
    assert!(consent.starts_with("/consent"));
    let page = browser.get(&consent).await.text().await.unwrap();
    let request = hidden_field(&page, "request").unwrap();
    let form = [("request", request.as_str()), ("decision", "allow")];
    assert_eq!(browser.post("/consent", &form).await.status(), 403);
}

async fn pages_have_framing_caching_and_referrer_protection(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let mut browser = fixture.browser();
    let login = start(&fixture, &mut browser, &[]).await;
    let consent = location(&browser.log_in(&login, "alice", PASSWORD).await);
    let mut untrusted = fixture.browser();
    let (bad, _) =
        authorize_url(&fixture.app.server.url(), "app", "https://evil.example.com/cb", "openid", &[]);
    for response in [browser.get(&login).await, browser.get(&consent).await, untrusted.get(&bad).await] {
        let headers = response.headers().clone();
        let csp = headers["content-security-policy"].to_str().unwrap().to_owned();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(csp.contains("script-src 'self'") && csp.contains("default-src 'none'"), "{csp}");
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(headers["cache-control"], "no-store");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert!(headers.get("access-control-allow-origin").is_none());
        let html = response.text().await.unwrap();
        for external in ["http://", "https://", "//"] {
            let linked = html.match_indices(external).any(|(i, _)| {
                let before = &html[..i];
                before.ends_with("src=\"") || before.ends_with("href=\"")
            });
            assert!(!linked, "no third-party resources: {html}");
        }
    }
    assert_eq!(fixture.app.get("/static/style.css").await.status(), 200);
}

async fn the_session_cookie_is_locked_down_and_renewed_at_login(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let mut browser = fixture.browser();
    let (url, _) = authorize_url(&fixture.app.server.url(), "app", APP_REDIRECT, "openid", &[]);
    let response = browser.get(&url).await;
    let set_cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    for attribute in ["__Host-latchkey-session=", "Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    assert!(!set_cookie.contains("Domain"), "{set_cookie}");
    let before = browser.cookie.clone().unwrap();
    assert!(before.len() >= 40, "at least 64 bits; here 256");
    let consent = location(&browser.log_in(&location(&response), "alice", PASSWORD).await);
    let after = browser.cookie.clone().unwrap();
    assert_ne!(before, after, "a new session id after login");
    // The pre-login cookie is worthless now.
    let mut attacker = fixture.browser();
    attacker.cookie = Some(before);
    let stale = attacker.get(&consent).await;
    assert_eq!(stale.status(), 400);
    assert!(stale.text().await.unwrap().contains("expired"));
    assert_eq!(COOKIE, "__Host-latchkey-session");
}

async fn unknown_user_and_wrong_password_look_the_same(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let mut answers = Vec::new();
    for (username, password) in [("alice", "not the password"), ("mallory", PASSWORD)] {
        let mut browser = fixture.browser();
        let login = start(&fixture, &mut browser, &[]).await;
        let response = browser.log_in(&login, username, password).await;
        let status = response.status();
        let body = response.text().await.unwrap();
        assert!(body.contains("Login failed; Invalid user ID or password."));
        // Identical but for the echoed username and this browser's own CSRF token and request id.
        let normalised = body
            .replace(username, "USER")
            .replace(&hidden_field(&body, "csrf").unwrap(), "CSRF")
            .replace(&hidden_field(&body, "request").unwrap(), "REQUEST");
        answers.push((status, normalised));
    }
    assert_eq!(answers[0], answers[1]);
}

async fn parallel_wrong_passwords_cannot_beat_the_lock_out(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let mut browser = fixture.browser();
    let login = start(&fixture, &mut browser, &[]).await;
    let page = browser.get(&login).await.text().await.unwrap();
    let (csrf, request) = (hidden_field(&page, "csrf").unwrap(), hidden_field(&page, "request").unwrap());
    let cookie = browser.cookie.clone().unwrap();
    let attempts = (0..12).map(|i| {
        let password = format!("guess number {i}");
        let form = [
            ("csrf", csrf.clone()),
            ("request", request.clone()),
            ("username", "alice".to_owned()),
            ("password", password),
        ];
        fixture
            .app
            .http
            .post(fixture.url("/login"))
            .header("cookie", format!("{COOKIE}={cookie}"))
            .form(&form)
            .send()
    });
    let statuses: Vec<u16> =
        futures::future::join_all(attempts).await.into_iter().map(|r| r.unwrap().status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 5, "five guesses checked: {statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 7, "the rest refused unchecked: {statuses:?}");
    // Even the right password waits out the lock, which is bounded.
    let locked = browser.log_in(&login, "alice", PASSWORD).await;
    assert_eq!(locked.status(), 429);
    assert!(locked.headers().contains_key("retry-after"));
    fixture.advance(crate::support::START); // far beyond any lock
    let login = start(&fixture, &mut browser, &[]).await;
    let response = browser.log_in(&login, "alice", PASSWORD).await;
    assert_eq!(response.status(), 303, "the lock-out ends");
}

/// The attacker guesses alice's password from address after address and locks the account, for strangers.
/// Alice, in the browser she signed in with before, from an address never seen, still gets in at once; a
/// stranger's browser with the right password does not.
async fn a_known_browser_signs_in_while_an_attacker_hammers_the_account(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let mut alice = fixture.browser_from("198.51.100.7");
    let login = start(&fixture, &mut alice, &[]).await;
    assert_eq!(alice.log_in(&login, "alice", PASSWORD).await.status(), 303);
    let device = alice.device.clone().expect("a device cookie after signing in");

    let mut refused = 0;
    for i in 0..40 {
        let mut attacker = fixture.browser_from(format!("203.0.113.{i}"));
        let login = start(&fixture, &mut attacker, &[]).await;
        if attacker.log_in(&login, "alice", &format!("guess {i}")).await.status() == 429 {
            refused += 1;
        }
    }
    assert_eq!(refused, 35, "five guesses checked, then the account is locked for strangers");

    alice.cookie = None; // a new session, the same browser
    alice.forwarded_for = Some("192.0.2.55".into());
    let login = start(&fixture, &mut alice, &[]).await;
    assert_eq!(alice.log_in(&login, "alice", PASSWORD).await.status(), 303, "the owner's browser gets in");
    assert_eq!(alice.device, Some(device), "the device cookie is kept, not replaced");

    let mut stranger = fixture.browser_from("192.0.2.56");
    let login = start(&fixture, &mut stranger, &[]).await;
    assert_eq!(stranger.log_in(&login, "alice", PASSWORD).await.status(), 429, "locked for strangers");
}

/// Alice signed in from her address before; she comes back from it in a new browser (no device cookie).
/// An attacker elsewhere types names crafted to look like alice's known-source counter: they are names,
/// counted as names (here: no username at all), and alice still gets in.
async fn no_typed_name_spends_the_owners_known_address_budget(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let mut alice = fixture.browser_from("198.51.100.7");
    let login = start(&fixture, &mut alice, &[]).await;
    assert_eq!(alice.log_in(&login, "alice", PASSWORD).await.status(), 303);
    for i in 0..12 {
        let mut attacker = fixture.browser_from(format!("203.0.113.{i}"));
        let login = start(&fixture, &mut attacker, &[]).await;
        for crafted in ["alice@ip:198.51.100.7", "known:ip:198.51.100.7|alice"] {
            attacker.log_in(&login, crafted, "guess").await;
        }
    }
    let mut new_browser = fixture.browser_from("198.51.100.7");
    let login = start(&fixture, &mut new_browser, &[]).await;
    assert_eq!(
        new_browser.log_in(&login, "alice", PASSWORD).await.status(),
        303,
        "her address is still hers"
    );
}

/// Attempts refused by a lock are not counted: the owner trying again and again while locked does not
/// lengthen the lock, nor the next one.
async fn refused_attempts_lengthen_no_lock(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let mut browser = fixture.browser();
    let login = start(&fixture, &mut browser, &[]).await;
    for i in 0..5 {
        assert_eq!(browser.log_in(&login, "alice", &format!("guess {i}")).await.status(), 200);
    }
    let retry_after = |response: &reqwest::Response| -> i64 {
        response.headers()["retry-after"].to_str().unwrap().parse().unwrap()
    };
    let locked = browser.log_in(&login, "alice", PASSWORD).await;
    assert_eq!((locked.status().as_u16(), retry_after(&locked)), (429, 30), "the first lock: 30 s");
    for _ in 0..10 {
        fixture.advance(2);
        let again = browser.log_in(&login, "alice", PASSWORD).await;
        assert_eq!(again.status(), 429);
        assert!(retry_after(&again) <= 30, "refused attempts do not extend the lock");
    }
    fixture.advance(11);
    let login = start(&fixture, &mut browser, &[]).await;
    let wrong = browser.log_in(&login, "alice", "one more guess").await;
    assert_eq!(wrong.status(), 200, "checked once the lock is over");
    let next = browser.log_in(&login, "alice", PASSWORD).await;
    assert_eq!((next.status().as_u16(), retry_after(&next)), (429, 60), "the next lock doubles, no more");
}

/// Addresses of one IPv6 /64 (one subscriber's network) share the address limit.
async fn an_ipv6_network_counts_as_one_address(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let mut statuses = Vec::new();
    for i in 0..22 {
        let mut browser = fixture.browser_from(format!("2001:db8:7:7::{:x}", i + 1));
        let login = start(&fixture, &mut browser, &[]).await;
        // Each guess at another name, so that only the address counts.
        statuses.push(browser.log_in(&login, &format!("user{i}"), "guess").await.status().as_u16());
    }
    assert_eq!(&statuses[..20], &[200; 20][..], "{statuses:?}");
    assert_eq!(&statuses[20..], &[429, 429][..], "the /64 is locked: {statuses:?}");
    let mut elsewhere = fixture.browser_from("2001:db8:7:8::1");
    let login = start(&fixture, &mut elsewhere, &[]).await;
    assert_eq!(elsewhere.log_in(&login, "alice", PASSWORD).await.status(), 303, "another /64 is not");
}

async fn consent_names_client_and_scopes_and_is_remembered(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let mut browser = fixture.browser();
    let login = start(&fixture, &mut browser, &[]).await;
    let consent = location(&browser.log_in(&login, "alice", PASSWORD).await);
    let page = browser.get(&consent).await.text().await.unwrap();
    assert!(page.contains("app application"), "client name");
    assert!(
        page.contains("See your name and basic profile") && page.contains("openid"),
        "each scope in words"
    );
    let allowed = location(&browser.decide(&consent, "allow").await);
    assert!(redirect_params(&allowed).contains_key("code"));
    // Same scopes again: no consent page.
    let (url, _) = authorize_url(&fixture.app.server.url(), "app", APP_REDIRECT, "openid profile", &[]);
    assert!(location(&browser.get(&url).await).starts_with(APP_REDIRECT));
    // A new scope asks again; denying answers access_denied at the client, with state and iss.
    let (url, _) = authorize_url(&fixture.app.server.url(), "app", APP_REDIRECT, "openid email", &[]);
    let consent = location(&browser.get(&url).await);
    assert!(consent.starts_with("/consent"), "{consent}");
    let denied = redirect_params(&location(&browser.decide(&consent, "deny").await));
    assert_eq!(denied["error"], "access_denied");
    assert_eq!(denied["state"], "st-123");
    assert_eq!(denied["iss"], fixture.app.server.url());
    // prompt=consent asks even for allowed scopes.
    let (url, _) =
        authorize_url(&fixture.app.server.url(), "app", APP_REDIRECT, "openid", &[("prompt", "consent")]);
    assert!(location(&browser.get(&url).await).starts_with("/consent"));
}

async fn a_flow_cannot_be_finished_from_another_browser(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let mut victim = fixture.browser();
    let login = start(&fixture, &mut victim, &[]).await;
    let mut attacker = fixture.browser();
    let response = attacker.get(&login).await;
    assert_eq!(response.status(), 400, "the request id alone is not enough");
    assert!(response.text().await.unwrap().contains("no longer valid in this browser"));
}

async fn reflected_values_are_escaped(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let mut browser = fixture.browser();
    let login = start(&fixture, &mut browser, &[("login_hint", "<script>alert(1)</script>")]).await;
    let page = browser.get(&login).await.text().await.unwrap();
    assert!(!page.contains("<script>alert(1)"), "{page}");
    assert!(page.contains("&#60;script&#62;") || page.contains("&lt;script&gt;"), "{page}");
}

async fn max_age_forces_a_fresh_login_and_reports_auth_time(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let mut browser = fixture.browser();
    let (url, _) = authorize_url(&fixture.app.server.url(), "app", APP_REDIRECT, "openid", &[]);
    browser.authorize(&url, "alice").await;
    fixture.advance(120);
    let (url, _) =
        authorize_url(&fixture.app.server.url(), "app", APP_REDIRECT, "openid", &[("max_age", "60")]);
    let next = location(&browser.get(&url).await);
    assert!(next.starts_with("/login"), "the session is older than max_age: {next}");
    let (url, _) =
        authorize_url(&fixture.app.server.url(), "app", APP_REDIRECT, "openid", &[("max_age", "600")]);
    assert!(location(&browser.get(&url).await).starts_with(APP_REDIRECT), "within max_age: no login");
    let tokens = tokens_for(&fixture, "openid").await;
    let payload = tokens["id_token"].as_str().unwrap().split('.').nth(1).unwrap().to_owned();
    use base64::Engine;
    let claims: serde_json::Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap())
            .unwrap();
    assert_eq!(claims["auth_time"], Timestamp::from_unix_seconds(crate::support::START + 120).unix_seconds());
    assert_eq!(claims["nonce"], "n-456");
}

async fn userinfo_refuses_bad_tokens_with_a_challenge(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let tokens = tokens_for(&fixture, "openid profile").await;
    let access = tokens["access_token"].as_str().unwrap();
    let ok = fixture.app.http.post(fixture.url("/userinfo")).bearer_auth(access).send().await.unwrap();
    assert_eq!(ok.status(), 200, "POST with the header works too");
    let body = fixture
        .app
        .http
        .post(fixture.url("/userinfo"))
        .form(&[("access_token", access)])
        .send()
        .await
        .unwrap();
    assert_eq!(body.status(), 200, "and the form-body token");
    for token in ["garbage", "lk_at_unknown"] {
        let response =
            fixture.app.http.get(fixture.url("/userinfo")).bearer_auth(token).send().await.unwrap();
        assert_eq!(response.status(), 401);
        assert!(response.headers()["www-authenticate"].to_str().unwrap().contains("error=\"invalid_token\""));
    }
    // RFC 6750 §2.3's query parameter is not taken: a token in a URL ends up in logs and histories.
    let in_query =
        fixture.app.http.get(fixture.url(&format!("/userinfo?access_token={access}"))).send().await;
    assert_eq!(in_query.unwrap().status(), 401);
    let none = fixture.app.http.get(fixture.url("/userinfo")).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert_eq!(none.headers()["www-authenticate"], "Bearer realm=\"latchkey\"");
    fixture.advance(600);
    let expired = fixture.app.http.get(fixture.url("/userinfo")).bearer_auth(access).send().await.unwrap();
    assert_eq!(expired.status(), 401, "expired");
}

async fn logout_ends_the_session_and_returns_to_the_client(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let mut browser = fixture.browser();
    let (url, verifier) = authorize_url(&fixture.app.server.url(), "app", APP_REDIRECT, "openid", &[]);
    let code = redirect_params(&browser.authorize(&url, "alice").await)["code"].clone();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", APP_REDIRECT),
        ("code_verifier", verifier.as_str()),
    ];
    let tokens: serde_json::Value = fixture.token(crate::support::APP, &form).await.json().await.unwrap();
    let id_token = tokens["id_token"].as_str().unwrap();

    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("id_token_hint", id_token)
        .append_pair("post_logout_redirect_uri", APP_REDIRECT)
        .append_pair("state", "bye");
    let page = browser.get(&format!("/logout?{}", query.finish())).await;
    assert_eq!(page.status(), 200, "a link alone signs nobody out: the user confirms");
    let html = page.text().await.unwrap();
    let csrf = hidden_field(&html, "csrf").unwrap();
    let without_csrf = browser.post("/logout", &[("id_token_hint", id_token)]).await;
    assert_eq!(without_csrf.status(), 403);
    let done = browser
        .post(
            "/logout",
            &[
                ("csrf", &csrf),
                ("id_token_hint", id_token),
                ("post_logout_redirect_uri", APP_REDIRECT),
                ("state", "bye"),
            ],
        )
        .await;
    assert_eq!(location(&done), format!("{APP_REDIRECT}?state=bye"));
    assert!(browser.cookie.is_none(), "the cookie is cleared");
    // The server-side session is gone: the next authorization asks for a login again.
    let (url, _) = authorize_url(&fixture.app.server.url(), "app", APP_REDIRECT, "openid", &[]);
    assert!(location(&browser.get(&url).await).starts_with("/login"));
    // An unregistered post-logout URI gets a page, not a redirect.
    let bad = browser.get("/logout?client_id=app&post_logout_redirect_uri=https://evil.example.com/").await;
    assert_eq!(bad.status(), 400);
    assert!(bad.headers().get("location").is_none());
    // So does a registered one vouched for by an ID token hint this server never issued.
    let forged = format!(
        "/logout?client_id=app&id_token_hint=eyJhbGciOiJub25lIn0.e30.&post_logout_redirect_uri={}",
        url::form_urlencoded::byte_serialize(APP_REDIRECT.as_bytes()).collect::<String>()
    );
    let bad = browser.get(&forged).await;
    assert_eq!(bad.status(), 400);
    assert!(bad.headers().get("location").is_none());
}

/// Checklist I78: idle for more than 30 minutes, or 8 hours after login, the next authorization asks for
/// the password again.
async fn sessions_end_when_idle_and_after_eight_hours(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let mut browser = fixture.browser();
    let (url, _) = authorize_url(&fixture.app.server.url(), "app", APP_REDIRECT, "openid", &[]);
    browser.authorize(&url, "alice").await;
    // Used every 29 minutes, the session lives on...
    for _ in 0..3 {
        fixture.advance(29 * 60);
        let params = redirect_params(&location(&browser.get(&url).await));
        assert!(params.contains_key("code"), "{params:?}");
    }
    // ...until it sits idle for 31.
    fixture.advance(31 * 60);
    assert!(location(&browser.get(&url).await).starts_with("/login"), "idle too long");

    // Kept busy, it still ends 8 hours after the login.
    let mut browser = fixture.browser();
    browser.authorize(&url, "alice").await;
    for _ in 0..16 {
        fixture.advance(29 * 60);
        assert!(
            redirect_params(&location(&browser.get(&url).await)).contains_key("code"),
            "7 h 44 min at most"
        );
    }
    fixture.advance(29 * 60);
    assert!(location(&browser.get(&url).await).starts_with("/login"), "8 h 13 min: the absolute limit");
}
