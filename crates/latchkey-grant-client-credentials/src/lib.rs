//! The client credentials grant (RFC 6749 §4.4): a confidential client asks for a token on its own behalf.
//!
//! This is the hot path of service-to-service traffic. The client was already authenticated with a
//! SHA-256 comparison (its secret is generated and high-entropy), so issuing costs one insert.

pub mod grant;
pub mod request;

pub use grant::{issue, prepare, Prepared};
pub use request::ClientCredentialsRequest;
