//! Request parameters as the protocol endpoints receive them: an `application/x-www-form-urlencoded` body or
//! query string (RFC 6749 Appendix B), in order, repeats included. Every typed request is parsed from one.

use crate::OAuthError;
use std::borrow::Cow;

/// Decoded name–value pairs. Values keep their bytes, so that `state` can be echoed exactly even when it is
/// not UTF-8 (RFC 6749 §4.1.2); everything else reads them as text.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Form(Vec<(String, Vec<u8>)>);

/// The parameter names only: values can be codes, secrets and passwords.
impl std::fmt::Debug for Form {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Form")
            .field(&self.0.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>())
            .finish()
    }
}

/// Undoes `application/x-www-form-urlencoded` escaping: `+` is a space, `%XX` a byte; a `%` not followed by
/// two hex digits stands for itself.
pub(crate) fn decode(component: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok());
    let mut out = Vec::with_capacity(component.len());
    let mut i = 0;
    while i < component.len() {
        match component[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => match (
                component.get(i + 1).copied().and_then(hex),
                component.get(i + 2).copied().and_then(hex),
            ) {
                (Some(high), Some(low)) => {
                    out.push((high << 4) | low);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

impl Form {
    /// Parses a query string or form body. Empty pairs (`a=1&&b=2`) are skipped.
    pub fn parse(input: &[u8]) -> Self {
        let pairs = input
            .split(|b| *b == b'&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (name, value) = match pair.iter().position(|b| *b == b'=') {
                    Some(at) => (&pair[..at], &pair[at + 1..]),
                    None => (pair, &[][..]),
                };
                (String::from_utf8_lossy(&decode(name)).into_owned(), decode(value))
            })
            .collect();
        Self(pairs)
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self(pairs.into_iter().map(|(name, value)| (name.to_owned(), value.as_bytes().to_vec())).collect())
    }

    fn first_of<'a>(&'a self, name: &str) -> (Option<&'a [u8]>, bool) {
        let mut values = self.0.iter().filter(|(key, _)| key == name).map(|(_, value)| value.as_slice());
        let first = values.next();
        (first, values.next().is_some())
    }

    /// Whether the parameter was sent at all (even empty).
    pub fn contains(&self, name: &str) -> bool {
        self.first_of(name).0.is_some()
    }

    /// The bytes of a parameter sent at most once (RFC 6749 §3.1, §3.2); an empty value counts as absent.
    pub fn single_bytes(&self, name: &str) -> Result<Option<&[u8]>, OAuthError> {
        let (first, repeated) = self.first_of(name);
        if repeated {
            return Err(OAuthError::invalid_request(format!("{name} was sent more than once")));
        }
        Ok(first.filter(|value| !value.is_empty()))
    }

    /// [`Form::single_bytes`] as text; bytes that are not UTF-8 become U+FFFD, and the typed parsers refuse
    /// them.
    pub fn single(&self, name: &str) -> Result<Option<Cow<'_, str>>, OAuthError> {
        Ok(self.single_bytes(name)?.map(String::from_utf8_lossy))
    }

    /// [`Form::single`], owned.
    pub fn text(&self, name: &str) -> Result<Option<String>, OAuthError> {
        Ok(self.single(name)?.map(Cow::into_owned))
    }

    /// A parameter that must be there, once.
    pub fn required(&self, name: &str) -> Result<String, OAuthError> {
        self.text(name)?.ok_or_else(|| OAuthError::invalid_request(format!("{name} is required")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decoding_keeps_bytes_and_refuses_repeats() {
        let form = Form::parse(b"a=1+2%20%33&state=%FF%FEok&empty=&a2&&b=x&b=y&pct=100%");
        assert_eq!(form.text("a").unwrap().as_deref(), Some("1 2 3"));
        assert_eq!(form.single_bytes("state").unwrap(), Some(&b"\xff\xfeok"[..]));
        assert_eq!(form.single("state").unwrap().as_deref(), Some("\u{fffd}\u{fffd}ok"));
        assert_eq!(form.text("empty").unwrap(), None);
        assert!(form.contains("empty") && form.contains("a2") && !form.contains("missing"));
        assert_eq!(form.text("pct").unwrap().as_deref(), Some("100%"));
        let repeated = form.text("b").unwrap_err();
        assert_eq!(repeated.description.as_deref(), Some("b was sent more than once"));
        assert_eq!(form.required("missing").unwrap_err().description.as_deref(), Some("missing is required"));
        let shown = format!("{form:?}");
        assert!(shown.contains("state") && !shown.contains("1 2 3") && !shown.contains("ok"), "{shown}");
    }
}
