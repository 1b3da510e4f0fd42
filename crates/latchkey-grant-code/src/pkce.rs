//! Proof Key for Code Exchange (RFC 7636), S256 only (RFC 9700 §2.1.1).

use latchkey_core::OAuthError;
use oxide_auth::code_grant::extensions::Pkce;
use oxide_auth::primitives::grant::Value;
use std::borrow::Cow;

pub const S256: &str = "S256";

/// RFC 7636 §4.2: an S256 challenge is the base64url SHA-256 of the verifier: 43 characters.
fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43 && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// RFC 7636 §4.1: `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"`, 43 to 128 characters.
fn is_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Checks the challenge of an authorization request. Public clients must send one (RFC 9700 §2.1.1).
/// Returns the challenge to remember, if any.
pub fn check_challenge(
    challenge: Option<&str>,
    method: Option<&str>,
    required: bool,
) -> Result<Option<String>, OAuthError> {
    let pkce = if required { Pkce::required() } else { Pkce::optional() };
    match (challenge, method) {
        (None, Some(_)) => {
            return Err(OAuthError::invalid_request("code_challenge_method without code_challenge"))
        }
        (Some(_), None) => {
            return Err(OAuthError::invalid_request("code_challenge_method is required and must be S256"))
        }
        (Some(_), Some(method)) if method != S256 => {
            return Err(OAuthError::invalid_request("only the S256 code_challenge_method is supported"))
        }
        (Some(challenge), _) if !is_s256_challenge(challenge) => {
            return Err(OAuthError::invalid_request("code_challenge is not an S256 challenge"))
        }
        _ => {}
    }
    match pkce.challenge(method.map(Cow::Borrowed), challenge.map(Cow::Borrowed)) {
        Ok(_) => Ok(challenge.map(str::to_owned)),
        Err(()) => Err(OAuthError::invalid_request("code_challenge is required for public clients")),
    }
}

/// The checks on a `code_verifier` before oxide-auth's PKCE addon compares it (in constant time) with the
/// challenge: one must be sent exactly when a challenge was made, and be well formed (RFC 7636 §4.1).
pub fn precheck(stored_challenge: Option<&str>, verifier: Option<&str>) -> Result<(), OAuthError> {
    let refused = |why: &str| Err(OAuthError::invalid_grant(why));
    match (stored_challenge, verifier) {
        (None, None) => Ok(()),
        // A verifier with no challenge is a downgrade attempt (RFC 9700 §4.8); oxide-auth's optional PKCE
        // would let it through.
        (None, Some(_)) => refused("code_verifier sent but no code_challenge was made"),
        (Some(_), None) => refused("code_verifier is required"),
        (Some(_), Some(verifier)) if !is_verifier(verifier) => refused("code_verifier is malformed"),
        (Some(_), Some(_)) => Ok(()),
    }
}

/// Compares a well-formed verifier with the stored S256 challenge, through oxide-auth's PKCE extension
/// (SHA-256, then a constant-time comparison; RFC 7636 §4.6).
pub fn verify(stored_challenge: &str, verifier: &str) -> Result<(), OAuthError> {
    // The extension's own encoding of an S256 challenge: the challenge, then `S`.
    let encoded = Value::private(Some(format!("{stored_challenge}S")));
    Pkce::required()
        .verify(Some(encoded), Some(Cow::Borrowed(verifier)))
        .map_err(|()| OAuthError::invalid_grant("code_verifier does not match the code_challenge"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_core::ErrorCode;

    // RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc_7636_example_verifies() {
        assert_eq!(check_challenge(Some(CHALLENGE), Some(S256), true), Ok(Some(CHALLENGE.to_owned())));
        assert_eq!(precheck(Some(CHALLENGE), Some(VERIFIER)), Ok(()));
        assert_eq!(verify(CHALLENGE, VERIFIER), Ok(()));
    }

    #[test]
    fn challenges_are_s256_only_and_required_for_public_clients() {
        for (challenge, method) in [
            (Some(CHALLENGE), Some("plain")),
            (Some(CHALLENGE), None),
            (None, Some(S256)),
            (Some("short"), Some(S256)),
            (None, None),
        ] {
            let error = check_challenge(challenge, method, true).unwrap_err();
            assert_eq!(error.code, ErrorCode::InvalidRequest, "{challenge:?} {method:?}");
        }
        assert_eq!(check_challenge(None, None, false), Ok(None), "confidential clients may skip PKCE");
    }

    #[test]
    fn a_wrong_verifier_fails_the_comparison() {
        let wrong = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX";
        assert_eq!(precheck(Some(CHALLENGE), Some(wrong)), Ok(()), "well formed");
        assert_eq!(verify(CHALLENGE, wrong).unwrap_err().code, ErrorCode::InvalidGrant);
    }

    #[test]
    fn missing_malformed_and_downgraded_verifiers_are_invalid_grant() {
        for (stored, verifier) in [
            (Some(CHALLENGE), None),
            (Some(CHALLENGE), Some("too-short")),
            (Some(CHALLENGE), Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX!")),
            (None, Some(VERIFIER)),
        ] {
            assert_eq!(
                precheck(stored, verifier).unwrap_err().code,
                ErrorCode::InvalidGrant,
                "{stored:?} {verifier:?}"
            );
        }
        assert_eq!(precheck(None, None), Ok(()));
    }
}
