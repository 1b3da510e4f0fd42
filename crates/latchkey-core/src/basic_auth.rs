//! HTTP Basic client authentication (RFC 6749 §2.3.1, RFC 7617): the header carries base64 of
//! `client_id:client_secret`, each of them form-urlencoded (Appendix B) before encoding.

use base64::Engine;

/// An `Authorization: Basic` header that could not be read: the request is refused as `invalid_client`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MalformedBasic;

/// The client id and secret in an `Authorization` header value; `Ok(None)` when the scheme is not Basic.
pub fn basic_credentials(header: &str) -> Result<Option<(String, String)>, MalformedBasic> {
    let Some((scheme, encoded)) = header.split_once(' ') else { return Ok(None) };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded =
        base64::engine::general_purpose::STANDARD.decode(encoded.trim()).map_err(|_| MalformedBasic)?;
    let text = String::from_utf8(decoded).map_err(|_| MalformedBasic)?;
    let (id, secret) = text.split_once(':').ok_or(MalformedBasic)?;
    let unescape =
        |part: &str| String::from_utf8(crate::form::decode(part.as_bytes())).map_err(|_| MalformedBasic);
    Ok(Some((unescape(id)?, unescape(secret)?)))
}

/// The header value a client sends for `id` and `secret`: the inverse of [`basic_credentials`].
pub fn basic_header(id: &str, secret: &str) -> String {
    let escape = |part: &str| url::form_urlencoded::byte_serialize(part.as_bytes()).collect::<String>();
    let joined = format!("{}:{}", escape(id), escape(secret));
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(joined))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6749_form_encoding_is_undone_after_base64() {
        // "a b:c%3Ad" → id "a b", secret "c:d".
        let header = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("a+b:c%3Ad"));
        assert_eq!(basic_credentials(&header), Ok(Some(("a b".into(), "c:d".into()))));
        assert_eq!(
            basic_credentials(&basic_header("a b", "c:d%é")),
            Ok(Some(("a b".into(), "c:d%é".into())))
        );
    }

    #[test]
    fn other_schemes_are_not_basic_and_broken_basic_is_refused() {
        assert_eq!(basic_credentials("Bearer abc"), Ok(None));
        assert_eq!(basic_credentials("Basic"), Ok(None));
        assert_eq!(basic_credentials("Basic !!!"), Err(MalformedBasic));
        let no_colon = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("abc"));
        assert_eq!(basic_credentials(&no_colon), Err(MalformedBasic));
        let not_utf8 = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(b"a:%FF"));
        assert_eq!(basic_credentials(&not_utf8), Err(MalformedBasic));
    }
}
