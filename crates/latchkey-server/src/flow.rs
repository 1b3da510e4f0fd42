//! The browser side of the authorization code and implicit flows: moving a record from request to code (or
//! tokens), and answering the client (RFC 6749 §4.1.2, OAuth 2.0 Form Post Response Mode, RFC 9207 `iss`).

use crate::pages::{self, FormPostPage};
use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use latchkey_core::keys::Keyring;
use latchkey_core::OAuthError;
use latchkey_grant_code::authorize::{self, Next};
use latchkey_grant_code::request::Rejection;
use latchkey_grant_implicit::is_implicit;
use latchkey_model::{PlainSecret, ResponseMode, Session, Timestamp, TokenRecord};
use latchkey_store::{Repo, StoreError};

/// Where a step of the flow leaves the browser.
pub enum Outcome {
    /// Refused before a redirect URI could be trusted, or a stale/foreign flow: an error page.
    Page { status: StatusCode, title: &'static str, message: String, code: Option<&'static str> },
    /// Continue on the login page.
    Login { request_id: String },
    /// Continue on the consent page.
    Consent { request_id: String },
    /// Answer the client at its validated redirect URI.
    Respond { redirect_uri: String, mode: ResponseMode, params: Vec<(String, String)> },
}

/// The answer of a step, with a session cookie to set when the session is new.
pub struct Answer {
    pub outcome: Outcome,
    pub cookie: Option<PlainSecret>,
}

pub fn error_params(error: &OAuthError, state: Option<&str>, issuer: &str) -> Vec<(String, String)> {
    let mut params = vec![("error".to_owned(), error.code.as_str().to_owned())];
    if let Some(description) = &error.description {
        params.push(("error_description".to_owned(), description.clone()));
    }
    if let Some(state) = state {
        params.push(("state".to_owned(), state.to_owned()));
    }
    params.push(("iss".to_owned(), issuer.to_owned()));
    params
}

pub fn rejection(rejection: Rejection, issuer: &str) -> Outcome {
    match rejection {
        Rejection::Page(error) => Outcome::Page {
            status: StatusCode::BAD_REQUEST,
            title: "This sign-in request cannot be completed",
            message: error.description.unwrap_or_else(|| error.code.as_str().to_owned()),
            code: Some(error.code.as_str()),
        },
        Rejection::Redirect { redirect_uri, response_mode, state, error } => Outcome::Respond {
            redirect_uri,
            mode: response_mode,
            params: error_params(&error, state.as_deref(), issuer),
        },
    }
}

pub fn stale() -> Outcome {
    Outcome::Page {
        status: StatusCode::BAD_REQUEST,
        title: "This sign-in has expired",
        message: "The sign-in request is no longer valid in this browser. Start again from the application."
            .into(),
        code: None,
    }
}

/// Decides and performs the next step for `record` in `session`.
pub fn advance(
    repo: &mut Repo<'_>,
    record: &mut TokenRecord,
    session: &Session,
    issuer: &str,
    keyring: &Keyring,
    now: Timestamp,
    rng: &mut (impl rand::RngCore + rand::CryptoRng),
) -> Result<Outcome, StoreError> {
    let consent = match &session.username {
        Some(username) => repo.find_consent(username, &record.client_id)?,
        None => None,
    };
    let (Some(redirect_uri), Some(mode)) = (record.redirect_uri.clone(), record.response_mode) else {
        return Ok(stale());
    };
    let respond = |params| Outcome::Respond { redirect_uri: redirect_uri.to_string(), mode, params };
    Ok(match authorize::next_step(record, Some(session), consent.as_ref(), now) {
        Next::Login => Outcome::Login { request_id: record.id.to_string() },
        Next::Consent => Outcome::Consent { request_id: record.id.to_string() },
        Next::Issue { username, auth_time } if is_implicit(record.response_type.as_deref()) => {
            let user = repo.find_user(&username)?.filter(|user| !user.disabled);
            let (Some(client), Some(user)) = (repo.find_client(&record.client_id)?, user) else {
                return Ok(stale());
            };
            authorize::settle(record, username, auth_time);
            let state = record.state.clone();
            match latchkey_grant_implicit::issue(repo, record, &client, &user, keyring, now, rng)? {
                Ok(mut params) => {
                    if let Some(state) = state {
                        params.push(("state".to_owned(), state));
                    }
                    params.push(("iss".to_owned(), issuer.to_owned()));
                    respond(params)
                }
                Err(error) => {
                    authorize::abandon(repo, record, now)?;
                    respond(error_params(&error, record.state.as_deref(), issuer))
                }
            }
        }
        Next::Issue { username, auth_time } => {
            let state = record.state.clone();
            let code = match authorize::issue_code(repo, record, username, auth_time, now, rng)? {
                Ok(code) => code,
                Err(error) => {
                    authorize::abandon(repo, record, now)?;
                    return Ok(respond(error_params(&error, state.as_deref(), issuer)));
                }
            };
            let mut params = vec![("code".to_owned(), code.expose().to_owned())];
            if let Some(state) = state {
                params.push(("state".to_owned(), state));
            }
            params.push(("iss".to_owned(), issuer.to_owned()));
            respond(params)
        }
        Next::Fail(code) => {
            authorize::abandon(repo, record, now)?;
            respond(error_params(&OAuthError::bare(code), record.state.as_deref(), issuer))
        }
    })
}

fn encode(params: &[(String, String)]) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in params {
        serializer.append_pair(key, value);
    }
    serializer.finish()
}

/// Turns an outcome into the HTTP response. Redirects are 303, so a browser never re-sends a posted form
/// (with its password) to the client (RFC 9700 §4.12).
pub fn respond(answer: Answer) -> HttpResponse {
    let mut response = match answer.outcome {
        Outcome::Page { status, title, message, code } => pages::error_page(status, title, &message, code),
        Outcome::Login { request_id } => see_other(&format!("/login?request={request_id}")),
        Outcome::Consent { request_id } => see_other(&format!("/consent?request={request_id}")),
        Outcome::Respond { redirect_uri, mode, params } => match mode {
            ResponseMode::Query => {
                let separator = if redirect_uri.contains('?') { '&' } else { '?' };
                see_other(&format!("{redirect_uri}{separator}{}", encode(&params)))
            }
            ResponseMode::Fragment => see_other(&format!("{redirect_uri}#{}", encode(&params))),
            ResponseMode::FormPost => {
                let page = FormPostPage { action: redirect_uri.clone(), fields: params };
                pages::page(StatusCode::OK, &page, Some(&redirect_uri))
            }
        },
    };
    if let Some(secret) = answer.cookie {
        if let Err(error) = response.add_cookie(&crate::session::cookie(&secret)) {
            tracing::error!(%error, "could not set the session cookie");
        }
    }
    response
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish()
}
