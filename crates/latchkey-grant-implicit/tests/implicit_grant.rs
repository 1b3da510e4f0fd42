//! The implicit response below HTTP (RFC 6749 §4.2.2, OpenID Connect Core §3.2.2.5).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use latchkey_core::testing::{confidential, World};
use latchkey_core::{ErrorCode, Failure};
use latchkey_model::{AuthMethod, Client, RecordId, ResponseType, Scope, Stage, TokenRecord, User, Username};
use latchkey_store::testing::TestDatabase;
use std::collections::HashMap;

latchkey_store::on_both_backends!(
    id_token_token_answers_both_and_never_a_refresh_token,
    an_id_token_alone_carries_the_claims,
    a_code_request_gets_no_tokens,
);

fn settled(world: &World, client: &Client, response_type: ResponseType) -> TokenRecord {
    let mut record = TokenRecord::new(
        RecordId::generate(&mut rand::rngs::OsRng),
        client.id.clone(),
        response_type.grant_type(),
        world.issuer.as_str(),
        world.now(),
    );
    record.response_type = Some(response_type);
    record.scope = Scope::parse("openid email").unwrap();
    record.nonce = Some("n-42".into());
    // What the authorization endpoint leaves for the implicit grant: the user, when and how they signed in.
    record.username = Some(Username::parse("alice").unwrap());
    record.auth_time = Some(record.created_at);
    record.set_auth_methods(&[AuthMethod::Password]);
    record.stage = Stage::Complete;
    let stored = record.clone();
    world.store.write(move |repo| repo.insert_token(&stored)).unwrap();
    record
}

fn answer(
    world: &World,
    record: &mut TokenRecord,
    client: &Client,
    user: &User,
) -> Result<HashMap<&'static str, String>, Failure> {
    let now = world.now();
    let params = world.step(|repo| {
        latchkey_grant_implicit::issue(repo, record, client, user, &world.keys, now, &mut rand::rngs::OsRng)
    })?;
    Ok(params.into_iter().collect())
}

fn claims(id_token: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = id_token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap())
        .unwrap()
}

fn setup(db: &TestDatabase) -> (World, Client, User) {
    let world = World::new(TestDatabase::create(db.backend()).unwrap());
    let client = world.client(confidential("spa", &["implicit"], &["openid", "email"]));
    let user = world.user("alice");
    (world, client, user)
}

fn id_token_token_answers_both_and_never_a_refresh_token(db: &TestDatabase) {
    let (world, client, user) = setup(db);
    let mut record = settled(&world, &client, ResponseType::IdTokenToken);
    let params = answer(&world, &mut record, &client, &user).unwrap();
    assert_eq!(params["token_type"], "Bearer");
    assert_eq!(params["expires_in"], "600");
    assert_eq!(params["scope"], "email openid");
    assert!(params["access_token"].starts_with("lk_at_") && !params.contains_key("refresh_token"));
    let id_token = claims(&params["id_token"]);
    assert_eq!(id_token["nonce"], "n-42");
    assert!(id_token["at_hash"].is_string(), "bound to the access token");
    assert_eq!(id_token["amr"], serde_json::json!(["pwd"]));
    assert!(id_token.get("email").is_none(), "the access token fetches the claims from UserInfo");
    let stored = world.store.read(|repo| repo.get_token(&record.id)).unwrap();
    assert!(
        stored.access_token_hash.is_some()
            && stored.id_token_hash.is_some()
            && stored.refresh_token_hash.is_none()
    );
}

fn an_id_token_alone_carries_the_claims(db: &TestDatabase) {
    let (world, client, user) = setup(db);
    let mut record = settled(&world, &client, ResponseType::IdToken);
    let params = answer(&world, &mut record, &client, &user).unwrap();
    assert!(!params.contains_key("access_token"));
    let id_token = claims(&params["id_token"]);
    assert_eq!(id_token["email"], "alice@example.com");
    assert!(id_token.get("at_hash").is_none());
    assert_eq!(id_token["sub"], user.subject);
}

fn a_code_request_gets_no_tokens(db: &TestDatabase) {
    let (world, client, user) = setup(db);
    let mut record = settled(&world, &client, ResponseType::Code);
    let refused = answer(&world, &mut record, &client, &user).err().unwrap();
    assert!(matches!(refused, Failure::Refused(error) if error.code == ErrorCode::ServerError));
}
