//! The authorization step (RFC 6749 §4.1.2): the token record is created when the request is accepted,
//! walks through login and consent, and ends with a single-use code.

use crate::authorizer::CodeAuthorizer;
use crate::request::{AuthorizationRequest, Prompt};
use chrono::DateTime;
use latchkey_core::oxide::grant_of;
use latchkey_core::{ErrorCode, OAuthError, Step};
use latchkey_model::{
    Consent, GrantType, PlainSecret, RecordId, SecretHash, Session, Stage, Timestamp, TokenRecord, Username,
};
use latchkey_store::{Repo, StoreError};
use oxide_auth::primitives::authorizer::Authorizer;
use rand::{CryptoRng, RngCore};
use serde_json::Value;

/// How long a code can be redeemed (RFC 6749 §4.1.2 recommends at most ten minutes; one is plenty).
pub const CODE_LIFETIME_SECONDS: i64 = 60;

const SESSION_PROPERTY: &str = "browser_session";
const PROMPT_PROPERTY: &str = "prompt";
const MAX_AGE_PROPERTY: &str = "max_age";
const LOGIN_HINT_PROPERTY: &str = "login_hint";
const CONSENTED_PROPERTY: &str = "consented";

/// Creates the record for an accepted request, bound to the browser session that made it, so that the
/// login and consent steps cannot be completed from another browser.
pub fn begin(
    repo: &mut Repo<'_>,
    request: &AuthorizationRequest,
    issuer: &str,
    browser_session: &SecretHash,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<TokenRecord, StoreError> {
    let mut record = TokenRecord::new(
        RecordId::generate(rng),
        request.client.id.clone(),
        if request.response_type == "code" { GrantType::AuthorizationCode } else { GrantType::Implicit },
        issuer,
        now,
    );
    record.audience = vec![request.client.id.to_string()];
    record.scope = request.scope.clone();
    record.state = request.state.clone();
    record.redirect_uri = Some(request.redirect_uri.clone());
    record.response_type = Some(request.response_type.clone());
    record.response_mode = Some(request.response_mode);
    record.nonce = request.nonce.clone();
    record.code_challenge = request.code_challenge.clone();
    record.code_challenge_method = request.code_challenge.as_ref().map(|_| crate::pkce::S256.to_owned());
    let properties = &mut record.properties;
    properties.insert(SESSION_PROPERTY.into(), Value::from(browser_session.to_hex()));
    let prompts: Vec<&str> = request
        .prompt
        .iter()
        .map(|p| match p {
            Prompt::None => "none",
            Prompt::Login => "login",
            Prompt::Consent => "consent",
            Prompt::SelectAccount => "select_account",
        })
        .collect();
    properties.insert(PROMPT_PROPERTY.into(), Value::from(prompts.join(" ")));
    if let Some(max_age) = request.max_age {
        properties.insert(MAX_AGE_PROPERTY.into(), Value::from(max_age));
    }
    if let Some(hint) = &request.login_hint {
        properties.insert(LOGIN_HINT_PROPERTY.into(), Value::from(hint.as_str()));
    }
    repo.insert_token(&record)?;
    Ok(record)
}

/// Whether `record` was begun by the browser holding `session` (and is still waiting for it).
pub fn belongs_to(record: &TokenRecord, session: &SecretHash) -> bool {
    matches!(record.grant_type, GrantType::AuthorizationCode | GrantType::Implicit)
        && record.stage != Stage::Complete
        && !record.is_revoked()
        && record.properties.get(SESSION_PROPERTY).and_then(Value::as_str) == Some(session.to_hex().as_str())
}

pub fn login_hint(record: &TokenRecord) -> Option<&str> {
    record.properties.get(LOGIN_HINT_PROPERTY).and_then(Value::as_str)
}

fn prompts(record: &TokenRecord) -> impl Iterator<Item = &str> {
    record.properties.get(PROMPT_PROPERTY).and_then(Value::as_str).unwrap_or_default().split(' ')
}

/// What the browser must do next for this record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Login,
    Consent,
    /// Everything is settled: issue the code to this user.
    Issue {
        username: Username,
        auth_time: Timestamp,
    },
    /// `prompt=none` could not be honoured (OpenID Connect Core §3.1.2.6).
    Fail(ErrorCode),
}

