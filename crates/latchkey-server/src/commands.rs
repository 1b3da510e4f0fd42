//! The command line's actions: each parses its arguments into the input of an operator action
//! (`latchkey_endpoints::operations`, the same the admin API runs), runs it, and prints the answer.

use crate::cli::{
    ClientAddArgs, ClientAmendArgs, ClientCommand, Command, Id, KeysCommand, TokenCommand, UserAmendArgs,
    UserCommand, Username,
};
use crate::config::Config;
use latchkey_core::hash_key;
use latchkey_core::keys::KeyError;
use latchkey_core::personal::Origin;
use latchkey_core::{Clock, SystemClock};
use latchkey_endpoints::operations::{self, clients, tokens, users};
use latchkey_endpoints::views::{self, Listing, Row};
use latchkey_endpoints::{ApiError, Context, SigningKeys};
use latchkey_model::{PageRequest, SecretHasher};
use latchkey_store::{Store, StoreError};
use std::io::{BufRead, Write};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
}

fn invalid(error: impl std::fmt::Display) -> CommandError {
    CommandError::Invalid(error.to_string())
}

/// An operator action's refusal about `what` (`user alice`, say), in the words an operator reads.
fn refused(what: &str) -> impl FnOnce(ApiError) -> CommandError + '_ {
    move |error| match error {
        ApiError::Refused(error) => {
            invalid(error.description.unwrap_or_else(|| error.code.as_str().to_owned()))
        }
        ApiError::NotFound => invalid(format!("no such {what}")),
        ApiError::Conflict => invalid(format!("{what} already exists")),
        ApiError::Storage(error) => CommandError::Store(error),
    }
}

fn key_error(error: KeyError) -> CommandError {
    match error {
        KeyError::Store(error) => CommandError::Store(error),
        other => invalid(other),
    }
}

/// The context of one command: the store opened (and migrated) with its hash key unsealed, the clock of
/// the machine.
fn context(config: &Config, keys: SigningKeys) -> Result<Context, CommandError> {
    let issuer = config.issuer_or_bind().map_err(invalid)?;
    let kek = config.key_encryption_key(&issuer).map_err(invalid)?;
    let store = Store::open(&config.database_url, &config.store_options())?;
    hash_key::unlock(&store, &kek, SystemClock.now(), &mut rand::rngs::OsRng).map_err(key_error)?;
    Ok(Context::new(store, issuer, Arc::new(SystemClock), keys))
}

fn plain(config: &Config) -> Result<Context, CommandError> {
    context(config, SigningKeys::without_encryption_key())
}

