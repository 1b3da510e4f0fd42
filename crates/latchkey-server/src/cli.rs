//! The `latchkey` command line.
//!
//! The argument types carry passwords and client secrets, so none of them implements `Debug`: no log line
//! or panic message can print them.

use crate::config::{self, Config, ConfigError, FileConfig, LogFormat, Overrides};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

pub use crate::commands::{
    client_add, client_list, keys_new_encryption_key, keys_rotate, migrate, revoke_client, revoke_user,
    token_create, token_list, token_revoke, user_add, user_list,
};

#[derive(Parser)]
#[command(
    name = "latchkey",
    version,
    about = "Latchkey: an OAuth 2.0 and OpenID Connect authorization server"
)]
pub struct Cli {
    /// TOML file with settings (command-line flags and environment variables take precedence).
    #[arg(long, global = true, env = "LATCHKEY_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Database: sqlite://PATH, sqlite::memory: or postgres://USER@HOST/DB [default: sqlite://latchkey.db]
    #[arg(long, global = true, env = "LATCHKEY_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,

    /// Log filter, e.g. `info` or `latchkey_server=debug` [default: info]
    #[arg(long, global = true, env = "LATCHKEY_LOG", value_name = "FILTER")]
    pub log: Option<String>,

    /// Log format [default: text]
    #[arg(long, global = true, env = "LATCHKEY_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Create the database if needed and apply pending migrations.
    Migrate,
    /// Manage OAuth clients.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Revoke every token of a user (access and refresh tokens, unredeemed codes) and end their browser
    /// sessions; prints how many token records were revoked.
    RevokeUser {
        /// The user's name.
        username: String,
    },
    /// Personal tokens and API keys, and the tokens of users and clients.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Revoke every token of a client (an app reset); prints how many token records were revoked.
    RevokeClient {
        /// The client's id.
        client_id: String,
    },
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Make new signing keys; the old ones stay published until the tokens they signed expire.
    Rotate {
        /// The server's issuer; with an https issuer the key-encryption key is required, as for `serve`.
        #[arg(long, env = "LATCHKEY_ISSUER", value_name = "URL")]
        issuer: Option<String>,
    },
    /// Print a new random key-encryption key for LATCHKEY_KEY_ENCRYPTION_KEY.
    NewEncryptionKey,
}

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "LATCHKEY_BIND", value_name = "ADDR")]
    pub bind: Option<String>,

    /// Public base URL of this server, as clients see it [default: http:// + the bound address]
    #[arg(long, env = "LATCHKEY_ISSUER", value_name = "URL")]
    pub issuer: Option<String>,

    /// On an empty database, create a demo user and client and print how to use them.
    #[arg(
        long,
        env = "LATCHKEY_DEMO",
        num_args = 0..=1,
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new(),
    )]
    pub demo: Option<bool>,
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a personal token for a user (or, with --client, an API key); prints the secret, once.
    Create(TokenCreateArgs),
    /// List tokens in force, newest first.
    List {
        #[arg(long = "user", value_name = "NAME")]
        user: Option<String>,
        #[arg(long = "client", value_name = "ID")]
        client: Option<String>,
    },
    /// Revoke one token by its id (a refresh token takes its whole grant with it).
    Revoke { id: String },
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("owner").required(true).args(["user", "client"])))]
pub struct TokenCreateArgs {
    /// The user the personal token acts for.
    #[arg(long = "user", value_name = "NAME")]
    pub user: Option<String>,
    /// The client an API key belongs to.
    #[arg(long = "client", value_name = "ID")]
    pub client: Option<String>,
    /// What the token is for, as its owner will see it.
    #[arg(long)]
    pub name: String,
    /// Scope (repeatable).
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,
    /// Lifetime, e.g. 3600, 12h or 30d [default: until revoked]
    #[arg(long)]
    pub ttl: Option<String>,
}

#[derive(Subcommand)]
pub enum ClientCommand {
    /// Register a client. A confidential client without --secret gets a generated one, printed once.
    Add(ClientAddArgs),
    /// List registered clients.
    List,
}

