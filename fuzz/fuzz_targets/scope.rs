//! Scope parsing (RFC 6749 §3.3): a parsed scope prints in a canonical form that parses to itself, and
//! holds only the tokens of the input.
#![no_main]

use latchkey_model::Scope;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Ok(text) = std::str::from_utf8(input) else { return };
    let Ok(scope) = Scope::parse(text) else { return };
    let printed = scope.to_string();
    assert_eq!(Scope::parse(&printed).as_ref(), Ok(&scope), "canonical form {printed:?} reparses");
    for token in scope.iter() {
        assert!(text.split(' ').any(|sent| sent == token), "{token:?} was sent");
        // §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
        assert!(
            !token.is_empty()
                && token
                    .bytes()
                    .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
        );
    }
    assert!(scope.is_subset_of(&scope) && scope.intersection(&scope) == scope);
});
