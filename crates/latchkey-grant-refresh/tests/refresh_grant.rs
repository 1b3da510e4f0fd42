//! Refresh-token rotation below HTTP, on a real database with a clock that moves only when told
//! (RFC 6749 §6, RFC 9700 §4.14.2).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use latchkey_core::testing::{confidential, World};
use latchkey_core::tokens::TokenResponse;
use latchkey_core::{ErrorCode, Failure};
use latchkey_grant_refresh::{refresh, RefreshRequest};
use latchkey_model::{Client, PlainSecret, Scope};
use latchkey_store::testing::TestDatabase;
use latchkey_store::{ClientChanges, UserChanges};

latchkey_store::on_both_backends!(
    every_refresh_rotates_and_a_reused_token_revokes_the_family,
    a_refresh_token_works_only_for_its_client,
    the_scope_narrows_within_the_grant_and_the_clients_current_scope,
    a_disabled_user_gets_nothing,
    the_lifetime_counts_from_the_grant,
);

fn world(db: &TestDatabase) -> (World, Client) {
    let world = World::new(TestDatabase::create(db.backend()).unwrap());
    let app = world.client(confidential(
        "app",
        &["authorization_code", "refresh_token"],
        &["openid", "offline_access", "api"],
    ));
    world.client(confidential(
        "other",
        &["authorization_code", "refresh_token"],
        &["openid", "offline_access", "api"],
    ));
    world.user("alice");
    (world, app)
}

fn ask(
    world: &World,
    client: &str,
    token: &PlainSecret,
    scope: Option<&str>,
) -> Result<TokenResponse, ErrorCode> {
    let client = world
        .store
        .read(|repo| repo.find_client(&latchkey_model::ClientId::parse(client).unwrap()))
        .unwrap()
        .unwrap();
    let request =
        RefreshRequest { refresh_token: token.clone(), scope: scope.map(|s| Scope::parse(s).unwrap()) };
    match world
        .step(|repo| refresh(repo, &client, &request, &world.keys, world.now(), &mut rand::rngs::OsRng))
    {
        Ok(response) => Ok(response),
        Err(Failure::Refused(error)) => Err(error.code),
        Err(Failure::Storage(error)) => panic!("storage: {error}"),
    }
}

fn refresh_token(response: &TokenResponse) -> PlainSecret {
    PlainSecret::from_presented(response.refresh_token.clone().unwrap())
}

fn access_is_live(world: &World, access_token: &str) -> bool {
    let hash = world.hasher().hash(access_token);
    let record = world.store.read(|repo| repo.find_token_by_access_token(&hash)).unwrap().unwrap();
    record.access_token_is_active(world.now())
}

fn every_refresh_rotates_and_a_reused_token_revokes_the_family(db: &TestDatabase) {
    let (world, app) = world(db);
    let (_, minted) = world.grant(&app, Some("alice"), "openid offline_access api");
    let first = minted.refresh_token.unwrap();
    let second = ask(&world, "app", &first, None).unwrap();
    assert_ne!(second.refresh_token.as_deref(), Some(first.expose()), "rotated");
    assert!(second.id_token.is_some(), "openid: a new ID token");
    let third = ask(&world, "app", &refresh_token(&second), None).unwrap();
    assert!(access_is_live(&world, &third.access_token));
    assert_eq!(
        ask(&world, "app", &first, None).err(),
        Some(ErrorCode::InvalidGrant),
        "reuse of a retired token"
    );
    assert!(!access_is_live(&world, &third.access_token), "the reuse revoked the whole family");
    assert_eq!(ask(&world, "app", &refresh_token(&third), None).err(), Some(ErrorCode::InvalidGrant));
}

fn a_refresh_token_works_only_for_its_client(db: &TestDatabase) {
    let (world, app) = world(db);
    let (_, minted) = world.grant(&app, Some("alice"), "openid offline_access");
    let token = minted.refresh_token.unwrap();
    assert_eq!(ask(&world, "other", &token, None).err(), Some(ErrorCode::InvalidGrant));
    assert!(ask(&world, "app", &token, None).is_ok(), "not taken by the refusal");
    let without_refresh = world.client(confidential("code-only", &["authorization_code"], &["openid"]));
    let (_, minted) = world.grant(&without_refresh, Some("alice"), "openid");
    assert_eq!(
        ask(&world, "code-only", &minted.refresh_token.unwrap(), None).err(),
        Some(ErrorCode::UnauthorizedClient)
    );
}

fn the_scope_narrows_within_the_grant_and_the_clients_current_scope(db: &TestDatabase) {
    let (world, app) = world(db);
    let (_, minted) = world.grant(&app, Some("alice"), "offline_access api");
    let token = minted.refresh_token.unwrap();
    assert_eq!(ask(&world, "app", &token, Some("api admin")).err(), Some(ErrorCode::InvalidScope));
    let narrowed = ask(&world, "app", &token, Some("api")).unwrap();
    assert_eq!(narrowed.scope, "api", "the wider refusal did not spend the token");
    let widened = ask(&world, "app", &refresh_token(&narrowed), None).unwrap();
    assert_eq!(widened.scope, "api offline_access", "the refresh token kept the whole grant");

    // Taking a scope away from the client reaches the grant at its next refresh.
    let changes = ClientChanges {
        scope: Some(Scope::parse("openid offline_access").unwrap()),
        ..ClientChanges::new(world.now())
    };
    world.store.write(|repo| repo.amend_client(&app.id, &changes)).unwrap();
    assert_eq!(
        ask(&world, "app", &refresh_token(&widened), Some("api")).err(),
        Some(ErrorCode::InvalidScope)
    );
    let bounded = ask(&world, "app", &refresh_token(&widened), None).unwrap();
    assert_eq!(bounded.scope, "offline_access");
}

fn a_disabled_user_gets_nothing(db: &TestDatabase) {
    let (world, app) = world(db);
    let (_, minted) = world.grant(&app, Some("alice"), "openid offline_access");
    let alice = latchkey_model::Username::parse("alice").unwrap();
    let disable = UserChanges { disabled: Some(true), ..UserChanges::new(world.now()) };
    world.store.write(|repo| repo.amend_user(&alice, &disable)).unwrap();
    assert_eq!(ask(&world, "app", &minted.refresh_token.unwrap(), None).err(), Some(ErrorCode::InvalidGrant));
}

fn the_lifetime_counts_from_the_grant(db: &TestDatabase) {
    let (world, app) = world(db);
    let (_, minted) = world.grant(&app, Some("alice"), "offline_access");
    world.advance(3000);
    let rotated = ask(&world, "app", &minted.refresh_token.unwrap(), None).unwrap();
    world.advance(599);
    let again = ask(&world, "app", &refresh_token(&rotated), None).unwrap();
    world.advance(1);
    assert_eq!(
        ask(&world, "app", &refresh_token(&again), None).err(),
        Some(ErrorCode::InvalidGrant),
        "an hour after the grant"
    );
}
