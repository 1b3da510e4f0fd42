//! Settings for every command. Each comes from the command line, else its environment variable, else the
//! TOML file named by `--config`, else its default (docs/CONFIGURATION.md lists them all).

use latchkey_store::{DatabaseUrl, StoreOptions};
use serde::Deserialize;
use std::fmt;
use std::path::Path;
use std::time::Duration;

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://latchkey.db";

/// The TOML file: every key optional, unknown keys refused (a typo must not be silently ignored). `Debug`
/// shows whether a secret is set, never the secret.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub bind: Option<String>,
    pub database_url: Option<String>,
    pub issuer: Option<String>,
    pub demo: Option<bool>,
    pub log: Option<String>,
    pub log_format: Option<LogFormat>,
    pub database_max_connections: Option<u32>,
    pub database_connect_timeout_ms: Option<u64>,
    pub sqlite_busy_timeout_ms: Option<u64>,
    pub key_encryption_key: Option<String>,
    pub admin_token: Option<String>,
    pub janitor_interval_seconds: Option<u64>,
}

fn secret_set(secret: &Option<String>) -> Option<&'static str> {
    secret.as_ref().map(|_| "(set)")
}

impl fmt::Debug for FileConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileConfig")
            .field("bind", &self.bind)
            .field("database_url", &self.database_url)
            .field("issuer", &self.issuer)
            .field("demo", &self.demo)
            .field("log", &self.log)
            .field("log_format", &self.log_format)
            .field("database_max_connections", &self.database_max_connections)
            .field("database_connect_timeout_ms", &self.database_connect_timeout_ms)
            .field("sqlite_busy_timeout_ms", &self.sqlite_busy_timeout_ms)
            .field("key_encryption_key", &secret_set(&self.key_encryption_key))
            .field("admin_token", &secret_set(&self.admin_token))
            .field("janitor_interval_seconds", &self.janitor_interval_seconds)
            .finish()
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("database_url", &self.database_url)
            .field("issuer", &self.issuer)
            .field("demo", &self.demo)
            .field("log", &self.log)
            .field("log_format", &self.log_format)
            .field("store", &self.store)
            .field("key_encryption_key", &secret_set(&self.key_encryption_key))
            .field("admin_token", &self.admin_token)
            .field("janitor_interval", &self.janitor_interval)
            .finish()
    }
}

impl fmt::Debug for Overrides {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Overrides")
            .field("bind", &self.bind)
            .field("database_url", &self.database_url)
            .field("issuer", &self.issuer)
            .field("demo", &self.demo)
            .field("log", &self.log)
            .field("log_format", &self.log_format)
            .field("key_encryption_key", &secret_set(&self.key_encryption_key))
            .field("admin_token", &secret_set(&self.admin_token))
            .finish()
    }
}

