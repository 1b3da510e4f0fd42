//! The `nonce` addon (OpenID Connect Core §3.1.2.1, §3.1.3.7). oxide-auth's access-token stage replaces a
//! code's extensions with what the access-token addons return, so a nonce that no addon carries forward
//! never reaches the ID token. The code's grant carries the nonce of its authorization request; this addon hands it on.

use oxide_auth::frontends::simple::extensions::{AccessTokenAddon, AccessTokenRequest, AddonResult};
use oxide_auth::primitives::grant::{Extensions, GrantExtension, Value};

pub struct NonceAddon;

impl NonceAddon {
    /// The nonce a grant carries, if any.
    pub fn of(extensions: &Extensions) -> Option<String> {
        extensions.clone().remove(&NonceAddon).and_then(|value| value.into_private_value().ok().flatten())
    }

    pub fn value(nonce: Option<&str>) -> Option<Value> {
        nonce.map(|nonce| Value::private(Some(nonce.to_owned())))
    }
}

impl GrantExtension for NonceAddon {
    fn identifier(&self) -> &'static str {
        "nonce"
    }
}

impl AccessTokenAddon for NonceAddon {
    fn execute(&self, _: &dyn AccessTokenRequest, code_data: Option<Value>) -> AddonResult {
        match code_data {
            Some(value) => AddonResult::Data(value),
            None => AddonResult::Ok,
        }
    }
}
