//! The authorization code grant with PKCE: RFC 6749 §4.1, RFC 7636, OpenID Connect Core §3.1. This crate
//! owns the authorization endpoint's rules, which the implicit grant shares.
//!
//! - [`request`]: validate the authorization request (§4.1.1) and decide whether an error may be
//!   redirected at all (§4.1.2.1);
//! - [`authorize`]: create the token record, decide what comes next (login, consent, answer), move it
//!   through login and consent (§4.1.2);
//! - [`code`]: issue the single-use code (§4.1.2);
//! - [`exchange`]: redeem it at the token endpoint (§4.1.3), exactly once;
//! - [`pkce`]: S256 challenges and verifiers (RFC 7636).
//!
//! oxide-auth's seams used here: the request binds its client and negotiates its scope through
//! `latchkey_core::oxide::ClientRegistrar`, and verifiers are compared by its PKCE extension (see
//! `docs/adr/0002-oxide-auth-role.md`).

pub mod authorize;
pub mod code;
pub mod exchange;
pub mod pkce;
pub mod request;
