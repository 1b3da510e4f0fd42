//! Registered redirect URIs (RFC 6749 §3.1.2) and the exact-match rule that protects them
//! (RFC 9700 §2.1, §4.1.3), with the single exception RFC 8252 §7.3 makes for loopback ports.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectUriError {
    #[error("redirect URI is not an absolute URI")]
    NotAbsolute,
    #[error("redirect URI must not contain a fragment (RFC 6749 section 3.1.2)")]
    Fragment,
    #[error("redirect URI must not contain user information")]
    UserInfo,
    #[error("redirect URI must not contain spaces or control characters")]
    BadCharacter,
    #[error("redirect URI is longer than {0} characters")]
    TooLong(usize),
    #[error("redirect URI is not in canonical form; register it as {0}")]
    NotCanonical(String),
    #[error("redirect URI scheme {0:?} is not allowed: use https, http on a loopback address, or a reverse-domain app scheme")]
    Scheme(String),
}

/// A redirect URI as registered for a client. Kept byte for byte as given: matching never normalises.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RedirectUri(String);

const LOOPBACK_IP_HOSTS: [&str; 2] = ["127.0.0.1", "[::1]"];

impl RedirectUri {
    pub const MAX_LEN: usize = 2048;

    pub fn parse(text: &str) -> Result<Self, RedirectUriError> {
        if text.len() > Self::MAX_LEN {
            return Err(RedirectUriError::TooLong(Self::MAX_LEN));
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(RedirectUriError::BadCharacter);
        }
        if text.contains('#') {
            return Err(RedirectUriError::Fragment);
        }
        let url = url::Url::parse(text).map_err(|_| RedirectUriError::NotAbsolute)?;
        if !url.username().is_empty() || url.password().is_some() || authority(text).contains('@') {
            return Err(RedirectUriError::UserInfo);
        }
        // What is checked must be what a browser will follow: refuse anything the URL parser would rewrite
        // (extra slashes, backslashes, missing "//", case in the host, dot segments, …).
        if url.as_str() != text {
            return Err(RedirectUriError::NotCanonical(url.to_string()));
        }
        let scheme = url.scheme();
        let allowed = match scheme {
            "https" => url.host().is_some(),
            "http" => matches!(url.host_str(), Some("127.0.0.1" | "[::1]" | "localhost")),
            // RFC 8252 §7.1: private-use schemes for native apps are reverse domain names.
            other => other.contains('.'),
        };
        if !allowed {
            return Err(RedirectUriError::Scheme(scheme.to_owned()));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a redirect URI presented in a request is this registered one: byte-for-byte equality, except
    /// that for `http` on a loopback IP literal any port is accepted (RFC 8252 §7.3), path and query still
    /// exact.
    pub fn matches(&self, presented: &str) -> bool {
        if self.0 == presented {
            return true;
        }
        match (loopback_parts(&self.0), loopback_parts(presented)) {
            (Some((host, rest)), Some((presented_host, presented_rest))) => {
                host == presented_host && rest == presented_rest
            }
            _ => false,
        }
    }
}

/// The authority of an absolute URI: what stands between `://` and the next `/`, `?` or `#`.
fn authority(text: &str) -> &str {
    let Some((_, after)) = text.split_once("://") else {
        return "";
    };
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    &after[..end]
}

/// For `http://<loopback IP>[:port]<rest>`: the host and the rest, with the port (digits only) removed.
fn loopback_parts(text: &str) -> Option<(&str, &str)> {
    let after = text.strip_prefix("http://")?;
    let authority_end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, rest) = after.split_at(authority_end);
    let host = LOOPBACK_IP_HOSTS.into_iter().find(|host| authority.starts_with(host))?;
    match &authority[host.len()..] {
        "" => Some((host, rest)),
        port => {
            let digits = port.strip_prefix(':')?;
            let valid = !digits.is_empty() && digits.len() <= 5 && digits.bytes().all(|b| b.is_ascii_digit());
            valid.then_some((host, rest))
        }
    }
}

impl fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedirectUri({:?})", self.0)
    }
}

