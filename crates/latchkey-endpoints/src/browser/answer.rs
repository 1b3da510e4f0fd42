//! Deciding and performing what comes next for a record, and the answer at the client's redirect URI
//! (RFC 6749 §4.1.2 and §4.1.2.1, OAuth 2.0 Form Post Response Mode, RFC 9207 `iss`).

use super::{Answer, Notice};
use latchkey_core::keys::Keyring;
use latchkey_core::{Failure, OAuthError};
use latchkey_grant_code::authorize::{self, Next};
use latchkey_grant_code::request::Rejection;
use latchkey_model::{RecordId, ResponseMode, ResponseType, Session, State, Timestamp, TokenRecord};
use latchkey_store::{Repo, StoreError};
use url::form_urlencoded::byte_serialize;

/// An authorization response (or error response) for the client: its parameters, byte for byte, and how
/// they travel.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthorizationResponse {
    pub redirect_uri: String,
    pub mode: ResponseMode,
    pub params: Vec<(&'static str, Vec<u8>)>,
}

/// The parameter names only: the values carry a code or tokens.
impl std::fmt::Debug for AuthorizationResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizationResponse")
            .field("redirect_uri", &self.redirect_uri)
            .field("mode", &self.mode)
            .field("params", &self.params.iter().map(|(name, _)| *name).collect::<Vec<_>>())
            .finish()
    }
}

impl AuthorizationResponse {
    fn encoded(&self) -> String {
        let pairs: Vec<String> = self
            .params
            .iter()
            .map(|(name, value)| format!("{name}={}", byte_serialize(value).collect::<String>()))
            .collect();
        pairs.join("&")
    }

    /// The `Location` to send the browser to, for the query and fragment modes.
    pub fn location(&self) -> Option<String> {
        match self.mode {
            ResponseMode::Query => {
                let separator = if self.redirect_uri.contains('?') { '&' } else { '?' };
                Some(format!("{}{separator}{}", self.redirect_uri, self.encoded()))
            }
            ResponseMode::Fragment => Some(format!("{}#{}", self.redirect_uri, self.encoded())),
            ResponseMode::FormPost => None,
        }
    }

    /// The fields of the auto-submitted form, for `form_post` (whose `state` validation kept to UTF-8).
    pub fn form_fields(&self) -> Vec<(String, String)> {
        let text = |value: &[u8]| String::from_utf8_lossy(value).into_owned();
        self.params.iter().map(|(name, value)| ((*name).to_owned(), text(value))).collect()
    }
}

/// The answer to `redirect_uri`: `params`, then `state` (if any) and `iss`, which every authorization
/// response carries.
pub(super) fn respond(
    redirect_uri: &str,
    mode: ResponseMode,
    params: Vec<(&'static str, Vec<u8>)>,
    state: Option<&State>,
    issuer: &str,
) -> Answer {
    let mut params = params;
    if let Some(state) = state {
        params.push(("state", state.as_bytes().to_vec()));
    }
    params.push(("iss", issuer.as_bytes().to_vec()));
    Answer::Respond(AuthorizationResponse { redirect_uri: redirect_uri.to_owned(), mode, params })
}

/// An error response (§4.1.2.1).
pub(super) fn error_answer(
    redirect_uri: &str,
    mode: ResponseMode,
    error: &OAuthError,
    state: Option<&State>,
    issuer: &str,
) -> Answer {
    let mut params = vec![("error", error.code.as_str().as_bytes().to_vec())];
    if let Some(description) = &error.description {
        params.push(("error_description", description.as_bytes().to_vec()));
    }
    respond(redirect_uri, mode, params, state, issuer)
}

pub(super) fn rejection(rejection: Rejection, issuer: &str) -> Answer {
    match rejection {
        Rejection::Page(error) => Answer::Notice(Notice::Refused {
            code: error.code.as_str(),
            description: error.description.unwrap_or_else(|| error.code.as_str().to_owned()),
        }),
        Rejection::Redirect { redirect_uri, response_mode, state, error } => {
            error_answer(redirect_uri.as_str(), response_mode, &error, state.as_ref(), issuer)
        }
    }
}

pub(super) fn stale() -> Answer {
    Answer::Notice(Notice::Stale)
}

/// The record of the flow `request_id`, if it belongs to this browser's session and still waits.
pub(super) fn owned_record(
    repo: &mut Repo<'_>,
    request_id: &str,
    session: &Session,
) -> Result<Option<TokenRecord>, StoreError> {
    let Ok(id) = RecordId::parse(request_id) else { return Ok(None) };
    match repo.get_token(&id) {
        Ok(record) if authorize::belongs_to(&record, &session.id_hash) => Ok(Some(record)),
        Ok(_) | Err(StoreError::NotFound) => Ok(None),
        Err(other) => Err(other),
    }
}

pub(super) fn client_name(repo: &mut Repo<'_>, record: &TokenRecord) -> Result<String, StoreError> {
    Ok(repo.find_client(&record.client_id)?.map(|c| c.name).unwrap_or_else(|| record.client_id.to_string()))
}

/// Decides and performs the next step for `record` in `session`: on to login or consent, or the answer for
/// the client (a code, or the implicit tokens), or the error `prompt=none` could not avoid.
pub(super) fn advance(
    repo: &mut Repo<'_>,
    record: &mut TokenRecord,
    session: &Session,
    issuer: &str,
    keyring: &Keyring,
    now: Timestamp,
) -> Result<Answer, StoreError> {
    let consent = match &session.username {
        Some(username) => repo.find_consent(username, &record.client_id)?,
        None => None,
    };
    let (Some(redirect_uri), Some(mode), Some(response_type)) =
        (record.redirect_uri.clone(), record.response_mode, record.response_type)
    else {
        return Ok(stale());
    };
    let redirect_uri = redirect_uri.to_string();
    let state = record.state.clone();
    let failed =
        |repo: &mut Repo<'_>, record: &TokenRecord, error: &OAuthError| -> Result<Answer, StoreError> {
            authorize::abandon(repo, record, now)?;
            Ok(error_answer(&redirect_uri, mode, error, state.as_ref(), issuer))
        };
    Ok(match authorize::next_step(record, Some(session), consent.as_ref(), now) {
        Next::Login => Answer::GoToLogin { request_id: record.id.to_string() },
        Next::Consent => Answer::GoToConsent { request_id: record.id.to_string() },
        Next::Fail(code) => return failed(repo, record, &OAuthError::bare(code)),
        Next::Issue { username, auth_time, methods } if response_type == ResponseType::Code => {
            let rng = &mut rand::rngs::OsRng;
            let code =
                latchkey_grant_code::code::issue_code(repo, record, username, auth_time, &methods, now, rng)?;
            respond(
                &redirect_uri,
                mode,
                vec![("code", code.expose().as_bytes().to_vec())],
                state.as_ref(),
                issuer,
            )
        }
        Next::Issue { username, auth_time, methods } => {
            let user = repo.find_user(&username)?.filter(|user| !user.disabled);
            let (Some(client), Some(user)) = (repo.find_client(&record.client_id)?, user) else {
                return Ok(stale());
            };
            latchkey_grant_code::authorize::settle(record, username, auth_time, &methods);
            match implicit(repo, record, &client, &user, keyring, now) {
                Ok(params) => {
                    let params = params.into_iter().map(|(name, value)| (name, value.into_bytes())).collect();
                    respond(&redirect_uri, mode, params, state.as_ref(), issuer)
                }
                Err(Failure::Refused(error)) => return failed(repo, record, &error),
                Err(Failure::Storage(error)) => return Err(error),
            }
        }
    })
}

