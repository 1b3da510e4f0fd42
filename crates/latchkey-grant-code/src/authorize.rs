//! The authorization step (RFC 6749 §4.1.2, OpenID Connect Core §3.1.2): the token record is created when
//! the request is accepted, bound to the browser that made it, and walks through login and consent.
//! [`next_step`] decides, from the record, the browser's session and the consent on file, what happens next.

use crate::request::AuthorizationRequest;
use latchkey_core::ErrorCode;
use latchkey_model::{
    AuthMethod, Consent, Prompt, RecordId, Scope, SecretHash, Session, Stage, Timestamp, TokenRecord,
    Username,
};
use latchkey_store::{Repo, StoreError};
use rand::{CryptoRng, RngCore};
use serde_json::Value;
use std::collections::BTreeSet;

/// What the record keeps of its request beyond the columns, in its properties.
const SESSION_PROPERTY: &str = "browser_session";
const PROMPT_PROPERTY: &str = "prompt";
const MAX_AGE_PROPERTY: &str = "max_age";
const LOGIN_HINT_PROPERTY: &str = "login_hint";
const CONSENTED_PROPERTY: &str = "consented";
/// Set (to `false`) only when the request left `redirect_uri` out.
const REDIRECT_URI_PRESENTED_PROPERTY: &str = "redirect_uri_presented";

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
    let grant = request.response_type.grant_type();
    let mut record = TokenRecord::new(RecordId::generate(rng), request.client.id.clone(), grant, issuer, now);
    record.audience = vec![request.client.id.to_string()];
    record.scope = request.scope.clone();
    record.state = request.state.clone();
    record.redirect_uri = Some(request.redirect_uri.clone());
    record.response_type = Some(request.response_type);
    record.response_mode = Some(request.response_mode);
    record.nonce = request.nonce.clone();
    record.code_challenge = request.code_challenge.clone();
    record.code_challenge_method = request.code_challenge.as_ref().map(|_| crate::pkce::S256.to_owned());
    let properties = &mut record.properties;
    properties.insert(SESSION_PROPERTY.into(), Value::from(browser_session.to_hex()));
    let prompts: Vec<&str> = request.prompt.iter().map(|prompt| prompt.as_str()).collect();
    properties.insert(PROMPT_PROPERTY.into(), Value::from(prompts.join(" ")));
    if let Some(max_age) = request.max_age {
        properties.insert(MAX_AGE_PROPERTY.into(), Value::from(max_age));
    }
    if let Some(hint) = &request.login_hint {
        properties.insert(LOGIN_HINT_PROPERTY.into(), Value::from(hint.as_str()));
    }
    if !request.redirect_uri_presented {
        properties.insert(REDIRECT_URI_PRESENTED_PROPERTY.into(), Value::from(false));
    }
    repo.insert_token(&record)?;
    Ok(record)
}

/// Whether `record` was begun by the browser holding `session` (and is still waiting for it).
pub fn belongs_to(record: &TokenRecord, session: &SecretHash) -> bool {
    record.response_type.is_some()
        && record.stage != Stage::Complete
        && !record.is_revoked()
        && record.properties.get(SESSION_PROPERTY).and_then(Value::as_str) == Some(session.to_hex().as_str())
}

pub fn login_hint(record: &TokenRecord) -> Option<&str> {
    record.properties.get(LOGIN_HINT_PROPERTY).and_then(Value::as_str)
}

/// Whether the authorization request named its redirect URI (RFC 6749 §4.1.3: then so must the token
/// request).
pub fn redirect_uri_presented(record: &TokenRecord) -> bool {
    record.properties.get(REDIRECT_URI_PRESENTED_PROPERTY).and_then(Value::as_bool) != Some(false)
}

fn prompts(record: &TokenRecord) -> BTreeSet<Prompt> {
    let text = record.properties.get(PROMPT_PROPERTY).and_then(Value::as_str).unwrap_or_default();
    text.split(' ').filter_map(Prompt::parse).collect()
}

