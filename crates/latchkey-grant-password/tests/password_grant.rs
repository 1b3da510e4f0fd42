//! The password grant's three steps below HTTP, on a real database with a fixed clock (RFC 6749 §4.3).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use latchkey_core::testing::{confidential, World, PASSWORD};
use latchkey_core::tokens::TokenResponse;
use latchkey_core::{ErrorCode, Failure, OAuthError};
use latchkey_grant_password::{begin, issue, PasswordRequest};
use latchkey_model::{Client, Scope, Username};
use latchkey_store::testing::TestDatabase;
use latchkey_store::UserChanges;

latchkey_store::on_both_backends!(
    the_right_password_gets_tokens_in_three_steps,
    a_password_grant_past_the_cap_revokes_the_oldest,
    unknown_users_and_wrong_passwords_read_the_same,
    only_a_client_allowed_the_grant_may_use_it,
    the_attempt_is_counted_before_the_hash_and_locks_the_account,
    a_user_disabled_during_the_check_gets_nothing,
    a_password_reset_during_the_check_wins,
);

fn world(db: &TestDatabase) -> (World, Client) {
    let world = World::new(TestDatabase::create(db.backend()).unwrap());
    let legacy = world.client(confidential(
        "legacy",
        &["password", "refresh_token"],
        &["openid", "offline_access", "api"],
    ));
    world.user("alice");
    (world, legacy)
}

fn request(username: &str, password: &str, scope: Option<&str>) -> PasswordRequest {
    PasswordRequest {
        username: username.into(),
        password: password.into(),
        scope: scope.map(|s| Scope::parse(s).unwrap()),
    }
}

/// All three steps, each as the endpoint layer runs it.
fn sign_in(world: &World, client: &Client, request: PasswordRequest) -> Result<TokenResponse, OAuthError> {
    let now = world.now();
    let refused = |failure| match failure {
        Failure::Refused(error) => error,
        Failure::Storage(error) => panic!("storage: {error}"),
    };
    let check = world.step(|repo| begin(repo, client.clone(), request, "192.0.2.1", now)).map_err(refused)?;
    let verified = check.run()?;
    world
        .step(|repo| {
            issue(
                repo,
                verified,
                "192.0.2.1",
                world.issuer.as_str(),
                &world.keys,
                now,
                &mut rand::rngs::OsRng,
            )
        })
        .map_err(refused)
}

fn the_right_password_gets_tokens_in_three_steps(db: &TestDatabase) {
    let (world, legacy) = world(db);
    let tokens = sign_in(&world, &legacy, request("alice", PASSWORD, Some("openid offline_access"))).unwrap();
    assert_eq!(tokens.scope, "offline_access openid");
    assert!(tokens.refresh_token.is_some() && tokens.id_token.is_some());
    let without_scope = sign_in(&world, &legacy, request("alice", PASSWORD, None)).unwrap();
    assert_eq!(without_scope.scope, "api offline_access openid", "everything the client may have");
}

fn unknown_users_and_wrong_passwords_read_the_same(db: &TestDatabase) {
    let (world, legacy) = world(db);
    let wrong = sign_in(&world, &legacy, request("alice", "not the password", None)).err().unwrap();
    let unknown = sign_in(&world, &legacy, request("mallory", PASSWORD, None)).err().unwrap();
    assert_eq!(wrong, unknown);
    assert_eq!(wrong.code, ErrorCode::InvalidGrant);
    let wider = sign_in(&world, &legacy, request("alice", PASSWORD, Some("openid admin"))).err().unwrap();
    assert_eq!(wider.code, ErrorCode::InvalidScope);
}

fn only_a_client_allowed_the_grant_may_use_it(db: &TestDatabase) {
    let (world, _) = world(db);
    let app = world.client(confidential("app", &["authorization_code"], &["openid"]));
    let refused = sign_in(&world, &app, request("alice", PASSWORD, None)).err().unwrap();
    assert_eq!(refused.code, ErrorCode::UnauthorizedClient);
}

fn the_attempt_is_counted_before_the_hash_and_locks_the_account(db: &TestDatabase) {
    let (world, legacy) = world(db);
    for _ in 0..latchkey_core::throttle::FREE_ACCOUNT_ATTEMPTS {
        assert_eq!(
            sign_in(&world, &legacy, request("alice", "guess", None)).err().unwrap().code,
            ErrorCode::InvalidGrant
        );
    }
    let locked = sign_in(&world, &legacy, request("alice", PASSWORD, None)).err().unwrap();
    assert!(locked.description.unwrap().contains("too many failed attempts"), "refused before the hash");
    world.advance(latchkey_core::throttle::MAX_LOCK_SECONDS);
    assert!(sign_in(&world, &legacy, request("alice", PASSWORD, None)).is_ok(), "a lock ends");
}

/// Alice's right password checked (steps 1 and 2), then `change` made to her, then step 3.
fn issue_after(
    db: &TestDatabase,
    change: impl FnOnce(&World) -> UserChanges,
) -> Result<TokenResponse, Failure> {
    let (world, legacy) = world(db);
    let now = world.now();
    let check = world
        .step(|repo| begin(repo, legacy.clone(), request("alice", PASSWORD, None), "192.0.2.1", now))
        .ok()
        .unwrap();
    let verified = check.run().unwrap();
    let changes = change(&world);
    world.store.write(|repo| repo.amend_user(&Username::parse("alice").unwrap(), &changes)).unwrap();
    world.step(|repo| {
        issue(repo, verified, "192.0.2.1", world.issuer.as_str(), &world.keys, now, &mut rand::rngs::OsRng)
    })
}

fn a_user_disabled_during_the_check_gets_nothing(db: &TestDatabase) {
    let refused =
        issue_after(db, |world| UserChanges { disabled: Some(true), ..UserChanges::new(world.now()) });
    assert!(matches!(refused, Err(Failure::Refused(error)) if error.code == ErrorCode::InvalidGrant));
}

fn a_password_reset_during_the_check_wins(db: &TestDatabase) {
    let refused = issue_after(db, |world| {
        let rehashed =
            latchkey_core::password::hash_password("a brand new passphrase", &mut rand::rngs::OsRng).unwrap();
        UserChanges { password_hash: Some(rehashed), ..UserChanges::new(world.now()) }
    });
    assert!(
        matches!(refused, Err(Failure::Refused(error)) if error.code == ErrorCode::InvalidGrant),
        "the old password no longer counts"
    );
    let unchanged =
        issue_after(db, |world| UserChanges { name: Some(None), ..UserChanges::new(world.now()) });
    assert!(unchanged.is_ok(), "a change that is not the password or the account's state takes nothing away");
}

/// The cap on a user's live grants with one client (RFC 6819 §4.4.1.11) holds for the password grant too.
fn a_password_grant_past_the_cap_revokes_the_oldest(db: &TestDatabase) {
    use latchkey_core::grant_cap::GRANTS_KEPT_PER_USER_AND_CLIENT as KEPT;
    let (world, legacy) = world(db);
    let earlier: Vec<_> = (0..KEPT)
        .map(|_| {
            world.advance(1);
            world.grant(&legacy, Some("alice"), "openid").0
        })
        .collect();
    world.advance(1);
    sign_in(&world, &legacy, request("alice", PASSWORD, None)).unwrap();
    let revoked = |record: &latchkey_model::TokenRecord| {
        let id = record.id.clone();
        world.store.read(move |repo| repo.get_token(&id)).unwrap().is_revoked()
    };
    assert!(revoked(&earlier[0]), "the oldest grant makes room");
    assert!(earlier[1..].iter().all(|record| !revoked(record)));
}
