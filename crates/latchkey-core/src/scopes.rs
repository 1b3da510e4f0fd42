//! Words for scopes on the consent page (RFC 6819 §5.2.4.2: the user must see what they allow).

/// A plain-language description of a scope.
pub fn describe(scope: &str) -> String {
    match scope {
        "openid" => "Confirm who you are".to_owned(),
        "profile" => "See your name and basic profile".to_owned(),
        "email" => "See your email address".to_owned(),
        "address" => "See your postal address".to_owned(),
        "phone" => "See your phone number".to_owned(),
        "offline_access" => "Stay signed in when you are not using it".to_owned(),
        crate::personal::MANAGE_SCOPE => {
            "Create, list and revoke your tokens, including new personal access tokens".to_owned()
        }
        other => format!("Use the \u{201c}{other}\u{201d} permission"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_token_management_scope_says_what_it_allows() {
        let words = super::describe(crate::personal::MANAGE_SCOPE);
        for verb in ["Create", "list", "revoke", "tokens"] {
            assert!(words.contains(verb), "{words}");
        }
        assert!(super::describe("api:read").contains("api:read"));
    }
}
