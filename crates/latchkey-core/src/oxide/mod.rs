//! Latchkey's store behind oxide-auth's seams: the client registry ([`ClientRegistrar`]), the token issuer
//! ([`TokenIssuer`]) and the conversions between our token record and its [`Grant`].
//!
//! oxide-auth's primitives answer `Err(())` whatever went wrong. Ours record why in a [`FailureSlot`]
//! before they do, so the flow that drives them can still tell "the database is down" (503) from "the
//! code is wrong" (400), and say which RFC error applies (RFC 6749 §5.2).

mod issuer;
mod nonce;
mod registrar;

pub use issuer::TokenIssuer;
pub use nonce::NonceAddon;
pub use registrar::ClientRegistrar;

use crate::{OAuthError, Step};
use chrono::{DateTime, Utc};
use latchkey_model::{RedirectUri, TokenRecord};
use latchkey_store::StoreError;
use oxide_auth::primitives::grant::{Extensions, Grant};
use oxide_auth::primitives::scope::Scope as OxideScope;
use std::cell::RefCell;

/// Why a primitive said `Err(())`.
#[derive(Debug)]
pub enum Failure {
    Store(StoreError),
    Refused(OAuthError),
}

/// Where a primitive leaves the reason for its `Err(())`; the first reason wins. Its methods return
/// `Result<T, ()>` because that is the error type of oxide-auth's primitives they answer for.
#[derive(Debug, Default)]
pub struct FailureSlot(RefCell<Option<Failure>>);

impl FailureSlot {
    #[allow(clippy::result_unit_err)]
    pub fn refuse<T>(&self, error: OAuthError) -> Result<T, ()> {
        self.record(Failure::Refused(error))
    }

    #[allow(clippy::result_unit_err)]
    pub fn store<T>(&self, error: StoreError) -> Result<T, ()> {
        self.record(Failure::Store(error))
    }

    fn record<T>(&self, failure: Failure) -> Result<T, ()> {
        let mut slot = self.0.borrow_mut();
        if slot.is_none() {
            *slot = Some(failure);
        }
        Err(())
    }

    /// The step's outcome for a primitive that failed: its recorded reason, or `otherwise` when it left none.
    pub fn into_step<T>(self, otherwise: OAuthError) -> Step<T> {
        match self.0.into_inner() {
            Some(Failure::Store(error)) => Err(error),
            Some(Failure::Refused(error)) => Ok(Err(error)),
            None => Ok(Err(otherwise)),
        }
    }

    /// Takes the recorded reason, leaving the slot empty for the next call.
    pub fn take(&self) -> Option<Failure> {
        self.0.borrow_mut().take()
    }

    pub fn is_empty(&self) -> bool {
        self.0.borrow().is_none()
    }
}

/// Expiry is decided by the store against the injected clock before a grant reaches oxide-auth. Its state
/// machines compare `until` with the wall clock, which would make expiry untestable with a stepped clock,
/// so a grant handed to them carries no expiry of its own.
pub const DECIDED_EXPIRY: DateTime<Utc> = DateTime::<Utc>::MAX_UTC;

/// The identifier under which a grant carries the id of its token record.
pub const RECORD_EXTENSION: &str = "latchkey.record";

/// Our scope in oxide-auth's type. Both follow RFC 6749 §3.3, so every scope of ours converts.
pub fn oxide_scope(scope: &latchkey_model::Scope) -> Result<OxideScope, OAuthError> {
    scope.to_string().parse().map_err(|_| OAuthError::invalid_scope("scope is not a valid RFC 6749 scope"))
}

/// oxide-auth requires a URL on every grant; a grant without a redirect (client credentials, password) is
/// bound to the issuer instead.
fn grant_url(record: &TokenRecord) -> Result<url::Url, OAuthError> {
    let text = record.redirect_uri.as_ref().map(RedirectUri::as_str).unwrap_or(&record.issuer);
    url::Url::parse(text).map_err(|_| OAuthError::server_error())
}

/// The grant a token record stands for, as oxide-auth sees it.
pub fn grant_of(record: &TokenRecord) -> Result<Grant, OAuthError> {
    let mut extensions = Extensions::new();
    extensions.set_raw(
        RECORD_EXTENSION.to_owned(),
        oxide_auth::primitives::grant::Value::private(Some(record.id.to_string())),
    );
    Ok(Grant {
        owner_id: record.username.as_ref().map(|name| name.as_str().to_owned()).unwrap_or_default(),
        client_id: record.client_id.as_str().to_owned(),
        scope: oxide_scope(&record.scope)?,
        redirect_uri: grant_url(record)?,
        until: DECIDED_EXPIRY,
        extensions,
    })
}

/// The RFC 6749 §5.2 error for a refusal of one of oxide-auth's token state machines. They say which error
/// but not why, so `why` describes the check the machine made at that point.
pub fn machine_refusal(
    description: Option<&mut oxide_auth::code_grant::error::AccessTokenError>,
    why: &str,
) -> OAuthError {
    use crate::ErrorCode;
    use oxide_auth::code_grant::error::AccessTokenErrorType as Kind;
    let code = match description.map(|description| description.kind()) {
        Some(Kind::InvalidClient) => ErrorCode::InvalidClient,
        Some(Kind::InvalidGrant) => ErrorCode::InvalidGrant,
        Some(Kind::UnauthorizedClient) => ErrorCode::UnauthorizedClient,
        Some(Kind::UnsupportedGrantType) => ErrorCode::UnsupportedGrantType,
        Some(Kind::InvalidScope) => ErrorCode::InvalidScope,
        Some(Kind::InvalidRequest) => ErrorCode::InvalidRequest,
        // The machine was fed an input it did not ask for: a bug of ours, nothing the client can fix.
        None => {
            tracing::error!("an oxide-auth state machine was driven out of order");
            return OAuthError::server_error();
        }
    };
    OAuthError::new(code, why)
}
