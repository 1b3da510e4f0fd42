//! The one place where failures become HTTP responses.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use latchkey_store::StoreError;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("not found")]
    NotFound,
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("{0}")]
    BadRequest(String),
    /// The admin API's bearer credential is missing or wrong (RFC 6750 §3).
    #[error("admin credential missing or wrong")]
    Unauthorized,
    #[error("{0}")]
    Internal(String),
}

/// Malformed bodies are the caller's mistake: 400 (or 413 when too large), never a server error.
impl From<actix_web::error::JsonPayloadError> for HttpError {
    fn from(error: actix_web::error::JsonPayloadError) -> Self {
        use actix_web::error::JsonPayloadError as E;
        match error {
            E::Overflow { .. } | E::OverflowKnownLength { .. } => HttpError::PayloadTooLarge,
            other => HttpError::BadRequest(other.to_string()),
        }
    }
}

impl From<actix_web::error::UrlencodedError> for HttpError {
    fn from(error: actix_web::error::UrlencodedError) -> Self {
        use actix_web::error::UrlencodedError as E;
        match error {
            E::Overflow { .. } => HttpError::PayloadTooLarge,
            other => HttpError::BadRequest(other.to_string()),
        }
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_description: Option<&'a str>,
}

impl ResponseError for HttpError {
    fn status_code(&self) -> StatusCode {
        match self {
            HttpError::Store(StoreError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            HttpError::Store(StoreError::NotFound) | HttpError::NotFound => StatusCode::NOT_FOUND,
            HttpError::Store(StoreError::Conflict(_)) => StatusCode::CONFLICT,
            HttpError::Store(StoreError::Constraint(_) | StoreError::Corrupt(_)) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            HttpError::Store(StoreError::InvalidInput(_)) => StatusCode::BAD_REQUEST,
            HttpError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            HttpError::BadRequest(_) => StatusCode::BAD_REQUEST,
            HttpError::Unauthorized => StatusCode::UNAUTHORIZED,
            HttpError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        // Storage details stay in the log: they can name tables, hosts or constraint values.
        let (error, description) = match self {
            HttpError::Store(StoreError::Unavailable(_)) => ("temporarily_unavailable", None),
            HttpError::Store(_) if status.is_server_error() => ("server_error", None),
            HttpError::Store(StoreError::Conflict(_)) => ("conflict", None),
            HttpError::Store(StoreError::InvalidInput(why)) => ("invalid_request", Some(why.as_str())),
            HttpError::Store(_) | HttpError::NotFound => ("not_found", None),
            HttpError::PayloadTooLarge => ("payload_too_large", None),
            HttpError::BadRequest(why) => ("invalid_request", Some(why.as_str())),
            HttpError::Unauthorized => ("invalid_token", None),
            HttpError::Internal(_) => ("server_error", None),
        };
        if status.is_server_error() {
            tracing::warn!(error = %self, "request failed");
        }
        let mut response = HttpResponse::build(status);
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header((header::RETRY_AFTER, "5"));
        }
        if status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"latchkey-admin\""));
        }
        response.json(Body { error, error_description: description })
    }
}

/// An OAuth error as the token endpoint answers it (RFC 6749 §5.2): JSON, never cached; 401 with a
/// `WWW-Authenticate` challenge for a client that authenticated with HTTP Basic and failed.
pub fn oauth_error_response(error: &latchkey_core::OAuthError) -> HttpResponse {
    use latchkey_core::ErrorCode;
    let status = match error.code {
        ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
        ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    if let Some(internal) = &error.internal {
        tracing::warn!(error = %error.code.as_str(), detail = %internal, "request failed");
    }
    let mut response = HttpResponse::build(status);
    response.insert_header((header::CACHE_CONTROL, "no-store")).insert_header((header::PRAGMA, "no-cache"));
    if error.code == ErrorCode::InvalidClient && error.used_basic_auth {
        response.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"latchkey\""));
    }
    response.json(Body { error: error.code.as_str(), error_description: error.description.as_deref() })
}
