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
        other => format!("Use the \u{201c}{other}\u{201d} permission"),
    }
}
