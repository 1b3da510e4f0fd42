//! The vocabulary of an authorization request and its answer: response types and modes (RFC 6749 §3.1.1,
//! OAuth 2.0 Multiple Response Types), prompts (OpenID Connect Core §3.1.2.1), how the user authenticated
//! (RFC 8176 `amr`), and `state`, echoed byte for byte (RFC 6749 §4.1.2).

use crate::GrantType;
use std::borrow::Cow;
use std::fmt;

/// The `response_type` values Latchkey answers: `code` (RFC 6749 §4.1) and the implicit `token` (§4.2),
/// `id_token` and `id_token token` (OpenID Connect Core §3.2). Hybrid types are not offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponseType {
    Code,
    Token,
    IdToken,
    IdTokenToken,
}

impl ResponseType {
    pub const ALL: [ResponseType; 4] =
        [ResponseType::Code, ResponseType::Token, ResponseType::IdToken, ResponseType::IdTokenToken];

    /// The one spelling stored and published.
    pub const fn as_str(self) -> &'static str {
        match self {
            ResponseType::Code => "code",
            ResponseType::Token => "token",
            ResponseType::IdToken => "id_token",
            ResponseType::IdTokenToken => "id_token token",
        }
    }

    /// A `response_type` parameter: space-separated words in any order (OAuth 2.0 Multiple Response
    /// Types §3).
    pub fn parse(text: &str) -> Option<Self> {
        let mut words: Vec<&str> = text.split(' ').collect();
        words.sort_unstable();
        match words.as_slice() {
            ["code"] => Some(ResponseType::Code),
            ["token"] => Some(ResponseType::Token),
            ["id_token"] => Some(ResponseType::IdToken),
            ["id_token", "token"] => Some(ResponseType::IdTokenToken),
            _ => None,
        }
    }

    /// The grant a client must be allowed to ask for this response.
    pub const fn grant_type(self) -> GrantType {
        match self {
            ResponseType::Code => GrantType::AuthorizationCode,
            ResponseType::Token | ResponseType::IdToken | ResponseType::IdTokenToken => GrantType::Implicit,
        }
    }

    pub const fn issues_access_token(self) -> bool {
        matches!(self, ResponseType::Token | ResponseType::IdTokenToken)
    }

    pub const fn issues_id_token(self) -> bool {
        matches!(self, ResponseType::IdToken | ResponseType::IdTokenToken)
    }

    /// Where the answer goes unless the request says otherwise: tokens never travel in a query string
    /// (OAuth 2.0 Multiple Response Types §2.1).
    pub const fn default_mode(self) -> ResponseMode {
        match self {
            ResponseType::Code => ResponseMode::Query,
            _ => ResponseMode::Fragment,
        }
    }
}

impl fmt::Display for ResponseType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the authorization response travels back (OAuth 2.0 Multiple Response Types §2.1, Form Post).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    Query,
    Fragment,
    FormPost,
}

impl ResponseMode {
    pub const ALL: [ResponseMode; 3] = [ResponseMode::Query, ResponseMode::Fragment, ResponseMode::FormPost];

    pub const fn as_str(self) -> &'static str {
        match self {
            ResponseMode::Query => "query",
            ResponseMode::Fragment => "fragment",
            ResponseMode::FormPost => "form_post",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|mode| mode.as_str() == text)
    }
}

/// `prompt` values (OpenID Connect Core §3.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Prompt {
    None,
    Login,
    Consent,
    SelectAccount,
}

impl Prompt {
    pub const ALL: [Prompt; 4] = [Prompt::None, Prompt::Login, Prompt::Consent, Prompt::SelectAccount];

    pub const fn as_str(self) -> &'static str {
        match self {
            Prompt::None => "none",
            Prompt::Login => "login",
            Prompt::Consent => "consent",
            Prompt::SelectAccount => "select_account",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|prompt| prompt.as_str() == text)
    }
}

/// How a user proved who they are, as the ID token's `amr` claim says it (RFC 8176 §2). Every way to sign
/// in finishes through the same login step, which records its method here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthMethod {
    /// A password checked against its Argon2id hash.
    Password,
}

impl AuthMethod {
    pub const ALL: [AuthMethod; 1] = [AuthMethod::Password];

    /// The RFC 8176 value.
    pub const fn amr(self) -> &'static str {
        match self {
            AuthMethod::Password => "pwd",
        }
    }

    pub fn parse(amr: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|method| method.amr() == amr)
    }
}

