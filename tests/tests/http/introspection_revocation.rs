//! Introspection (RFC 7662) and revocation (RFC 7009): security checklist G53–G59; rows forged in the
//! database (H63).

use crate::on_both_backends;
use crate::support::{tokens_for, Fixture, TestDatabase, APP, OTHER, SERVICE, START};
use serde_json::{json, Value};

on_both_backends!(
    introspection_describes_live_tokens_to_their_client,
    anything_not_live_or_not_visible_is_exactly_inactive,
    introspection_needs_an_authenticated_confidential_client,
    revoking_a_refresh_token_ends_its_grant,
    revocation_leaves_other_clients_tokens_alone,
    storage_failure_never_revokes_or_issues_quietly,
    rows_written_into_the_database_without_the_hash_key_let_no_one_in,
);

async fn introspect(fixture: &Fixture, client: (&str, &str), form: &[(&str, &str)]) -> String {
    let response = fixture.client_post("/introspect", client, form).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    response.text().await.unwrap()
}

const INACTIVE: &str = r#"{"active":false}"#;

async fn introspection_describes_live_tokens_to_their_client(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let tokens = tokens_for(&fixture, "openid profile offline_access").await;
    let access_token = tokens["access_token"].as_str().unwrap();
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let base = fixture.app.server.url();

    let body: Value =
        serde_json::from_str(&introspect(&fixture, APP, &[("token", access_token)]).await).unwrap();
    assert_eq!(body["active"], true);
    assert_eq!(body["scope"], "offline_access openid profile");
    assert_eq!(body["client_id"], "app");
    assert_eq!(body["username"], "alice");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["iat"], START);
    assert_eq!(body["nbf"], START);
    assert_eq!(body["exp"], START + 600);
    assert_eq!(body["aud"], json!(["app"]));
    assert_eq!(body["iss"], base);
    assert!(body["jti"].as_str().is_some_and(|jti| !jti.is_empty()));
    // `sub` is the same subject the ID token and UserInfo carry.
    let userinfo = fixture.userinfo(access_token).await;
    assert_eq!(body["sub"], userinfo["sub"]);

    // A refresh token, found even when the hint names the wrong kind.
    for hint in [None, Some("access_token"), Some("refresh_token"), Some("something_else")] {
        let mut form = vec![("token", refresh_token)];
        if let Some(hint) = hint {
            form.push(("token_type_hint", hint));
        }
        let body: Value = serde_json::from_str(&introspect(&fixture, APP, &form).await).unwrap();
        assert_eq!(body["active"], true, "{hint:?}");
        assert_eq!(body["token_type"], "refresh_token");
    }
    // A token of the client credentials grant: the client is its own subject, no user.
    let service: Value =
        fixture.token(SERVICE, &[("grant_type", "client_credentials")]).await.json().await.unwrap();
    let body: Value = serde_json::from_str(
        &introspect(&fixture, SERVICE, &[("token", service["access_token"].as_str().unwrap())]).await,
    )
    .unwrap();
    assert_eq!(body["active"], true);
    assert_eq!(body["sub"], "service");
    assert_eq!(body["scope"], "api:read api:write");
    assert!(body.get("username").is_none());
}

async fn anything_not_live_or_not_visible_is_exactly_inactive(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let tokens = tokens_for(&fixture, "openid offline_access").await;
    let access_token = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    for token in ["lk_at_unknown", "", "x".repeat(5000).as_str()] {
        let response = fixture.client_post("/introspect", APP, &[("token", token)]).await;
        if token.is_empty() {
            assert_eq!(response.status(), 400, "a missing token is a malformed request");
        } else {
            assert_eq!(response.text().await.unwrap(), INACTIVE);
        }
    }
    assert_eq!(introspect(&fixture, OTHER, &[("token", &access_token)]).await, INACTIVE, "another client's");
    // Expired: the access token is gone, the refresh token lives on.
    fixture.advance(601);
    assert_eq!(introspect(&fixture, APP, &[("token", &access_token)]).await, INACTIVE);
    assert_ne!(introspect(&fixture, APP, &[("token", &refresh_token)]).await, INACTIVE);
    // Revoked.
    let revoked = fixture.client_post("/revoke", APP, &[("token", &refresh_token)]).await;
    assert_eq!(revoked.status(), 200);
    assert_eq!(introspect(&fixture, APP, &[("token", &refresh_token)]).await, INACTIVE);
    // A spent refresh token (rotated away) is not active either.
    let tokens = tokens_for(&fixture, "openid offline_access").await;
    let first = tokens["refresh_token"].as_str().unwrap();
    let rotated = fixture.token(APP, &[("grant_type", "refresh_token"), ("refresh_token", first)]).await;
    assert_eq!(rotated.status(), 200);
    assert_eq!(introspect(&fixture, APP, &[("token", first)]).await, INACTIVE);
}

