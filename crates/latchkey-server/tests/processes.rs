//! Several real `latchkey` processes on one database: what one process commits holds for the others, and
//! what a process answered with 200 outlives the process.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use latchkey_store::testing::TestDatabase;
use openidconnect::core::{CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet};
use openidconnect::{Audience, ClientId, ClientSecret, IssuerUrl, JsonWebKey, Nonce};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};

latchkey_store::on_both_backends!(
    a_client_change_made_anywhere_holds_on_the_next_request_on_every_server,
    servers_started_together_publish_one_key_set_and_a_rotation_is_published_before_it_signs,
    a_login_started_on_one_server_finishes_on_another,
    no_secret_of_any_flow_reaches_the_log
);

const SECRET: &str = "svc-secret-0123456789abcdef-0123456789";
const ADMIN_TOKEN: &str = "admin-token-0123456789abcdef-0123456789";

fn latchkey(dir: &Path, db: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_latchkey"));
    command.current_dir(dir).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    command.arg("--database-url").arg(db);
    command
}

fn run(dir: &Path, db: &str, args: &[&str]) -> Output {
    let output = latchkey(dir, db).args(args).output().unwrap();
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    output
}

/// A running `latchkey serve`, killed with SIGKILL when dropped (or by [`Server::kill`]).
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(dir: &Path, db: &str) -> Self {
        Self::spawn(dir, db).listening()
    }

    /// A server started from `command` (`latchkey` with its settings), listening.
    fn from(mut command: Command) -> Self {
        let child = command
            .args(["serve", "--bind", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Self { child, url: String::new() }.listening()
    }

    /// [`Server::from`], its log (at `debug`, everything the server says) written to `log`.
    fn logging_to(mut command: Command, log: &Path) -> Self {
        let file = std::fs::File::create(log).unwrap();
        let child = command
            .env("LATCHKEY_LOG", "debug")
            .args(["serve", "--bind", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(file)
            .spawn()
            .unwrap();
        Self { child, url: String::new() }.listening()
    }

    /// Started, not yet listening: several can start at the same instant.
    fn spawn(dir: &Path, db: &str) -> Self {
        let child = latchkey(dir, db)
            .env("LATCHKEY_ADMIN_TOKEN", ADMIN_TOKEN)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Owned at once, so that it is killed and reaped on every path, a failed start included.
        Self { child, url: String::new() }
    }

    fn listening(mut self) -> Self {
        let server = &mut self;
        let lines = BufReader::new(server.child.stdout.take().unwrap()).lines();
        for line in lines {
            if let Some(rest) = line.unwrap().strip_prefix("listening on ") {
                server.url = rest.split_whitespace().next().unwrap().to_owned();
                return self;
            }
        }
        panic!("the server stopped before it listened");
    }

    /// SIGKILL: no shutdown, no flush, as abrupt as a crash.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn add_service(dir: &Path, db: &str) {
    let args = ["client", "add", "--id", "svc", "--secret", SECRET, "--grant-type", "client_credentials"];
    run(dir, db, &[&args[..], &["--scope", "read write"]].concat());
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

async fn client_credentials(
    http: &reqwest::Client,
    url: &str,
    secret: &str,
    scope: &str,
) -> reqwest::Response {
    http.post(format!("{url}/token"))
        .basic_auth("svc", Some(secret))
        .form(&[("grant_type", "client_credentials"), ("scope", scope)])
        .send()
        .await
        .unwrap()
}

async fn status(http: &reqwest::Client, url: &str, secret: &str, scope: &str) -> u16 {
    client_credentials(http, url, secret, scope).await.status().as_u16()
}

fn a_client_change_made_anywhere_holds_on_the_next_request_on_every_server(db: &TestDatabase) {
    let dir = tempfile::tempdir().unwrap();
    add_service(dir.path(), db.url());
    let (one, other) = (Server::start(dir.path(), db.url()), Server::start(dir.path(), db.url()));
    let http = reqwest::Client::new();
    let rt = runtime();
    rt.block_on(async {
        for server in [&one, &other] {
            // Twice: the second request is served from the server's cache of clients.
            for _ in 0..2 {
                assert_eq!(status(&http, &server.url, SECRET, "read").await, 200);
            }
        }
    });

    // A third process (the command line) rotates the secret: the old one fails on the very next request.
    let rotated =
        String::from_utf8(run(dir.path(), db.url(), &["client", "rotate-secret", "svc"]).stdout).unwrap();
    let new_secret = rotated.split_whitespace().find(|word| word.starts_with("lk_cs_")).unwrap().to_owned();
    rt.block_on(async {
        for server in [&one, &other] {
            assert_eq!(status(&http, &server.url, SECRET, "read").await, 401, "old secret at {}", server.url);
            assert_eq!(status(&http, &server.url, &new_secret, "read").await, 200);
        }
    });

    // A token revoked on one server is inactive on the other at once (tokens are never cached).
    rt.block_on(async {
        let issued: serde_json::Value =
            client_credentials(&http, &one.url, &new_secret, "read").await.json().await.unwrap();
        let token = issued["access_token"].as_str().unwrap().to_owned();
        let active = |server: &Server| {
            let (http, token, secret) = (http.clone(), token.clone(), new_secret.clone());
            let url = format!("{}/introspect", server.url);
            async move {
                let answer = http.post(url).basic_auth("svc", Some(&secret)).form(&[("token", &token)]);
                answer.send().await.unwrap().json::<serde_json::Value>().await.unwrap()["active"].clone()
            }
        };
        assert_eq!(active(&other).await, true);
        let revoke = format!("{}/revoke", other.url);
        let revoked = http.post(revoke).basic_auth("svc", Some(&new_secret)).form(&[("token", &token)]);
        assert_eq!(revoked.send().await.unwrap().status(), 200);
        assert_eq!(active(&one).await, false, "revoked on the other server");
    });

    run(dir.path(), db.url(), &["client", "amend", "svc", "--scope", "write"]);
    rt.block_on(async {
        for server in [&one, &other] {
            assert_eq!(status(&http, &server.url, &new_secret, "read").await, 400, "a scope taken away");
            assert_eq!(status(&http, &server.url, &new_secret, "write").await, 200);
        }
    });

    run(dir.path(), db.url(), &["client", "delete", "svc"]);
    rt.block_on(async {
        for server in [&one, &other] {
            assert_eq!(status(&http, &server.url, &new_secret, "write").await, 401, "a deleted client");
        }
    });
}

async fn jwks(http: &reqwest::Client, server: &Server) -> CoreJsonWebKeySet {
    http.get(format!("{}/jwks.json", server.url)).send().await.unwrap().json().await.unwrap()
}

fn kids(set: &CoreJsonWebKeySet) -> std::collections::BTreeSet<String> {
    set.keys().iter().filter_map(|key| key.key_id().map(|kid| kid.as_str().to_owned())).collect()
}

/// Two servers start at the same instant on an empty database: one key set, published by both. Then a key
/// rotation on one is followed at once by an ID token from it, which the other's JWKS verifies: the
/// rotation's keys are published before they sign.
fn servers_started_together_publish_one_key_set_and_a_rotation_is_published_before_it_signs(
    db: &TestDatabase,
) {
    let dir = tempfile::tempdir().unwrap();
    let (one, other) = (Server::spawn(dir.path(), db.url()), Server::spawn(dir.path(), db.url()));
    let (one, other) = (one.listening(), other.listening());
    let http = reqwest::Client::new();
    let rt = runtime();
    let started = rt.block_on(async { (jwks(&http, &one).await, jwks(&http, &other).await) });
    assert_eq!(kids(&started.0).len(), 3, "one key of each algorithm");
    assert_eq!(kids(&started.0), kids(&started.1), "both servers publish the same keys");

    add_web_client_and_alice(dir.path(), db.url(), "openid");
    rt.block_on(async {
        let rotated: serde_json::Value = http
            .post(format!("{}/admin/keys/rotate", one.url))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(rotated["kids"].as_array().unwrap().len(), 6, "{rotated}");
        assert_eq!(kids(&jwks(&http, &one).await).len(), 6, "published at once where it was made");

        // An ID token from the rotating server at once (the code flow, built into every server).
        let issued = code_flow(&no_redirects(), [&one.url, &one.url], "openid").await.tokens;
        let id_token: CoreIdToken = issued["id_token"].as_str().unwrap().parse().unwrap();
        let verifier = CoreIdTokenVerifier::new_confidential_client(
            ClientId::new("web".into()),
            ClientSecret::new(SECRET.into()),
            IssuerUrl::new(one.url.clone()).unwrap(),
            jwks(&http, &other).await,
        );
        let claims = id_token.claims(&verifier, |_: Option<&Nonce>| Ok(())).unwrap();
        assert_eq!(claims.audiences(), &[Audience::new("web".into())]);
    });
}

/// The value of `name="{field}" value="…"` in a page.
fn hidden_field(html: &str, field: &str) -> String {
    let marker = format!("name=\"{field}\" value=\"");
    let start = html.find(&marker).unwrap() + marker.len();
    html[start..][..html[start..].find('"').unwrap()].to_owned()
}

// RFC 7636 Appendix B.
const PKCE_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const PKCE_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const REDIRECT: &str = "https://app.example.com/cb";
const PASSWORD: &str = "correct horse battery";

/// A confidential client `web` for the code flow with `scope`, and the user alice.
fn add_web_client_and_alice(dir: &Path, db: &str, scope: &str) {
    let app = ["client", "add", "--id", "web", "--secret", SECRET, "--redirect-uri", REDIRECT];
    let grants = ["--grant-type", "authorization_code", "--grant-type", "refresh_token"];
    let scopes: Vec<&str> = scope.split(' ').flat_map(|s| ["--scope", s]).collect();
    run(dir, db, &[&app[..], &grants[..], &scopes[..]].concat());
    run(dir, db, &["user", "add", "--username", "alice", "--password", PASSWORD]);
}

/// What a browser code flow handled: the token response, and every secret it saw on the way.
struct Flow {
    tokens: serde_json::Value,
    secrets: Vec<String>,
}

/// The code flow for alice at `web`, its requests sent in turn to `servers` (the authorization request to
/// the first, the login to the second, the consent to the first again, the code to the second): as behind
/// a balancer without affinity, when they differ.
async fn code_flow(http: &reqwest::Client, servers: [&str; 2], scope: &str) -> Flow {
    let [one, other] = servers;
    let location = |response: &reqwest::Response| response.headers()["location"].to_str().unwrap().to_owned();
    let cookie_of = |response: &reqwest::Response| {
        response.headers().get_all("set-cookie").iter().find_map(|value| {
            let pair = value.to_str().unwrap().split(';').next().unwrap().to_owned();
            pair.starts_with("__Host-latchkey-session=").then_some(pair)
        })
    };
    let mut secrets = Vec::new();
    let scope_param = scope.replace(' ', "%20");
    let authorize = format!(
        "{one}/authorize?response_type=code&client_id=web&redirect_uri={REDIRECT}&scope={scope_param}&state=s1\
         &code_challenge={PKCE_CHALLENGE}&code_challenge_method=S256"
    );
    let started = http.get(authorize).send().await.unwrap();
    assert_eq!(started.status(), 303);
    let mut cookie = cookie_of(&started).unwrap();
    secrets.push(cookie.clone());
    let login_page = http
        .get(format!("{other}{}", location(&started)))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    secrets.push(hidden_field(&login_page, "csrf"));
    let logged_in = http
        .post(format!("{other}/login"))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", hidden_field(&login_page, "csrf")),
            ("request", hidden_field(&login_page, "request")),
            ("username", "alice".into()),
            ("password", PASSWORD.into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(logged_in.status(), 303, "signed in");
    cookie = cookie_of(&logged_in).unwrap();
    secrets.push(cookie.clone());
    let consent = location(&logged_in);
    assert!(consent.starts_with("/consent"), "{consent}");
    let consent_page = http
        .get(format!("{one}{consent}"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    secrets.push(hidden_field(&consent_page, "csrf"));
    let allowed = http
        .post(format!("{one}/consent"))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", hidden_field(&consent_page, "csrf")),
            ("request", hidden_field(&consent_page, "request")),
            ("decision", "allow".into()),
        ])
        .send()
        .await
        .unwrap();
    let back = location(&allowed);
    assert!(back.starts_with(REDIRECT) && back.contains("state=s1"), "{back}");
    let code = back.split(['?', '&']).find_map(|pair| pair.strip_prefix("code=")).unwrap().to_owned();
    secrets.push(code.clone());
    let tokens: serde_json::Value = http
        .post(format!("{other}/token"))
        .basic_auth("web", Some(SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", PKCE_VERIFIER),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(tokens["access_token"].is_string() && tokens["id_token"].is_string(), "{tokens}");
    Flow { tokens, secrets }
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// A browser that hops from server to server at every step, as behind a balancer without affinity: the
/// authorization request on one, the login on the other, the consent on the first, the code redeemed at
/// the second.
fn a_login_started_on_one_server_finishes_on_another(db: &TestDatabase) {
    let dir = tempfile::tempdir().unwrap();
    add_web_client_and_alice(dir.path(), db.url(), "openid");
    // One public name for both, as behind a balancer.
    let start = |dir: &Path| {
        let mut command = latchkey(dir, db.url());
        command.env("LATCHKEY_ISSUER", "http://id.example.test");
        Server::from(command)
    };
    let (one, other) = (start(dir.path()), start(dir.path()));
    runtime().block_on(code_flow(&no_redirects(), [&one.url, &other.url], "openid"));
}

/// Every flow once against one server logging at `debug`, then its whole log searched for every secret the
/// run created or presented: client secrets, passwords (right and wrong), codes, access, refresh, ID and
/// personal tokens, session cookies, CSRF tokens, the admin credential (security checklist H65).
fn no_secret_of_any_flow_reaches_the_log(db: &TestDatabase) {
    let dir = tempfile::tempdir().unwrap();
    add_service(dir.path(), db.url());
    add_web_client_and_alice(dir.path(), db.url(), "openid offline_access latchkey:tokens");
    let log = dir.path().join("server.log");
    let mut command = latchkey(dir.path(), db.url());
    command.env("LATCHKEY_ADMIN_TOKEN", ADMIN_TOKEN);
    let server = Server::logging_to(command, &log);
    let http = no_redirects();
    let url = server.url.clone();
    let mut secrets: Vec<String> = vec![SECRET.into(), PASSWORD.into(), ADMIN_TOKEN.into()];
    runtime().block_on(async {
        let json =
            |response: reqwest::Response| async move { response.json::<serde_json::Value>().await.unwrap() };
        let text = |value: &serde_json::Value, key: &str| {
            value[key].as_str().unwrap_or_else(|| panic!("{key} in {value}")).to_owned()
        };

        let service = json(client_credentials(&http, &url, SECRET, "read").await).await;
        let access = text(&service, "access_token");
        let form_of = |token: &str| vec![("token", token.to_owned())];
        let introspected = http
            .post(format!("{url}/introspect"))
            .basic_auth("svc", Some(SECRET))
            .form(&form_of(&access))
            .send()
            .await
            .unwrap();
        assert_eq!(json(introspected).await["active"], true);
        let revoked = http
            .post(format!("{url}/revoke"))
            .basic_auth("svc", Some(SECRET))
            .form(&form_of(&access))
            .send()
            .await
            .unwrap();
        assert_eq!(revoked.status(), 200);
        secrets.push(access);

        let flow = code_flow(&http, [&url, &url], "openid offline_access latchkey:tokens").await;
        secrets.extend(flow.secrets);
        for key in ["access_token", "refresh_token", "id_token"] {
            secrets.push(text(&flow.tokens, key));
        }
        let refreshed = http
            .post(format!("{url}/token"))
            .basic_auth("web", Some(SECRET))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", &text(&flow.tokens, "refresh_token"))])
            .send()
            .await
            .unwrap();
        let refreshed = json(refreshed).await;
        let access = text(&refreshed, "access_token");
        secrets.extend([access.clone(), text(&refreshed, "refresh_token")]);
        let userinfo = http.get(format!("{url}/userinfo")).bearer_auth(&access).send().await.unwrap();
        assert_eq!(userinfo.status(), 200);
        let personal = http
            .post(format!("{url}/api/tokens"))
            .bearer_auth(&access)
            .json(&serde_json::json!({ "name": "laptop", "scopes": ["openid"] }))
            .send()
            .await
            .unwrap();
        let personal = text(&json(personal).await, "token");
        let listed = http.get(format!("{url}/api/tokens")).bearer_auth(&personal).send().await.unwrap();
        assert_ne!(listed.status(), 500);
        secrets.push(personal);

        // A refused guess is a secret too.
        let guessed = http
            .post(format!("{url}/token"))
            .basic_auth("web", Some("wrong-client-secret-5b2c"))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", &text(&flow.tokens, "refresh_token"))])
            .send()
            .await
            .unwrap();
        assert_eq!(guessed.status(), 401);
        let created = http
            .post(format!("{url}/admin/users"))
            .bearer_auth(ADMIN_TOKEN)
            .json(&serde_json::json!({ "username": "bob", "password": "bobs-own-password-91ac" }))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        let rotated = http
            .post(format!("{url}/admin/clients/svc/secret"))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        let rotated = json(rotated).await;
        secrets.extend([
            "wrong-client-secret-5b2c".to_owned(),
            "bobs-own-password-91ac".to_owned(),
            text(&rotated, "clientSecret"),
        ]);
    });
    drop(server);
    let written = std::fs::read_to_string(&log).unwrap();
    assert!(
        written.lines().filter(|line| line.contains("request")).count() >= 15,
        "the log was written:\n{written}"
    );
    for secret in &secrets {
        // The session cookie is logged neither whole nor as its value.
        let value = secret.split_once('=').map_or(secret.as_str(), |(_, value)| value);
        assert!(!written.contains(value), "a secret reached the log: {value}\n{written}");
    }
}

/// Load on a server, SIGKILL in the middle of it, a new server on the same file: every token the first
/// answered with 200 is still there and valid. A 200 is sent only after its commit.
#[test]
fn every_token_answered_before_a_kill_is_valid_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("lk.db").display());
    add_service(dir.path(), &db);
    add_web_client_and_alice(dir.path(), &db, "openid offline_access");
    let mut server = Server::start(dir.path(), &db);
    let issued = Arc::new(Mutex::new(Vec::<String>::new()));
    let rt = runtime();
    // A code flow before the kill: its refresh token must outlive it, and its code stay redeemed.
    let flow = rt.block_on(code_flow(&no_redirects(), [&server.url, &server.url], "openid offline_access"));
    let code = flow.secrets.last().unwrap().clone();
    let refresh_token = flow.tokens["refresh_token"].as_str().unwrap().to_owned();
    rt.block_on(async {
        let http = reqwest::Client::new();
        let mut load = Vec::new();
        for _ in 0..16 {
            let (http, url, issued) = (http.clone(), server.url.clone(), issued.clone());
            load.push(tokio::spawn(async move {
                loop {
                    let request = http
                        .post(format!("{url}/token"))
                        .basic_auth("svc", Some(SECRET))
                        .form(&[("grant_type", "client_credentials")])
                        .send();
                    // After the kill, requests fail: that ends this worker.
                    let Ok(response) = request.await else { return };
                    assert_eq!(response.status(), 200);
                    let Ok(body) = response.json::<serde_json::Value>().await else { return };
                    let token = body["access_token"].as_str().unwrap().to_owned();
                    issued.lock().unwrap().push(token);
                }
            }));
        }
        while issued.lock().unwrap().len() < 500 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        server.kill();
        for worker in load {
            worker.await.unwrap();
        }
    });
    let issued = issued.lock().unwrap().clone();
    assert!(issued.len() >= 500);

    let restarted = Server::start(dir.path(), &db);
    rt.block_on(async {
        let http = reqwest::Client::new();
        for token in &issued {
            let answer: serde_json::Value = http
                .post(format!("{}/introspect", restarted.url))
                .basic_auth("svc", Some(SECRET))
                .form(&[("token", token.as_str())])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(answer["active"], true, "a token answered with 200 before the kill is lost");
        }
        let token = |form: Vec<(&'static str, String)>| {
            let request = http.post(format!("{}/token", restarted.url)).basic_auth("web", Some(SECRET));
            async move { request.form(&form).send().await.unwrap() }
        };
        let refreshed =
            token(vec![("grant_type", "refresh_token".into()), ("refresh_token", refresh_token)]).await;
        assert_eq!(refreshed.status(), 200, "the refresh token outlives the kill");
        let again = token(vec![
            ("grant_type", "authorization_code".into()),
            ("code", code),
            ("redirect_uri", REDIRECT.into()),
            ("code_verifier", PKCE_VERIFIER.into()),
        ])
        .await;
        assert_eq!(again.status(), 400, "a code redeemed before the kill stays redeemed");
        assert_eq!(again.json::<serde_json::Value>().await.unwrap()["error"], "invalid_grant");
    });
}