impl FileConfig {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("cannot read config file {}: {e}", path.display())))?;
        toml::from_str(&text).map_err(|e| {
            let reason = e.message().to_owned();
            ConfigError(format!("config file {}: {reason}", path.display()))
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// The issuer identifier (OpenID Connect Discovery §3, RFC 8414 §2): an http(s) URL with no query or
/// fragment, kept without a trailing slash so endpoint URLs can be appended to it.
#[derive(Clone, PartialEq, Eq)]
pub struct Issuer(String);

impl Issuer {
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let bad = |why: &str| ConfigError(format!("issuer {text:?} {why}"));
        let url = url::Url::parse(text).map_err(|_| bad("is not an absolute URL"))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(bad("must use https (or http for local use)"));
        }
        if url.query().is_some() || url.fragment().is_some() || text.contains(['?', '#']) {
            return Err(bad("must not have a query or fragment"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("must not contain user information"));
        }
        Ok(Self(text.trim_end_matches('/').to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// An endpoint URL under the issuer; `path` starts with `/`.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }

    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }
}

impl Config {
    /// Production is any deployment with an https issuer: there, signing keys must be encrypted with a key
    /// of the operator's, never the built-in development key.
    pub fn key_encryption_key(
        &self,
        issuer: &Issuer,
    ) -> Result<latchkey_core::keys::KeyEncryptionKey, ConfigError> {
        use latchkey_core::keys::KeyEncryptionKey;
        match &self.key_encryption_key {
            Some(text) => {
                KeyEncryptionKey::parse(text).map_err(|e| ConfigError(format!("key_encryption_key: {e}")))
            }
            None if issuer.is_https() => Err(ConfigError(
                "key_encryption_key (LATCHKEY_KEY_ENCRYPTION_KEY) is required when the issuer is https; \
                 make one with `latchkey keys new-encryption-key`"
                    .to_owned(),
            )),
            None => {
                tracing::warn!("no key_encryption_key set: signing keys are protected only by the public development key");
                Ok(KeyEncryptionKey::insecure_development_key())
            }
        }
    }
}

impl fmt::Display for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Issuer({:?})", self.0)
    }
}

/// Everything resolved, validated and ready to use. `Debug` never shows a secret.
#[derive(Clone)]
pub struct Config {
    pub bind: String,
    pub database_url: DatabaseUrl,
    /// `None`: `http://` plus the address actually bound (fine for local use; set it in production).
    pub issuer: Option<Issuer>,
    pub demo: bool,
    pub log: String,
    pub log_format: LogFormat,
    pub store: StoreOptions,
    /// Encrypts signing keys at rest (base64url, 32 bytes). Required when the issuer is https.
    pub key_encryption_key: Option<String>,
    /// The bearer credential of the admin API; without it the admin API answers 401 to everyone.
    pub admin_token: Option<AdminToken>,
    /// How often the janitor deletes expired codes, tokens and sessions; `None` turns it off.
    pub janitor_interval: Option<Duration>,
}

/// How often the janitor runs unless configured otherwise.
pub const DEFAULT_JANITOR_INTERVAL: Duration = Duration::from_secs(5 * 60);

/// The admin API's credential. Kept only as its SHA-256, compared in constant time; at least 32 characters,
/// so that a fast hash is safe.
#[derive(Clone)]
pub struct AdminToken(latchkey_model::SecretHash);

impl AdminToken {
    pub const MIN_LENGTH: usize = 32;

    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        if text.chars().count() < Self::MIN_LENGTH
            || text.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(ConfigError(format!(
                "admin_token (LATCHKEY_ADMIN_TOKEN) must be at least {} characters without spaces",
                Self::MIN_LENGTH
            )));
        }
        Ok(Self(latchkey_model::SecretHash::of(text)))
    }

    pub fn verify(&self, presented: &str) -> bool {
        self.0.verify(presented)
    }
}

impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminToken(…)")
    }
}

impl Config {
    /// Defaults for everything but the database: what tests and embedders start from.
    pub fn new(database_url: DatabaseUrl) -> Self {
        Self {
            bind: DEFAULT_BIND.to_owned(),
            database_url,
            issuer: None,
            demo: false,
            log: "info".to_owned(),
            log_format: LogFormat::Text,
            store: StoreOptions::default(),
            key_encryption_key: None,
            admin_token: None,
            janitor_interval: Some(DEFAULT_JANITOR_INTERVAL),
        }
    }
}

/// What the command line and environment said; `None` where they said nothing.
#[derive(Default, Clone)]
pub struct Overrides {
    pub bind: Option<String>,
    pub database_url: Option<String>,
    pub issuer: Option<String>,
    pub demo: Option<bool>,
    pub log: Option<String>,
    pub log_format: Option<LogFormat>,
    pub key_encryption_key: Option<String>,
    pub admin_token: Option<String>,
}