#[derive(Args)]
pub struct ClientAddArgs {
    /// Client identifier (letters, digits, '.', '_', '~', '-').
    #[arg(long)]
    pub id: String,
    /// Display name shown on the consent page [default: the id]
    #[arg(long)]
    pub name: Option<String>,
    /// Client secret (at least 32 characters); omit to have a strong one generated.
    #[arg(long, conflicts_with = "public")]
    pub secret: Option<String>,
    /// A public client (native or browser app): no secret, PKCE required.
    #[arg(long, conflicts_with = "jwks_file")]
    pub public: bool,
    /// Authenticate with private_key_jwt: a file with the client's public keys (a JWK set).
    #[arg(long, value_name = "FILE", conflicts_with = "secret")]
    pub jwks_file: Option<PathBuf>,
    /// Allowed redirect URI (repeatable); matched exactly.
    #[arg(long = "redirect-uri", value_name = "URI")]
    pub redirect_uris: Vec<String>,
    /// Allowed grant type (repeatable): authorization_code, refresh_token, client_credentials, password, implicit.
    #[arg(long = "grant-type", value_name = "TYPE", required = true)]
    pub grant_types: Vec<String>,
    /// Allowed scope (repeatable).
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,
    /// Algorithm the client's ID tokens are signed with: RS256, ES256 or EdDSA.
    #[arg(long = "id-token-alg", value_name = "ALG", default_value = "RS256", value_parser = parse_signing_alg)]
    pub id_token_alg: latchkey_model::SigningAlgorithm,
}

fn parse_signing_alg(name: &str) -> Result<latchkey_model::SigningAlgorithm, String> {
    latchkey_model::SigningAlgorithm::parse(name)
        .ok_or_else(|| format!("{name:?} is not one of RS256, ES256, EdDSA"))
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user.
    Add(UserAddArgs),
    /// List users.
    List,
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("password_source").required(true).args(["password", "password_stdin"])))]
pub struct UserAddArgs {
    #[arg(long)]
    pub username: String,
    /// Read the password from the first line of standard input (keeps it out of the process list).
    #[arg(long)]
    pub password_stdin: bool,
    /// The password (visible to other local users in the process list; prefer --password-stdin).
    #[arg(long)]
    pub password: Option<String>,
    #[arg(long)]
    pub email: Option<String>,
    #[arg(long)]
    pub name: Option<String>,
}

impl Cli {
    /// The settings in force for this invocation.
    pub fn resolve_config(&self) -> Result<Config, ConfigError> {
        let file = match &self.config {
            Some(path) => FileConfig::load(path)?,
            None => FileConfig::default(),
        };
        let mut overrides = Overrides {
            // From the environment only: a command-line flag would show the key in the process list.
            key_encryption_key: std::env::var("LATCHKEY_KEY_ENCRYPTION_KEY").ok().filter(|k| !k.is_empty()),
            admin_token: std::env::var("LATCHKEY_ADMIN_TOKEN").ok().filter(|t| !t.is_empty()),
            database_url: self.database_url.clone(),
            log: self.log.clone(),
            log_format: self.log_format,
            ..Overrides::default()
        };
        if let Command::Serve(serve) = &self.command {
            overrides.bind = serve.bind.clone();
            overrides.issuer = serve.issuer.clone();
            overrides.demo = serve.demo;
        }
        if let Command::Keys(KeysCommand::Rotate { issuer }) = &self.command {
            overrides.issuer = issuer.clone();
        }
        config::resolve(overrides, file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_flags_parse() {
        let cli = Cli::try_parse_from(["latchkey", "serve", "--bind", "127.0.0.1:0", "--demo"]).unwrap();
        let Command::Serve(args) = &cli.command else { panic!("serve") };
        assert_eq!(args.bind.as_deref(), Some("127.0.0.1:0"));
        assert_eq!(args.demo, Some(true));
        let config = cli.resolve_config().unwrap();
        assert!(config.demo);
    }

    #[test]
    fn user_add_needs_exactly_one_password_source() {
        assert!(Cli::try_parse_from(["latchkey", "user", "add", "--username", "a"]).is_err());
        assert!(Cli::try_parse_from([
            "latchkey",
            "user",
            "add",
            "--username",
            "a",
            "--password",
            "x",
            "--password-stdin"
        ])
        .is_err());
        assert!(
            Cli::try_parse_from(["latchkey", "user", "add", "--username", "a", "--password-stdin"]).is_ok()
        );
    }

    #[test]
    fn public_clients_take_no_secret() {
        let args = [
            "latchkey",
            "client",
            "add",
            "--id",
            "a",
            "--public",
            "--secret",
            "s",
            "--grant-type",
            "authorization_code",
        ];
        assert!(Cli::try_parse_from(args).is_err());
    }
}
