//! What a bearer token opens, below HTTP: UserInfo and the owner token API, both behind the one bearer
//! check, and logout.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{context, world};
use latchkey_core::testing::{confidential, REDIRECT_URI};
use latchkey_core::{ErrorCode, Failure};
use latchkey_endpoints::logout::{self, LogoutAnswer, LogoutRequest};
use latchkey_endpoints::operations::tokens::NewTokenBody;
use latchkey_endpoints::{owner_tokens, userinfo, ApiError};
use latchkey_store::testing::TestDatabase;

on_both_backends!(
    userinfo_releases_the_claims_of_the_scope_in_force,
    the_owner_api_needs_the_manage_scope_and_stays_within_the_callers_grant,
    logout_returns_only_to_a_registered_uri,
);

async fn userinfo_releases_the_claims_of_the_scope_in_force(db: &TestDatabase) {
    let world = world(db);
    let ctx = context(&world);
    let app = world.client(confidential("app", &["authorization_code"], &["openid", "email", "profile"]));
    world.user("alice");
    let (_, minted) = world.grant(&app, Some("alice"), "openid email");
    let claims = userinfo::userinfo(&ctx, minted.access_token.expose().to_owned()).await.unwrap();
    assert_eq!(claims["email"], "alice@example.com");
    assert!(claims.get("name").is_none(), "profile was not granted");
    let (_, without_openid) = world.grant(&app, Some("alice"), "email");
    let refused =
        userinfo::userinfo(&ctx, without_openid.access_token.expose().to_owned()).await.err().unwrap();
    assert!(matches!(refused, Failure::Refused(error) if error.code == ErrorCode::InsufficientScope));
    world.advance(600);
    let expired = userinfo::userinfo(&ctx, minted.access_token.expose().to_owned()).await.err().unwrap();
    assert!(matches!(expired, Failure::Refused(error) if error.code == ErrorCode::InvalidToken));
}

async fn the_owner_api_needs_the_manage_scope_and_stays_within_the_callers_grant(db: &TestDatabase) {
    let world = world(db);
    let ctx = context(&world);
    let app = world.client(confidential(
        "app",
        &["authorization_code", "refresh_token"],
        &["openid", "api", "latchkey:tokens"],
    ));
    world.user("alice");
    let (_, plain) = world.grant(&app, Some("alice"), "openid api");
    let refused =
        owner_tokens::authenticate(&ctx, plain.access_token.expose().to_owned()).await.err().unwrap();
    assert!(
        matches!(refused, ApiError::Refused(error) if error.code == ErrorCode::InsufficientScope && error.scope.as_deref() == Some("latchkey:tokens"))
    );

    let (grant, manager) = world.grant(&app, Some("alice"), "openid api latchkey:tokens");
    let caller = owner_tokens::authenticate(&ctx, manager.access_token.expose().to_owned()).await.unwrap();
    let made =
        owner_tokens::create(&ctx, &caller, NewTokenBody { name: "cli".into(), ..NewTokenBody::default() })
            .await
            .unwrap();
    assert_eq!(made.view.scopes, ["api", "openid"], "the manage scope must be asked for");
    assert_eq!(
        made.view.expires_at,
        grant.refresh_token_expires.map(|at| at.unix_millis()),
        "no longer than the grant"
    );
    let wider =
        NewTokenBody { name: "x".into(), scopes: Some(vec!["admin".into()]), ..NewTokenBody::default() };
    assert!(matches!(owner_tokens::create(&ctx, &caller, wider).await, Err(ApiError::Refused(_))));
    assert_eq!(
        owner_tokens::list(&ctx, &caller, latchkey_model::PageRequest::first(10))
            .await
            .unwrap()
            .items()
            .len(),
        3
    );
    assert_eq!(
        owner_tokens::delete(&ctx, &caller, "current").await.unwrap(),
        2,
        "the grant and the token made through it"
    );
    let after =
        owner_tokens::authenticate(&ctx, manager.access_token.expose().to_owned()).await.err().unwrap();
    assert!(matches!(after, ApiError::Refused(error) if error.code == ErrorCode::InvalidToken));
}

async fn logout_returns_only_to_a_registered_uri(db: &TestDatabase) {
    let world = world(db);
    let ctx = context(&world);
    world.client(confidential("app", &["authorization_code"], &["openid"]));
    world.user("alice");
    let (secret, _) = world.signed_in("alice");
    let asked = |uri: &str| LogoutRequest {
        client_id: Some("app".into()),
        post_logout_redirect_uri: Some(uri.into()),
        state: Some("bye".into()),
        ..LogoutRequest::default()
    };
    let untrusted =
        logout::logout_page(&ctx, asked("https://evil.example.com/"), Some(secret.clone())).await.unwrap();
    assert_eq!(untrusted, LogoutAnswer::Untrusted);
    let confirm = logout::logout_page(&ctx, asked(REDIRECT_URI), Some(secret.clone())).await.unwrap();
    let LogoutAnswer::Confirm { csrf, post_logout_redirect_uri, .. } = confirm else { panic!("asks first") };
    assert_eq!(post_logout_redirect_uri.as_deref(), Some(REDIRECT_URI));
    let forged =
        logout::confirm_logout(&ctx, asked(REDIRECT_URI), Some(secret.clone()), Some("forged".into()))
            .await
            .unwrap();
    assert_eq!(forged, (LogoutAnswer::FormExpired, false));
    let done =
        logout::confirm_logout(&ctx, asked(REDIRECT_URI), Some(secret.clone()), Some(csrf)).await.unwrap();
    assert_eq!(done, (LogoutAnswer::BackToClient(format!("{REDIRECT_URI}?state=bye")), true));
    assert!(world
        .store
        .read(|repo| repo.find_session(&secret.hash(world.hasher()), world.now()))
        .unwrap()
        .is_none());
}
