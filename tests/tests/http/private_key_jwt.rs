//! `private_key_jwt` client authentication (OpenID Connect Core §9, RFC 7523): security checklist C28,
//! C32 and C33.

use crate::on_both_backends;
use crate::support::{Fixture, TestDatabase, START};
use josekit::jwk::KeyPair;
use josekit::jws::{EdDSA, JwsHeader, JwsSigner, HS256, RS256};
use josekit::jwt::JwtPayload;
use latchkey_core::registration::{register_client, NewClient, SecretChoice};
use serde_json::Value;
use std::time::{Duration, UNIX_EPOCH};

on_both_backends!(
    a_signed_assertion_authenticates_the_client,
    every_malformed_or_forged_assertion_is_invalid_client,
    an_assertion_is_good_for_one_use_even_in_parallel,
    methods_do_not_mix,
);

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

struct Keys {
    rsa: Box<dyn JwsSigner>,
    ed: Box<dyn JwsSigner>,
    /// A key of the right kind that was never registered.
    stranger: Box<dyn JwsSigner>,
    rsa_public_pem: Vec<u8>,
}

/// Registers `signer-app` (client_credentials, `api:read`) with an RSA and an Ed25519 public key.
async fn fixture_with_jwt_client(db: TestDatabase) -> (Fixture, Keys) {
    let fixture = Fixture::new(db).await;
    let rsa = RS256.generate_key_pair(2048).unwrap();
    let ed = EdDSA.generate_key_pair(josekit::jwk::alg::ed::EdCurve::Ed25519).unwrap();
    let stranger = RS256.generate_key_pair(2048).unwrap();
    let mut rsa_public = rsa.to_jwk_public_key();
    rsa_public.set_key_id("rsa-1");
    let mut ed_public = ed.to_jwk_public_key();
    ed_public.set_key_id("ed-1");
    let jwks = format!("{{\"keys\":[{rsa_public},{ed_public}]}}");
    let new = NewClient {
        id: "signer-app".into(),
        name: None,
        secret: SecretChoice::PrivateKeyJwt(jwks),
        redirect_uris: vec![],
        grant_types: vec!["client_credentials".into()],
        scopes: vec!["api:read".into()],
        access_token_ttl_seconds: None,
        refresh_token_ttl_seconds: None,
        id_token_signing_alg: Default::default(),
    };
    let store = latchkey_core::testing::open_like_a_server(&fixture.app.db);
    let start = latchkey_model::Timestamp::from_unix_seconds(START);
    let (client, _) = register_client(new, store.hasher().unwrap(), start, &mut rand::rngs::OsRng).unwrap();
    store.write(move |repo| repo.insert_client(&client)).unwrap();
    let keys = Keys {
        rsa: Box::new(RS256.signer_from_jwk(&rsa.to_jwk_private_key()).unwrap()),
        ed: Box::new(EdDSA.signer_from_jwk(&ed.to_jwk_private_key()).unwrap()),
        stranger: Box::new(RS256.signer_from_jwk(&stranger.to_jwk_private_key()).unwrap()),
        rsa_public_pem: rsa.to_pem_public_key(),
    };
    (fixture, keys)
}

/// The claims a good assertion carries; tests take some away or change them.
fn claims(fixture: &Fixture, jti: &str) -> JwtPayload {
    let mut payload = JwtPayload::new();
    payload.set_issuer("signer-app");
    payload.set_subject("signer-app");
    payload.set_audience(vec![fixture.url("/token")]);
    payload.set_expires_at(&(UNIX_EPOCH + Duration::from_secs((START + 60) as u64)));
    payload.set_jwt_id(jti);
    payload
}

fn sign(payload: &JwtPayload, signer: &dyn JwsSigner, kid: Option<&str>) -> String {
    let mut header = JwsHeader::new();
    header.set_token_type("JWT");
    if let Some(kid) = kid {
        header.set_key_id(kid);
    }
    josekit::jwt::encode_with_signer(payload, &header, signer).unwrap()
}

async fn with_assertion(fixture: &Fixture, assertion: &str, extra: &[(&str, &str)]) -> reqwest::Response {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", assertion),
    ];
    form.extend_from_slice(extra);
    fixture.app.http.post(fixture.url("/token")).form(&form).send().await.unwrap()
}

async fn assert_invalid_client(fixture: &Fixture, assertion: &str, why: &str) {
    let response = with_assertion(fixture, assertion, &[]).await;
    assert_eq!(response.status(), 401, "{why}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client", "{why}: {body}");
    assert!(body.get("access_token").is_none());
}

