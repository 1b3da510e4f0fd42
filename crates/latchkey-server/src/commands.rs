//! The command line's actions: each parses its arguments into the input of an operator action
//! (`latchkey_endpoints::operations`, the same the admin API runs), runs it, and prints the answer.

use crate::cli::{
    ClientAddArgs, ClientAmendArgs, ClientCommand, Command, KeysCommand, TokenCommand, UserAmendArgs,
    UserCommand,
};
use crate::config::Config;
use latchkey_core::personal::Origin;
use latchkey_core::{Clock, SystemClock};
use latchkey_endpoints::operations::{self, clients, tokens, users, PageQuery};
use latchkey_endpoints::views::{Listing, TokenView};
use latchkey_endpoints::{ApiError, Context, SigningKeys};
use latchkey_model::{PageRequest, MAX_PAGE_SIZE};
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

/// An operator action's refusal, in the words an operator reads.
fn refused(error: ApiError) -> CommandError {
    match error {
        ApiError::Refused(error) => {
            invalid(error.description.unwrap_or_else(|| error.code.as_str().to_owned()))
        }
        ApiError::NotFound => invalid("not found"),
        ApiError::Conflict => invalid("already exists"),
        ApiError::Storage(error) => CommandError::Store(error),
    }
}

/// The context of one command: the store opened (and migrated), the clock of the machine.
fn context(config: &Config, keys: SigningKeys) -> Result<Context, CommandError> {
    let store = Store::open(&config.database_url, &config.store_options())?;
    let issuer = config.issuer_or_bind().map_err(invalid)?;
    Ok(Context::new(store, issuer, Arc::new(SystemClock), keys))
}

