//! PKCE (RFC 7636): only well-formed S256 challenges are accepted, and a verifier passes exactly when the
//! base64url SHA-256 of it is the challenge (§4.6).
#![no_main]

use base64::Engine;
use latchkey_grant_code::pkce;
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};

fuzz_target!(|input: &[u8]| {
    let Ok(text) = std::str::from_utf8(input) else { return };
    let mut parts = text.splitn(3, '\n');
    let (challenge, verifier, method) =
        (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next());
    if let Ok(Some(kept)) = pkce::check_challenge(Some(challenge), method, true) {
        assert_eq!(method, Some("S256"));
        assert_eq!(kept, challenge);
        assert!(
            kept.len() == 43 && kept.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
    }
    assert!(pkce::check_challenge(None, method, true).is_err(), "a public client must send a challenge");
    if pkce::precheck(Some(challenge), Some(verifier)).is_ok() {
        assert!((43..=128).contains(&verifier.len()));
        let digest = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier));
        assert_eq!(pkce::verify(challenge, verifier).is_ok(), digest == challenge);
        let own = pkce::verify(&digest, verifier);
        assert!(own.is_ok(), "a verifier matches its own challenge");
    }
    assert!(pkce::precheck(None, Some(verifier)).is_err(), "no downgrade to plain");
});
