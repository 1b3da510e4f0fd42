//! Redirect URI registration and matching (RFC 9700 §4.1.3, RFC 8252 §7.3): a registered URI is what a
//! browser will follow, and a presented URI matches only byte for byte, or as the same loopback URI on
//! another port.
#![no_main]

use latchkey_model::RedirectUri;
use libfuzzer_sys::fuzz_target;

/// `http://127.0.0.1` or `http://[::1]` with its port taken out, if it is one.
fn without_loopback_port(text: &str) -> Option<String> {
    for host in ["http://127.0.0.1", "http://[::1]"] {
        if let Some(rest) = text.strip_prefix(host) {
            let rest = match rest.strip_prefix(':') {
                Some(port) => {
                    let digits = port.bytes().take_while(u8::is_ascii_digit).count();
                    if digits == 0 || digits > 5 {
                        return None;
                    }
                    &port[digits..]
                }
                None => rest,
            };
            return Some(format!("{host}{rest}"));
        }
    }
    None
}

fuzz_target!(|input: &[u8]| {
    let Ok(text) = std::str::from_utf8(input) else { return };
    let (registered, presented) = text.split_once('\n').unwrap_or((text, text));
    let Ok(uri) = RedirectUri::parse(registered) else { return };
    let parsed = url::Url::parse(uri.as_str()).expect("a registered URI is absolute");
    assert_eq!(parsed.as_str(), uri.as_str(), "registered as the browser will see it");
    assert!(parsed.fragment().is_none() && parsed.username().is_empty() && parsed.password().is_none());
    if parsed.scheme() == "http" {
        assert!(matches!(parsed.host_str(), Some("127.0.0.1" | "[::1]" | "localhost")));
    }
    if uri.matches(presented) && presented != uri.as_str() {
        let (ours, theirs) = (without_loopback_port(uri.as_str()), without_loopback_port(presented));
        assert!(ours.is_some() && ours == theirs, "{presented:?} matched {:?}", uri.as_str());
    }
});
