//! Settings for every command, each declared once below ([`settings!`]): its key, type and default. Every
//! key can be set in the TOML file named by `--config`, in its environment variable (`LATCHKEY_` and the
//! key in capitals), and a few on the command line; the first of flag, environment, file and default that
//! sets it wins. docs/CONFIGURATION.md lists them all, and a test holds it to this declaration.

use crate::client_address::{ForwardedHeader, TrustedProxies};
use latchkey_core::keys::KeyEncryptionKey;
use latchkey_core::rate_limit::Rate;
use latchkey_core::Issuer;
use latchkey_model::SecretDigest;
use latchkey_store::{DatabaseUrl, StoreOptions};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// A value a setting can hold, read from its text.
pub trait Setting: Sized {
    fn parse(text: &str) -> Result<Self, String>;

    /// The value when nothing sets it and it has no default; `None`: the setting is required.
    fn absent() -> Option<Self> {
        None
    }
}

impl<T: Setting> Setting for Option<T> {
    fn parse(text: &str) -> Result<Self, String> {
        T::parse(text).map(Some)
    }

    fn absent() -> Option<Self> {
        Some(None)
    }
}

/// Settings whose text is read the way their type reads itself.
macro_rules! read_as_itself {
    ($($type:ty),*) => {
        $(impl Setting for $type {
            fn parse(text: &str) -> Result<Self, String> {
                text.parse().map_err(|error| format!("{error}"))
            }
        })*
    };
}

read_as_itself!(String, u32, u64, DatabaseUrl, Issuer, KeyEncryptionKey);

/// `PER_MINUTE/BURST` (`600/120`): requests a minute on average, and at once at most; `0` turns it off.
impl Setting for Rate {
    fn parse(text: &str) -> Result<Self, String> {
        let bad =
            || format!("{text:?}: must be requests per minute and a burst, as in 600/120, or 0 for none");
        if text.trim() == "0" {
            return Ok(Rate { per_minute: 0, burst: 0 });
        }
        let (per_minute, burst) = text.split_once('/').ok_or_else(bad)?;
        let number = |part: &str| part.trim().parse::<u32>().map_err(|_| bad());
        let rate = Rate { per_minute: number(per_minute)?, burst: number(burst)? };
        if rate.per_minute > 0 && rate.burst == 0 {
            return Err(bad());
        }
        Ok(rate)
    }
}

impl Setting for ForwardedHeader {
    fn parse(text: &str) -> Result<Self, String> {
        ForwardedHeader::parse(text)
    }
}

impl Setting for TrustedProxies {
    fn parse(text: &str) -> Result<Self, String> {
        TrustedProxies::parse(text)
    }

    fn absent() -> Option<Self> {
        Some(TrustedProxies::default())
    }
}

impl Setting for bool {
    fn parse(text: &str) -> Result<Self, String> {
        match text.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err("must be true or false".to_owned()),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl Setting for LogFormat {
    fn parse(text: &str) -> Result<Self, String> {
        match text {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err("must be text or json".to_owned()),
        }
    }
}

/// The admin API's credential. Kept only as its SHA-256, compared in constant time; at least 32 characters,
/// so that a fast hash is safe. `Debug` shows nothing of it.
#[derive(Clone)]
pub struct AdminToken(SecretDigest);

impl AdminToken {
    pub const MIN_LENGTH: usize = 32;

    pub fn verify(&self, presented: &str) -> bool {
        self.0.verify(presented)
    }
}

impl Setting for AdminToken {
    fn parse(text: &str) -> Result<Self, String> {
        if text.chars().count() < Self::MIN_LENGTH
            || text.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(format!("must be at least {} characters without spaces", Self::MIN_LENGTH));
        }
        Ok(Self(SecretDigest::of(text)))
    }
}

impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminToken(…)")
    }
}

/// Where each setting's text comes from, first wins: command-line flags, the environment, the file.
/// `Debug` shows which keys each sets, never a value: values can be secrets.
#[derive(Default, Clone)]
pub struct Sources {
    pub flags: BTreeMap<&'static str, String>,
    pub environment: BTreeMap<String, String>,
    pub file: BTreeMap<String, String>,
}

