//! The parameters of a `password` token request (RFC 6749 §4.3.2).

use latchkey_core::{Form, OAuthError};
use latchkey_model::Scope;

#[derive(Clone)]
pub struct PasswordRequest {
    pub username: String,
    pub password: String,
    pub scope: Option<Scope>,
}

impl PasswordRequest {
    pub fn from_form(form: &Form) -> Result<Self, OAuthError> {
        let scope = match form.single("scope")? {
            None => None,
            Some(text) => Some(Scope::parse(&text).map_err(|e| OAuthError::invalid_scope(e.to_string()))?),
        };
        Ok(Self { username: form.required("username")?, password: form.required("password")?, scope })
    }
}

impl std::fmt::Debug for PasswordRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordRequest").field("username", &self.username).finish_non_exhaustive()
    }
}
