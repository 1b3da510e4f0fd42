//! Latchkey's endpoints below HTTP. Each takes typed input (parsed from form pairs, a bearer token, a
//! session cookie's secret) and a [`Context`], runs its transactions, and returns a typed answer; the
//! server only extracts the input and renders the answer.
//!
//! - [`token`]: the token endpoint's `grant_type` dispatcher, and introspection and revocation;
//! - [`browser`]: the authorization flow as steps (authorize → login by any method → consent → answer);
//! - [`logout`]: RP-initiated logout; [`userinfo`]; [`discovery`];
//! - [`owner_tokens`]: a user's own tokens, behind the bearer check;
//! - [`operations`]: every operator action, shared by the command line and the admin API.
//!
//! Errors: steps return [`latchkey_core::Outcome`] (a protocol refusal or a storage failure); the JSON APIs
//! return [`ApiError`].

pub mod background;
pub mod browser;
mod context;
pub mod discovery;
mod error;
pub mod keys;
pub mod logout;
pub mod operations;
pub mod owner_tokens;
pub mod session;
pub mod token;
mod usage;
pub mod userinfo;
pub mod views;

pub use context::{Context, RateLimits};
pub use error::ApiError;
pub use keys::SigningKeys;

use latchkey_model::{GrantType, ResponseType};

/// The grants this build can issue: the legacy ones only when compiled in.
pub fn supported_grants() -> Vec<GrantType> {
    let mut grants =
        vec![GrantType::AuthorizationCode, GrantType::RefreshToken, GrantType::ClientCredentials];
    if cfg!(feature = "password") {
        grants.push(GrantType::Password);
    }
    if cfg!(feature = "implicit") {
        grants.push(GrantType::Implicit);
    }
    grants
}

/// The `response_type` values this build answers.
pub fn offered_response_types() -> Vec<ResponseType> {
    ResponseType::ALL
        .into_iter()
        .filter(|kind| *kind == ResponseType::Code || cfg!(feature = "implicit"))
        .collect()
}
