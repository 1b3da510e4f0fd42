//! The one place where failures become HTTP responses, one rendering per surface:
//!
//! - the token, introspection and revocation endpoints: RFC 6749 §5.2 JSON, with the Basic challenge on 401;
//! - bearer-protected resources (UserInfo): an RFC 6750 §3 challenge;
//! - the JSON APIs (owner tokens, admin): `{"error", "error_description"}`, a bearer challenge on 401/403;
//! - pages: the HTML error page, never JSON, never a redirect.
//!
//! An error sent back to a client's redirect URI (RFC 6749 §4.1.2.1) is an answer, not an error here:
//! the endpoint layer builds it and the page renderer sends it. Storage failures are 503 with `Retry-After`
//! everywhere, so nothing is ever reported done that was not.

use crate::pages;
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use latchkey_core::{ErrorCode, Failure, OAuthError};
use latchkey_endpoints::ApiError;
use latchkey_store::StoreError;
use serde::Serialize;

/// The realm of every bearer challenge.
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
    /// The admin API without its credential (`presented: false`: the bare challenge of RFC 6750 §3.1), or
    /// with a wrong one.
    #[error("the admin credential is missing or wrong")]
    NotOperator { presented: bool },
    /// A body over the limit: a page for pages, JSON elsewhere.
    #[error("request body too large")]
    TooLarge { page: bool },
    /// RFC 6749 §3.2: the token endpoint (and its kin) take POST only.
    #[error("use POST")]
    PostOnly,
}

impl WebError {
    /// A malformed request to a page (400).
    pub fn bad_page(why: &str) -> Self {
        WebError::Page(OAuthError::invalid_request(why).into())
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

fn with_body(
    mut builder: actix_web::HttpResponseBuilder,
    error: &str,
    description: Option<&str>,
) -> HttpResponse {
    builder.json(Body { error, error_description: description })
}

/// Storage details stay in the log: they can name tables, hosts or constraint values.
fn storage(error: &StoreError) -> (StatusCode, &'static str) {
    match error {
        StoreError::Unavailable(_) => {
            (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::TemporarilyUnavailable.as_str())
        }
        _ => (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::ServerError.as_str()),
    }
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

/// RFC 6749 §5.2.
fn token_error(failure: &Failure) -> HttpResponse {
    let error = match failure {
        Failure::Refused(error) => error,
        Failure::Storage(StoreError::InvalidInput(why)) => {
            return token_error(&OAuthError::invalid_request(why).into());
        }
        Failure::Storage(error) => {
            let (status, code) = storage(error);
            return with_body(headers(status), code, None);
        }
    };
    let status = match error.code {
        ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
        ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut response = headers(status);
    if error.code == ErrorCode::InvalidClient && error.used_basic_auth {
        response.insert_header((header::WWW_AUTHENTICATE, format!("Basic realm=\"{REALM}\"")));
    }
    with_body(response, error.code.as_str(), error.description.as_deref())
}

/// The `WWW-Authenticate` value of RFC 6750 §3 for `error` (none: the request had no credentials).
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

fn bearer_status(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidToken => StatusCode::UNAUTHORIZED,
        ErrorCode::InsufficientScope => StatusCode::FORBIDDEN,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// RFC 6750 §3: the challenge, and the same error as JSON.
fn bearer_error(error: &OAuthError) -> HttpResponse {
    let mut response = headers(bearer_status(error.code));
    response.insert_header((header::WWW_AUTHENTICATE, bearer_challenge(Some(error))));
    with_body(response, error.code.as_str(), error.description.as_deref())
}

fn api_error(error: &ApiError) -> HttpResponse {
    match error {
        ApiError::Refused(error)
            if matches!(error.code, ErrorCode::InvalidToken | ErrorCode::InsufficientScope) =>
        {
            bearer_error(error)
        }
        ApiError::Refused(error) => {
            let status = match error.code {
                ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::BAD_REQUEST,
            };
            with_body(headers(status), error.code.as_str(), error.description.as_deref())
        }
        ApiError::NotFound => with_body(headers(StatusCode::NOT_FOUND), "not_found", None),
        ApiError::Conflict => with_body(headers(StatusCode::CONFLICT), "conflict", None),
        ApiError::Storage(error) => {
            let (status, code) = storage(error);
            with_body(headers(status), code, None)
        }
    }
}

fn page_error(failure: &Failure) -> HttpResponse {
    let (status, message, code) = match failure {
        Failure::Storage(error) => {
            let (status, _) = storage(error);
            (status, "The service cannot answer right now. Nothing was changed; try again in a moment.", None)
        }
        Failure::Refused(error) => {
            let status = match error.code {
                ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::BAD_REQUEST,
            };
            let message = error.description.as_deref().unwrap_or("The request cannot be completed.");
            (status, message, Some(error.code.as_str()))
        }
    };
    let title =
        if status.is_server_error() { "Something went wrong" } else { "This request cannot be completed" };
    let mut response = pages::error_page(status, title, message, code);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static(RETRY_AFTER_SECONDS));
    }
    response
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        self.error_response().status()
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            WebError::Token(failure) | WebError::Bearer(failure) | WebError::Page(failure) => log(failure),
            WebError::Api(ApiError::Storage(error)) => tracing::warn!(%error, "request failed: storage"),
            _ => {}
        }
        match self {
            WebError::Token(failure) => token_error(failure),
            WebError::Bearer(Failure::Refused(error)) => bearer_error(error),
            WebError::Bearer(Failure::Storage(error)) => api_error(&ApiError::Storage(error.clone())),
            WebError::Api(error) => api_error(error),
            WebError::Page(failure) => page_error(failure),
            WebError::NoCredentials => HttpResponse::Unauthorized()
                .insert_header((header::WWW_AUTHENTICATE, bearer_challenge(None)))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish(),
            WebError::NotOperator { presented: false } => WebError::NoCredentials.error_response(),
            WebError::NotOperator { presented: true } => {
                bearer_error(&OAuthError::new(ErrorCode::InvalidToken, "the admin credential is wrong"))
            }
            WebError::TooLarge { page } => too_large(*page),
            WebError::PostOnly => {
                let mut response = headers(StatusCode::METHOD_NOT_ALLOWED);
                response.insert_header((header::ALLOW, "POST"));
                with_body(response, "invalid_request", Some("use POST"))
            }
        }
    }
}

/// A body over the limit: a page for pages, JSON elsewhere.
pub fn too_large(page: bool) -> HttpResponse {
    let status = StatusCode::PAYLOAD_TOO_LARGE;
    if page {
        return pages::error_page(
            status,
            "This request is too large",
            "The form sent is larger than this server accepts.",
            None,
        );
    }
    with_body(headers(status), "payload_too_large", None)
}

/// Nothing lives at this path (JSON: every path that is not a page is an API).
pub fn not_found() -> HttpResponse {
    api_error(&ApiError::NotFound)
}
