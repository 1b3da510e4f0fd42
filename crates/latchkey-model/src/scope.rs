//! Scopes, RFC 6749 §3.3: a set of space-delimited, case-sensitive tokens.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("scope is empty or has consecutive, leading or trailing spaces")]
    EmptyToken,
    #[error("scope token '{0}' contains a character RFC 6749 section 3.3 does not allow")]
    BadCharacter(String),
    #[error("scope is longer than {0} bytes")]
    TooLong(usize),
}

/// A set of scope tokens. Ordered, so its text form is canonical and two equal sets print the same.
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Scope(BTreeSet<String>);

impl Scope {
    /// Long enough for any real request, short enough that no one stores a megabyte of "scope".
    pub const MAX_LEN: usize = 4096;

    pub fn empty() -> Self {
        Self::default()
    }

    /// Parses the `scope` parameter: `scope-token *( SP scope-token )`, each token of
    /// `%x21 / %x23-5B / %x5D-7E`. An empty string is the empty set (an absent scope), but stray spaces
    /// are refused rather than guessed at.
    pub fn parse(text: &str) -> Result<Self, ScopeError> {
        if text.len() > Self::MAX_LEN {
            return Err(ScopeError::TooLong(Self::MAX_LEN));
        }
        if text.is_empty() {
            return Ok(Self::empty());
        }
        let mut tokens = BTreeSet::new();
        for token in text.split(' ') {
            if token.is_empty() {
                return Err(ScopeError::EmptyToken);
            }
            let allowed = |b: u8| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b);
            if !token.bytes().all(allowed) {
                return Err(ScopeError::BadCharacter(token.to_owned()));
            }
            tokens.insert(token.to_owned());
        }
        Ok(Self(tokens))
    }

    pub fn from_tokens<I, S>(tokens: I) -> Result<Self, ScopeError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let joined: Vec<String> = tokens.into_iter().map(|t| t.as_ref().to_owned()).collect();
        Self::parse(&joined.join(" "))
    }

    pub fn contains(&self, token: &str) -> bool {
        self.0.contains(token)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_subset_of(&self, other: &Scope) -> bool {
        self.0.is_subset(&other.0)
    }

    pub fn intersection(&self, other: &Scope) -> Scope {
        Scope(self.0.intersection(&other.0).cloned().collect())
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for token in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(token)?;
            first = false;
        }
        Ok(())
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scope({:?})", self.to_string())
    }
}

impl From<Scope> for String {
    fn from(scope: Scope) -> String {
        scope.to_string()
    }
}

impl TryFrom<String> for Scope {
    type Error = ScopeError;
    fn try_from(value: String) -> Result<Self, ScopeError> {
        Self::parse(&value)
    }
}

impl std::str::FromStr for Scope {
    type Err = ScopeError;
    fn from_str(value: &str) -> Result<Self, ScopeError> {
        Self::parse(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_canonically() {
        let scope = Scope::parse("profile openid email openid").unwrap();
        assert_eq!(scope.len(), 3);
        assert_eq!(scope.to_string(), "email openid profile");
        assert!(scope.contains("openid"));
        assert!(!scope.contains("Openid"), "scope tokens are case-sensitive");
    }

    #[test]
    fn refuses_what_the_grammar_refuses() {
        assert_eq!(Scope::parse("a  b"), Err(ScopeError::EmptyToken));
        assert_eq!(Scope::parse(" a"), Err(ScopeError::EmptyToken));
        assert_eq!(Scope::parse("a "), Err(ScopeError::EmptyToken));
        for bad in ["a\"b", "a\\b", "a\tb", "é", "a\u{7f}"] {
            assert!(matches!(Scope::parse(bad), Err(ScopeError::BadCharacter(_))), "{bad:?}");
        }
        assert_eq!(Scope::parse(&"a".repeat(5000)), Err(ScopeError::TooLong(Scope::MAX_LEN)));
        assert!(Scope::parse("urn:x:read https://api.example.com/write !#[]").is_ok());
    }

    #[test]
    fn empty_text_is_the_empty_set() {
        assert!(Scope::parse("").unwrap().is_empty());
        assert_eq!(Scope::empty().to_string(), "");
    }

    #[test]
    fn subset_and_intersection() {
        let allowed = Scope::parse("openid profile email").unwrap();
        let asked = Scope::parse("openid admin").unwrap();
        assert!(!asked.is_subset_of(&allowed));
        assert_eq!(asked.intersection(&allowed), Scope::parse("openid").unwrap());
        assert!(Scope::empty().is_subset_of(&allowed));
    }
}
