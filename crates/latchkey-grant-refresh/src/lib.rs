//! The refresh token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2).
//!
//! - [`request`]: the typed `refresh_token` token request;
//! - [`rotation`]: every use of a refresh token retires it and issues a new one in a new record of the same
//!   family; presenting a retired one again revokes the whole family. What is issued stays within what the
//!   owner granted and what the client may still have, and only for an enabled user.

pub mod request;
pub mod rotation;

pub use request::RefreshRequest;
pub use rotation::refresh;
