//! The client credentials grant below HTTP (RFC 6749 §4.4).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use latchkey_core::registration::SecretChoice;
use latchkey_core::testing::{confidential, World};
use latchkey_core::tokens::TokenResponse;
use latchkey_core::{ErrorCode, Failure};
use latchkey_grant_client_credentials::{issue, ClientCredentialsRequest};
use latchkey_model::{Client, Scope};
use latchkey_store::testing::TestDatabase;

latchkey_store::on_both_backends!(
    a_service_gets_its_own_token_and_no_refresh_token,
    the_scope_is_what_the_client_may_have_without_a_user,
    only_confidential_clients_allowed_the_grant_get_one,
);

fn ask(world: &World, client: &Client, scope: Option<&str>) -> Result<TokenResponse, ErrorCode> {
    let request = ClientCredentialsRequest { scope: scope.map(|s| Scope::parse(s).unwrap()) };
    let now = world.now();
    match world.step(|repo| issue(repo, client, &request, world.issuer.as_str(), now, &mut rand::rngs::OsRng))
    {
        Ok(response) => Ok(response),
        Err(Failure::Refused(error)) => Err(error.code),
        Err(Failure::Storage(error)) => panic!("storage: {error}"),
    }
}

fn service(world: &World) -> Client {
    world.client(confidential("service", &["client_credentials"], &["api:read", "api:write", "openid"]))
}

fn a_service_gets_its_own_token_and_no_refresh_token(db: &TestDatabase) {
    let world = World::new(TestDatabase::create(db.backend()).unwrap());
    let service = service(&world);
    let response = ask(&world, &service, Some("api:read")).unwrap();
    assert_eq!(
        (response.token_type, response.expires_in, response.scope.as_str()),
        ("Bearer", 600, "api:read")
    );
    assert!(response.refresh_token.is_none() && response.id_token.is_none());
    let hash = world.hasher().hash(&response.access_token);
    let record = world.store.read(|repo| repo.find_token_by_access_token(&hash)).unwrap().unwrap();
    assert_eq!(record.audience, vec!["service".to_owned()]);
    assert!(record.username.is_none() && record.access_token_is_active(world.now()));
    assert_eq!(record.access_token_expires, Some(world.now().plus_seconds(600)));
}

fn the_scope_is_what_the_client_may_have_without_a_user(db: &TestDatabase) {
    let world = World::new(TestDatabase::create(db.backend()).unwrap());
    let service = service(&world);
    assert_eq!(ask(&world, &service, None).unwrap().scope, "api:read api:write", "openid needs a user");
    assert_eq!(ask(&world, &service, Some("openid")).err(), Some(ErrorCode::InvalidScope));
    assert_eq!(ask(&world, &service, Some("api:read admin")).err(), Some(ErrorCode::InvalidScope));
}

fn only_confidential_clients_allowed_the_grant_get_one(db: &TestDatabase) {
    let world = World::new(TestDatabase::create(db.backend()).unwrap());
    let code_only = world.client(confidential("web", &["authorization_code"], &["api:read"]));
    assert_eq!(ask(&world, &code_only, None).err(), Some(ErrorCode::UnauthorizedClient));
    let mut public = confidential("spa", &["authorization_code"], &["api:read"]);
    public.secret = SecretChoice::Public;
    let public = world.client(public);
    assert_eq!(ask(&world, &public, None).err(), Some(ErrorCode::UnauthorizedClient));
}
