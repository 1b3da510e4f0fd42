//! The parameters of a `client_credentials` token request (RFC 6749 §4.4.2).

use latchkey_core::{Form, OAuthError};
use latchkey_model::Scope;

#[derive(Debug, Clone)]
pub struct ClientCredentialsRequest {
    /// `None`: everything the client may have that needs no user.
    pub scope: Option<Scope>,
}

impl ClientCredentialsRequest {
    pub fn from_form(form: &Form) -> Result<Self, OAuthError> {
        let scope = match form.single("scope")? {
            None => None,
            Some(text) => {
                Some(Scope::parse(&text).map_err(|_| OAuthError::invalid_scope("malformed scope"))?)
            }
        };
        Ok(Self { scope })
    }
}