fn read_password(stdin: &mut impl BufRead) -> Result<String, CommandError> {
    let mut line = String::new();
    stdin.read_line(&mut line).map_err(|e| invalid(format!("cannot read password from stdin: {e}")))?;
    Ok(line.strip_suffix('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).unwrap_or(&line).to_owned())
}

fn print_json(out: &mut impl Write, value: &impl serde::Serialize) -> Result<(), CommandError> {
    Ok(writeln!(out, "{}", serde_json::to_string_pretty(value).map_err(invalid)?)?)
}

/// Every item of a listing, as a table.
async fn table<T, F, Fut>(out: &mut impl Write, list: F) -> Result<(), CommandError>
where
    T: Row + Clone,
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<Listing<T>, ApiError>>,
{
    let items = operations::every_page(list).await.map_err(refused("listing"))?;
    Ok(write!(out, "{}", views::table(&items))?)
}

/// Runs an operator command; `serve` is not one.
pub fn run(
    command: Command,
    config: &Config,
    stdin: &mut impl BufRead,
    out: &mut impl Write,
) -> Result<(), CommandError> {
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(CommandError::Output)?;
    runtime.block_on(execute(command, config, stdin, out))
}

async fn execute(
    command: Command,
    config: &Config,
    stdin: &mut impl BufRead,
    out: &mut impl Write,
) -> Result<(), CommandError> {
    match command {
        Command::Serve(_) => Err(invalid("serve runs the server")),
        Command::Migrate => {
            let store = Store::connect(&config.database_url, &config.store_options())?;
            let applied = store.migrate()?;
            Ok(writeln!(
                out,
                "database {} is up to date ({applied} migration(s) applied)",
                config.database_url
            )?)
        }
        Command::Keys(KeysCommand::NewEncryptionKey) => {
            let key = latchkey_core::keys::KeyEncryptionKey::generate(&mut rand::rngs::OsRng);
            Ok(writeln!(out, "{}", key.to_base64url())?)
        }
        Command::Keys(KeysCommand::ConvertHashes { .. }) => {
            let kek =
                config.key_encryption_key(&config.issuer_or_bind().map_err(invalid)?).map_err(invalid)?;
            let store = Store::open(&config.database_url, &config.store_options())?;
            let converted = hash_key::in_transaction(&store, |repo| {
                hash_key::convert_plain_hashes(repo, &kek, SystemClock.now(), &mut rand::rngs::OsRng)
            })
            .map_err(key_error)?;
            Ok(writeln!(out, "{converted} row(s) converted to keyed hashes; the servers can start")?)
        }
        Command::Keys(KeysCommand::Reencrypt { .. }) => {
            let kek =
                config.key_encryption_key(&config.issuer_or_bind().map_err(invalid)?).map_err(invalid)?;
            let ctx = context(config, SigningKeys::new(kek))?;
            let (rewritten, hash_key) = operations::reencrypt_keys(&ctx).await.map_err(refused("key"))?;
            writeln!(out, "{rewritten} signing key(s) re-encrypted with the current key-encryption key")?;
            let hash_key = if hash_key { "re-encrypted" } else { "already encrypted with it" };
            Ok(writeln!(out, "the hash key: {hash_key}")?)
        }
        Command::Keys(KeysCommand::Rotate { .. }) => {
            let kek =
                config.key_encryption_key(&config.issuer_or_bind().map_err(invalid)?).map_err(invalid)?;
            let ctx = context(config, SigningKeys::new(kek))?;
            let (kids, signs_from) = operations::rotate_keys(&ctx).await.map_err(refused("key"))?;
            writeln!(out, "signing keys rotated; published key ids: {}", kids.join(" "))?;
            writeln!(out, "the new keys sign from {} (unix time)", signs_from.unix_seconds())?;
            Ok(writeln!(out, "running servers pick the new keys up within a minute")?)
        }
        Command::RevokeUser(Username { username }) => {
            let revoked = users::revoke_user(&plain(config)?, &username).await;
            let revoked = revoked.map_err(refused(&format!("user {username}")))?;
            if revoked.sessions > 0 {
                eprintln!("{} browser sessions ended", revoked.sessions);
            }
            Ok(writeln!(out, "{}", revoked.revoked)?)
        }
        Command::RevokeClient(Id { id: client_id }) => {
            let revoked = clients::revoke_client(&plain(config)?, &client_id).await;
            Ok(writeln!(out, "{}", revoked.map_err(refused(&format!("client {client_id}")))?)?)
        }
        Command::User(command) => user(command, config, stdin, out).await,
        Command::Client(command) => client(command, config, out).await,
        Command::Token(command) => token(command, &plain(config)?, out).await,
    }
}

async fn user(
    command: UserCommand,
    config: &Config,
    stdin: &mut impl BufRead,
    out: &mut impl Write,
) -> Result<(), CommandError> {
    match command {
        UserCommand::Add(args) => {
            let password = match args.password {
                Some(password) => password,
                None => read_password(stdin)?,
            };
            let body =
                users::NewUserBody { username: args.username, password, email: args.email, name: args.name };
            // Checked before the database is touched: bad input leaves nothing behind.
            let user = users::prepare_user(body, SystemClock.now()).map_err(refused("user"))?;
            let what = format!("user {}", user.username);
            users::create_user(&plain(config)?, user).await.map_err(refused(&what))?;
            Ok(writeln!(out, "{what} created")?)
        }
        UserCommand::List => {
            let ctx = plain(config)?;
            table(out, |page| users::list_users(&ctx, page)).await
        }
        UserCommand::Get(Username { username }) => {
            let found = users::get_user(&plain(config)?, &username).await;
            print_json(out, &found.map_err(refused(&format!("user {username}")))?)
        }
        UserCommand::Amend(args) => {
            let UserAmendArgs { username, password_stdin, password, email, name, .. } = args;
            let password = match (password, password_stdin) {
                (Some(password), _) => Some(password),
                (None, true) => Some(read_password(stdin)?),
                (None, false) => None,
            };
            let text = |value: Option<String>, clear: bool| if clear { Some(None) } else { value.map(Some) };
            let disabled = (args.disable || args.enable).then_some(args.disable);
            let amendment = users::UserAmendment {
                password,
                email: text(email, args.no_email),
                name: text(name, args.no_name),
                disabled,
            };
            let amended = users::amend_user(&plain(config)?, &username, amendment).await;
            print_json(out, &amended.map_err(refused(&format!("user {username}")))?)
        }
        UserCommand::Delete(Username { username }) => {
            let what = format!("user {username}");
            users::delete_user(&plain(config)?, &username).await.map_err(refused(&what))?;
            Ok(writeln!(out, "{what} deleted")?)
        }
    }
}

async fn client(command: ClientCommand, config: &Config, out: &mut impl Write) -> Result<(), CommandError> {
    match command {
        ClientCommand::Add(args) => client_add(args, config, out).await,
        ClientCommand::List => {
            let ctx = plain(config)?;
            table(out, |page| clients::list_clients(&ctx, page)).await
        }
        ClientCommand::Get(Id { id }) => print_json(
            out,
            &clients::get_client(&plain(config)?, &id).await.map_err(refused(&format!("client {id}")))?,
        ),
        ClientCommand::Amend(args) => {
            let ClientAmendArgs { id, name, redirect_uris, grant_types, scopes, access_token_ttl, .. } = args;
            let refresh_token_ttl =
                if args.no_refresh_token_expiry { Some(None) } else { args.refresh_token_ttl.map(Some) };
            let amendment = clients::ClientAmendment {
                name,
                redirect_uris,
                grant_types,
                scopes,
                access_token_ttl,
                refresh_token_ttl,
                id_token_alg: args.id_token_alg,
            };
            let amended = clients::amend_client(&plain(config)?, &id, amendment).await;
            print_json(out, &amended.map_err(refused(&format!("client {id}")))?)
        }
        ClientCommand::RotateSecret(Id { id }) => {
            let rotated = clients::rotate_client_secret(&plain(config)?, &id).await;
            if let Some(secret) = rotated.map_err(refused(&format!("client {id}")))?.client_secret {
                writeln!(out, "client_secret: {}", secret.expose())?;
            }
            Ok(writeln!(out, "The old secret no longer works; the new one is shown only now.")?)
        }
        ClientCommand::Delete(Id { id }) => {
            let what = format!("client {id}");
            clients::delete_client(&plain(config)?, &id).await.map_err(refused(&what))?;
            Ok(writeln!(out, "{what} deleted")?)
        }
    }
}

async fn client_add(args: ClientAddArgs, config: &Config, out: &mut impl Write) -> Result<(), CommandError> {
    let jwks = match &args.jwks_file {
        Some(path) => {
            let unreadable =
                |e: &dyn std::fmt::Display| invalid(format!("--jwks-file {}: {e}", path.display()));
            let text = std::fs::read_to_string(path).map_err(|e| unreadable(&e))?;
            Some(serde_json::from_str(&text).map_err(|e| unreadable(&e))?)
        }
        None => None,
    };
    let body = clients::NewClientBody {
        id: args.id,
        name: args.name,
        public: args.public,
        secret: args.secret,
        jwks,
        redirect_uris: args.redirect_uris,
        grant_types: args.grant_types,
        scopes: args.scopes,
        access_token_ttl: args.access_token_ttl,
        refresh_token_ttl: args.refresh_token_ttl,
        id_token_alg: Some(args.id_token_alg),
    };
    // Checked before the database is touched: bad input leaves nothing behind, not even a new file. The
    // key a secret is hashed with is kept in the database, so once it is open the client is made again.
    let unstored = SecretHasher::new(&rand::random());
    clients::prepare_client(body.clone(), &unstored, SystemClock.now()).map_err(refused("client"))?;
    let ctx = plain(config)?;
    let (client, secret) =
        clients::prepare_client(body, ctx.store.hasher()?, SystemClock.now()).map_err(refused("client"))?;
    let (what, kind) = (format!("client {}", client.id), client.kind().as_str());
    let created = clients::create_client(&ctx, client, secret).await.map_err(refused(&what))?;
    writeln!(out, "{what} registered ({kind})")?;
    if let Some(secret) = &created.client_secret {
        writeln!(out, "client_secret: {}", secret.expose())?;
        writeln!(out, "The secret is shown only now; it is stored as a hash and cannot be shown again.")?;
    }
    Ok(())
}

async fn token(command: TokenCommand, ctx: &Context, out: &mut impl Write) -> Result<(), CommandError> {
    match command {
        TokenCommand::Create(args) => {
            let owner =
                tokens::owner(args.user.as_deref(), args.client.as_deref()).map_err(refused("owner"))?;
            let ttl = args.ttl.map(serde_json::Value::from);
            let body = tokens::NewTokenBody {
                name: args.name,
                scopes: Some(args.scopes),
                ttl,
                ..Default::default()
            };
            let created =
                tokens::create_token(ctx, owner, body, Origin::Cli).await.map_err(refused("token"))?;
            eprintln!("token {} created; the secret below is shown this once", created.view.id);
            Ok(writeln!(out, "{}", created.token.expose())?)
        }
        TokenCommand::List { user, client } => {
            table(out, |page| {
                let filter = tokens::TokenFilter {
                    username: user.clone(),
                    client_id: client.clone(),
                    active: Some(true),
                    limit: Some(page.limit()),
                    cursor: page.after.map(|cursor| cursor.as_str().to_owned()),
                    ..Default::default()
                };
                tokens::list_tokens(ctx, filter)
            })
            .await
        }
        TokenCommand::Get(Id { id }) => {
            print_json(out, &tokens::get_token(ctx, &id).await.map_err(refused(&format!("token {id}")))?)
        }
        TokenCommand::Amend { id, name, data } => {
            let data = data
                .map(|text| serde_json::from_str(&text))
                .transpose()
                .map_err(|e| invalid(format!("--data: {e}")))?;
            let amended = tokens::amend_token(ctx, &id, tokens::TokenAmendment { name, data }).await;
            print_json(out, &amended.map_err(refused(&format!("token {id}")))?)
        }
        TokenCommand::Revoke(Id { id }) => {
            let revoked = tokens::revoke_token(ctx, &id).await.map_err(refused(&format!("token {id}")))?;
            Ok(writeln!(out, "{revoked}")?)
        }
    }
}
