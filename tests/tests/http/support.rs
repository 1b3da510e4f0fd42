use latchkey_server::{build, Config, RunningServer};
pub use latchkey_store::testing::TestDatabase;

/// Runs each listed case on SQLite and (with `--ignored` and `LATCHKEY_TEST_POSTGRES_URL`) on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $( #[actix_web::test] async fn $case() { super::$case($crate::support::TestDatabase::sqlite()).await; } )*
        }
        mod postgres {
            $(
                #[actix_web::test]
                #[ignore = "needs PostgreSQL: set LATCHKEY_TEST_POSTGRES_URL and run with --ignored"]
                async fn $case() {
                    super::$case($crate::support::TestDatabase::postgres().expect("PostgreSQL test database")).await;
                }
            )*
        }
    };
}

pub struct TestApp {
    pub server: RunningServer,
    pub http: reqwest::Client,
    pub db: TestDatabase,
}

impl TestApp {
    pub async fn spawn(db: TestDatabase) -> Self {
        Self::spawn_with(db, |_| {}).await
    }

    pub async fn spawn_with(db: TestDatabase, adjust: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config::new(db.database_url().unwrap()).unwrap();
        config.bind = "127.0.0.1:0".to_owned();
        config.database_connect_timeout_ms = 500;
        config.sqlite_busy_timeout_ms = 200;
        adjust(&mut config);
        let server = build(&config).await.expect("server starts");
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { server, http, db }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.expect("request")
    }
}

use latchkey_core::registration::{register_client, register_user, NewClient, NewUser, SecretChoice};
use latchkey_core::FixedClock;
use latchkey_model::{SigningAlgorithm, Timestamp};
use latchkey_server::client_address::TrustedProxies;
use std::sync::Arc;

pub const START: i64 = 1_800_000_000;
pub const APP_SECRET: &str = "app-secret-0123456789abcdefghijklmnop";
pub const OTHER_SECRET: &str = "other-secret-0123456789abcdefghijklmn";
pub const SERVICE_SECRET: &str = "service-secret-0123456789abcdefghijkl";
pub const LEGACY_SECRET: &str = "legacy-secret-0123456789abcdefghijklm";
pub const APP_REDIRECT: &str = "https://app.example.com/cb";
pub const SPA_REDIRECT: &str = "https://spa.example.com/cb";
pub const PASSWORD: &str = "correct horse battery staple";
pub const ADMIN_TOKEN: &str = "admin-token-0123456789abcdefghijklmnop";

/// A server with a clock that only moves when told, and a known set of clients and users:
/// - `app`: confidential, code + refresh, two redirect URIs;
/// - `other`: confidential, same redirect URI as `app` (for cross-client tests);
/// - `spa`: public (PKCE required);
/// - `service`: confidential, client_credentials only, scopes `api:read api:write openid`;
/// - `legacy-spa`: public, implicit only;
/// - `legacy`: confidential, password + refresh, the same scopes as `app`;
/// - `es-app`, `ed-app`: like `other`, with ES256 and EdDSA ID tokens;
/// - users `alice` and `bob`, password [`PASSWORD`].
pub struct Fixture {
    pub app: TestApp,
    pub clock: Arc<FixedClock>,
}

impl Fixture {
    pub async fn new(db: TestDatabase) -> Self {
        Self::with(db, |_| {}).await
    }

