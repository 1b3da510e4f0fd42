//! The operator actions below HTTP: what the command line and the admin API share.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{context, world};
use latchkey_core::personal::Origin;
use latchkey_core::testing::{confidential, PASSWORD};
use latchkey_core::{ErrorCode, OAuthError};
use latchkey_endpoints::operations::clients::{self, ClientAmendment, NewClientBody};
use latchkey_endpoints::operations::tokens::{self, NewTokenBody, TokenFilter};
use latchkey_endpoints::operations::users::{self, UserAmendment};
use latchkey_endpoints::ApiError;
use latchkey_model::{PageRequest, PERSONAL_CLIENT_ID};
use latchkey_store::testing::TestDatabase;

on_both_backends!(
    a_password_reset_and_a_disabling_end_everything_the_user_holds,
    a_client_change_is_checked_against_the_client_as_it_is,
    the_reserved_client_is_left_alone,
    tokens_for_owners_are_made_listed_renamed_and_revoked,
    keys_that_cannot_be_reloaded_for_a_minute_are_stale,
);

fn invalid(result: Result<impl std::fmt::Debug, ApiError>) -> String {
    match result {
        Err(ApiError::Refused(OAuthError { code: ErrorCode::InvalidRequest, description, .. })) => {
            description.unwrap()
        }
        other => panic!("a refused input: {other:?}"),
    }
}

async fn a_password_reset_and_a_disabling_end_everything_the_user_holds(db: &TestDatabase) {
    let world = world(db);
    let ctx = context(&world);
    let app = world.client(confidential(
        "app",
        &["authorization_code", "refresh_token"],
        &["openid", "offline_access"],
    ));
    world.user("alice");
    let (record, _) = world.grant(&app, Some("alice"), "openid offline_access");
    let (secret, _) = world.signed_in("alice");
    let reset = UserAmendment { password: Some("a brand new passphrase".into()), ..UserAmendment::default() };
    let view = users::amend_user(&ctx, "alice", reset).await.unwrap();
    assert!(!view.disabled);
    assert!(world.store.read(|repo| repo.get_token(&record.id)).unwrap().is_revoked(), "the grant ended");
    assert!(
        world
            .store
            .read(|repo| repo.find_session(&secret.hash(world.hasher()), world.now()))
            .unwrap()
            .is_none(),
        "signed out"
    );
    let user = world
        .store
        .read(|repo| repo.find_user(&latchkey_model::Username::parse("alice").unwrap()))
        .unwrap()
        .unwrap();
    assert!(!latchkey_core::password::verify_password(Some(&user.password_hash), PASSWORD));

    let (record, _) = world.grant(&app, Some("alice"), "openid");
    let renamed = UserAmendment { name: Some(None), ..UserAmendment::default() };
    assert_eq!(users::amend_user(&ctx, "alice", renamed).await.unwrap().name, None, "null clears");
    assert!(
        !world.store.read(|repo| repo.get_token(&record.id)).unwrap().is_revoked(),
        "a rename ends nothing"
    );
    let disable = UserAmendment { disabled: Some(true), ..UserAmendment::default() };
    assert!(users::amend_user(&ctx, "alice", disable).await.unwrap().disabled);
    assert!(world.store.read(|repo| repo.get_token(&record.id)).unwrap().is_revoked());
    let too_long = UserAmendment { email: Some(Some("x".repeat(201))), ..UserAmendment::default() };
    assert!(invalid(users::amend_user(&ctx, "alice", too_long).await).contains("email"));
    assert_eq!(
        users::amend_user(&ctx, "nobody", UserAmendment::default()).await.err(),
        Some(ApiError::NotFound)
    );
}

async fn a_client_change_is_checked_against_the_client_as_it_is(db: &TestDatabase) {
    let world = world(db);
    let ctx = context(&world);
    world.client(confidential("app", &["authorization_code"], &["openid"]));
    // Removing every redirect URI of a code client breaks a rule of the whole registration.
    let no_uris = ClientAmendment { redirect_uris: Some(Vec::new()), ..ClientAmendment::default() };
    assert!(invalid(clients::amend_client(&ctx, "app", no_uris).await).contains("redirect URI"));
    let huge = ClientAmendment { access_token_ttl: Some(i64::MAX), ..ClientAmendment::default() };
    assert!(invalid(clients::amend_client(&ctx, "app", huge).await).contains("access_token_ttl"));
    let fine = ClientAmendment {
        name: Some("Renamed".into()),
        refresh_token_ttl: Some(None),
        ..ClientAmendment::default()
    };
    let view = clients::amend_client(&ctx, "app", fine).await.unwrap();
    assert_eq!((view.name.as_str(), view.refresh_token_ttl, view.access_token_ttl), ("Renamed", None, 600));
    let rotated = clients::rotate_client_secret(&ctx, "app").await.unwrap();
    let secret = rotated.client_secret.unwrap();
    let client = world
        .store
        .read(|repo| repo.find_client(&latchkey_model::ClientId::parse("app").unwrap()))
        .unwrap()
        .unwrap();
    assert_eq!(
        client.credentials,
        latchkey_model::ClientCredentials::Secret(world.hasher().hash(secret.expose()))
    );
    assert_eq!(client.name, "Renamed", "the rotation wrote the secret alone");

    let body = |id: &str, public: bool| NewClientBody {
        id: id.into(),
        name: None,
        public,
        secret: None,
        jwks: None,
        redirect_uris: vec!["https://spa.example.com/cb".into()],
        grant_types: vec!["authorization_code".into()],
        scopes: vec!["openid".into()],
        access_token_ttl: None,
        refresh_token_ttl: None,
        id_token_alg: None,
    };
    let (spa, secret) = clients::prepare_client(body("spa", true), world.hasher(), world.now()).unwrap();
    assert!(secret.is_none());
    clients::create_client(&ctx, spa, None).await.unwrap();
    assert!(invalid(clients::rotate_client_secret(&ctx, "spa").await).contains("secret"));
    let (again, _) = clients::prepare_client(body("spa", false), world.hasher(), world.now()).unwrap();
    assert_eq!(clients::create_client(&ctx, again, None).await.err(), Some(ApiError::Conflict));
    let listed = clients::list_clients(&ctx, PageRequest::first(10)).await.unwrap();
    let ids: Vec<&str> = listed.items().iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["app", "spa"], "the reserved client is not listed");
}

