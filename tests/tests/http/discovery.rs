use crate::on_both_backends;
use crate::support::{TestApp, TestDatabase};
use serde_json::json;

on_both_backends!(
    metadata_is_complete_and_truthful,
    configured_issuer_is_published,
    https_issuer_needs_a_key_encryption_key
);

async fn metadata_is_complete_and_truthful(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let base = app.server.url();
    for path in ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/json");
        let metadata: serde_json::Value = response.json().await.unwrap();
        assert_eq!(metadata["issuer"], base);
        for (key, path) in [
            ("authorization_endpoint", "/authorize"),
            ("token_endpoint", "/token"),
            ("userinfo_endpoint", "/userinfo"),
            ("jwks_uri", "/jwks.json"),
            ("end_session_endpoint", "/logout"),
            ("introspection_endpoint", "/introspect"),
            ("revocation_endpoint", "/revoke"),
        ] {
            assert_eq!(metadata[key], format!("{base}{path}"), "{key}");
            assert_ne!(app.get(path).await.status(), 404, "{path} is advertised, so it exists");
        }
        #[cfg(feature = "legacy")]
        assert_eq!(
            metadata["response_types_supported"],
            json!(["code", "token", "id_token", "id_token token"])
        );
        assert_eq!(metadata["response_modes_supported"], json!(["query", "fragment", "form_post"]));
        #[cfg(feature = "legacy")]
        assert_eq!(
            metadata["grant_types_supported"],
            json!(["authorization_code", "refresh_token", "client_credentials", "password", "implicit"])
        );
        assert_eq!(metadata["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(metadata["id_token_signing_alg_values_supported"], json!(["RS256", "ES256", "EdDSA"]));
        assert_eq!(metadata["subject_types_supported"], json!(["public"]));
        assert_eq!(
            metadata["token_endpoint_auth_methods_supported"],
            json!(["client_secret_basic", "client_secret_post", "private_key_jwt", "none"])
        );
        assert_eq!(
            metadata["token_endpoint_auth_signing_alg_values_supported"],
            json!(["RS256", "ES256", "EdDSA"])
        );
        assert_eq!(metadata["authorization_response_iss_parameter_supported"], true);
        assert_eq!(metadata["request_parameter_supported"], false);
        assert!(metadata["scopes_supported"].as_array().unwrap().contains(&json!("openid")));
        assert_eq!(
            metadata["introspection_endpoint_auth_methods_supported"],
            json!(["client_secret_basic", "client_secret_post", "private_key_jwt"])
        );
        assert_eq!(
            metadata["revocation_endpoint_auth_methods_supported"],
            json!(["client_secret_basic", "client_secret_post", "private_key_jwt", "none"])
        );
        assert!(metadata.get("device_authorization_endpoint").is_none(), "not built, so not advertised");
    }
    let jwks: serde_json::Value = app.get("/jwks.json").await.json().await.unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 3);
    let kids: std::collections::HashSet<_> = keys.iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids.len(), 3, "every key has its own kid");
    assert!(keys.iter().all(|k| k.get("d").is_none()), "public halves only");
}

async fn configured_issuer_is_published(db: TestDatabase) {
    let issuer = latchkey_server::Issuer::parse("https://id.example.com/").unwrap();
    let key = latchkey_core::keys::KeyEncryptionKey::generate(&mut rand::rngs::OsRng);
    let app = TestApp::spawn_with(db, |config| {
        config.issuer = Some(issuer);
        config.key_encryption_key = Some(key);
    })
    .await;
    let metadata: serde_json::Value =
        app.get("/.well-known/openid-configuration").await.json().await.unwrap();
    assert_eq!(metadata["issuer"], "https://id.example.com");
    assert_eq!(metadata["token_endpoint"], "https://id.example.com/token");
    // Served over an https issuer, browsers are told to stay on https.
    let response = app.get("/healthz").await;
    assert_eq!(response.headers()["strict-transport-security"], "max-age=31536000");
}

async fn https_issuer_needs_a_key_encryption_key(db: TestDatabase) {
    let mut config = latchkey_server::Config::new(db.database_url().unwrap()).unwrap();
    config.bind = "127.0.0.1:0".into();
    config.issuer = Some(latchkey_server::Issuer::parse("https://id.example.com").unwrap());
    let error = latchkey_server::build(&config).await.err().expect("refused to start");
    assert!(error.to_string().contains("key_encryption_key"), "{error}");
}