fn read_password(stdin: &mut impl BufRead) -> Result<String, CommandError> {
    let mut line = String::new();
    stdin.read_line(&mut line).map_err(|e| invalid(format!("cannot read password from stdin: {e}")))?;
    Ok(line.strip_suffix('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).unwrap_or(&line).to_owned())
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
    let plain = || context(config, SigningKeys::without_encryption_key());
    match command {
        Command::Serve(_) => Err(invalid("serve runs the server")),
        Command::Migrate => {
            let store = Store::connect(&config.database_url, &config.store_options())?;
            let applied = store.migrate()?;
            writeln!(out, "database {} is up to date ({applied} migration(s) applied)", config.database_url)?;
            Ok(())
        }
        Command::Keys(KeysCommand::NewEncryptionKey) => {
            let key = latchkey_core::keys::KeyEncryptionKey::generate(&mut rand::rngs::OsRng);
            Ok(writeln!(out, "{}", key.to_base64url())?)
        }
        Command::Keys(KeysCommand::Rotate { .. }) => {
            let issuer = config.issuer_or_bind().map_err(invalid)?;
            let kek = config.key_encryption_key(&issuer).map_err(invalid)?;
            let kids =
                operations::rotate_keys(&context(config, SigningKeys::new(kek))?).await.map_err(refused)?;
            writeln!(out, "signing keys rotated; published key ids: {}", kids.join(" "))?;
            Ok(writeln!(out, "running servers pick the new keys up within a minute")?)
        }
        Command::RevokeUser { username } => {
            let revoked = users::revoke_user(&plain()?, &username).await.map_err(|e| match e {
                ApiError::NotFound => invalid(format!("no user named {username}")),
                other => refused(other),
            })?;
            writeln!(out, "{}", revoked.revoked)?;
            if revoked.sessions > 0 {
                eprintln!("{} browser sessions ended", revoked.sessions);
            }
            Ok(())
        }
        Command::RevokeClient { client_id } => {
            let revoked = clients::revoke_client(&plain()?, &client_id).await.map_err(|e| match e {
                ApiError::NotFound => invalid(format!("no client with id {client_id}")),
                other => refused(other),
            })?;
            Ok(writeln!(out, "{revoked}")?)
        }
        Command::User(command) => user(command, config, stdin, out).await,
        Command::Client(command) => client(command, config, out).await,
        Command::Token(command) => token(command, &plain()?, out).await,
    }
}

fn print_json(out: &mut impl Write, value: &impl serde::Serialize) -> Result<(), CommandError> {
    let text = serde_json::to_string_pretty(value).map_err(invalid)?;
    Ok(writeln!(out, "{text}")?)
}

/// Every page of a listing.
async fn all<T, F, Fut>(mut page: F) -> Result<Vec<T>, CommandError>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<Listing<T>, ApiError>>,
    T: Clone,
{
    let mut items = Vec::new();
    let mut next = PageRequest::first(MAX_PAGE_SIZE);
    loop {
        let listing = page(next).await.map_err(refused)?;
        items.extend(listing.items().iter().cloned());
        match listing.next {
            Some(cursor) => next = PageQuery { limit: Some(MAX_PAGE_SIZE), cursor: Some(cursor) }.page(),
            None => return Ok(items),
        }
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
            let user = users::prepare_user(body, SystemClock.now()).map_err(refused)?;
            let name = user.username.clone();
            users::create_user(&context(config, SigningKeys::without_encryption_key())?, user)
                .await
                .map_err(|e| match e {
                    ApiError::Conflict => invalid(format!("user {name} already exists")),
                    other => refused(other),
                })?;
            Ok(writeln!(out, "user {name} created")?)
        }
        UserCommand::List => {
            let ctx = context(config, SigningKeys::without_encryption_key())?;
            let users = all(|page| users::list_users(&ctx, page)).await?;
            let rows = users
                .iter()
                .map(|u| {
                    let status = if u.disabled { "disabled" } else { "active" };
                    vec![
                        u.username.clone(),
                        u.name.clone().unwrap_or_default(),
                        u.email.clone().unwrap_or_default(),
                        status.to_owned(),
                    ]
                })
                .collect();
            print_table(out, &["USERNAME", "NAME", "EMAIL", "STATUS"], rows)
        }
        UserCommand::Get { username } => {
            let ctx = context(config, SigningKeys::without_encryption_key())?;
            print_json(out, &users::get_user(&ctx, &username).await.map_err(refused)?)
        }
        UserCommand::Amend(args) => {
            let UserAmendArgs {
                username,
                password_stdin,
                password,
                email,
                no_email,
                name,
                no_name,
                disable,
                enable,
            } = args;
            let password = match (password, password_stdin) {
                (Some(password), _) => Some(password),
                (None, true) => Some(read_password(stdin)?),
                (None, false) => None,
            };
            let text = |value: Option<String>, clear: bool| if clear { Some(None) } else { value.map(Some) };
            let amendment = users::UserAmendment {
                password,
                email: text(email, no_email),
                name: text(name, no_name),
                disabled: if disable {
                    Some(true)
                } else if enable {
                    Some(false)
                } else {
                    None
                },
            };
            let ctx = context(config, SigningKeys::without_encryption_key())?;
            print_json(out, &users::amend_user(&ctx, &username, amendment).await.map_err(refused)?)
        }
        UserCommand::Delete { username } => {
            let ctx = context(config, SigningKeys::without_encryption_key())?;
            users::delete_user(&ctx, &username).await.map_err(refused)?;
            Ok(writeln!(out, "user {username} deleted")?)
        }
    }
}

async fn client(command: ClientCommand, config: &Config, out: &mut impl Write) -> Result<(), CommandError> {
    let ctx = || context(config, SigningKeys::without_encryption_key());
    match command {
        ClientCommand::Add(args) => client_add(args, config, out).await,
        ClientCommand::List => {
            let ctx = ctx()?;
            let clients = all(|page| clients::list_clients(&ctx, page)).await?;
            let rows = clients
                .iter()
                .map(|c| {
                    let kind = if c.authentication == "none" { "public" } else { "confidential" };
                    vec![
                        c.id.clone(),
                        kind.to_owned(),
                        c.grant_types.join(","),
                        c.scopes.join(" "),
                        c.redirect_uris.join(" "),
                    ]
                })
                .collect();
            print_table(out, &["ID", "TYPE", "GRANT TYPES", "SCOPE", "REDIRECT URIS"], rows)
        }
        ClientCommand::Get { id } => {
            print_json(out, &clients::get_client(&ctx()?, &id).await.map_err(refused)?)
        }
        ClientCommand::Amend(args) => {
            let ClientAmendArgs {
                id,
                name,
                redirect_uris,
                grant_types,
                scopes,
                access_token_ttl,
                refresh_token_ttl,
                no_refresh_token_expiry,
                id_token_alg,
            } = args;
            let amendment = clients::ClientAmendment {
                name,
                redirect_uris,
                grant_types,
                scopes,
                access_token_ttl,
                refresh_token_ttl: if no_refresh_token_expiry {
                    Some(None)
                } else {
                    refresh_token_ttl.map(Some)
                },
                id_token_alg,
            };
            print_json(out, &clients::amend_client(&ctx()?, &id, amendment).await.map_err(refused)?)
        }
        ClientCommand::RotateSecret { id } => {
            let rotated = clients::rotate_client_secret(&ctx()?, &id).await.map_err(refused)?;
            if let Some(secret) = &rotated.client_secret {
                writeln!(out, "client_secret: {}", secret.expose())?;
            }
            Ok(writeln!(out, "The old secret no longer works; the new one is shown only now.")?)
        }
        ClientCommand::Delete { id } => {
            clients::delete_client(&ctx()?, &id).await.map_err(refused)?;
            Ok(writeln!(out, "client {id} deleted")?)
        }
    }
}

async fn client_add(args: ClientAddArgs, config: &Config, out: &mut impl Write) -> Result<(), CommandError> {
    let jwks = match &args.jwks_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| invalid(format!("--jwks-file {}: {e}", path.display())))?;
            Some(
                serde_json::from_str(&text)
                    .map_err(|e| invalid(format!("--jwks-file {}: {e}", path.display())))?,
            )
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
    // Checked before the database is touched: bad input leaves nothing behind, not even a new file.
    let (client, secret) = clients::prepare_client(body, SystemClock.now()).map_err(refused)?;
    let (id, kind) = (client.id.clone(), client.kind().as_str());
    let ctx = context(config, SigningKeys::without_encryption_key())?;
    let created = clients::create_client(&ctx, client, secret).await.map_err(|e| match e {
        ApiError::Conflict => invalid(format!("client {id} already exists")),
        other => refused(other),
    })?;
    writeln!(out, "client {id} registered ({kind})")?;
    if let Some(secret) = &created.client_secret {
        writeln!(out, "client_secret: {}", secret.expose())?;
        writeln!(out, "The secret is shown only now; it is stored as a hash and cannot be shown again.")?;
    }
    Ok(())
}