impl fmt::Debug for Sources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sources")
            .field("flags", &self.flags.keys().collect::<Vec<_>>())
            .field("environment", &self.environment.keys().collect::<Vec<_>>())
            .field("file", &self.file.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The environment variable of `key`.
pub fn environment_variable(key: &str) -> String {
    format!("LATCHKEY_{}", key.to_ascii_uppercase())
}

impl Sources {
    /// The variables of `vars` that name a setting; empty ones count as unset.
    pub fn with_environment(mut self, vars: impl IntoIterator<Item = (String, String)>) -> Self {
        let known: BTreeMap<String, &str> =
            KEYS.iter().map(|key| (environment_variable(key), *key)).collect();
        for (name, value) in vars {
            if let Some(key) = known.get(&name).filter(|_| !value.is_empty()) {
                self.environment.insert((*key).to_owned(), value);
            }
        }
        self
    }

    /// The TOML file: every key optional, unknown keys refused (a typo must not be silently ignored).
    pub fn with_file(mut self, path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("cannot read config file {}: {e}", path.display())))?;
        self.file = file_settings(&text)
            .map_err(|why| ConfigError(format!("config file {}: {why}", path.display())))?;
        Ok(self)
    }

    /// The settings of a TOML document, as the file would give them.
    pub fn with_toml(mut self, text: &str) -> Result<Self, ConfigError> {
        self.file = file_settings(text).map_err(ConfigError)?;
        Ok(self)
    }

    fn text(&self, key: &str) -> Option<&str> {
        self.flags
            .get(key)
            .or_else(|| self.environment.get(key))
            .or_else(|| self.file.get(key))
            .map(String::as_str)
    }

    fn value<T: Setting>(&self, key: &str, default: Option<&str>) -> Result<T, ConfigError> {
        match self.text(key).or(default) {
            Some(text) => T::parse(text)
                .map_err(|why| ConfigError(format!("{key} ({}) {why}", environment_variable(key)))),
            None => T::absent().ok_or_else(|| ConfigError(format!("{key} is required"))),
        }
    }
}

/// The settings of a TOML document, as text.
fn file_settings(text: &str) -> Result<BTreeMap<String, String>, String> {
    let table: toml::Table = toml::from_str(text).map_err(|e| e.message().to_owned())?;
    table
        .into_iter()
        .map(|(key, value)| {
            if !KEYS.contains(&key.as_str()) {
                return Err(format!("unknown field `{key}`, expected one of {}", KEYS.join(", ")));
            }
            let text = match value {
                toml::Value::String(text) => text,
                toml::Value::Integer(number) => number.to_string(),
                toml::Value::Boolean(flag) => flag.to_string(),
                _ => return Err(format!("{key} must be a string, a number or a boolean")),
            };
            Ok((key, text))
        })
        .collect()
}

