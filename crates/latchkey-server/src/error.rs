//! The one place where failures become HTTP responses, one rendering per surface:
//!
//! - the token, introspection and revocation endpoints: RFC 6749 §5.2 JSON, with the Basic challenge on 401;
//! - bearer-protected resources (UserInfo) and the JSON APIs: `{"error", "error_description"}`, with the
//!   RFC 6750 §3 challenge on 401 and 403;
//! - pages: the HTML error page, never JSON, never a redirect.
//!
//! An error sent back to a client's redirect URI (RFC 6749 §4.1.2.1) is an answer, not an error here:
//! the endpoint layer builds it and the page renderer sends it. Storage failures are 503 with `Retry-After`
//! everywhere, so nothing is ever reported done that was not; their details stay in the log.

use crate::pages;
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use latchkey_core::{ErrorCode, Failure, OAuthError};
use latchkey_endpoints::ApiError;
use latchkey_store::StoreError;
use serde::Serialize;
use std::borrow::Cow;

/// The realm of every challenge.
pub const REALM: &str = "latchkey";
/// Seconds a client should wait before trying again after a storage failure.
const RETRY_AFTER_SECONDS: &str = "5";

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("{0}")]
    Token(Failure),
    #[error("{0}")]
    Bearer(Failure),
    #[error("{0}")]
    Api(ApiError),
    #[error("{0}")]
    Page(Failure),
    /// A bearer-protected request without credentials: the challenge alone (RFC 6750 §3.1).
    #[error("no bearer credentials")]
    NoCredentials,
    /// The admin API without its credential (the bare challenge), or with a wrong one.
    #[error("the admin credential is missing or wrong")]
    NotOperator { presented: bool },
    /// A body over the limit: a page for pages, JSON elsewhere.
    #[error("request body too large")]
    TooLarge { page: bool },
    /// A method the resource does not take (RFC 9110 §15.5.6), with the ones it does: POST only at the
    /// token endpoint and its kin (RFC 6749 §3.2).
    #[error("use {allow}")]
    MethodNotAllowed { allow: String },
}

impl WebError {
    /// A malformed request to a page (400).
    pub fn bad_page(why: &str) -> Self {
        WebError::Page(OAuthError::invalid_request(why).into())
    }
}

/// A failure as the protocol names it: a refusal as it is; a storage failure as `temporarily_unavailable`
/// (or `server_error` for a corrupt row), without its details.
fn refusal(failure: &Failure) -> Cow<'_, OAuthError> {
    match failure {
        Failure::Refused(error) => Cow::Borrowed(error),
        Failure::Storage(StoreError::Unavailable(_)) => {
            Cow::Owned(OAuthError::bare(ErrorCode::TemporarilyUnavailable))
        }
        Failure::Storage(StoreError::InvalidInput(why)) => Cow::Owned(OAuthError::invalid_request(why)),
        Failure::Storage(_) => Cow::Owned(OAuthError::server_error()),
    }
}

/// The status of a refusal, whatever the surface (RFC 6749 §5.2, RFC 6750 §3.1).
fn status(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidClient | ErrorCode::InvalidToken => StatusCode::UNAUTHORIZED,
        ErrorCode::InsufficientScope => StatusCode::FORBIDDEN,
        ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_description: Option<&'a str>,
}

/// The headers every JSON error carries: never cached, and when storage failed, when to try again.
fn headers(status: StatusCode) -> actix_web::HttpResponseBuilder {
    let mut response = HttpResponse::build(status);
    response.insert_header((header::CACHE_CONTROL, "no-store")).insert_header((header::PRAGMA, "no-cache"));
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response.insert_header((header::RETRY_AFTER, RETRY_AFTER_SECONDS));
    }
    response
}

/// A rate limit's refusal says when to come back (RFC 6585 §4).
fn retry_after(response: &mut actix_web::HttpResponseBuilder, error: &OAuthError) {
    if let Some(seconds) = error.retry_after_seconds {
        response.insert_header((header::RETRY_AFTER, seconds.to_string()));
    }
}

fn json(
    mut response: actix_web::HttpResponseBuilder,
    error: &str,
    description: Option<&str>,
) -> HttpResponse {
    response.json(Body { error, error_description: description })
}

/// The `WWW-Authenticate` value of RFC 6750 §3 for `error` (none: the request had no credentials). The
/// description is safe in a quoted string: it holds only what RFC 6749 §5.2 allows.
pub fn bearer_challenge(error: Option<&OAuthError>) -> String {
    let mut value = format!("Bearer realm=\"{REALM}\"");
    if let Some(error) = error {
        value.push_str(&format!(", error=\"{}\"", error.code.as_str()));
        if let Some(description) = &error.description {
            value.push_str(&format!(", error_description=\"{description}\""));
        }
        if let Some(scope) = &error.scope {
            value.push_str(&format!(", scope=\"{scope}\""));
        }
    }
    value
}