    /// [`Fixture::new`] with settings changed by `adjust`.
    pub async fn with(db: TestDatabase, adjust: impl FnOnce(&mut Config)) -> Self {
        let clock = Arc::new(FixedClock::at(Timestamp::from_unix_seconds(START)));
        let store = latchkey_core::testing::open_like_a_server(&db);
        let now = Timestamp::from_unix_seconds(START);
        let rng = &mut rand::rngs::OsRng;
        let client = |id: &str, secret: SecretChoice, uris: &[&str]| NewClient {
            id: id.into(),
            name: Some(format!("{id} application")),
            secret,
            redirect_uris: uris.iter().map(|u| (*u).to_owned()).collect(),
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            scopes: ["openid", "profile", "email", "offline_access", "api:read", "latchkey:tokens"]
                .map(str::to_owned)
                .to_vec(),
            access_token_ttl_seconds: Some(600),
            refresh_token_ttl_seconds: None,
            id_token_signing_alg: SigningAlgorithm::Rs256,
        };
        let signing_with = |alg: SigningAlgorithm, mut new: NewClient| {
            new.id_token_signing_alg = alg;
            new
        };
        let clients = [
            client("app", SecretChoice::Given(APP_SECRET.into()), &[APP_REDIRECT, "http://127.0.0.1/cb"]),
            client("other", SecretChoice::Given(OTHER_SECRET.into()), &[APP_REDIRECT]),
            client("spa", SecretChoice::Public, &[SPA_REDIRECT]),
            NewClient {
                grant_types: vec!["client_credentials".into()],
                scopes: vec!["api:read".into(), "api:write".into(), "openid".into()],
                ..client("service", SecretChoice::Given(SERVICE_SECRET.into()), &[])
            },
            NewClient {
                grant_types: vec!["implicit".into()],
                ..client("legacy-spa", SecretChoice::Public, &[SPA_REDIRECT, "http://127.0.0.1/cb"])
            },
            NewClient {
                grant_types: vec!["password".into(), "refresh_token".into()],
                ..client("legacy", SecretChoice::Given(LEGACY_SECRET.into()), &[])
            },
            signing_with(
                SigningAlgorithm::Es256,
                client("es-app", SecretChoice::Given(OTHER_SECRET.into()), &[APP_REDIRECT]),
            ),
            signing_with(
                SigningAlgorithm::EdDsa,
                client("ed-app", SecretChoice::Given(OTHER_SECRET.into()), &[APP_REDIRECT]),
            ),
        ];
        for new in clients {
            let (client, _) = register_client(new, store.hasher().unwrap(), now, rng).unwrap();
            store.write(move |repo| repo.insert_client(&client)).unwrap();
        }
        for name in ["alice", "bob"] {
            let new = NewUser {
                username: name.into(),
                password: PASSWORD.into(),
                email: Some(format!("{name}@example.com")),
                name: Some(format!("{name} example")),
            };
            let user = register_user(new, now, rng).unwrap();
            store.write(move |repo| repo.insert_user(&user)).unwrap();
        }
        drop(store);
        let mut config = Config::new(db.database_url().unwrap()).unwrap();
        config.bind = "127.0.0.1:0".to_owned();
        config.database_connect_timeout_ms = 500;
        config.sqlite_busy_timeout_ms = 2000;
        // Browsers may pose as any address (`Browser::forwarded_for`), as if behind a proxy on loopback.
        config.trusted_proxies =
            <TrustedProxies as latchkey_server::config::Setting>::parse("127.0.0.1").unwrap();
        config.admin_token = Some(
            <latchkey_server::config::AdminToken as latchkey_server::config::Setting>::parse(ADMIN_TOKEN)
                .unwrap(),
        );
        adjust(&mut config);
        let server = latchkey_server::build_with_clock(&config, clock.clone()).await.expect("server starts");
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { app: TestApp { server, http, db }, clock }
    }

    pub fn url(&self, path: &str) -> String {
        self.app.url(path)
    }

    pub fn browser(&self) -> Browser {
        Browser {
            http: self.app.http.clone(),
            base: self.app.server.url(),
            cookie: None,
            device: None,
            forwarded_for: None,
        }
    }

    /// A new browser whose requests come, through the trusted proxy, from `address`.
    pub fn browser_from(&self, address: impl Into<String>) -> Browser {
        Browser { forwarded_for: Some(address.into()), ..self.browser() }
    }

