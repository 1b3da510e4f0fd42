use latchkey_core::{Failure, OAuthError};
use latchkey_store::StoreError;

/// What the JSON APIs (the owner token API and the operator actions) answer when they cannot do what was
/// asked. The server renders it once: `{"error", "error_description"}` with the matching status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The caller's mistake or a protocol refusal: `invalid_request` (400), `invalid_token` (401),
    /// `insufficient_scope` (403), … Nothing was written.
    #[error("{0}")]
    Refused(OAuthError),
    #[error("not found")]
    NotFound,
    /// A unique value (a username, a client id) is taken.
    #[error("already exists")]
    Conflict,
    #[error("storage: {0}")]
    Storage(StoreError),
}

impl ApiError {
    /// A malformed or refused input (400).
    pub fn invalid(why: impl std::fmt::Display) -> Self {
        ApiError::Refused(OAuthError::invalid_request(why.to_string()))
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict(_) => ApiError::Conflict,
            StoreError::InvalidInput(why) => ApiError::invalid(why),
            other => ApiError::Storage(other),
        }
    }
}

impl From<OAuthError> for ApiError {
    fn from(error: OAuthError) -> Self {
        ApiError::Refused(error)
    }
}

impl From<Failure> for ApiError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Refused(error) => ApiError::Refused(error),
            Failure::Storage(error) => error.into(),
        }
    }
}
