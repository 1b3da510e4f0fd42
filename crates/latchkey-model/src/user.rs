//! Resource owners: the people who log in.

use crate::{Timestamp, Username};
use std::fmt;

/// An Argon2id hash in PHC string form (`$argon2id$v=19$m=…`). Hashing and verifying live in the core
/// crate; the model only carries the value and keeps it out of `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    pub fn from_phc(phc: impl Into<String>) -> Self {
        Self(phc.into())
    }

    pub fn as_phc(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(…)")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub username: Username,
    /// The OpenID Connect `sub`: random and never reassigned, so renaming a user does not change it.
    pub subject: String,
    pub password_hash: PasswordHash,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    /// Further standard profile claims (given_name, phone_number, address, …) as a JSON object.
    pub claims: serde_json::Map<String, serde_json::Value>,
    pub disabled: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hash_debug_hides_the_hash() {
        let hash = PasswordHash::from_phc("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA");
        assert_eq!(format!("{hash:?}"), "PasswordHash(…)");
    }
}