    /// A token request, authenticated with HTTP Basic as `client`.
    pub async fn token(&self, client: (&str, &str), form: &[(&str, &str)]) -> reqwest::Response {
        self.app
            .http
            .post(self.url("/token"))
            .basic_auth(client.0, Some(client.1))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// UserInfo's JSON for `access_token` (whatever the status).
    pub async fn userinfo(&self, access_token: &str) -> serde_json::Value {
        let response =
            self.app.http.get(self.url("/userinfo")).bearer_auth(access_token).send().await.unwrap();
        response.json().await.unwrap_or_default()
    }

    pub fn advance(&self, seconds: i64) {
        self.clock.advance(seconds);
    }

    /// A call to a JSON API with a bearer credential (and a JSON body).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        bearer: &str,
        body: Option<serde_json::Value>,
    ) -> reqwest::Response {
        let request = self.app.http.request(method, self.url(path)).bearer_auth(bearer);
        match body {
            Some(body) => request.json(&body),
            None => request,
        }
        .send()
        .await
        .unwrap()
    }

    /// A call to the admin API.
    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> reqwest::Response {
        self.call(method, path, ADMIN_TOKEN, body).await
    }

    /// A form posted to `path`, authenticated with HTTP Basic as `client`.
    pub async fn client_post(
        &self,
        path: &str,
        client: (&str, &str),
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        self.app
            .http
            .post(self.url(path))
            .basic_auth(client.0, Some(client.1))
            .form(form)
            .send()
            .await
            .unwrap()
    }
}

/// A response's status and JSON body (`null` when it has none).
pub async fn status_and_json(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(serde_json::Value::Null))
}

pub const APP: (&str, &str) = ("app", APP_SECRET);
pub const OTHER: (&str, &str) = ("other", OTHER_SECRET);
pub const SERVICE: (&str, &str) = ("service", SERVICE_SECRET);
pub const LEGACY: (&str, &str) = ("legacy", LEGACY_SECRET);

/// A minimal browser: one session cookie, no automatic redirects, so each step can be inspected.
pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
    pub cookie: Option<String>,
    /// The device cookie, once a sign-in set one.
    pub device: Option<String>,
    /// The address this browser appears from (an `X-Forwarded-For` from the trusted proxy on loopback).
    pub forwarded_for: Option<String>,
}

pub const COOKIE: &str = "__Host-latchkey-session";
pub const DEVICE_COOKIE: &str = "__Host-latchkey-device";