async fn introspection_needs_an_authenticated_confidential_client(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let tokens = tokens_for(&fixture, "openid").await;
    let token = tokens["access_token"].as_str().unwrap();
    let anonymous =
        fixture.app.http.post(fixture.url("/introspect")).form(&[("token", token)]).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(anonymous.json::<Value>().await.unwrap()["error"], "invalid_client");
    let wrong = fixture.client_post("/introspect", ("app", "not-the-secret"), &[("token", token)]).await;
    assert_eq!(wrong.status(), 401);
    assert!(wrong.headers().contains_key("www-authenticate"));
    let public = fixture
        .app
        .http
        .post(fixture.url("/introspect"))
        .form(&[("token", token), ("client_id", "spa")])
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), 401, "a public client proves nothing about itself");
    let get = fixture.app.http.get(fixture.url("/introspect")).send().await.unwrap();
    assert_eq!(get.status(), 405);
}

async fn revoking_a_refresh_token_ends_its_grant(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let first = tokens_for(&fixture, "openid offline_access").await;
    let rotated: Value = fixture
        .token(
            APP,
            &[("grant_type", "refresh_token"), ("refresh_token", first["refresh_token"].as_str().unwrap())],
        )
        .await
        .json()
        .await
        .unwrap();
    let access_token = rotated["access_token"].as_str().unwrap();
    let refresh_token = rotated["refresh_token"].as_str().unwrap();
    assert_ne!(introspect(&fixture, APP, &[("token", access_token)]).await, INACTIVE);

    // The hint says access token; it is a refresh token and is still found (RFC 7009 §2.1).
    let response = fixture
        .client_post("/revoke", APP, &[("token", refresh_token), ("token_type_hint", "access_token")])
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        introspect(&fixture, APP, &[("token", access_token)]).await,
        INACTIVE,
        "its access token died"
    );
    let refreshed =
        fixture.token(APP, &[("grant_type", "refresh_token"), ("refresh_token", refresh_token)]).await;
    assert_eq!(refreshed.status(), 400);
    // Revoking again, or an unknown token, is still 200; an unsupported kind is said so.
    assert_eq!(fixture.client_post("/revoke", APP, &[("token", refresh_token)]).await.status(), 200);
    assert_eq!(fixture.client_post("/revoke", APP, &[("token", "lk_rt_never-issued")]).await.status(), 200);
    // An ID token is not something that can be revoked, and is said so.
    let id_token = first["id_token"].as_str().unwrap();
    let unsupported = fixture.client_post("/revoke", APP, &[("token", id_token)]).await;
    assert_eq!(unsupported.status(), 400);
    assert_eq!(unsupported.json::<Value>().await.unwrap()["error"], "unsupported_token_type");

    // An unknown hint is ignored: the token is still found and revoked (RFC 7009 §2.1).
    let other = tokens_for(&fixture, "openid offline_access").await;
    let refresh_token = other["refresh_token"].as_str().unwrap();
    let response = fixture
        .client_post("/revoke", APP, &[("token", refresh_token), ("token_type_hint", "something_else")])
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(introspect(&fixture, APP, &[("token", refresh_token)]).await, INACTIVE);

    // Revoking an access token ends it at once.
    let other = tokens_for(&fixture, "openid").await;
    let access_token = other["access_token"].as_str().unwrap();
    assert_eq!(fixture.client_post("/revoke", APP, &[("token", access_token)]).await.status(), 200);
    let userinfo =
        fixture.app.http.get(fixture.url("/userinfo")).bearer_auth(access_token).send().await.unwrap();
    assert_eq!(userinfo.status(), 401);
}

