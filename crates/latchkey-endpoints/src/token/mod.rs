//! The endpoints a client calls with its own credentials: the token endpoint (RFC 6749 §3.2),
//! introspection (RFC 7662) and revocation (RFC 7009). Each request is authenticated the same way
//! (RFC 6749 §2.3, OpenID Connect Core §9), in the transaction that then answers it.

mod dispatch;
mod introspect;
mod revoke;

pub use dispatch::{token, GrantRequest};
pub use introspect::introspect;
pub use revoke::revoke;

use crate::Context;
use latchkey_core::client_auth::{AuthContext, PresentedCredentials};
use latchkey_core::Form;

/// Which of them a request was sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Token,
    Introspection,
    Revocation,
}

impl Endpoint {
    pub const fn path(self) -> &'static str {
        match self {
            Endpoint::Token => "/token",
            Endpoint::Introspection => "/introspect",
            Endpoint::Revocation => "/revoke",
        }
    }
}

/// A request from a client: what it presented to authenticate, its form, and the address it came from.
/// `Debug` shows no secret: the credentials redact theirs, the form shows its parameter names.
#[derive(Debug, Clone)]
pub struct ClientRequest {
    pub credentials: PresentedCredentials,
    pub form: Form,
    pub client_address: String,
}

/// What a `private_key_jwt` assertion sent to `endpoint` may name as its audience (OpenID Connect Core §9:
/// the issuer or the token endpoint; the endpoint actually called is also accepted), and the time.
fn auth_context(ctx: &Context, endpoint: Endpoint, client_address: &str) -> AuthContext {
    let issuer = &ctx.issuer;
    let mut audiences = vec![issuer.to_string(), issuer.endpoint("/token"), issuer.endpoint(endpoint.path())];
    audiences.dedup();
    AuthContext {
        audiences,
        now: ctx.now(),
        limit: ctx.limits.client.clone(),
        client_address: client_address.to_owned(),
    }
}
