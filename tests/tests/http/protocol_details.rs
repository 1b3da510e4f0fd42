//! Details of the protocol that are easy to get wrong: the reserved client authenticates nowhere, a
//! redirect URI left out of the authorization request may be left out at the token endpoint, error
//! descriptions hold only the characters RFC 6749 allows, `state` comes back byte for byte, the consent page
//! says what token management allows, and a page whose storage fails answers with a page.

use crate::on_both_backends;
use crate::support::{
    authorize_url, hidden_field, location, redirect_params, status_and_json, Fixture, TestDatabase, APP,
    APP_REDIRECT, OTHER, PASSWORD,
};
use reqwest::Method;
use serde_json::{json, Value};

on_both_backends!(
    the_reserved_client_cannot_revoke_personal_tokens,
    a_redirect_uri_left_out_of_the_request_is_not_demanded_at_the_token_endpoint,
    error_descriptions_hold_only_what_rfc_6749_allows,
    state_comes_back_byte_for_byte,
    the_consent_page_says_what_token_management_allows,
    pages_answer_a_storage_failure_with_a_page,
);

async fn the_reserved_client_cannot_revoke_personal_tokens(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let body = json!({"username": "alice", "name": "laptop", "scopes": ["openid"]});
    let (_, created) = status_and_json(fixture.admin(Method::POST, "/admin/tokens", Some(body)).await).await;
    let token = created["token"].as_str().unwrap();
    let form = [("token", token), ("client_id", "latchkey")];
    let revoke = fixture.app.http.post(fixture.url("/revoke")).form(&form).send().await.unwrap();
    assert_eq!(
        status_and_json(revoke).await,
        (401, json!({"error": "invalid_client", "error_description": "client authentication failed"}))
    );
    let introspected: Value =
        fixture.client_post("/introspect", APP, &[("token", token)]).await.json().await.unwrap();
    assert_eq!(introspected["active"], true, "the personal token still works");
    let as_client = [("grant_type", "client_credentials"), ("client_id", "latchkey")];
    let issued = fixture.app.http.post(fixture.url("/token")).form(&as_client).send().await.unwrap();
    assert_eq!(issued.status(), 401);
}

/// The code of a redirect to `location`.
fn code_of(location: &str) -> String {
    redirect_params(location)["code"].clone()
}

async fn a_redirect_uri_left_out_of_the_request_is_not_demanded_at_the_token_endpoint(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    // `other` registered exactly one redirect URI, so a plain OAuth request may leave it out (§3.1.2.3).
    let url = format!(
        "{}/authorize?response_type=code&client_id=other&scope=api:read&state=s",
        fixture.app.server.url()
    );
    let landed = fixture.browser().authorize(&url, "alice").await;
    assert!(landed.starts_with(APP_REDIRECT), "{landed}");
    let exchange = [("grant_type", "authorization_code"), ("code", &code_of(&landed))];
    let (status, tokens) = status_and_json(fixture.token(OTHER, &exchange).await).await;
    assert_eq!(status, 200, "RFC 6749 §4.1.3 asks for redirect_uri only if the request had it: {tokens}");
    assert_eq!(tokens["scope"], "api:read");
}

/// `%x20-21 / %x23-5B / %x5D-7E` (RFC 6749 §5.2, §4.1.2.1).
fn allowed(description: &str) -> bool {
    description.bytes().all(|b| matches!(b, 0x20..=0x21 | 0x23..=0x5b | 0x5d..=0x7e))
}

async fn error_descriptions_hold_only_what_rfc_6749_allows(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let tokens = crate::support::tokens_for(&fixture, "openid offline_access").await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    for scope in ["openid\"x", "openid\\x", "openid\u{e9}"] {
        let asked = [("grant_type", "refresh_token"), ("refresh_token", refresh_token), ("scope", scope)];
        let (status, body) = status_and_json(fixture.token(APP, &asked).await).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")), "{body}");
        let description = body["error_description"].as_str().unwrap();
        assert!(allowed(description), "{description:?}");
    }
    let (url, _) = authorize_url(&fixture.app.server.url(), "app", APP_REDIRECT, "openid \"x\\y", &[]);
    let answer = fixture.browser().get(&url).await;
    let params = redirect_params(&location(&answer));
    assert_eq!(params["error"], "invalid_scope");
    assert!(allowed(&params["error_description"]), "{:?}", params["error_description"]);
}