#[cfg(feature = "implicit")]
fn implicit(
    repo: &mut Repo<'_>,
    record: &mut TokenRecord,
    client: &latchkey_model::Client,
    user: &latchkey_model::User,
    keyring: &Keyring,
    now: Timestamp,
) -> latchkey_core::Outcome<Vec<(&'static str, String)>> {
    latchkey_grant_implicit::issue(repo, record, client, user, keyring, now, &mut rand::rngs::OsRng)
}

/// A build without the implicit grant validates no implicit request, so none reaches this point.
#[cfg(not(feature = "implicit"))]
fn implicit(
    _: &mut Repo<'_>,
    _: &mut TokenRecord,
    _: &latchkey_model::Client,
    _: &latchkey_model::User,
    _: &Keyring,
    _: Timestamp,
) -> latchkey_core::Outcome<Vec<(&'static str, String)>> {
    let why = "this server does not offer the implicit grant";
    Err(OAuthError::new(latchkey_core::ErrorCode::UnsupportedResponseType, why).into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_core::ErrorCode;

    fn response(mode: ResponseMode, redirect_uri: &str) -> AuthorizationResponse {
        AuthorizationResponse {
            redirect_uri: redirect_uri.to_owned(),
            mode,
            params: vec![("code", b"lk_code_x".to_vec()), ("state", b"a b&\xff".to_vec())],
        }
    }

    #[test]
    fn debug_shows_no_code_or_token() {
        let shown = format!("{:?}", response(ResponseMode::Query, "https://app.example.com/cb"));
        assert!(shown.contains("code") && !shown.contains("lk_code_x"), "{shown}");
    }

    #[test]
    fn answers_keep_every_byte_in_query_and_fragment() {
        let query = response(ResponseMode::Query, "https://app.example.com/cb").location().unwrap();
        assert_eq!(query, "https://app.example.com/cb?code=lk_code_x&state=a+b%26%FF");
        let existing = response(ResponseMode::Query, "https://app.example.com/cb?x=1").location().unwrap();
        assert!(existing.starts_with("https://app.example.com/cb?x=1&code="), "{existing}");
        let fragment = response(ResponseMode::Fragment, "https://app.example.com/cb").location().unwrap();
        assert_eq!(fragment, "https://app.example.com/cb#code=lk_code_x&state=a+b%26%FF");
        assert_eq!(response(ResponseMode::FormPost, "https://app.example.com/cb").location(), None);
    }

    #[test]
    fn an_error_answer_carries_code_description_state_and_issuer() {
        let error = OAuthError::new(ErrorCode::AccessDenied, "the user denied access");
        let state = State::from_bytes(b"s1".to_vec());
        let Answer::Respond(answer) = error_answer(
            "https://app.example.com/cb",
            ResponseMode::Query,
            &error,
            Some(&state),
            "https://id.example",
        ) else {
            panic!("a redirect");
        };
        let names: Vec<&str> = answer.params.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, ["error", "error_description", "state", "iss"]);
        assert_eq!(answer.location().unwrap(), "https://app.example.com/cb?error=access_denied&error_description=the+user+denied+access&state=s1&iss=https%3A%2F%2Fid.example");
    }
}
