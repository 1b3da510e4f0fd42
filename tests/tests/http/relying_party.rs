//! The whole code flow as a real relying party sees it: the `openidconnect` crate discovers the server,
//! builds the authorization URL (PKCE, nonce, state), exchanges the code, verifies the ID token against the
//! published JWKS, calls UserInfo and refreshes.

use crate::on_both_backends;
use crate::support::{http_client, Fixture, TestDatabase, APP_REDIRECT, APP_SECRET, OTHER_SECRET};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, RedirectUrl, RefreshToken, Scope, TokenResponse,
};

on_both_backends!(
    openidconnect_client_completes_the_code_flow,
    id_tokens_are_signed_with_the_clients_algorithm
);

async fn openidconnect_client_completes_the_code_flow(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let issuer = IssuerUrl::new(fixture.app.server.url()).unwrap();
    let provider =
        CoreProviderMetadata::discover_async(issuer, &http_client).await.expect("discovery and JWKS");
    let client = CoreClient::from_provider_metadata(
        provider,
        ClientId::new("app".into()),
        Some(ClientSecret::new(APP_SECRET.into())),
    )
    .set_redirect_uri(RedirectUrl::new(APP_REDIRECT.into()).unwrap());

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();

    let mut browser = fixture.browser();
    let location = browser.authorize(url.as_str(), "alice").await;
    let params = crate::support::redirect_params(&location);
    assert!(location.starts_with(APP_REDIRECT));
    assert_eq!(params["state"], *state.secret());
    assert_eq!(params["iss"], fixture.app.server.url(), "RFC 9207");

    let tokens = client
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http_client)
        .await
        .expect("code exchange");
    let id_token = tokens.id_token().expect("an ID token for the openid scope");
    let verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &nonce)
        .expect("signature (JWKS), issuer, audience, nonce and expiry verify");
    assert!(claims.auth_time().is_some());
    let expected_hash = openidconnect::AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected_hash), "at_hash");
    assert!(tokens.access_token().secret().starts_with("lk_at_"));

    let userinfo: CoreUserInfoClaims = client
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async(&http_client)
        .await
        .expect("userinfo");
    assert_eq!(userinfo.subject(), claims.subject(), "the same sub everywhere");
    assert_eq!(userinfo.email().map(|e| e.as_str()), Some("alice@example.com"));
    assert_eq!(userinfo.preferred_username().map(|u| u.as_str()), Some("alice"));

    let refresh_token = tokens.refresh_token().expect("offline_access gives a refresh token").clone();
    let refreshed = client
        .exchange_refresh_token(&refresh_token)
        .unwrap()
        .request_async(&http_client)
        .await
        .expect("refresh");
    let rotated = refreshed.refresh_token().expect("a new refresh token");
    assert_ne!(rotated.secret(), refresh_token.secret(), "rotated on every use");
    let again = client.exchange_refresh_token(&refresh_token).unwrap().request_async(&http_client).await;
    assert!(again.is_err(), "the old refresh token is spent");
    let after_reuse = client
        .exchange_refresh_token(&RefreshToken::new(rotated.secret().clone()))
        .unwrap()
        .request_async(&http_client)
        .await;
    assert!(after_reuse.is_err(), "reuse of an old token revoked the whole family");
}

async fn id_tokens_are_signed_with_the_clients_algorithm(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let issuer = IssuerUrl::new(fixture.app.server.url()).unwrap();
    let provider = CoreProviderMetadata::discover_async(issuer, &http_client).await.unwrap();
    for (client_id, alg) in [
        ("app", CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256),
        ("es-app", CoreJwsSigningAlgorithm::EcdsaP256Sha256),
        ("ed-app", CoreJwsSigningAlgorithm::EdDsa),
    ] {
        let secret = if client_id == "app" { APP_SECRET } else { OTHER_SECRET };
        let client = CoreClient::from_provider_metadata(
            provider.clone(),
            ClientId::new(client_id.into()),
            Some(ClientSecret::new(secret.into())),
        )
        .set_redirect_uri(RedirectUrl::new(APP_REDIRECT.into()).unwrap());
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, _, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge)
            .url();
        let location = fixture.browser().authorize(url.as_str(), "alice").await;
        let code = crate::support::redirect_params(&location)["code"].clone();
        let tokens = client
            .exchange_code(AuthorizationCode::new(code))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&http_client)
            .await
            .unwrap();
        let id_token = tokens.id_token().unwrap();
        assert_eq!(id_token.signing_alg().unwrap(), &alg, "{client_id}");
        let only_this_alg = client.id_token_verifier().set_allowed_algs(vec![alg.clone()]);
        let claims = id_token.claims(&only_this_alg, &nonce).expect("verifies against the JWKS");
        let amr: Vec<&str> = claims.auth_method_refs().unwrap().iter().map(|m| m.as_str()).collect();
        assert_eq!(amr, ["pwd"]);
        let expected_hash = openidconnect::AccessTokenHash::from_token(
            tokens.access_token(),
            id_token.signing_alg().unwrap(),
            id_token.signing_key(&only_this_alg).unwrap(),
        )
        .unwrap();
        assert_eq!(claims.access_token_hash(), Some(&expected_hash), "at_hash for {alg:?}");
    }
}
