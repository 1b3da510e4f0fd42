//! Black-box HTTP tests: the real server on 127.0.0.1:0 over a real database, driven with reqwest.
//! One binary for all of them, so the server code is compiled and linked once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod admin;
mod authorize_endpoint;
mod client_credentials;
mod code_and_pkce;
mod discovery;
mod health;
mod http_basics;
#[cfg(feature = "legacy")]
mod implicit;
mod introspection_revocation;
mod janitor;
#[cfg(not(feature = "legacy"))]
mod legacy_grants_left_out;
mod metrics;
mod openapi;
mod operator_changes;
mod owner_tokens;
mod pages;
#[cfg(feature = "legacy")]
mod password_grant;
mod private_key_jwt;
mod protocol_details;
mod rate_limits;
mod refresh;
mod relying_party;