/// The value of `name="{field}" value="…"` in a page.
pub fn hidden_field(html: &str, field: &str) -> Option<String> {
    let marker = format!("name=\"{field}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

impl Browser {
    fn absolute(&self, location: &str) -> String {
        if location.starts_with('/') {
            format!("{}{location}", self.base)
        } else {
            location.to_owned()
        }
    }

    fn remember(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all(reqwest::header::SET_COOKIE) {
            let text = value.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            if let Some(secret) = pair.strip_prefix(&format!("{COOKIE}=")) {
                self.cookie = if secret.is_empty() { None } else { Some(secret.to_owned()) };
            }
            if let Some(secret) = pair.strip_prefix(&format!("{DEVICE_COOKIE}=")) {
                self.device = Some(secret.to_owned());
            }
        }
    }

    fn with_identity(&self, mut request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let cookies: Vec<String> = [(COOKIE, &self.cookie), (DEVICE_COOKIE, &self.device)]
            .into_iter()
            .filter_map(|(name, value)| value.as_ref().map(|value| format!("{name}={value}")))
            .collect();
        if !cookies.is_empty() {
            request = request.header(reqwest::header::COOKIE, cookies.join("; "));
        }
        if let Some(address) = &self.forwarded_for {
            request = request.header("x-forwarded-for", address);
        }
        request
    }

    pub async fn get(&mut self, url: &str) -> reqwest::Response {
        let request = self.with_identity(self.http.get(self.absolute(url)));
        let response = request.send().await.unwrap();
        self.remember(&response);
        response
    }

    pub async fn post(&mut self, url: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let request = self.with_identity(self.http.post(self.absolute(url)).form(form));
        let response = request.send().await.unwrap();
        self.remember(&response);
        response
    }

    /// Submits the login form on the page at `login_url`.
    pub async fn log_in(&mut self, login_url: &str, username: &str, password: &str) -> reqwest::Response {
        let page = self.get(login_url).await.text().await.unwrap();
        let csrf = hidden_field(&page, "csrf").expect("csrf field");
        let request = hidden_field(&page, "request").expect("request field");
        self.post(
            "/login",
            &[("csrf", &csrf), ("request", &request), ("username", username), ("password", password)],
        )
        .await
    }

    /// Answers the consent page at `consent_url`.
    pub async fn decide(&mut self, consent_url: &str, decision: &str) -> reqwest::Response {
        let page = self.get(consent_url).await.text().await.unwrap();
        let csrf = hidden_field(&page, "csrf").expect("csrf field");
        let request = hidden_field(&page, "request").expect("request field");
        self.post("/consent", &[("csrf", &csrf), ("request", &request), ("decision", decision)]).await
    }

    /// Walks an authorization URL to the client's redirect: logs in and allows whatever is asked. Returns
    /// the final `Location` (the client's redirect URI with its parameters).
    pub async fn authorize(&mut self, url: &str, username: &str) -> String {
        let mut response = self.get(url).await;
        for _ in 0..6 {
            assert_eq!(response.status(), 303, "{}", response.text().await.unwrap_or_default());
            let location = location(&response);
            if location.starts_with("/login") {
                response = self.log_in(&location, username, PASSWORD).await;
            } else if location.starts_with("/consent") {
                response = self.decide(&location, "allow").await;
            } else {
                return location;
            }
        }
        panic!("too many steps");
    }
}

pub fn location(response: &reqwest::Response) -> String {
    response.headers().get(reqwest::header::LOCATION).expect("Location header").to_str().unwrap().to_owned()
}

/// The query (or fragment) parameters of a redirect.
pub fn redirect_params(location: &str) -> std::collections::HashMap<String, String> {
    let tail = location.split_once(['?', '#']).map(|(_, tail)| tail).unwrap_or_default();
    url::form_urlencoded::parse(tail.as_bytes()).into_owned().collect()
}

/// An authorization URL for `client`, with PKCE; returns the URL and the verifier.
pub fn authorize_url(
    base: &str,
    client: &str,
    redirect: &str,
    scope: &str,
    extra: &[(&str, &str)],
) -> (String, String) {
    use base64::Engine;
    use sha2::Digest;
    let verifier = format!("verifier-{}", "x".repeat(40));
    let challenge =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("response_type", "code")
        .append_pair("client_id", client)
        .append_pair("redirect_uri", redirect)
        .append_pair("scope", scope)
        .append_pair("state", "st-123")
        .append_pair("nonce", "n-456")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    for (key, value) in extra {
        query.append_pair(key, value);
    }
    (format!("{base}/authorize?{}", query.finish()), verifier)
}

/// Logs `alice` in through `app` and exchanges the code: the token response.
pub async fn tokens_for(fixture: &Fixture, scope: &str) -> serde_json::Value {
    tokens_via(fixture, APP, scope).await
}

/// Logs `alice` in through `client` (registered with [`APP_REDIRECT`]) and exchanges the code.
pub async fn tokens_via(fixture: &Fixture, client: (&str, &str), scope: &str) -> serde_json::Value {
    let (url, verifier) = authorize_url(&fixture.app.server.url(), client.0, APP_REDIRECT, scope, &[]);
    let mut browser = fixture.browser();
    let location = browser.authorize(&url, "alice").await;
    let code = redirect_params(&location)["code"].clone();
    let response = fixture
        .token(
            client,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", APP_REDIRECT),
                ("code_verifier", &verifier),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// openidconnect's HTTP seam, over reqwest (no redirects followed, as oauth2 requires).
pub async fn http_client(
    request: openidconnect::HttpRequest,
) -> Result<openidconnect::HttpResponse, reqwest::Error> {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let (parts, body) = request.into_parts();
    let response =
        client.request(parts.method, parts.uri.to_string()).headers(parts.headers).body(body).send().await?;
    let mut builder = http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        builder = builder.header(name, value);
    }
    Ok(builder.body(response.bytes().await?.to_vec()).unwrap_or_default())
}