async fn the_reserved_client_is_left_alone(db: &TestDatabase) {
    let world = world(db);
    let ctx = context(&world);
    let rename = ClientAmendment { name: Some("Mine".into()), ..ClientAmendment::default() };
    assert!(invalid(clients::amend_client(&ctx, PERSONAL_CLIENT_ID, rename).await).contains("reserved"));
    assert!(invalid(clients::rotate_client_secret(&ctx, PERSONAL_CLIENT_ID).await).contains("reserved"));
    assert!(invalid(clients::delete_client(&ctx, PERSONAL_CLIENT_ID).await).contains("reserved"));
    assert!(invalid(clients::revoke_client(&ctx, PERSONAL_CLIENT_ID).await).contains("reserved"));
    let key = NewTokenBody { name: "key".into(), ..NewTokenBody::default() };
    let owner = tokens::owner(None, Some(PERSONAL_CLIENT_ID)).unwrap();
    assert!(invalid(tokens::create_token(&ctx, owner, key, Origin::Admin).await).contains("no client"));
}

async fn tokens_for_owners_are_made_listed_renamed_and_revoked(db: &TestDatabase) {
    let world = world(db);
    let ctx = context(&world);
    world.client(confidential("service", &["client_credentials"], &["api:read"]));
    world.user("alice");
    let body = NewTokenBody {
        name: "deploy".into(),
        scopes: Some(vec!["openid".into()]),
        ttl: Some("30d".into()),
        ..NewTokenBody::default()
    };
    let made = tokens::create_token(&ctx, tokens::owner(Some("alice"), None).unwrap(), body, Origin::Cli)
        .await
        .unwrap();
    assert!(made.token.expose().starts_with("lk_pat_"));
    assert_eq!(made.view.expires_at, Some(world.now().plus_seconds(30 * 24 * 3600).unix_millis()));
    let key = NewTokenBody {
        name: "reports".into(),
        scopes: Some(vec!["api:write".into()]),
        ..NewTokenBody::default()
    };
    let owner = tokens::owner(None, Some("service")).unwrap();
    assert!(invalid(tokens::create_token(&ctx, owner, key, Origin::Cli).await).contains("among its client"));
    let listed =
        tokens::list_tokens(&ctx, TokenFilter { username: Some("alice".into()), ..TokenFilter::default() })
            .await
            .unwrap();
    assert_eq!(listed.items().len(), 1);
    let renamed = tokens::amend_token(
        &ctx,
        &made.view.id,
        tokens::TokenAmendment {
            name: Some("deploy key".into()),
            data: Some(serde_json::json!({"team": "ops"})),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        (renamed.name.as_deref(), &renamed.data),
        (Some("deploy key"), &serde_json::json!({"team": "ops"}))
    );
    assert_eq!(tokens::revoke_token(&ctx, &made.view.id).await.unwrap(), 1);
    let bad_type = TokenFilter { kind: Some("cookie".into()), ..TokenFilter::default() };
    assert!(invalid(tokens::list_tokens(&ctx, bad_type).await).contains("type"));
}

/// A server whose key reloads fail may miss a rotation made elsewhere: after a minute of failures it says
/// so (and `/readyz` answers 503), and one successful reload makes it current again.
async fn keys_that_cannot_be_reloaded_for_a_minute_are_stale(db: &TestDatabase) {
    use latchkey_endpoints::keys::STALE_AFTER_SECONDS;
    let world = world(db);
    let ctx = context(&world);
    assert!(!ctx.keys.stale(ctx.now()));
    world.db.execute_sql("ALTER TABLE signing_keys RENAME TO signing_keys_away").unwrap();
    assert!(ctx.keys.reload(&ctx.store, ctx.now()).is_err());
    assert!(!ctx.keys.stale(ctx.now()), "one failure is not yet a stale key set");
    world.advance(STALE_AFTER_SECONDS - 1);
    assert!(ctx.keys.reload(&ctx.store, ctx.now()).is_err());
    assert!(!ctx.keys.stale(ctx.now()), "failing since the first failure, not the last");
    world.advance(1);
    assert!(ctx.keys.stale(ctx.now()));
    world.db.execute_sql("ALTER TABLE signing_keys_away RENAME TO signing_keys").unwrap();
    ctx.keys.reload(&ctx.store, ctx.now()).unwrap();
    assert!(!ctx.keys.stale(ctx.now()), "current again");
}
