//! The `latchkey` command line. Every operator action of the admin API has its command here, and the
//! reverse ([`Command::operation`]).
//!
//! The argument types carry passwords and client secrets, so none of them implements `Debug`: no log line
//! or panic message can print them.

use crate::config::{Config, ConfigError, LogFormat, Sources};
use clap::{Args, Parser, Subcommand};
use latchkey_endpoints::operations::Operation;
use std::path::PathBuf;

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
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,

    /// Log filter, e.g. `info` or `latchkey_server=debug` [default: info]
    #[arg(long, global = true, value_name = "FILTER")]
    pub log: Option<String>,

    /// Log format [default: text]
    #[arg(long, global = true, value_enum)]
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
    RevokeUser(Username),
    /// Personal tokens and API keys, and the tokens of users and clients.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Revoke every token of a client (an app reset); prints how many token records were revoked.
    RevokeClient(Id),
}

/// The record, client or token a command acts on. Record ids are base64url and client ids may hold '-', so
/// an id may begin with one and is still an id, not a flag.
#[derive(Args)]
pub struct Id {
    /// The id, as `list` shows it (it may begin with '-').
    #[arg(allow_hyphen_values = true)]
    pub id: String,
}

/// The user a command acts on.
#[derive(Args)]
pub struct Username {
    /// The user's name.
    #[arg(allow_hyphen_values = true)]
    pub username: String,
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Make new signing keys; the old ones stay published until the tokens they signed expire.
    Rotate {
        /// The server's issuer; with an https issuer the key-encryption key is required, as for `serve`.
        #[arg(long, value_name = "URL")]
        issuer: Option<String>,
    },
    /// Print a new random key-encryption key for LATCHKEY_KEY_ENCRYPTION_KEY.
    NewEncryptionKey,
    /// Once, when upgrading from a version before keyed secret hashes, with every server stopped: make the
    /// hash key and convert the stored hashes to it, keeping every token and client secret.
    ConvertHashes {
        /// The server's issuer; with an https issuer the key-encryption key is required, as for `serve`.
        #[arg(long, value_name = "URL")]
        issuer: Option<String>,
    },
    /// Re-encrypt the stored signing keys with the first key of LATCHKEY_KEY_ENCRYPTION_KEY ("new,old"):
    /// afterwards the old key can be dropped.
    Reencrypt {
        /// The server's issuer; with an https issuer the key-encryption key is required, as for `serve`.
        #[arg(long, value_name = "URL")]
        issuer: Option<String>,
    },
}

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,

    /// Public base URL of this server, as clients see it [default: http:// + the bound address]
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,

    /// On an empty database, create a demo user and client and print how to use them.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
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
    /// Show one token (JSON).
    Get(Id),
    /// Rename a token or replace its custom data.
    Amend {
        #[arg(allow_hyphen_values = true)]
        id: String,
        #[arg(long)]
        name: Option<String>,
        /// Custom data, a JSON object.
        #[arg(long, value_name = "JSON")]
        data: Option<String>,
    },
    /// Revoke one token by its id (a refresh token takes its whole grant with it).
    Revoke(Id),
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
    /// Show one client (JSON).
    Get(Id),
    /// Change a client's registration; lists given replace the registered ones.
    Amend(ClientAmendArgs),
    /// Give a client a new generated secret, printed once; the old one stops working at once.
    RotateSecret(Id),
    /// Delete a client and every token it holds.
    Delete(Id),
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
    /// Access-token (and ID-token) lifetime in seconds [default: 3600]
    #[arg(long, value_name = "SECONDS")]
    pub access_token_ttl: Option<i64>,
    /// Refresh-token lifetime in seconds [default: 14 days]
    #[arg(long, value_name = "SECONDS")]
    pub refresh_token_ttl: Option<i64>,
    /// Algorithm the client's ID tokens are signed with: RS256, ES256 or EdDSA.
    #[arg(long = "id-token-alg", value_name = "ALG", default_value = "RS256")]
    pub id_token_alg: String,
}

#[derive(Args)]
pub struct ClientAmendArgs {
    #[arg(allow_hyphen_values = true)]
    pub id: String,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long = "redirect-uri", value_name = "URI")]
    pub redirect_uris: Option<Vec<String>>,
    #[arg(long = "grant-type", value_name = "TYPE")]
    pub grant_types: Option<Vec<String>>,
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Option<Vec<String>>,
    #[arg(long, value_name = "SECONDS")]
    pub access_token_ttl: Option<i64>,
    #[arg(long, value_name = "SECONDS", conflicts_with = "no_refresh_token_expiry")]
    pub refresh_token_ttl: Option<i64>,
    /// Refresh tokens stop expiring on their own (they still rotate).
    #[arg(long)]
    pub no_refresh_token_expiry: bool,
    #[arg(long = "id-token-alg", value_name = "ALG")]
    pub id_token_alg: Option<String>,
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user.
    Add(UserAddArgs),
    /// List users.
    List,
    /// Show one user (JSON).
    Get(Username),
    /// Change a user. A new password or --disable ends every session and token of the user.
    Amend(UserAmendArgs),
    /// Delete a user and every token they hold.
    Delete(Username),
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