/// Decides the next step from the record, the browser session and the consent on file.
pub fn next_step(
    record: &TokenRecord,
    session: Option<&Session>,
    consent: Option<&Consent>,
    now: Timestamp,
) -> Next {
    let silent = prompts(record).any(|p| p == "none");
    let forced_login = prompts(record).any(|p| p == "login");
    let forced_consent = prompts(record).any(|p| p == "consent");
    let max_age = record.properties.get(MAX_AGE_PROPERTY).and_then(Value::as_i64);
    // A login that happened during this very request satisfies prompt=login and any max_age.
    let logged_in_here = matches!(record.stage, Stage::Permission) || record.auth_time.is_some();
    let user = session.and_then(|s| Some((s.username.clone()?, s.auth_time?)));
    let Some((username, auth_time)) = user else {
        return if silent { Next::Fail(ErrorCode::LoginRequired) } else { Next::Login };
    };
    let too_old =
        max_age.is_some_and(|max| now.unix_seconds().saturating_sub(auth_time.unix_seconds()) > max);
    if !logged_in_here && (forced_login || too_old) {
        return if silent { Next::Fail(ErrorCode::LoginRequired) } else { Next::Login };
    }
    let consented_here = record.properties.get(CONSENTED_PROPERTY).and_then(Value::as_bool) == Some(true);
    let covered = consent.is_some_and(|c| c.username == username && record.scope.is_subset_of(&c.scope));
    if !consented_here && (forced_consent || !covered) {
        return if silent { Next::Fail(ErrorCode::ConsentRequired) } else { Next::Consent };
    }
    Next::Issue { username, auth_time }
}

/// Notes that the user logged in during this request, in the session that login started.
pub fn logged_in(
    repo: &mut Repo<'_>,
    record: &mut TokenRecord,
    new_session: &SecretHash,
    auth_time: Timestamp,
) -> Result<(), StoreError> {
    // The login replaced the browser session; the flow follows it to the new one.
    record.properties.insert(SESSION_PROPERTY.into(), Value::from(new_session.to_hex()));
    record.auth_time = Some(auth_time);
    record.stage = Stage::Permission;
    repo.update_token(record)
}

/// Counts a failed login attempt on the record (`login:N`).
pub fn login_failed(repo: &mut Repo<'_>, record: &mut TokenRecord) -> Result<(), StoreError> {
    record.stage = match record.stage {
        Stage::Login(n) => Stage::Login(n.saturating_add(1)),
        _ => Stage::Login(1),
    };
    repo.update_token(record)
}

/// Records the user's consent for exactly the requested scopes, remembered for next time.
pub fn consented(
    repo: &mut Repo<'_>,
    record: &mut TokenRecord,
    username: &Username,
    previous: Option<&Consent>,
    now: Timestamp,
) -> Result<(), StoreError> {
    record.properties.insert(CONSENTED_PROPERTY.into(), Value::from(true));
    repo.update_token(record)?;
    // Remember the union: allowing "email" today does not take back "profile" allowed yesterday.
    let mut scope = record.scope.clone();
    if let Some(previous) = previous {
        scope = latchkey_model::Scope::from_tokens(previous.scope.iter().chain(record.scope.iter()))
            .unwrap_or(scope);
    }
    repo.save_consent(&Consent {
        username: username.clone(),
        client_id: record.client_id.clone(),
        scope,
        granted_at: now,
    })
}

/// Marks `record` answered for `username`; the implicit grant issues its tokens on it next.
pub fn settle(record: &mut TokenRecord, username: Username, auth_time: Timestamp) {
    record.username = Some(username);
    record.auth_time = Some(auth_time);
    record.stage = Stage::Complete;
    record.properties.remove(SESSION_PROPERTY);
}

/// Issues the code through the [`CodeAuthorizer`]: single use, [`CODE_LIFETIME_SECONDS`] to live, only its
/// hash stored.
pub fn issue_code(
    repo: &mut Repo<'_>,
    record: &mut TokenRecord,
    username: Username,
    auth_time: Timestamp,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Step<PlainSecret> {
    settle(record, username, auth_time);
    let mut grant = match grant_of(record) {
        Ok(grant) => grant,
        Err(error) => return Ok(Err(error)),
    };
    let expires = now.plus_seconds(CODE_LIFETIME_SECONDS).unix_seconds();
    let Some(until) = DateTime::from_timestamp(expires, 0) else {
        return Ok(Err(OAuthError::server_error()));
    };
    grant.until = until;
    let mut authorizer = CodeAuthorizer::issuing(repo, record.clone(), now, rng);
    let issued = authorizer.authorize(grant);
    let (issued_on, _, failure) = authorizer.into_parts();
    match (issued, issued_on) {
        (Ok(code), Some(issued_on)) => {
            *record = issued_on;
            Ok(Ok(PlainSecret::from_presented(code)))
        }
        _ => failure.into_step(OAuthError::server_error()),
    }
}

/// Ends a request the user refused or that could not be completed: nothing can be issued from it.
pub fn abandon(repo: &mut Repo<'_>, record: &TokenRecord, now: Timestamp) -> Result<(), StoreError> {
    repo.revoke_token(&record.id, now).map(|_| ())
}
