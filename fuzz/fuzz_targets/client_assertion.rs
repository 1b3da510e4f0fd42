//! `private_key_jwt` assertions (RFC 7523 §3, OpenID Connect Core §9): whatever the header and claims say
//! (`alg: none`, `HS256` keyed with the public key, a `kid` of another key, a forged signature), nobody
//! without the client's private key gets one accepted, and reading one never panics.
#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use latchkey_core::client_assertion::{claimed_subject, verify};
use latchkey_model::Timestamp;
use libfuzzer_sys::fuzz_target;

/// Public keys only (RFC 7517 Appendix A.1's P-256 key, RFC 8037 Appendix A.2's Ed25519 key), whose private
/// halves this target does not hold.
const JWKS: &str = r#"{"keys":[
 {"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YilurMN5a2iJ8Q4qr8yYG5QGp-P2jmyovc","use":"sig","kid":"1"},
 {"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","use":"sig","kid":"2"}
]}"#;

fuzz_target!(|input: &[u8]| {
    // Three parts separated by 0xFF are a header, claims and a signature to encode; anything else is taken
    // as the compact serialization itself.
    let parts: Vec<&[u8]> = input.split(|b| *b == 0xFF).collect();
    let assertion = match parts.as_slice() {
        [header, claims, signature] => format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims),
            URL_SAFE_NO_PAD.encode(signature)
        ),
        _ => String::from_utf8_lossy(input).into_owned(),
    };
    let _ = claimed_subject(&assertion);
    let audiences = vec!["https://id.example.com".to_owned(), "https://id.example.com/token".to_owned()];
    let now = Timestamp::from_unix_seconds(1_800_000_000);
    let verified = verify(&assertion, JWKS, "app", &audiences, now);
    assert!(verified.is_err(), "an assertion nobody could sign was accepted: {assertion}");
});
