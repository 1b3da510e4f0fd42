//! The issuer identifier (OpenID Connect Discovery §3, RFC 8414 §2): the `iss` of every token and the base
//! of every endpoint URL.

use std::fmt;

/// An http(s) URL with no query, fragment or user information, kept without a trailing slash so endpoint
/// URLs can be appended to it.
#[derive(Clone, PartialEq, Eq)]
pub struct Issuer(String);

impl Issuer {
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("issuer {text:?} {why}");
        let url = url::Url::parse(text).map_err(|_| bad("is not an absolute URL"))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(bad("must use https (or http for local use)"));
        }
        if url.query().is_some() || url.fragment().is_some() || text.contains(['?', '#']) {
            return Err(bad("must not have a query or fragment"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("must not contain user information"));
        }
        Ok(Self(text.trim_end_matches('/').to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// An endpoint URL under the issuer; `path` starts with `/`.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }

    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }
}

impl std::str::FromStr for Issuer {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        Self::parse(text)
    }
}

impl fmt::Display for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Issuer({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_rules() {
        assert_eq!(Issuer::parse("https://id.example.com/").unwrap().as_str(), "https://id.example.com");
        assert_eq!(
            Issuer::parse("https://id.example.com/tenant").unwrap().endpoint("/token"),
            "https://id.example.com/tenant/token"
        );
        for bad in [
            "id.example.com",
            "ftp://id.example.com",
            "https://id.example.com?x=1",
            "https://id.example.com#f",
            "https://u:p@id.example.com",
        ] {
            assert!(Issuer::parse(bad).is_err(), "{bad}");
        }
    }
}
