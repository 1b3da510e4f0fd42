//! Security checklist D (refresh tokens).

use crate::on_both_backends;
use crate::support::{tokens_for, Fixture, TestDatabase, APP, OTHER};

on_both_backends!(
    rotation_reuse_revokes_the_family,
    refresh_tokens_are_bound_to_their_client,
    scope_may_narrow_but_not_widen,
    concurrent_refreshes_give_at_most_one_success,
    no_refresh_token_without_offline_access,
);

async fn refresh(
    fixture: &Fixture,
    client: (&str, &str),
    token: &str,
    scope: Option<&str>,
) -> reqwest::Response {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    fixture.token(client, &form).await
}

async fn rotation_reuse_revokes_the_family(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let first = tokens_for(&fixture, "openid offline_access").await;
    let rt1 = first["refresh_token"].as_str().unwrap();
    let second: serde_json::Value = refresh(&fixture, APP, rt1, None).await.json().await.unwrap();
    let rt2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(rt1, rt2);
    let at2 = second["access_token"].as_str().unwrap();
    assert!(second["id_token"].is_string());
    let reused = refresh(&fixture, APP, rt1, None).await;
    assert_eq!(reused.status(), 400);
    assert_eq!(reused.json::<serde_json::Value>().await.unwrap()["error"], "invalid_grant");
    let after = refresh(&fixture, APP, rt2, None).await;
    assert_eq!(after.status(), 400, "the newest token of the family died with the reuse");
    let userinfo = fixture.app.http.get(fixture.url("/userinfo")).bearer_auth(at2).send().await.unwrap();
    assert_eq!(userinfo.status(), 401, "and so did its access token");
}

async fn refresh_tokens_are_bound_to_their_client(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let tokens = tokens_for(&fixture, "openid offline_access").await;
    let rt = tokens["refresh_token"].as_str().unwrap();
    let stolen = refresh(&fixture, OTHER, rt, None).await;
    assert_eq!(stolen.status(), 400);
    assert_eq!(stolen.json::<serde_json::Value>().await.unwrap()["error"], "invalid_grant");
    assert_eq!(refresh(&fixture, APP, rt, None).await.status(), 200, "the owner's token still works");
}

async fn scope_may_narrow_but_not_widen(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let tokens = tokens_for(&fixture, "openid profile offline_access").await;
    let rt = tokens["refresh_token"].as_str().unwrap();
    let wider = refresh(&fixture, APP, rt, Some("openid profile email offline_access")).await;
    assert_eq!(wider.json::<serde_json::Value>().await.unwrap()["error"], "invalid_scope");
    let narrower: serde_json::Value =
        refresh(&fixture, APP, rt, Some("openid offline_access")).await.json().await.unwrap();
    assert_eq!(narrower["scope"], "offline_access openid", "a refused scope left the token usable");
    // The refresh token itself keeps the granted scope (RFC 6749 §6): the next refresh may ask for all of
    // it again, and no more.
    let rt = narrower["refresh_token"].as_str().unwrap();
    let full: serde_json::Value = refresh(&fixture, APP, rt, None).await.json().await.unwrap();
    assert_eq!(full["scope"], "offline_access openid profile");
    let rt = full["refresh_token"].as_str().unwrap();
    let wider = refresh(&fixture, APP, rt, Some("openid profile email offline_access")).await;
    assert_eq!(wider.json::<serde_json::Value>().await.unwrap()["error"], "invalid_scope");
}

async fn concurrent_refreshes_give_at_most_one_success(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let tokens = tokens_for(&fixture, "openid offline_access").await;
    let rt = tokens["refresh_token"].as_str().unwrap();
    let attempts = (0..5).map(|_| refresh(&fixture, APP, rt, None));
    let responses = futures::future::join_all(attempts).await;
    let mut new_tokens = Vec::new();
    for response in responses {
        if response.status() == 200 {
            new_tokens.push(
                response.json::<serde_json::Value>().await.unwrap()["refresh_token"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
    }
    assert!(new_tokens.len() <= 1, "never two live chains");
    for token in new_tokens {
        assert_eq!(
            refresh(&fixture, APP, &token, None).await.status(),
            400,
            "the losers' reuse revoked the family"
        );
    }
}

async fn no_refresh_token_without_offline_access(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let tokens = tokens_for(&fixture, "openid profile").await;
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");
    assert!(tokens["id_token"].is_string());
}