async fn a_signed_assertion_authenticates_the_client(db: TestDatabase) {
    let (fixture, keys) = fixture_with_jwt_client(db).await;
    let response =
        with_assertion(&fixture, &sign(&claims(&fixture, "a-1"), keys.rsa.as_ref(), Some("rsa-1")), &[])
            .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["scope"], "api:read");
    // EdDSA, no kid (the key is found by its algorithm), audience the issuer itself, client_id sent too.
    let mut payload = claims(&fixture, "a-2");
    payload.set_audience(vec![fixture.app.server.url()]);
    let response =
        with_assertion(&fixture, &sign(&payload, keys.ed.as_ref(), None), &[("client_id", "signer-app")])
            .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    // It authenticates at introspection too.
    let token = body["access_token"].as_str().unwrap();
    let mut payload = claims(&fixture, "a-3");
    payload.set_audience(vec![fixture.url("/introspect")]);
    let introspection: Value = fixture
        .app
        .http
        .post(fixture.url("/introspect"))
        .form(&[
            ("token", token),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", &sign(&payload, keys.rsa.as_ref(), Some("rsa-1"))),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(introspection["active"], true);
}

async fn every_malformed_or_forged_assertion_is_invalid_client(db: TestDatabase) {
    let (fixture, keys) = fixture_with_jwt_client(db).await;
    let rsa = |payload: &JwtPayload| sign(payload, keys.rsa.as_ref(), Some("rsa-1"));
    let mut n = 0;
    let mut next_jti = || {
        n += 1;
        format!("bad-{n}")
    };

    let mut p = claims(&fixture, &next_jti());
    p.set_claim("jti", None).unwrap();
    assert_invalid_client(&fixture, &rsa(&p), "no jti").await;
    let mut p = claims(&fixture, &next_jti());
    p.set_claim("exp", None).unwrap();
    assert_invalid_client(&fixture, &rsa(&p), "no exp").await;
    let mut p = claims(&fixture, &next_jti());
    p.set_claim("sub", None).unwrap();
    assert_invalid_client(&fixture, &rsa(&p), "no sub").await;
    let mut p = claims(&fixture, &next_jti());
    p.set_issuer("someone-else");
    assert_invalid_client(&fixture, &rsa(&p), "iss is not the client").await;
    let mut p = claims(&fixture, &next_jti());
    p.set_audience(vec!["https://other-server.example.com/token"]);
    assert_invalid_client(&fixture, &rsa(&p), "wrong aud").await;
    let mut p = claims(&fixture, &next_jti());
    p.set_expires_at(&(UNIX_EPOCH + Duration::from_secs((START - 1) as u64)));
    assert_invalid_client(&fixture, &rsa(&p), "expired").await;
    let mut p = claims(&fixture, &next_jti());
    p.set_expires_at(&(UNIX_EPOCH + Duration::from_secs((START + 24 * 3600) as u64)));
    assert_invalid_client(&fixture, &rsa(&p), "a day-long assertion").await;
    let p = claims(&fixture, &next_jti());
    assert_invalid_client(&fixture, &sign(&p, keys.stranger.as_ref(), Some("rsa-1")), "unregistered key")
        .await;
    assert_invalid_client(&fixture, &sign(&p, keys.stranger.as_ref(), None), "unregistered key, no kid")
        .await;

    // alg "none": an unsigned token.
    use base64::Engine;
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let body: Value = serde_json::from_str(&claims(&fixture, &next_jti()).to_string()).unwrap();
    let unsigned = format!("{}.{}.", b64(&serde_json::json!({"alg": "none", "typ": "JWT"})), b64(&body));
    assert_invalid_client(&fixture, &unsigned, "alg none").await;
    // HS256 keyed with the registered RSA public key (the classic algorithm confusion).
    let hmac = HS256.signer_from_bytes(&keys.rsa_public_pem).unwrap();
    assert_invalid_client(
        &fixture,
        &sign(&claims(&fixture, &next_jti()), &hmac, Some("rsa-1")),
        "HS256 confusion",
    )
    .await;
    assert_invalid_client(&fixture, "not.a.jwt", "garbage").await;
    // A good assertion for a client registered with a secret is no good either.
    let mut p = claims(&fixture, &next_jti());
    p.set_issuer("service");
    p.set_subject("service");
    assert_invalid_client(&fixture, &rsa(&p), "a secret client").await;
}

async fn an_assertion_is_good_for_one_use_even_in_parallel(db: TestDatabase) {
    let (fixture, keys) = fixture_with_jwt_client(db).await;
    let assertion = sign(&claims(&fixture, "once"), keys.rsa.as_ref(), Some("rsa-1"));
    let attempts = (0..8).map(|_| with_assertion(&fixture, &assertion, &[]));
    let statuses: Vec<u16> =
        futures::future::join_all(attempts).await.into_iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 7, "{statuses:?}");
    assert_invalid_client(&fixture, &assertion, "replayed later").await;
}

async fn methods_do_not_mix(db: TestDatabase) {
    let (fixture, keys) = fixture_with_jwt_client(db).await;
    let assertion = sign(&claims(&fixture, "mixed"), keys.rsa.as_ref(), Some("rsa-1"));
    let response = with_assertion(&fixture, &assertion, &[("client_secret", "anything-at-all")]).await;
    assert_eq!(response.status(), 400);
    assert_eq!(response.json::<Value>().await.unwrap()["error"], "invalid_request");
    let response = fixture
        .app
        .http
        .post(fixture.url("/token"))
        .basic_auth("signer-app", Some("a-guessed-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401, "a private_key_jwt client has no secret to guess");
    let response = with_assertion(&fixture, &assertion, &[("client_assertion_type", "urn:other")]).await;
    assert_eq!(response.status(), 400, "client_assertion_type sent twice");
}
