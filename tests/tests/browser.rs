//! The login flow in a real headless Chromium (driven over WebDriver by chromedriver), with the
//! `openidconnect` crate as the relying party.
//!
//! Needs Debian's `chromium` and `chromium-driver`; run with `cargo test -p latchkey-tests --test browser --
//! --ignored`. Set `LATCHKEY_UPDATE_SCREENSHOTS=1` to refresh the pictures in docs/img.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "http/support.rs"]
#[allow(dead_code)]
mod support;

use fantoccini::{ClientBuilder, Locator};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{http_client, Fixture, TestDatabase, APP_SECRET, PASSWORD};

/// chromedriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into()))
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver is installed (Debian package chromium-driver)");
        let driver = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        driver
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn screenshot_dir() -> std::path::PathBuf {
    if std::env::var_os("LATCHKEY_UPDATE_SCREENSHOTS").is_some() {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/img")
    } else {
        std::env::temp_dir()
    }
}

/// A headless Chromium session through `driver`, with its profile in `profile`.
async fn open_browser(driver: &Driver, profile: &std::path::Path) -> fantoccini::Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=420,820", format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    ClientBuilder::native()
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("WebDriver session")
}

/// A loopback redirect URI on a free port (registered without a port; any port matches). Nothing listens
/// there: the address the browser lands on is what counts.
fn loopback_redirect() -> String {
    format!("http://127.0.0.1:{}/cb", TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port())
}

/// Waits until the browser is at `prefix…`; returns that URL.
async fn landed_at(browser: &fantoccini::Client, prefix: &str) -> url::Url {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let current = browser.current_url().await.unwrap();
        if current.as_str().starts_with(prefix) {
            return current;
        }
        assert!(Instant::now() < deadline, "never reached the redirect URI; at {current}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Logs alice in on the login page and allows the consent page; returns the consent page's text.
async fn log_in_and_allow(browser: &fantoccini::Client, shots: Option<&std::path::Path>) -> String {
    let username = browser.wait().for_element(Locator::Css("#username")).await.expect("the login page");
    username.send_keys("alice").await.unwrap();
    browser.find(Locator::Css("#password")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    if let Some(shots) = shots {
        std::fs::write(shots.join("login.png"), browser.screenshot().await.unwrap()).unwrap();
    }
    browser.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    let allow =
        browser.wait().for_element(Locator::Css("button[value=allow]")).await.expect("the consent page");
    let consent_text = browser.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    if let Some(shots) = shots {
        std::fs::write(shots.join("consent.png"), browser.screenshot().await.unwrap()).unwrap();
    }
    allow.click().await.unwrap();
    consent_text
}

#[actix_web::test]
#[ignore = "needs chromium and chromedriver: cargo test -p latchkey-tests --test browser -- --ignored"]
async fn browser_logs_in_consents_and_the_relying_party_gets_verified_tokens() {
    let started = Instant::now();
    let fixture = Fixture::new(TestDatabase::sqlite()).await;
    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let browser = open_browser(&driver, profile.path()).await;

    // The relying party, with a loopback redirect URI.
    let redirect = loopback_redirect();
    let issuer = IssuerUrl::new(fixture.app.server.url()).unwrap();
    let provider = CoreProviderMetadata::discover_async(issuer, &http_client).await.unwrap();
    let client = CoreClient::from_provider_metadata(
        provider,
        ClientId::new("app".into()),
        Some(ClientSecret::new(APP_SECRET.into())),
    )
    .set_redirect_uri(RedirectUrl::new(redirect.clone()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();

    let shots = screenshot_dir();
    browser.goto(url.as_str()).await.unwrap();
    let consent_text = log_in_and_allow(&browser, Some(&shots)).await;
    assert!(consent_text.contains("app application"), "{consent_text}");
    assert!(consent_text.contains("See your email address"), "{consent_text}");

    // The browser lands on the client's redirect URI (nothing listens there; the address is what counts).
    let landed = landed_at(&browser, &redirect).await;
    browser.close().await.unwrap();
    let params: std::collections::HashMap<_, _> = landed.query_pairs().into_owned().collect();
    assert_eq!(params["state"], *state.secret());
    assert_eq!(params["iss"], fixture.app.server.url());

    let tokens = client
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http_client)
        .await
        .expect("code exchange");
    let claims =
        tokens.id_token().unwrap().claims(&client.id_token_verifier(), &nonce).expect("ID token verifies");
    let userinfo: CoreUserInfoClaims = client
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async(&http_client)
        .await
        .unwrap();
    assert_eq!(userinfo.subject(), claims.subject());
    let refreshed = client
        .exchange_refresh_token(tokens.refresh_token().unwrap())
        .unwrap()
        .request_async(&http_client)
        .await;
    assert!(refreshed.is_ok(), "refresh");
    drop(driver);
    println!("browser flow wall time: {:.2} s", started.elapsed().as_secs_f64());
}

#[cfg(feature = "legacy")]
#[actix_web::test]
#[ignore = "needs chromium and chromedriver: cargo test -p latchkey-tests --test browser -- --ignored"]
async fn implicit_flow_in_the_browser_returns_verified_tokens_in_the_fragment() {
    let fixture = Fixture::new(TestDatabase::sqlite()).await;
    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let browser = open_browser(&driver, profile.path()).await;

    let redirect = loopback_redirect();
    let issuer = IssuerUrl::new(fixture.app.server.url()).unwrap();
    let provider = CoreProviderMetadata::discover_async(issuer, &http_client).await.unwrap();
    let client = CoreClient::from_provider_metadata(provider, ClientId::new("legacy-spa".into()), None)
        .set_redirect_uri(RedirectUrl::new(redirect.clone()).unwrap());
    let (url, state, nonce) = client
        .authorize_url(CoreAuthenticationFlow::Implicit(true), CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("email".into()))
        .url();
    browser.goto(url.as_str()).await.unwrap();
    log_in_and_allow(&browser, None).await;
    let landed = landed_at(&browser, &redirect).await;
    browser.close().await.unwrap();
    assert!(landed.query().is_none(), "tokens never in the query: {landed}");
    let params: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(landed.fragment().unwrap_or_default().as_bytes()).into_owned().collect();
    assert_eq!(params["state"], *state.secret());
    assert!(!params.contains_key("refresh_token"));
    let id_token: openidconnect::core::CoreIdToken = params["id_token"].parse().unwrap();
    let verifier = client.id_token_verifier();
    let claims = id_token.claims(&verifier, &nonce).expect("ID token verifies (JWKS, nonce, audience)");
    let access_token = openidconnect::AccessToken::new(params["access_token"].clone());
    let expected = openidconnect::AccessTokenHash::from_token(
        &access_token,
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected));
    let userinfo: CoreUserInfoClaims =
        client.user_info(access_token, None).unwrap().request_async(&http_client).await.unwrap();
    assert_eq!(userinfo.subject(), claims.subject());
    drop(driver);
}