/// The raw bytes of the `state` parameter of a redirect.
fn state_bytes(location: &str) -> Vec<u8> {
    let query = location.split_once(['?', '#']).unwrap().1;
    latchkey_core::Form::parse(query.as_bytes()).single_bytes("state").unwrap().unwrap().to_vec()
}

async fn state_comes_back_byte_for_byte(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let raw = "%FF%FEab%22+c%C3%28";
    let expected = b"\xff\xfeab\" c\xc3\x28".to_vec();
    // Through a whole flow: stored with the record, read back, sent with the code.
    let (url, _) = authorize_url(&fixture.app.server.url(), "app", APP_REDIRECT, "openid", &[]);
    let url = url.replace("state=st-123", &format!("state={raw}"));
    let landed = fixture.browser().authorize(&url, "alice").await;
    assert_eq!(state_bytes(&landed), expected, "{landed}");
    // And on an error answered at once.
    let (url, _) =
        authorize_url(&fixture.app.server.url(), "app", APP_REDIRECT, "openid", &[("prompt", "none")]);
    let url = url.replace("state=st-123", &format!("state={raw}"));
    let answer = fixture.browser().get(&url).await;
    let refused = location(&answer);
    assert!(refused.contains("error=login_required"), "{refused}");
    assert_eq!(state_bytes(&refused), expected);
}

async fn the_consent_page_says_what_token_management_allows(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let (url, _) =
        authorize_url(&fixture.app.server.url(), "app", APP_REDIRECT, "openid latchkey:tokens", &[]);
    let mut browser = fixture.browser();
    let to_login = browser.get(&url).await;
    let to_consent = browser.log_in(&location(&to_login), "alice", PASSWORD).await;
    let page = browser.get(&location(&to_consent)).await.text().await.unwrap();
    assert!(page.contains("Create, list and revoke your tokens"), "{page}");
    assert!(!page.contains("Use the"), "not a generic permission");
}

async fn pages_answer_a_storage_failure_with_a_page(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let (url, _) = authorize_url(&fixture.app.server.url(), "app", APP_REDIRECT, "openid", &[]);
    let mut browser = fixture.browser();
    let login = location(&browser.get(&url).await);
    let form = browser.get(&login).await.text().await.unwrap();
    let (csrf, request) = (hidden_field(&form, "csrf").unwrap(), hidden_field(&form, "request").unwrap());
    fixture.app.db.execute_sql("ALTER TABLE tokens RENAME TO tokens_away").unwrap();
    let check = |response: reqwest::Response, what: &'static str| async move {
        assert_eq!(response.status(), 503, "{what}");
        assert_eq!(response.headers()["retry-after"], "5", "{what}");
        let kind = response.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(kind.starts_with("text/html"), "{what}: {kind}");
        assert!(response.headers().get("location").is_none(), "{what}: never a redirect");
        let page = response.text().await.unwrap();
        assert!(page.contains("<html") && !page.contains("tokens_away"), "{what}: {page}");
    };
    check(browser.get(&url).await, "GET /authorize").await;
    check(browser.get(&login).await, "GET /login").await;
    let fields =
        [("csrf", csrf.as_str()), ("request", &request), ("username", "alice"), ("password", PASSWORD)];
    check(browser.post("/login", &fields).await, "POST /login").await;
    fixture.app.db.execute_sql("ALTER TABLE tokens_away RENAME TO tokens").unwrap();
    assert_eq!(browser.get(&login).await.status(), 200, "the flow goes on once storage is back");

    // Consent is where the code is made: a failure there is a page too, and no code reaches the client.
    let consent = location(&browser.log_in(&login, "alice", PASSWORD).await);
    assert!(consent.starts_with("/consent"), "{consent}");
    let page = browser.get(&consent).await.text().await.unwrap();
    let (csrf, request) = (hidden_field(&page, "csrf").unwrap(), hidden_field(&page, "request").unwrap());
    let decision = [("csrf", csrf.as_str()), ("request", request.as_str()), ("decision", "allow")];
    fixture.app.db.execute_sql("ALTER TABLE tokens RENAME TO tokens_away").unwrap();
    check(browser.post("/consent", &decision).await, "POST /consent").await;
    fixture.app.db.execute_sql("ALTER TABLE tokens_away RENAME TO tokens").unwrap();
    let redirect = location(&browser.post("/consent", &decision).await);
    assert!(redirect.starts_with(APP_REDIRECT) && redirect.contains("code="), "then it goes on: {redirect}");
}