#[derive(Args)]
pub struct UserAmendArgs {
    #[arg(allow_hyphen_values = true)]
    pub username: String,
    /// Read a new password from the first line of standard input.
    #[arg(long, conflicts_with = "password")]
    pub password_stdin: bool,
    /// A new password (visible in the process list; prefer --password-stdin).
    #[arg(long)]
    pub password: Option<String>,
    #[arg(long, conflicts_with = "no_email")]
    pub email: Option<String>,
    /// Remove the email address.
    #[arg(long)]
    pub no_email: bool,
    #[arg(long, conflicts_with = "no_name")]
    pub name: Option<String>,
    /// Remove the name.
    #[arg(long)]
    pub no_name: bool,
    /// Disable the user: every session and token ends.
    #[arg(long, conflicts_with = "enable")]
    pub disable: bool,
    #[arg(long)]
    pub enable: bool,
}

impl Command {
    /// The operator action this command performs, the same one as an admin API route.
    pub fn operation(&self) -> Option<Operation> {
        Some(match self {
            // The key-encryption key never travels over the API: re-encryption is the command line's alone.
            Command::Serve(_)
            | Command::Migrate
            | Command::Keys(
                KeysCommand::NewEncryptionKey
                | KeysCommand::Reencrypt { .. }
                | KeysCommand::ConvertHashes { .. },
            ) => return None,
            Command::Keys(KeysCommand::Rotate { .. }) => Operation::RotateKeys,
            Command::RevokeUser(_) => Operation::RevokeUser,
            Command::RevokeClient(_) => Operation::RevokeClient,
            Command::User(user) => match user {
                UserCommand::Add(_) => Operation::CreateUser,
                UserCommand::List => Operation::ListUsers,
                UserCommand::Get(_) => Operation::GetUser,
                UserCommand::Amend(_) => Operation::AmendUser,
                UserCommand::Delete(_) => Operation::DeleteUser,
            },
            Command::Client(client) => match client {
                ClientCommand::Add(_) => Operation::CreateClient,
                ClientCommand::List => Operation::ListClients,
                ClientCommand::Get(_) => Operation::GetClient,
                ClientCommand::Amend(_) => Operation::AmendClient,
                ClientCommand::RotateSecret(_) => Operation::RotateClientSecret,
                ClientCommand::Delete(_) => Operation::DeleteClient,
            },
            Command::Token(token) => match token {
                TokenCommand::Create(_) => Operation::CreateToken,
                TokenCommand::List { .. } => Operation::ListTokens,
                TokenCommand::Get(_) => Operation::GetToken,
                TokenCommand::Amend { .. } => Operation::AmendToken,
                TokenCommand::Revoke(_) => Operation::RevokeToken,
            },
        })
    }
}

impl Cli {
    /// The settings in force for this invocation: these flags, then the process environment, then the file.
    pub fn resolve_config(&self) -> Result<Config, ConfigError> {
        self.resolve_config_with(std::env::vars())
    }

    pub fn resolve_config_with(
        &self,
        environment: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut sources = Sources::default().with_environment(environment);
        if let Some(path) = &self.config {
            sources = sources.with_file(path)?;
        }
        let flags = &mut sources.flags;
        let mut flag = |key: &'static str, value: Option<String>| {
            if let Some(value) = value {
                flags.insert(key, value);
            }
        };
        flag("database_url", self.database_url.clone());
        flag("log", self.log.clone());
        flag(
            "log_format",
            self.log_format.map(|format| if format == LogFormat::Json { "json" } else { "text" }.to_owned()),
        );
        match &self.command {
            Command::Serve(serve) => {
                flag("bind", serve.bind.clone());
                flag("issuer", serve.issuer.clone());
                flag("demo", serve.demo.map(|demo| demo.to_string()));
            }
            Command::Keys(
                KeysCommand::Rotate { issuer }
                | KeysCommand::Reencrypt { issuer }
                | KeysCommand::ConvertHashes { issuer },
            ) => flag("issuer", issuer.clone()),
            _ => {}
        }
        Config::resolve(&sources)
    }
}