impl From<RedirectUri> for String {
    fn from(uri: RedirectUri) -> String {
        uri.0
    }
}

impl TryFrom<String> for RedirectUri {
    type Error = RedirectUriError;
    fn try_from(value: String) -> Result<Self, RedirectUriError> {
        Self::parse(&value)
    }
}

impl std::str::FromStr for RedirectUri {
    type Err = RedirectUriError;
    fn from_str(value: &str) -> Result<Self, RedirectUriError> {
        Self::parse(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(text: &str) -> RedirectUri {
        RedirectUri::parse(text).unwrap()
    }

    #[test]
    fn registration_refuses_dangerous_uris() {
        for bad in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,hi",
            "vbscript:x",
            "file:///etc/passwd",
            "http://app.example.com/cb",
            "https://app.example.com/cb#frag",
            "https://user@app.example.com/cb",
            "https://a@b@app.example.com/cb",
            "/relative/cb",
            "https://app.example.com/c b",
            "https:///cb",
            "https:evil.com\\@app.example.com/cb",
            "https://App.Example.com/cb",
            "https://app.example.com/a/../cb",
            "https://app.example.com",
        ] {
            assert!(RedirectUri::parse(bad).is_err(), "{bad} must be refused");
        }
        for good in [
            "https://app.example.com/cb",
            "https://app.example.com/cb?x=1",
            "http://127.0.0.1/cb",
            "http://127.0.0.1:8080/cb",
            "http://[::1]:9000/cb",
            "http://localhost:3000/cb",
            "com.example.app:/oauth2redirect",
        ] {
            assert!(RedirectUri::parse(good).is_ok(), "{good} must be accepted");
        }
    }

    #[test]
    fn matching_is_byte_exact() {
        let registered = uri("https://app.example.com/cb");
        assert!(registered.matches("https://app.example.com/cb"));
        for variant in [
            "https://APP.example.com/cb",
            "https://app.example.com/CB",
            "https://app.example.com/cb/",
            "https://app.example.com/cb?x=1",
            "https://app.example.com/cb/%2e%2e/",
            "https://app.example.com/cb/..;/",
            "https://app.example.com/cb%252F",
            "https://user@app.example.com/cb",
            "https://app.example.com@evil.com/cb",
            "https://app.example.com.evil.com/cb",
            "https://app.example.com:443/cb",
            "http://app.example.com/cb",
            "https://app.example.com/cb#x",
            "",
        ] {
            assert!(!registered.matches(variant), "{variant} must not match");
        }
    }

    #[test]
    fn query_is_part_of_the_exact_match() {
        let registered = uri("https://app.example.com/cb?tenant=a");
        assert!(registered.matches("https://app.example.com/cb?tenant=a"));
        assert!(!registered.matches("https://app.example.com/cb?tenant=b"));
        assert!(!registered.matches("https://app.example.com/cb?tenant=a&x=1"));
        assert!(!registered.matches("https://app.example.com/cb"));
    }

    #[test]
    fn loopback_ip_may_change_port_only() {
        let registered = uri("http://127.0.0.1/cb?x=1");
        assert!(registered.matches("http://127.0.0.1:51234/cb?x=1"));
        assert!(registered.matches("http://127.0.0.1/cb?x=1"));
        assert!(!registered.matches("http://127.0.0.1:51234/cb?x=2"));
        assert!(!registered.matches("http://127.0.0.1:51234/other?x=1"));
        assert!(!registered.matches("http://127.0.0.1:abc/cb?x=1"));
        assert!(!registered.matches("http://127.0.0.1:/cb?x=1"));
        assert!(!registered.matches("http://127.0.0.1.evil.com/cb?x=1"));
        assert!(!registered.matches("http://127.0.0.1@evil.com/cb?x=1"));
        assert!(!registered.matches("http://[::1]:5000/cb?x=1"));
        let v6 = uri("http://[::1]:8080/cb");
        assert!(v6.matches("http://[::1]:9090/cb"));
        // RFC 8252 §8.3: "localhost" is not an IP literal, so no port leeway.
        let name = uri("http://localhost:3000/cb");
        assert!(!name.matches("http://localhost:3001/cb"));
    }
}
