//! HTTP Basic client credentials (RFC 6749 §2.3.1): any header value is read without a panic, and any id
//! and secret a client encodes come back exactly.
#![no_main]

use latchkey_core::basic_auth::{basic_credentials, basic_header};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    if let Ok(header) = std::str::from_utf8(input) {
        // Whatever the header says, reading it ends in an answer; a decoded pair came from valid base64.
        if let Ok(Some((id, secret))) = basic_credentials(header) {
            let _ = (id.len(), secret.len());
        }
        // An id and a secret (split at the first NUL) make a header that decodes to themselves.
        let (id, secret) = header.split_once('\0').unwrap_or((header, ""));
        let encoded = basic_header(id, secret);
        assert_eq!(basic_credentials(&encoded), Ok(Some((id.to_owned(), secret.to_owned()))));
    }
    let _ = basic_credentials(&String::from_utf8_lossy(input));
});
