//! The authorization code grant with PKCE: RFC 6749 §4.1, RFC 7636, OpenID Connect Core §3.1.
//!
//! Three steps, each a pure decision plus the store operations of one transaction:
//! - [`request`]: validate the authorization request (§4.1.1) and decide whether an error may be
//!   redirected at all (§4.1.2.1);
//! - [`authorize`]: create the token record, choose login or consent, issue the code (§4.1.2);
//! - [`exchange`]: redeem the code at the token endpoint (§4.1.3), exactly once.
//!
//! Built on oxide-auth's seams (see `docs/adr/0001-oxide-auth.md`): the request binds its client and
//! negotiates its scope through `latchkey_core::oxide::ClientRegistrar`, codes are issued and redeemed by
//! [`authorizer::CodeAuthorizer`], and the exchange drives oxide-auth's access-token state machine with
//! its PKCE addon (S256 only; a verifier without a challenge is refused, RFC 9700 §4.8), our nonce addon,
//! and `latchkey_core::oxide::TokenIssuer`.

pub mod authorize;
pub mod authorizer;
pub mod exchange;
pub mod pkce;
pub mod request;
