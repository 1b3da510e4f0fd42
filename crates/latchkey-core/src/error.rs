//! The one protocol error type. Every grant returns it; the server maps it to HTTP in one place.

use std::fmt;

/// Error codes of RFC 6749 §4.1.2.1 and §5.2, RFC 6750 §3.1 and OpenID Connect Core §3.1.2.6.
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
        }
    }
}

/// A protocol error: its code, a description for the developer of the client (never containing secrets,
/// and free of CR, LF and TAB so it is safe in headers and URLs), and how the client authenticated when that
/// decides the response (RFC 6749 §5.2: `WWW-Authenticate` after HTTP Basic).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: Option<String>,
    pub used_basic_auth: bool,
    /// Storage detail for the log only, never for the response.
    pub internal: Option<String>,
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        let description: String =
            description.into().chars().filter(|c| !matches!(c, '\r' | '\n' | '\t')).collect();
        Self { code, description: Some(description), used_basic_auth: false, internal: None }
    }

    pub fn bare(code: ErrorCode) -> Self {
        Self { code, description: None, used_basic_auth: false, internal: None }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidGrant, description)
    }

    pub fn invalid_client(used_basic_auth: bool) -> Self {
        Self { used_basic_auth, ..Self::new(ErrorCode::InvalidClient, "client authentication failed") }
    }

    pub fn invalid_scope(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidScope, description)
    }

    pub fn server_error() -> Self {
        Self::bare(ErrorCode::ServerError)
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

pub type OAuthResult<T> = Result<T, OAuthError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_cannot_inject_lines() {
        let error = OAuthError::invalid_request("bad\r\nSet-Cookie: x\tthing");
        assert_eq!(error.description.as_deref(), Some("badSet-Cookie: xthing"));
    }
}