/// RFC 6749 §5.2.
fn token_error(error: &OAuthError) -> HttpResponse {
    let mut response = headers(status(error.code));
    retry_after(&mut response, error);
    if error.code == ErrorCode::InvalidClient && error.used_basic_auth {
        response.insert_header((header::WWW_AUTHENTICATE, format!("Basic realm=\"{REALM}\"")));
    }
    json(response, error.code.as_str(), error.description.as_deref())
}

/// A JSON API's refusal; with the RFC 6750 §3 challenge when a bearer token did not do (`challenge`: a
/// bearer-protected resource, which challenges whatever was wrong with the request).
fn api_refusal(error: &OAuthError, challenge: bool) -> HttpResponse {
    let mut response = headers(status(error.code));
    retry_after(&mut response, error);
    if challenge || matches!(error.code, ErrorCode::InvalidToken | ErrorCode::InsufficientScope) {
        response.insert_header((header::WWW_AUTHENTICATE, bearer_challenge(Some(error))));
    }
    json(response, error.code.as_str(), error.description.as_deref())
}

fn page_error(error: &OAuthError) -> HttpResponse {
    let status = status(error.code);
    let (title, message) = match status {
        StatusCode::SERVICE_UNAVAILABLE => (
            "Something went wrong",
            "The service cannot answer right now. Nothing was changed; try again in a moment.",
        ),
        status if status.is_server_error() => ("Something went wrong", "The request cannot be completed."),
        _ => (
            "This request cannot be completed",
            error.description.as_deref().unwrap_or("The request cannot be completed."),
        ),
    };
    let mut response = pages::error_page(status, title, message, Some(error.code.as_str()));
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static(RETRY_AFTER_SECONDS));
    }
    if let Some(value) =
        error.retry_after_seconds.and_then(|s| header::HeaderValue::from_str(&s.to_string()).ok())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

fn log(failure: &Failure) {
    match failure {
        Failure::Storage(error) => tracing::warn!(%error, "request failed: storage"),
        Failure::Refused(OAuthError { code, internal: Some(detail), .. }) => {
            tracing::warn!(error = code.as_str(), detail = %detail, "request refused")
        }
        Failure::Refused(_) => {}
    }
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        self.error_response().status()
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            WebError::Token(failure) => {
                log(failure);
                token_error(&refusal(failure))
            }
            WebError::Bearer(failure) => {
                log(failure);
                let error = refusal(failure);
                api_refusal(
                    &error,
                    error.code != ErrorCode::TemporarilyUnavailable && error.code != ErrorCode::ServerError,
                )
            }
            WebError::Page(failure) => {
                log(failure);
                page_error(&refusal(failure))
            }
            WebError::Api(ApiError::Refused(error)) => api_refusal(error, false),
            WebError::Api(ApiError::Storage(error)) => {
                WebError::Bearer(Failure::Storage(error.clone())).error_response()
            }
            WebError::Api(ApiError::NotFound) => json(headers(StatusCode::NOT_FOUND), "not_found", None),
            WebError::Api(ApiError::Conflict) => json(headers(StatusCode::CONFLICT), "conflict", None),
            WebError::NoCredentials | WebError::NotOperator { presented: false } => {
                // The challenge names no error (RFC 6750 §3.1); the body is JSON like every other refusal
                // of the API, so a client parses one shape.
                let mut response = headers(StatusCode::UNAUTHORIZED);
                response.insert_header((header::WWW_AUTHENTICATE, bearer_challenge(None)));
                json(response, ErrorCode::InvalidRequest.as_str(), Some("a bearer credential is required"))
            }
            WebError::NotOperator { presented: true } => {
                api_refusal(&OAuthError::new(ErrorCode::InvalidToken, "the admin credential is wrong"), true)
            }
            WebError::TooLarge { page: true } => pages::error_page(
                StatusCode::PAYLOAD_TOO_LARGE,
                "This request is too large",
                "The form sent is larger than this server accepts.",
                None,
            ),
            WebError::TooLarge { page: false } => {
                json(headers(StatusCode::PAYLOAD_TOO_LARGE), "payload_too_large", None)
            }
            WebError::MethodNotAllowed { allow } => {
                let mut response = headers(StatusCode::METHOD_NOT_ALLOWED);
                response.insert_header((header::ALLOW, allow.as_str()));
                json(response, "invalid_request", Some(&format!("use {allow}")))
            }
        }
    }
}