async fn token(command: TokenCommand, ctx: &Context, out: &mut impl Write) -> Result<(), CommandError> {
    match command {
        TokenCommand::Create(args) => {
            let owner = tokens::owner(args.user.as_deref(), args.client.as_deref()).map_err(refused)?;
            let body = tokens::NewTokenBody {
                name: args.name,
                scopes: Some(args.scopes),
                ttl: args.ttl.map(serde_json::Value::from),
                expires_at: None,
                data: None,
            };
            let created = tokens::create_token(ctx, owner, body, Origin::Cli).await.map_err(refused)?;
            writeln!(out, "{}", created.token.expose())?;
            eprintln!("token {} created; the secret above is shown this once", created.view.id);
            Ok(())
        }
        TokenCommand::List { user, client } => {
            let tokens = all(|page| {
                let filter = tokens::TokenFilter {
                    username: user.clone(),
                    client_id: client.clone(),
                    kind: None,
                    active: Some(true),
                    limit: Some(page.limit()),
                    cursor: page.after.map(|cursor| cursor.as_str().to_owned()),
                };
                tokens::list_tokens(ctx, filter)
            })
            .await?;
            token_table(out, &tokens)
        }
        TokenCommand::Get { id } => print_json(out, &tokens::get_token(ctx, &id).await.map_err(refused)?),
        TokenCommand::Amend { id, name, data } => {
            let data = data
                .map(|text| serde_json::from_str(&text))
                .transpose()
                .map_err(|e| invalid(format!("--data: {e}")))?;
            print_json(
                out,
                &tokens::amend_token(ctx, &id, tokens::TokenAmendment { name, data })
                    .await
                    .map_err(refused)?,
            )
        }
        TokenCommand::Revoke { id } => {
            let revoked = tokens::revoke_token(ctx, &id).await.map_err(|e| match e {
                ApiError::NotFound => invalid(format!("no token with id {id}")),
                other => refused(other),
            })?;
            Ok(writeln!(out, "{revoked}")?)
        }
    }
}

fn token_table(out: &mut impl Write, tokens: &[TokenView]) -> Result<(), CommandError> {
    let when = |millis: Option<i64>| match millis {
        Some(millis) => chrono::DateTime::from_timestamp(millis / 1000, 0)
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default(),
        None => "-".to_owned(),
    };
    let dash = |text: &Option<String>| text.clone().unwrap_or_else(|| "-".to_owned());
    let rows = tokens
        .iter()
        .map(|view| {
            vec![
                view.id.clone(),
                view.kind.to_owned(),
                dash(&view.name),
                dash(&view.username),
                view.client_id.clone(),
                view.origin.clone(),
                view.scopes.join(" "),
                when(Some(view.created_at)),
                when(view.active_at),
                when(view.expires_at),
            ]
        })
        .collect();
    print_table(
        out,
        &["ID", "TYPE", "NAME", "USER", "CLIENT", "ORIGIN", "SCOPES", "CREATED", "LAST USED", "EXPIRES"],
        rows,
    )
}

fn print_table(out: &mut impl Write, header: &[&str], rows: Vec<Vec<String>>) -> Result<(), CommandError> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        padded.join("  ").trim_end().to_owned()
    };
    writeln!(out, "{}", line(header.to_vec()))?;
    for row in &rows {
        writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}
