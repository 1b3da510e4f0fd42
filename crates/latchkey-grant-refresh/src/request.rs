//! The parameters of a `refresh_token` token request (RFC 6749 §6).

use latchkey_core::{Form, OAuthError};
use latchkey_model::{PlainSecret, Scope};

#[derive(Clone)]
pub struct RefreshRequest {
    pub refresh_token: PlainSecret,
    /// A narrower scope, or `None` for everything granted.
    pub scope: Option<Scope>,
}

impl RefreshRequest {
    pub fn from_form(form: &Form) -> Result<Self, OAuthError> {
        let scope = match form.single("scope")? {
            None => None,
            Some(text) => Some(Scope::parse(&text).map_err(|e| OAuthError::invalid_scope(e.to_string()))?),
        };
        Ok(Self { refresh_token: PlainSecret::from_presented(form.required("refresh_token")?), scope })
    }
}

impl std::fmt::Debug for RefreshRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshRequest").field("scope", &self.scope).finish_non_exhaustive()
    }
}