/// What the browser must do next for this record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Login,
    Consent,
    /// Everything is settled: answer the client for this user, who signed in at `auth_time` this way.
    Issue {
        username: Username,
        auth_time: Timestamp,
        methods: Vec<AuthMethod>,
    },
    /// `prompt=none` could not be honoured (OpenID Connect Core §3.1.2.6).
    Fail(ErrorCode),
}

/// Decides the next step from the record, the browser session and the consent on file (OpenID Connect
/// Core §3.1.2.1 `prompt` and `max_age`, §3.1.2.4 consent).
pub fn next_step(
    record: &TokenRecord,
    session: Option<&Session>,
    consent: Option<&Consent>,
    now: Timestamp,
) -> Next {
    let prompts = prompts(record);
    let silent = prompts.contains(&Prompt::None);
    let max_age = record.properties.get(MAX_AGE_PROPERTY).and_then(Value::as_i64);
    // A login that happened during this very request satisfies prompt=login and any max_age.
    let logged_in_here = matches!(record.stage, Stage::Permission) || record.auth_time.is_some();
    let signed_in = session.and_then(|s| Some((s.username.clone()?, s.auth_time?, s.auth_methods.clone())));
    let Some((username, auth_time, methods)) = signed_in else {
        return if silent { Next::Fail(ErrorCode::LoginRequired) } else { Next::Login };
    };
    let too_old =
        max_age.is_some_and(|max| now.unix_seconds().saturating_sub(auth_time.unix_seconds()) > max);
    if !logged_in_here && (prompts.contains(&Prompt::Login) || too_old) {
        return if silent { Next::Fail(ErrorCode::LoginRequired) } else { Next::Login };
    }
    let consented_here = record.properties.get(CONSENTED_PROPERTY).and_then(Value::as_bool) == Some(true);
    let covered = consent.is_some_and(|c| c.username == username && record.scope.is_subset_of(&c.scope));
    if !consented_here && (prompts.contains(&Prompt::Consent) || !covered) {
        return if silent { Next::Fail(ErrorCode::ConsentRequired) } else { Next::Consent };
    }
    Next::Issue { username, auth_time, methods }
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
        scope = Scope::from_tokens(previous.scope.iter().chain(record.scope.iter())).unwrap_or(scope);
    }
    repo.save_consent(&Consent {
        username: username.clone(),
        client_id: record.client_id.clone(),
        scope,
        granted_at: now,
    })
}

/// Marks `record` answered for `username`, who signed in at `auth_time` by `methods`.
pub fn settle(record: &mut TokenRecord, username: Username, auth_time: Timestamp, methods: &[AuthMethod]) {
    record.username = Some(username);
    record.auth_time = Some(auth_time);
    record.set_auth_methods(methods);
    record.stage = Stage::Complete;
    record.properties.remove(SESSION_PROPERTY);
}