/// Declares every setting once: the [`Config`] field, its key, its default as text (read like any other
/// text), and `Debug` (each type keeps its secrets to itself).
macro_rules! settings {
    ($( $(#[doc = $doc:literal])* $key:ident : $type:ty $(= $default:literal)? ),* $(,)?) => {
        /// Everything resolved, validated and ready to use. `Debug` never shows a secret.
        #[derive(Clone)]
        pub struct Config {
            $( $(#[doc = $doc])* pub $key: $type, )*
        }

        /// Every setting's key, in the order they are declared.
        pub const KEYS: &[&str] = &[$(stringify!($key)),*];

        /// Every setting's default, as text; `None`: unset unless configured.
        pub const DEFAULTS: &[(&str, Option<&str>)] = &[$((stringify!($key), settings!(@default $($default)?))),*];

        impl Config {
            pub fn resolve(sources: &Sources) -> Result<Self, ConfigError> {
                let config = Self { $( $key: sources.value(stringify!($key), settings!(@default $($default)?))?, )* };
                config.validate()?;
                Ok(config)
            }
        }

        impl fmt::Debug for Config {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct("Config") $( .field(stringify!($key), &self.$key) )* .finish()
            }
        }
    };
    (@default $default:literal) => { Some($default) };
    (@default) => { None };
}

settings! {
    /// Address to listen on; port 0 picks a free port.
    bind: String = "127.0.0.1:8080",
    /// `sqlite://PATH`, `sqlite::memory:` or `postgres://…`.
    database_url: DatabaseUrl = "sqlite://latchkey.db",
    /// The public base URL clients see; `None`: `http://` and the address bound (local use only).
    issuer: Option<Issuer>,
    /// On an empty database, create a demo user and client and print their credentials.
    demo: bool = "false",
    /// Log filter, e.g. `info` or `latchkey_server=debug`.
    log: String = "info",
    log_format: LogFormat = "text",
    database_max_connections: u32 = "16",
    database_connect_timeout_ms: u64 = "5000",
    sqlite_busy_timeout_ms: u64 = "5000",
    /// Encrypts signing keys at rest (base64url, 32 bytes). Required when the issuer is https.
    key_encryption_key: Option<KeyEncryptionKey>,
    /// The bearer credential of the admin API; without it the admin API answers 401 to everyone.
    admin_token: Option<AdminToken>,
    /// How often the janitor deletes what nothing can use any more; 0 turns it off.
    janitor_interval_seconds: u64 = "300",
    /// Reverse proxies whose `Forwarded` / `X-Forwarded-For` headers name the client (addresses or CIDR
    /// networks, comma separated); empty: the connection's peer is the client.
    trusted_proxies: TrustedProxies,
    /// The one header the trusted proxies write: `x-forwarded-for` or `forwarded` (RFC 7239).
    forwarded_header: ForwardedHeader = "x-forwarded-for",
    /// Requests per minute / burst per authenticated client at the token, introspection and revocation
    /// endpoints; `0`: unlimited.
    rate_limit_client: Rate = "60000/2000",
    /// Requests per minute / burst per address group (IPv4 address, IPv6 /64) at `/authorize` and the login
    /// page.
    rate_limit_address: Rate = "600/120",
    /// Personal tokens a user may create per minute / at once.
    rate_limit_personal_tokens: Rate = "10/10",
    /// Live personal tokens a user may hold at once.
    max_personal_tokens_per_user: u32 = "100",
    /// The bearer credential of `/metrics`; without it `/metrics` answers 404.
    metrics_token: Option<AdminToken>,
}

impl Config {
    /// Defaults for everything but the database: what tests and embedders start from.
    pub fn new(database_url: DatabaseUrl) -> Result<Self, ConfigError> {
        Ok(Self { database_url, ..Self::resolve(&Sources::default())? })
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.database_max_connections == 0 {
            return Err(ConfigError("database_max_connections must be at least 1".to_owned()));
        }
        Ok(())
    }

    pub fn store_options(&self) -> StoreOptions {
        StoreOptions {
            max_connections: self.database_max_connections,
            connect_timeout: Duration::from_millis(self.database_connect_timeout_ms),
            sqlite_busy_timeout: Duration::from_millis(self.sqlite_busy_timeout_ms),
            sqlite_max_pages: None,
        }
    }

    pub fn janitor_interval(&self) -> Option<Duration> {
        (self.janitor_interval_seconds > 0).then(|| Duration::from_secs(self.janitor_interval_seconds))
    }

    /// The issuer when set, else `http://` and `bind`.
    pub fn issuer_or_bind(&self) -> Result<Issuer, ConfigError> {
        match &self.issuer {
            Some(issuer) => Ok(issuer.clone()),
            None => Issuer::parse(&format!("http://{}", self.bind)).map_err(ConfigError),
        }
    }

    /// Production is any deployment with an https issuer: there, signing keys and the hash key must be
    /// sealed with a key of the operator's, never the built-in development key (which `serve` warns of).
    pub fn key_encryption_key(&self, issuer: &Issuer) -> Result<KeyEncryptionKey, ConfigError> {
        match &self.key_encryption_key {
            Some(key) => Ok(key.clone()),
            None if issuer.is_https() => Err(ConfigError(
                "key_encryption_key (LATCHKEY_KEY_ENCRYPTION_KEY) is required when the issuer is https; \
                 make one with `latchkey keys new-encryption-key`"
                    .to_owned(),
            )),
            None => Ok(KeyEncryptionKey::insecure_development_key()),
        }
    }
}
