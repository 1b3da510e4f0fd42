//! The error model below HTTP. Which type belongs where:
//!
//! - [`latchkey_store::StoreError`]: storage could not do what was asked (unreachable, a unique value taken,
//!   a corrupt row). Only the store creates it.
//! - [`OAuthError`]: a protocol refusal with its RFC error code (RFC 6749 §4.1.2.1 and §5.2, RFC 6750 §3.1,
//!   OpenID Connect Core §3.1.2.6). Grants, client authentication, the bearer check, introspection and
//!   revocation refuse with it.
//! - [`Failure`]: what a flow step returns when it does not succeed: a refusal or a storage failure, so one
//!   `?` carries both. [`crate::tx`] runs a step in a transaction that **commits on a refusal** (a replayed
//!   code or refresh token revokes its family, and that must stick) and **rolls back on a storage failure**
//!   (the caller answers 503 and nothing half-done remains).
//! - Operator and API input errors (a malformed name, an unknown user) are the endpoint layer's `ApiError`.
//!
//! The server renders each of them once per surface: the token endpoint's JSON, a bearer challenge, the JSON
//! APIs, an HTML page, or an error sent back to the client's redirect URI.

use latchkey_store::StoreError;
use std::fmt;

/// Error codes of RFC 6749 §4.1.2.1 and §5.2, RFC 6750 §3.1, RFC 7009 §2.2.1 and OpenID Connect Core §3.1.2.6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    AccessDenied,
    InvalidToken,
    InsufficientScope,
    LoginRequired,
    ConsentRequired,
    InteractionRequired,
    RequestNotSupported,
    RequestUriNotSupported,
    UnsupportedTokenType,
    ServerError,
    TemporarilyUnavailable,
    /// A rate limit (HTTP 429 with `Retry-After`); no RFC names it, so the name says what it is.
    TooManyRequests,
}

impl ErrorCode {
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InsufficientScope => "insufficient_scope",
            ErrorCode::LoginRequired => "login_required",
            ErrorCode::ConsentRequired => "consent_required",
            ErrorCode::InteractionRequired => "interaction_required",
            ErrorCode::RequestNotSupported => "request_not_supported",
            ErrorCode::RequestUriNotSupported => "request_uri_not_supported",
            ErrorCode::UnsupportedTokenType => "unsupported_token_type",
            ErrorCode::ServerError => "server_error",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::TooManyRequests => "too_many_requests",
        }
    }
}

/// A protocol refusal: its code, a description for the developer of the client, and how the client
/// authenticated when that decides the response (RFC 6749 §5.2: a challenge after HTTP Basic).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub code: ErrorCode,
    /// Only the characters RFC 6749 §5.2 allows in `error_description`, so it is safe in a header, a URL
    /// and a quoted string alike; never a secret.
    pub description: Option<String>,
    pub used_basic_auth: bool,
    /// The scope that would have been enough (RFC 6750 §3: `insufficient_scope`).
    pub scope: Option<String>,
    /// Detail for the log only, never for the response.
    pub internal: Option<String>,
    /// For [`ErrorCode::TooManyRequests`]: the seconds until a new request can be admitted.
    pub retry_after_seconds: Option<i64>,
}

/// RFC 6749 §5.2 and §4.1.2.1: `error_description` is `%x20-21 / %x23-5B / %x5D-7E`. A quote or backslash
/// becomes its harmless look-alike; anything else outside the set (controls, non-ASCII) a `?`.
fn describable(description: &str) -> String {
    description
        .chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            '\u{20}'..='\u{7e}' => c,
            _ => '?',
        })
        .collect()
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl AsRef<str>) -> Self {
        Self {
            code,
            description: Some(describable(description.as_ref())),
            used_basic_auth: false,
            scope: None,
            internal: None,
            retry_after_seconds: None,
        }
    }

    pub fn bare(code: ErrorCode) -> Self {
        Self {
            code,
            description: None,
            used_basic_auth: false,
            scope: None,
            internal: None,
            retry_after_seconds: None,
        }
    }

    /// A rate limit refused the request; try again in `seconds`.
    pub fn too_many_requests(seconds: i64) -> Self {
        let seconds = seconds.max(1);
        Self {
            retry_after_seconds: Some(seconds),
            ..Self::new(ErrorCode::TooManyRequests, format!("too many requests; try again in {seconds} s"))
        }
    }

    pub fn invalid_request(description: impl AsRef<str>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    pub fn invalid_grant(description: impl AsRef<str>) -> Self {
        Self::new(ErrorCode::InvalidGrant, description)
    }

    pub fn invalid_client(used_basic_auth: bool) -> Self {
        Self { used_basic_auth, ..Self::new(ErrorCode::InvalidClient, "client authentication failed") }
    }

    pub fn invalid_scope(description: impl AsRef<str>) -> Self {
        Self::new(ErrorCode::InvalidScope, description)
    }

    pub fn unauthorized_client(description: impl AsRef<str>) -> Self {
        Self::new(ErrorCode::UnauthorizedClient, description)
    }

    pub fn server_error() -> Self {
        Self::bare(ErrorCode::ServerError)
    }

    /// The same refusal with a detail for the log.
    pub fn logged(self, internal: impl Into<String>) -> Self {
        Self { internal: Some(internal.into()), ..self }
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code.as_str())?;
        if let Some(description) = &self.description {
            write!(f, ": {description}")?;
        }
        Ok(())
    }
}

impl std::error::Error for OAuthError {}

/// Why a flow step did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// The protocol says no. What the step wrote before refusing is committed.
    #[error("{0}")]
    Refused(OAuthError),
    /// Storage failed. The transaction rolls back; the caller answers 503 (or 500 for a corrupt row).
    #[error("storage: {0}")]
    Storage(StoreError),
}

impl From<OAuthError> for Failure {
    fn from(error: OAuthError) -> Self {
        Failure::Refused(error)
    }
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        Failure::Storage(error)
    }
}

/// What a flow step returns.
pub type Outcome<T> = Result<T, Failure>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_hold_only_what_rfc_6749_allows() {
        let error = OAuthError::new(ErrorCode::InvalidScope, "scope \"a\\b\" § 5.2\r\n\tü\u{7f}");
        let description = error.description.unwrap();
        assert_eq!(description, "scope 'a/b' ? 5.2?????");
        let allowed = |b: u8| matches!(b, 0x20..=0x21 | 0x23..=0x5b | 0x5d..=0x7e);
        assert!(description.bytes().all(allowed));
        let every: String = (0..=0x2ff_u32).filter_map(char::from_u32).collect();
        assert!(OAuthError::invalid_request(every).description.unwrap().bytes().all(allowed));
    }

    #[test]
    fn a_failure_says_whether_it_commits() {
        let refused: Failure = OAuthError::invalid_grant("no").into();
        assert!(matches!(refused, Failure::Refused(_)));
        let lost: Failure = StoreError::Unavailable("down".into()).into();
        assert!(matches!(lost, Failure::Storage(StoreError::Unavailable(_))));
    }
}
