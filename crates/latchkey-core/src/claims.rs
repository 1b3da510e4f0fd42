//! Standard claims released by scope (OpenID Connect Core §5.4).

use latchkey_model::{Scope, User};
use serde_json::{Map, Value};

const PROFILE: &[&str] = &[
    "name",
    "family_name",
    "given_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "updated_at",
];
const EMAIL: &[&str] = &["email", "email_verified"];
const ADDRESS: &[&str] = &["address"];
const PHONE: &[&str] = &["phone_number", "phone_number_verified"];

/// Every claim of `user` that `scope` releases, always with `sub`.
pub fn user_claims(user: &User, scope: &Scope) -> Map<String, Value> {
    let mut all = user.claims.clone();
    if let Some(name) = &user.name {
        all.insert("name".into(), Value::from(name.as_str()));
    }
    if let Some(email) = &user.email {
        all.insert("email".into(), Value::from(email.as_str()));
        all.insert("email_verified".into(), Value::from(user.email_verified));
    }
    all.entry("preferred_username").or_insert_with(|| Value::from(user.username.as_str()));
    all.insert("updated_at".into(), Value::from(user.updated_at.unix_seconds()));

    let mut released = Map::new();
    released.insert("sub".into(), Value::from(user.subject.as_str()));
    for (scope_name, names) in
        [("profile", PROFILE), ("email", EMAIL), ("address", ADDRESS), ("phone", PHONE)]
    {
        if scope.contains(scope_name) {
            for name in names {
                if let Some(value) = all.get(*name) {
                    released.insert((*name).to_owned(), value.clone());
                }
            }
        }
    }
    released
}

/// The claim names this server can release (for discovery's `claims_supported`).
pub fn supported_claims() -> Vec<&'static str> {
    let mut names = vec!["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "c_hash"];
    names.extend(PROFILE.iter().chain(EMAIL).chain(ADDRESS).chain(PHONE));
    names
}
