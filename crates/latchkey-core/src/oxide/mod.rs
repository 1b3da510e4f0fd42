//! oxide-auth's client registry seam over a stored client ([`ClientRegistrar`]), and the conversion of our
//! scopes into its type. See `docs/adr/0002-oxide-auth-role.md` for which of oxide-auth's seams Latchkey
//! uses and why it no longer drives its state machines.

mod registrar;

pub use registrar::ClientRegistrar;

use crate::OAuthError;
use oxide_auth::primitives::scope::Scope as OxideScope;

/// Our scope in oxide-auth's type. Both follow RFC 6749 §3.3, so every scope of ours converts.
pub fn oxide_scope(scope: &latchkey_model::Scope) -> Result<OxideScope, OAuthError> {
    scope.to_string().parse().map_err(|_| OAuthError::invalid_scope("scope is not a valid RFC 6749 scope"))
}