/// Ends a request the user refused or that could not be completed: nothing can be issued from it.
pub fn abandon(repo: &mut Repo<'_>, record: &TokenRecord, now: Timestamp) -> Result<(), StoreError> {
    repo.revoke_token(&record.id, now).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_model::{ClientId, GrantType};

    const NOW: i64 = 1_800_000_000;

    fn record(prompt: &str, max_age: Option<i64>) -> TokenRecord {
        let mut record = TokenRecord::new(
            RecordId::parse("r1").unwrap(),
            ClientId::parse("app").unwrap(),
            GrantType::AuthorizationCode,
            "https://issuer.example",
            Timestamp::from_unix_seconds(NOW),
        );
        record.scope = Scope::parse("openid profile").unwrap();
        record.properties.insert(PROMPT_PROPERTY.into(), prompt.into());
        if let Some(max_age) = max_age {
            record.properties.insert(MAX_AGE_PROPERTY.into(), max_age.into());
        }
        record
    }

    fn session(signed_in_ago: Option<i64>) -> Session {
        let at = |ago: i64| Timestamp::from_unix_seconds(NOW - ago);
        Session {
            id_hash: latchkey_store::testing::test_hasher().hash("s"),
            username: signed_in_ago.map(|_| Username::parse("alice").unwrap()),
            auth_time: signed_in_ago.map(at),
            auth_methods: vec![AuthMethod::Password],
            created_at: at(1000),
            last_seen_at: at(0),
            expires_at: at(-1000),
        }
    }

    fn consent(scope: &str) -> Consent {
        Consent {
            username: Username::parse("alice").unwrap(),
            client_id: ClientId::parse("app").unwrap(),
            scope: Scope::parse(scope).unwrap(),
            granted_at: Timestamp::from_unix_seconds(NOW),
        }
    }

    fn issue(ago: i64) -> Next {
        Next::Issue {
            username: Username::parse("alice").unwrap(),
            auth_time: Timestamp::from_unix_seconds(NOW - ago),
            methods: vec![AuthMethod::Password],
        }
    }

    #[test]
    fn next_step_table() {
        let full = consent("openid profile email");
        let partial = consent("openid");
        // (case, prompt, max_age, signed in how long ago, consent on file, next step)
        type Case<'a> = (&'a str, &'a str, Option<i64>, Option<i64>, Option<&'a Consent>, Next);
        let cases: Vec<Case<'_>> = vec![
            ("no session", "", None, None, None, Next::Login),
            ("anonymous session", "", None, None, Some(&full), Next::Login),
            ("signed in, no consent", "", None, Some(10), None, Next::Consent),
            ("signed in, consent too narrow", "", None, Some(10), Some(&partial), Next::Consent),
            ("signed in, consent covers", "", None, Some(10), Some(&full), issue(10)),
            ("prompt=login forces a login", "login", None, Some(10), Some(&full), Next::Login),
            ("prompt=consent forces consent", "consent", None, Some(10), Some(&full), Next::Consent),
            ("max_age passed", "", Some(5), Some(10), Some(&full), Next::Login),
            ("max_age kept", "", Some(10), Some(10), Some(&full), issue(10)),
            ("silent without a session", "none", None, None, None, Next::Fail(ErrorCode::LoginRequired)),
            (
                "silent, max_age passed",
                "none",
                Some(5),
                Some(10),
                Some(&full),
                Next::Fail(ErrorCode::LoginRequired),
            ),
            ("silent without consent", "none", None, Some(10), None, Next::Fail(ErrorCode::ConsentRequired)),
            ("silent and settled", "none", None, Some(10), Some(&full), issue(10)),
        ];
        for (name, prompt, max_age, signed_in, consent, expected) in cases {
            let session = session(signed_in);
            let next = next_step(
                &record(prompt, max_age),
                Some(&session),
                consent,
                Timestamp::from_unix_seconds(NOW),
            );
            assert_eq!(next, expected, "{name}");
        }
        assert_eq!(next_step(&record("", None), None, None, Timestamp::from_unix_seconds(NOW)), Next::Login);
    }

    #[test]
    fn a_login_or_consent_in_this_request_satisfies_its_prompts() {
        let mut logged_here = record("login consent", Some(0));
        logged_here.stage = Stage::Permission;
        logged_here.properties.insert(CONSENTED_PROPERTY.into(), true.into());
        let now = Timestamp::from_unix_seconds(NOW);
        assert_eq!(next_step(&logged_here, Some(&session(Some(10))), None, now), issue(10));
    }

    #[test]
    fn the_record_remembers_whether_the_redirect_uri_was_named() {
        let mut record = record("", None);
        assert!(redirect_uri_presented(&record), "records made before the property existed named it");
        record.properties.insert(REDIRECT_URI_PRESENTED_PROPERTY.into(), false.into());
        assert!(!redirect_uri_presented(&record));
    }
}