async fn revocation_leaves_other_clients_tokens_alone(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let tokens = tokens_for(&fixture, "openid offline_access").await;
    for token in [tokens["access_token"].as_str().unwrap(), tokens["refresh_token"].as_str().unwrap()] {
        let response = fixture.client_post("/revoke", OTHER, &[("token", token)]).await;
        assert_eq!(response.status(), 400);
        assert_eq!(response.json::<Value>().await.unwrap()["error"], "unauthorized_client");
        assert_ne!(introspect(&fixture, APP, &[("token", token)]).await, INACTIVE, "still active");
    }
    let unauthenticated = fixture
        .app
        .http
        .post(fixture.url("/revoke"))
        .form(&[("token", tokens["access_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
}

/// The tokens table is renamed away under the running server, a real failure of every statement that
/// touches it, and then put back.
async fn storage_failure_never_revokes_or_issues_quietly(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let tokens = tokens_for(&fixture, "openid offline_access").await;
    let access_token = tokens["access_token"].as_str().unwrap();
    fixture.app.db.execute_sql("ALTER TABLE tokens RENAME TO tokens_away").unwrap();

    let revoke = fixture.client_post("/revoke", APP, &[("token", access_token)]).await;
    assert_eq!(revoke.status(), 503, "never 200 when nothing was revoked (RFC 7009 §2.2.1)");
    assert_eq!(revoke.json::<Value>().await.unwrap()["error"], "temporarily_unavailable");
    let issue = fixture.token(SERVICE, &[("grant_type", "client_credentials")]).await;
    assert_eq!(issue.status(), 503);
    let body: Value = issue.json().await.unwrap();
    assert!(body.get("access_token").is_none(), "{body}");
    let refresh = fixture
        .token(
            APP,
            &[("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"].as_str().unwrap())],
        )
        .await;
    assert_eq!(refresh.status(), 503);

    fixture.app.db.execute_sql("ALTER TABLE tokens_away RENAME TO tokens").unwrap();
    assert_ne!(introspect(&fixture, APP, &[("token", access_token)]).await, INACTIVE, "nothing was lost");
    let refresh = fixture
        .token(
            APP,
            &[("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"].as_str().unwrap())],
        )
        .await;
    assert_eq!(refresh.status(), 200, "the failed refresh did not spend the token");
}

/// Someone who can write to the database but holds no key-encryption key stores a token, a refresh token
/// and a client secret of their choosing under the only hash they can compute, the plain SHA-256. None of
/// them works against the running server (security checklist H63).
async fn rows_written_into_the_database_without_the_hash_key_let_no_one_in(db: TestDatabase) {
    use latchkey_model::{
        ClientCredentials, ClientId, GrantType, RecordId, Scope, SecretHash, Stage, Username,
    };
    use sha2::{Digest, Sha256};
    let fixture = Fixture::new(db).await;
    let plain = |secret: &str| {
        let hex: String = Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        SecretHash::from_hex(&hex).unwrap()
    };
    let (token, refresh, secret) = (
        "lk_at_forged-0123456789abcdefghijklmnopqrstuvwxyzABCDE",
        "lk_rt_forged-0123456789abcdefghijklmnopqrstuvwxyzABCDE",
        "a-forged-client-secret-0123456789abcdefghijklmnop",
    );
    let now = latchkey_model::Timestamp::from_unix_seconds(START);
    let mut record = latchkey_model::TokenRecord::new(
        RecordId::generate(&mut rand::rngs::OsRng),
        ClientId::parse("app").unwrap(),
        GrantType::AuthorizationCode,
        fixture.app.server.url(),
        now,
    );
    record.username = Some(Username::parse("alice").unwrap());
    record.scope = Scope::parse("openid profile offline_access").unwrap();
    record.access_token_hash = Some(plain(token));
    record.access_token_expires = Some(now.plus_seconds(3600));
    record.refresh_token_hash = Some(plain(refresh));
    record.stage = Stage::Complete;
    let mut intruder = latchkey_store::testing::bare_client("intruder", now);
    intruder.credentials = ClientCredentials::Secret(plain(secret));
    intruder.grant_types = [GrantType::ClientCredentials].into();
    intruder.scope = Scope::parse("api:read").unwrap();
    // The same rows under the server's keyed hashes (other secrets, so the two sets cannot be confused)
    // are what makes the refusals below the key's doing.
    let keyed = latchkey_core::testing::open_like_a_server(&fixture.app.db);
    let hasher = keyed.hasher().unwrap().clone();
    let (genuine_token, genuine_refresh) = (format!("{token}-genuine"), format!("{refresh}-genuine"));
    let mut genuine = record.clone();
    genuine.id = RecordId::generate(&mut rand::rngs::OsRng);
    genuine.access_token_hash = Some(hasher.hash(&genuine_token));
    genuine.refresh_token_hash = Some(hasher.hash(&genuine_refresh));
    let mut insider = intruder.clone();
    insider.id = ClientId::parse("insider").unwrap();
    insider.credentials = ClientCredentials::Secret(hasher.hash(secret));
    let (keyless, seeded) = (fixture.app.db.open().unwrap(), record.clone());
    keyless
        .write(move |repo| {
            repo.insert_token(&seeded)?;
            repo.insert_client(&intruder)?;
            repo.insert_token(&genuine)?;
            repo.insert_client(&insider)
        })
        .unwrap();
    let works =
        fixture.app.http.get(fixture.url("/userinfo")).bearer_auth(&genuine_token).send().await.unwrap();
    assert_eq!(works.status(), 200);
    let live: Value =
        serde_json::from_str(&introspect(&fixture, APP, &[("token", &genuine_refresh)]).await).unwrap();
    assert_eq!(live["active"], true);
    let issued = fixture.token(("insider", secret), &[("grant_type", "client_credentials")]).await;
    assert_eq!(issued.status(), 200);
    let refreshed =
        fixture.token(APP, &[("grant_type", "refresh_token"), ("refresh_token", &genuine_refresh)]).await;
    assert_eq!(refreshed.status(), 200);

    let userinfo = fixture.app.http.get(fixture.url("/userinfo")).bearer_auth(token).send().await.unwrap();
    assert_eq!(userinfo.status(), 401);
    assert_eq!(introspect(&fixture, APP, &[("token", token)]).await, INACTIVE);
    assert_eq!(introspect(&fixture, APP, &[("token", refresh)]).await, INACTIVE);
    let refreshed = fixture.token(APP, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    assert_eq!(refreshed.status(), 400);
    assert_eq!(refreshed.json::<Value>().await.unwrap()["error"], "invalid_grant");
    let issued = fixture.token(("intruder", secret), &[("grant_type", "client_credentials")]).await;
    assert_eq!(issued.status(), 401);
    assert_eq!(issued.json::<Value>().await.unwrap()["error"], "invalid_client");
}