/// The `state` of an authorization request: opaque bytes the client chose, echoed back exactly (RFC 6749
/// §4.1.2), even when they are not UTF-8. Stored as its text when it is UTF-8 (as every state was before
/// bytes were kept); otherwise as [`NOT_TEXT`] and its percent-encoded bytes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct State(Vec<u8>);

/// Marks a stored state that is not UTF-8. A control character, which no request's state may contain, so
/// that no stored text can be mistaken for it.
const NOT_TEXT: char = '\u{1}';

/// Bytes that stay as they are in the stored form; everything else is `%XX`.
fn unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

impl State {
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes as text, if they are UTF-8.
    pub fn as_utf8(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The stored form.
    pub fn to_stored(&self) -> String {
        if let Some(text) = self.as_utf8().filter(|text| !text.starts_with(NOT_TEXT)) {
            return text.to_owned();
        }
        let mut out = String::from(NOT_TEXT);
        for &byte in &self.0 {
            if unreserved(byte) {
                out.push(char::from(byte));
            } else {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
        out
    }

    /// Back from the stored form.
    pub fn from_stored(text: &str) -> Self {
        match text.strip_prefix(NOT_TEXT) {
            Some(encoded) => Self(percent_decode(encoded.as_bytes()).into_owned()),
            None => Self(text.as_bytes().to_vec()),
        }
    }
}

/// `%XX` sequences to bytes; anything else (a lone `%` too) is kept as it is.
fn percent_decode(input: &[u8]) -> Cow<'_, [u8]> {
    if !input.contains(&b'%') {
        return Cow::Borrowed(input);
    }
    let hex = |b: u8| (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok());
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match (input[i], input.get(i + 1).copied().and_then(hex), input.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(high), Some(low)) => {
                out.push((high << 4) | low);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    Cow::Owned(out)
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "State({:?})", self.to_stored())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_types_parse_in_any_word_order_and_say_what_they_issue() {
        assert_eq!(ResponseType::parse("token id_token"), Some(ResponseType::IdTokenToken));
        assert_eq!(ResponseType::parse("id_token token"), Some(ResponseType::IdTokenToken));
        for unsupported in ["", "code id_token", "code token", "none", "code  ", "CODE"] {
            assert_eq!(ResponseType::parse(unsupported), None, "{unsupported:?}");
        }
        for kind in ResponseType::ALL {
            assert_eq!(ResponseType::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ResponseType::Code.grant_type(), GrantType::AuthorizationCode);
        assert_eq!(ResponseType::IdToken.grant_type(), GrantType::Implicit);
        assert!(
            ResponseType::IdTokenToken.issues_access_token() && ResponseType::IdTokenToken.issues_id_token()
        );
        assert!(!ResponseType::IdToken.issues_access_token() && !ResponseType::Token.issues_id_token());
        assert_eq!(ResponseType::Code.default_mode(), ResponseMode::Query);
        assert_eq!(ResponseType::Token.default_mode(), ResponseMode::Fragment);
    }

    #[test]
    fn prompts_modes_and_methods_round_trip() {
        for prompt in Prompt::ALL {
            assert_eq!(Prompt::parse(prompt.as_str()), Some(prompt));
        }
        for mode in ResponseMode::ALL {
            assert_eq!(ResponseMode::parse(mode.as_str()), Some(mode));
        }
        for method in AuthMethod::ALL {
            assert_eq!(AuthMethod::parse(method.amr()), Some(method));
        }
        assert_eq!(Prompt::parse("None"), None);
        assert_eq!(AuthMethod::Password.amr(), "pwd");
    }

    #[test]
    fn state_keeps_every_byte_through_its_stored_form() {
        let bytes: Vec<u8> = (0..=255).collect();
        let state = State::from_bytes(bytes.clone());
        assert_eq!(State::from_stored(&state.to_stored()).as_bytes(), bytes.as_slice());
        assert_eq!(State::from_bytes(b"st-123 %41".to_vec()).to_stored(), "st-123 %41", "text stays text");
        assert_eq!(State::from_bytes(b"a\xffb".to_vec()).to_stored(), "\u{1}a%FFb");
        assert_eq!(State::from_stored("%7B%22a%22%7D").as_bytes(), b"%7B%22a%22%7D", "text is never decoded");
        for odd in [&b"\x01lead"[..], b"\x01\xff", b"%", b""] {
            assert_eq!(State::from_stored(&State::from_bytes(odd.to_vec()).to_stored()).as_bytes(), odd);
        }
        assert_eq!(State::from_bytes(vec![0xff]).as_utf8(), None);
    }
}
