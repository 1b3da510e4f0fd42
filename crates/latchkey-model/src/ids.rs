use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{what} must not be empty")]
    Empty { what: &'static str },
    #[error("{what} is longer than {max} characters")]
    TooLong { what: &'static str, max: usize },
    #[error("{what} may only contain {allowed}")]
    BadCharacter { what: &'static str, allowed: &'static str },
}

fn check(
    value: &str,
    what: &'static str,
    max: usize,
    allowed: &'static str,
    ok: impl Fn(char) -> bool,
) -> Result<(), IdError> {
    if value.is_empty() {
        return Err(IdError::Empty { what });
    }
    if value.chars().count() > max {
        return Err(IdError::TooLong { what, max });
    }
    if !value.chars().all(ok) {
        return Err(IdError::BadCharacter { what, allowed });
    }
    Ok(())
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                Self::parse(&value)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(value: &str) -> Result<Self, IdError> {
                Self::parse(value)
            }
        }
    };
}

string_id!(
    /// An OAuth client identifier. Restricted to URL-unreserved characters so that it can appear unescaped
    /// in paths (`/admin/clients/{id}`) and in HTTP Basic credentials (RFC 6749 §2.3.1 form-encodes it).
    ClientId
);

impl ClientId {
    pub const MAX_LEN: usize = 128;

    pub fn parse(value: &str) -> Result<Self, IdError> {
        check(value, "client_id", Self::MAX_LEN, "letters, digits, '.', '_', '~' and '-'", |c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '~' | '-')
        })?;
        Ok(Self(value.to_owned()))
    }
}

string_id!(
    /// A user's login name: letters and digits of any script plus `.`, `_`, `-`, `@` and `+`. No spaces,
    /// control or invisible formatting characters (zero-width space, right-to-left override), so that a
    /// name shown on a page or in a listing is the name it is.
    Username
);

impl Username {
    pub const MAX_LEN: usize = 128;

    pub fn parse(value: &str) -> Result<Self, IdError> {
        check(value, "username", Self::MAX_LEN, "letters, digits, '.', '_', '-', '@' and '+'", |c| {
            c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@' | '+')
        })?;
        Ok(Self(value.to_owned()))
    }
}

string_id!(
    /// The non-secret identifier of a token record (and of its refresh family). Random, so it reveals
    /// nothing about how many records exist or when they were made.
    RecordId
);

impl RecordId {
    pub const MAX_LEN: usize = 64;

    /// 128 random bits, base64url: unguessable and collision-free in practice.
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> Self {
        use base64::Engine;
        let mut bytes = [0_u8; 16];
        rng.fill_bytes(&mut bytes);
        Self(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    pub fn parse(value: &str) -> Result<Self, IdError> {
        check(value, "record id", Self::MAX_LEN, "letters, digits, '_' and '-'", |c| {
            c.is_ascii_alphanumeric() || matches!(c, '_' | '-')
        })?;
        Ok(Self(value.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_id_accepts_unreserved_characters_only() {
        assert!(ClientId::parse("my-app_1.0~x").is_ok());
        assert_eq!(ClientId::parse(""), Err(IdError::Empty { what: "client_id" }));
        for bad in ["a b", "a/b", "a:b", "é", "a%20"] {
            assert!(matches!(ClientId::parse(bad), Err(IdError::BadCharacter { .. })), "{bad}");
        }
        assert!(matches!(ClientId::parse(&"a".repeat(129)), Err(IdError::TooLong { .. })));
    }

    #[test]
    fn username_refuses_spaces_and_controls_but_allows_email_form() {
        assert!(Username::parse("alice@example.com").is_ok());
        assert!(Username::parse("zoë").is_ok());
        assert!(Username::parse("a b").is_err());
        assert!(Username::parse("a\u{0}").is_err());
        assert!(Username::parse("alice\u{200B}").is_err(), "zero-width space");
        assert!(Username::parse("evil\u{202E}gpj").is_err(), "right-to-left override");
    }

    #[test]
    fn record_ids_are_random_and_parse_back() {
        let mut rng = rand::thread_rng();
        let a = RecordId::generate(&mut rng);
        let b = RecordId::generate(&mut rng);
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 22);
        assert_eq!(RecordId::parse(a.as_str()), Ok(a));
    }

    #[test]
    fn serde_goes_through_parsing() {
        assert!(serde_json::from_str::<ClientId>("\"ok\"").is_ok());
        assert!(serde_json::from_str::<ClientId>("\"not ok\"").is_err());
    }
}
