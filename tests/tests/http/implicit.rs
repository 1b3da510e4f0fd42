//! The implicit grant (RFC 6749 §4.2, OpenID Connect Core §3.2): security checklist E44, E45, D41.

use crate::on_both_backends;
use crate::support::{
    authorize_url, hidden_field, http_client, location, redirect_params, Fixture, TestDatabase, APP_REDIRECT,
    SPA_REDIRECT,
};
use openidconnect::core::{CoreClient, CoreIdToken, CoreProviderMetadata};
use openidconnect::{
    AccessToken, AccessTokenHash, ClientId, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce,
};

on_both_backends!(
    id_token_token_comes_back_in_the_fragment,
    id_token_alone_and_token_alone,
    nonce_and_a_safe_response_mode_are_required,
    off_unless_the_client_is_allowed_it,
);

/// An authorization URL for `legacy-spa` with `response_type`, without PKCE (a code has nothing to do here).
fn implicit_url(base: &str, response_type: &str, scope: &str, extra: &[(&str, &str)]) -> String {
    let (url, _) = authorize_url(base, "legacy-spa", SPA_REDIRECT, scope, extra);
    let encoded: String = url::form_urlencoded::byte_serialize(response_type.as_bytes()).collect();
    let url = url.replace("response_type=code", &format!("response_type={encoded}"));
    let without_pkce: Vec<&str> = url.split('&').filter(|pair| !pair.starts_with("code_challenge")).collect();
    without_pkce.join("&")
}

type DiscoveredClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

async fn verifier_for(fixture: &Fixture) -> DiscoveredClient {
    let issuer = IssuerUrl::new(fixture.app.server.url()).unwrap();
    let provider = CoreProviderMetadata::discover_async(issuer, &http_client).await.unwrap();
    CoreClient::from_provider_metadata(provider, ClientId::new("legacy-spa".into()), None)
}

async fn id_token_token_comes_back_in_the_fragment(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let base = fixture.app.server.url();
    let url = implicit_url(&base, "id_token token", "openid email offline_access", &[]);
    let location = fixture.browser().authorize(&url, "alice").await;
    assert!(location.starts_with(&format!("{SPA_REDIRECT}#")), "fragment by default: {location}");
    let params = redirect_params(&location);
    assert_eq!(params["state"], "st-123");
    assert_eq!(params["iss"], base);
    assert_eq!(params["token_type"], "Bearer");
    assert_eq!(params["expires_in"], "600");
    assert!(!params.contains_key("code"));
    assert!(!params.contains_key("refresh_token"), "never a refresh token, even with offline_access");

    let client = verifier_for(&fixture).await;
    let id_token: CoreIdToken = params["id_token"].parse().unwrap();
    let verifier = client.id_token_verifier();
    let claims = id_token.claims(&verifier, &Nonce::new("n-456".into())).expect("signature, nonce, audience");
    let access_token = AccessToken::new(params["access_token"].clone());
    let expected = AccessTokenHash::from_token(
        &access_token,
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected), "at_hash");
    assert!(id_token.claims(&verifier, &Nonce::new("another".into())).is_err());

    let userinfo = fixture.userinfo(access_token.secret()).await;
    assert_eq!(userinfo["email"], "alice@example.com");

    // form_post is allowed too: the tokens go in a self-submitting page, never in a URL.
    let mut browser = fixture.browser();
    browser.authorize(&implicit_url(&base, "id_token token", "openid", &[]), "alice").await;
    let response = browser
        .get(&implicit_url(&base, "id_token token", "openid", &[("response_mode", "form_post")]))
        .await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(hidden_field(&html, "access_token").is_some_and(|t| t.starts_with("lk_at_")), "{html}");
    assert!(hidden_field(&html, "id_token").is_some());
}

async fn id_token_alone_and_token_alone(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let base = fixture.app.server.url();
    let mut browser = fixture.browser();
    let location = browser.authorize(&implicit_url(&base, "id_token", "openid email", &[]), "alice").await;
    let params = redirect_params(&location);
    assert!(!params.contains_key("access_token"), "{params:?}");
    let client = verifier_for(&fixture).await;
    let id_token: CoreIdToken = params["id_token"].parse().unwrap();
    let claims = id_token.claims(&client.id_token_verifier(), &Nonce::new("n-456".into())).unwrap();
    assert!(claims.access_token_hash().is_none(), "no access token, so no at_hash");
    // With no access token to call UserInfo with, the claims come in the ID token (Core §5.4).
    assert_eq!(claims.email().map(|e| e.as_str()), Some("alice@example.com"));
    assert!(claims.name().is_none(), "profile was not asked for");

    let location = browser.authorize(&implicit_url(&base, "token", "api:read", &[]), "alice").await;
    let params = redirect_params(&location);
    assert!(params["access_token"].starts_with("lk_at_"));
    assert_eq!(params["scope"], "api:read");
    assert!(!params.contains_key("id_token"));
    assert!(!params.contains_key("refresh_token"));
}

async fn nonce_and_a_safe_response_mode_are_required(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let base = fixture.app.server.url();
    let url = implicit_url(&base, "id_token token", "openid", &[]).replace("&nonce=n-456", "");
    let answer = location(&fixture.app.http.get(&url).send().await.unwrap());
    assert!(answer.starts_with(&format!("{SPA_REDIRECT}#")), "{answer}");
    let params = redirect_params(&answer);
    assert_eq!(params["error"], "invalid_request");
    assert_eq!(params["state"], "st-123");

    let url = implicit_url(&base, "token", "api:read", &[("response_mode", "query")]);
    let answer = location(&fixture.app.http.get(&url).send().await.unwrap());
    assert!(
        answer.starts_with(&format!("{SPA_REDIRECT}#")),
        "the error itself stays out of the query: {answer}"
    );
    assert_eq!(redirect_params(&answer)["error"], "invalid_request");

    let url = implicit_url(&base, "id_token", "email", &[]);
    let answer = location(&fixture.app.http.get(&url).send().await.unwrap());
    assert_eq!(redirect_params(&answer)["error"], "invalid_request", "id_token needs openid");

    let url = implicit_url(&base, "code id_token", "openid", &[]);
    let answer = location(&fixture.app.http.get(&url).send().await.unwrap());
    assert_eq!(redirect_params(&answer)["error"], "unsupported_response_type", "no hybrid flow");
}

async fn off_unless_the_client_is_allowed_it(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let base = fixture.app.server.url();
    let (url, _) = authorize_url(&base, "app", APP_REDIRECT, "openid", &[]);
    let url = url.replace("response_type=code", "response_type=id_token+token");
    let answer = location(&fixture.app.http.get(&url).send().await.unwrap());
    assert!(answer.starts_with(&format!("{APP_REDIRECT}#")), "{answer}");
    let params = redirect_params(&answer);
    assert_eq!(params["error"], "unauthorized_client");
    assert!(!params.contains_key("access_token"));
    // And the implicit-only client cannot get a code.
    let (url, _) = authorize_url(&base, "legacy-spa", SPA_REDIRECT, "openid", &[]);
    let params = redirect_params(&location(&fixture.app.http.get(&url).send().await.unwrap()));
    assert_eq!(params["error"], "unauthorized_client");
}
