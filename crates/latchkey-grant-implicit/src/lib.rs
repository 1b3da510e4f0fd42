//! The implicit grant (RFC 6749 §4.2) and the OpenID Connect implicit flow (Core §3.2). Legacy (RFC 9700
//! §2.1.2 says not to use it): off unless a client is registered with it, and a server can be built
//! without it.
//!
//! The request is validated and walks through login and consent exactly like a code request (the
//! authorization endpoint is the code grant's); at the end, instead of a code, [`response`] issues the
//! tokens themselves, for the fragment or a form post. Never a refresh token (§4.2.2).

pub mod response;

pub use response::issue;