pub fn resolve(overrides: Overrides, file: FileConfig) -> Result<Config, ConfigError> {
    let database_url =
        overrides.database_url.or(file.database_url).unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
    let database_url = DatabaseUrl::parse(&database_url).map_err(|e| ConfigError(e.to_string()))?;
    let issuer = overrides.issuer.or(file.issuer).map(|issuer| Issuer::parse(&issuer)).transpose()?;
    let defaults = StoreOptions::default();
    let millis = |value: Option<u64>, default: Duration| value.map_or(default, Duration::from_millis);
    let max_connections = file.database_max_connections.unwrap_or(defaults.max_connections);
    if max_connections == 0 {
        return Err(ConfigError("database_max_connections must be at least 1".to_owned()));
    }
    Ok(Config {
        bind: overrides.bind.or(file.bind).unwrap_or_else(|| DEFAULT_BIND.to_owned()),
        database_url,
        issuer,
        demo: overrides.demo.or(file.demo).unwrap_or(false),
        log: overrides.log.or(file.log).unwrap_or_else(|| "info".to_owned()),
        log_format: overrides.log_format.or(file.log_format).unwrap_or_default(),
        key_encryption_key: overrides.key_encryption_key.or(file.key_encryption_key),
        admin_token: overrides
            .admin_token
            .or(file.admin_token)
            .map(|token| AdminToken::parse(&token))
            .transpose()?,
        janitor_interval: match file.janitor_interval_seconds {
            Some(0) => None,
            Some(seconds) => Some(Duration::from_secs(seconds)),
            None => Some(DEFAULT_JANITOR_INTERVAL),
        },
        store: StoreOptions {
            max_connections,
            connect_timeout: millis(file.database_connect_timeout_ms, defaults.connect_timeout),
            sqlite_busy_timeout: millis(file.sqlite_busy_timeout_ms, defaults.sqlite_busy_timeout),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_admin_token_is_long_checked_in_constant_time_and_never_printed() {
        let token = "admin-token-0123456789abcdefghijklmnop";
        for short in ["", "short", &token[..31], "admin token with spaces 0123456789abcdef"] {
            assert!(AdminToken::parse(short).is_err(), "{short:?}");
        }
        let parsed = AdminToken::parse(token).unwrap();
        assert!(parsed.verify(token));
        assert!(!parsed.verify(&token[..token.len() - 1]));
        assert!(!format!("{parsed:?}").contains("admin-token"));
        let file: FileConfig = toml::from_str(&format!("admin_token = \"{token}\"")).unwrap();
        assert!(resolve(Overrides::default(), file).unwrap().admin_token.unwrap().verify(token));
        let file: FileConfig = toml::from_str("admin_token = \"too short\"").unwrap();
        assert!(resolve(Overrides::default(), file).is_err(), "a weak credential stops the start");
        let kek = "a-key-encryption-key-that-must-not-show-0123";
        let file: FileConfig =
            toml::from_str(&format!("admin_token = \"{token}\"\nkey_encryption_key = \"{kek}\"")).unwrap();
        let overrides = Overrides { admin_token: Some(token.into()), ..Overrides::default() };
        for shown in [
            format!("{file:?}"),
            format!("{overrides:?}"),
            format!("{:?}", resolve(overrides.clone(), file).unwrap()),
        ] {
            assert!(!shown.contains(token) && !shown.contains(kek), "{shown}");
        }
    }

    #[test]
    fn command_line_beats_file_beats_default() {
        let file: FileConfig =
            toml::from_str("bind = \"0.0.0.0:9000\"\ndatabase_url = \"sqlite://file.db\"\ndemo = true")
                .unwrap();
        let overrides = Overrides { database_url: Some("sqlite::memory:".into()), ..Overrides::default() };
        let config = resolve(overrides, file).unwrap();
        assert_eq!(config.database_url, DatabaseUrl::SqliteMemory);
        assert_eq!(config.bind, "0.0.0.0:9000");
        assert!(config.demo);
        let config = resolve(Overrides::default(), FileConfig::default()).unwrap();
        assert_eq!(config.bind, DEFAULT_BIND);
        assert_eq!(config.database_url, DatabaseUrl::SqliteFile("latchkey.db".into()));
        assert!(!config.demo);
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        assert!(toml::from_str::<FileConfig>("bnid = \"x\"").is_err());
    }

    #[test]
    fn issuer_rules() {
        assert_eq!(Issuer::parse("https://id.example.com/").unwrap().as_str(), "https://id.example.com");
        assert_eq!(
            Issuer::parse("https://id.example.com/tenant").unwrap().endpoint("/token"),
            "https://id.example.com/tenant/token"
        );
        for bad in [
            "id.example.com",
            "ftp://id.example.com",
            "https://id.example.com?x=1",
            "https://id.example.com#f",
            "https://u:p@id.example.com",
        ] {
            assert!(Issuer::parse(bad).is_err(), "{bad}");
        }
    }
}
