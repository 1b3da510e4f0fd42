//! Settings: each declared once, with an environment variable for every key, secrets that never show,
//! and docs/CONFIGURATION.md naming exactly the keys, variables and defaults the code declares.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use latchkey_server::config::{environment_variable, AdminToken, Config, Setting, Sources, DEFAULTS, KEYS};
use latchkey_store::DatabaseUrl;

const TOKEN: &str = "admin-token-0123456789abcdefghijklmnop";
const KEK: &str = "bGF0Y2hrZXktdGVzdC1vbmx5LWtleS0xMjM0NTY3ODk";

fn file(text: &str) -> Sources {
    Sources::default().with_toml(text).unwrap()
}

#[test]
fn the_admin_token_is_long_checked_in_constant_time_and_never_printed() {
    for short in ["", "short", &TOKEN[..31], "admin token with spaces 0123456789abcdef"] {
        assert!(AdminToken::parse(short).is_err(), "{short:?}");
    }
    let parsed = AdminToken::parse(TOKEN).unwrap();
    assert!(parsed.verify(TOKEN) && !parsed.verify(&TOKEN[..TOKEN.len() - 1]));
    let sources = file(&format!("admin_token = \"{TOKEN}\"\nkey_encryption_key = \"{KEK}\""))
        .with_environment([("LATCHKEY_ADMIN_TOKEN".to_owned(), TOKEN.to_owned())]);
    let config = Config::resolve(&sources).unwrap();
    assert!(config.admin_token.as_ref().unwrap().verify(TOKEN));
    for shown in [format!("{config:?}"), format!("{sources:?}")] {
        assert!(!shown.contains(TOKEN) && !shown.contains(KEK), "{shown}");
    }
    assert!(
        Config::resolve(&file("admin_token = \"too short\"")).is_err(),
        "a weak credential stops the start"
    );
}

#[test]
fn flag_beats_environment_beats_file_beats_default() {
    let mut sources = file("bind = \"0.0.0.0:9000\"\ndatabase_url = \"sqlite://file.db\"\ndemo = true\njanitor_interval_seconds = 7");
    let config = Config::resolve(&sources).unwrap();
    assert_eq!(
        (config.bind.as_str(), config.demo, config.janitor_interval_seconds),
        ("0.0.0.0:9000", true, 7)
    );
    sources = sources.with_environment([
        ("LATCHKEY_DATABASE_URL".to_owned(), "sqlite://env.db".to_owned()),
        ("LATCHKEY_JANITOR_INTERVAL_SECONDS".to_owned(), "0".to_owned()),
        ("LATCHKEY_BIND".to_owned(), String::new()),
        ("UNRELATED".to_owned(), "x".to_owned()),
    ]);
    let config = Config::resolve(&sources).unwrap();
    assert_eq!(config.database_url, DatabaseUrl::SqliteFile("env.db".into()));
    assert_eq!(config.janitor_interval(), None, "every key has its variable");
    assert_eq!(config.bind, "0.0.0.0:9000", "an empty variable is unset");
    sources.flags.insert("database_url", "sqlite::memory:".into());
    assert_eq!(Config::resolve(&sources).unwrap().database_url, DatabaseUrl::SqliteMemory);
    let defaults = Config::resolve(&Sources::default()).unwrap();
    assert_eq!(defaults.bind, "127.0.0.1:8080");
    assert_eq!(defaults.database_url, DatabaseUrl::SqliteFile("latchkey.db".into()));
    assert!(!defaults.demo && defaults.issuer.is_none() && defaults.admin_token.is_none());
}

#[test]
fn unknown_or_malformed_settings_are_refused() {
    assert!(Sources::default().with_toml("bnid = \"x\"").unwrap_err().0.contains("unknown field `bnid`"));
    assert!(Sources::default().with_toml("bind = [1]").is_err());
    for bad in [
        "demo = \"maybe\"",
        "database_max_connections = 0",
        "database_max_connections = -1",
        "issuer = \"ftp://x\"",
    ] {
        assert!(Config::resolve(&file(bad)).is_err(), "{bad}");
    }
    let error = Config::resolve(&file("log_format = \"xml\"")).unwrap_err();
    assert!(error.0.contains("LATCHKEY_LOG_FORMAT"), "{error}");
}

/// The rows of the settings table of docs/CONFIGURATION.md: key, environment variable, default.
fn documented() -> Vec<(String, String, String)> {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/CONFIGURATION.md")).unwrap();
    let table = text.split("## Settings").nth(1).unwrap().split("\n## ").next().unwrap();
    let unquote = |cell: &str| cell.trim().trim_matches('`').to_owned();
    table
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.split(" | ").collect();
            (unquote(cells[0].trim_start_matches("| ")), unquote(cells[2]), unquote(cells[3]))
        })
        .collect()
}

#[test]
fn the_configuration_document_lists_every_setting_as_declared() {
    let rows = documented();
    let keys: Vec<&str> = rows.iter().map(|(key, _, _)| key.as_str()).collect();
    let mut declared = KEYS.to_vec();
    let mut listed = keys.clone();
    declared.sort_unstable();
    listed.sort_unstable();
    assert_eq!(listed, declared, "docs/CONFIGURATION.md and the declaration disagree on the keys");
    for (key, variable, default) in &rows {
        assert_eq!(variable, &environment_variable(key), "{key}");
        let declared = DEFAULTS.iter().find(|(name, _)| name == key).unwrap().1;
        match declared {
            Some(text) => assert_eq!(default, text, "{key}: the documented default"),
            None => {
                assert!(default.starts_with("none"), "{key}: documented as {default:?}, declared without one")
            }
        }
    }
}
