//! The form and query-string parser (RFC 6749 Appendix B) against the `url` crate's
//! `application/x-www-form-urlencoded` parser: the same names and values, and repeats refused.
#![no_main]

use latchkey_core::Form;
use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;

fuzz_target!(|input: &[u8]| {
    let form = Form::parse(input);
    let mut expected: HashMap<String, Vec<String>> = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(input) {
        expected.entry(name.into_owned()).or_default().push(value.into_owned());
    }
    for (name, values) in &expected {
        assert!(form.contains(name), "{name:?} was sent");
        match values.as_slice() {
            [value] => {
                let ours = form.single_bytes(name).expect("sent once");
                let ours = ours.map(|bytes| String::from_utf8_lossy(bytes).into_owned());
                let theirs = Some(value.clone()).filter(|value| !value.is_empty());
                assert_eq!(ours, theirs, "value of {name:?}");
                assert_eq!(form.required(name).is_ok(), !value.is_empty());
            }
            _ => assert!(form.single(name).is_err(), "{name:?} was repeated"),
        }
    }
    assert!(!form.contains("\u{0}never-sent") || expected.contains_key("\u{0}never-sent"));
});
