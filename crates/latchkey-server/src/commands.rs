//! The administrative commands. Each opens (and if needed creates and migrates) the configured database,
//! does one thing in one transaction, and reports on `out`.

use crate::cli::{ClientAddArgs, TokenCreateArgs, UserAddArgs};
use crate::config::Config;
use latchkey_core::registration::{register_client, register_user, NewClient, NewUser, SecretChoice};
use latchkey_core::{Clock, SystemClock};
use latchkey_model::{Client, ClientId, PageRequest, Username, MAX_PAGE_SIZE};
use latchkey_store::{Repo, Store, StoreError};
use std::io::{BufRead, Write};

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

pub fn open_store(config: &Config) -> Result<Store, StoreError> {
    Store::open(&config.database_url, &config.store)
}

pub fn migrate(config: &Config, out: &mut impl Write) -> Result<(), CommandError> {
    let store = latchkey_store::Store::connect(&config.database_url, &config.store)?;
    let applied = store.migrate()?;
    writeln!(out, "database {} is up to date ({applied} migration(s) applied)", config.database_url)?;
    Ok(())
}

pub fn client_add(config: &Config, args: ClientAddArgs, out: &mut impl Write) -> Result<(), CommandError> {
    let secret = match (args.public, args.secret, args.jwks_file) {
        (true, _, _) => SecretChoice::Public,
        (false, _, Some(path)) => {
            let jwks = std::fs::read_to_string(&path)
                .map_err(|e| invalid(format!("--jwks-file {}: {e}", path.display())))?;
            SecretChoice::PrivateKeyJwt(jwks)
        }
        (false, Some(secret), None) => SecretChoice::Given(secret),
        (false, None, None) => SecretChoice::Generate,
    };
    let new = NewClient {
        id: args.id,
        name: args.name,
        secret,
        redirect_uris: args.redirect_uris,
        grant_types: args.grant_types,
        scopes: args.scopes,
        access_token_ttl_seconds: None,
        refresh_token_ttl_seconds: None,
        id_token_signing_alg: args.id_token_alg,
    };
    // Validate before touching the database: bad input leaves nothing behind, not even a new file.
    let (client, generated) =
        register_client(new, SystemClock.now(), &mut rand::rngs::OsRng).map_err(invalid)?;
    let store = open_store(config)?;
    store.write(|repo| repo.insert_client(&client)).map_err(|e| match e {
        StoreError::Conflict(_) => invalid(format!("client {} already exists", client.id)),
        other => other.into(),
    })?;
    writeln!(out, "client {} registered ({})", client.id, client.kind().as_str())?;
    if let Some(secret) = generated {
        writeln!(out, "client_secret: {}", secret.expose())?;
        writeln!(out, "The secret is shown only now; it is stored as a hash and cannot be shown again.")?;
    }
    Ok(())
}

/// Every item of a paginated listing.
fn all<T>(
    repo: &mut Repo<'_>,
    list: impl Fn(&mut Repo<'_>, &PageRequest) -> Result<latchkey_model::Page<T>, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut items = Vec::new();
    let mut page = PageRequest::first(MAX_PAGE_SIZE);
    loop {
        let batch = list(repo, &page)?;
        items.extend(batch.items);
        match batch.next {
            Some(cursor) => page = PageRequest::after(MAX_PAGE_SIZE, cursor),
            None => return Ok(items),
        }
    }
}

pub fn client_list(config: &Config, out: &mut impl Write) -> Result<(), CommandError> {
    let store = open_store(config)?;
    let clients: Vec<Client> = store.read(|repo| all(repo, |r, p| r.list_clients(p)))?;
    let rows = clients
        .iter()
        .map(|c| {
            let grants: Vec<&str> = c.grant_types.iter().map(|g| g.as_str()).collect();
            let uris: Vec<&str> = c.redirect_uris.iter().map(|u| u.as_str()).collect();
            vec![
                c.id.to_string(),
                c.kind().as_str().to_owned(),
                grants.join(","),
                c.scope.to_string(),
                uris.join(" "),
            ]
        })
        .collect();
    print_table(out, &["ID", "TYPE", "GRANT TYPES", "SCOPE", "REDIRECT URIS"], rows)
}

pub fn user_add(
    config: &Config,
    args: UserAddArgs,
    stdin: &mut impl BufRead,
    out: &mut impl Write,
) -> Result<(), CommandError> {
    let password = match args.password {
        Some(password) => password,
        None => {
            let mut line = String::new();
            stdin
                .read_line(&mut line)
                .map_err(|e| invalid(format!("cannot read password from stdin: {e}")))?;
            line.strip_suffix('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).unwrap_or(&line).to_owned()
        }
    };
    let new = NewUser { username: args.username, password, email: args.email, name: args.name };
    let user = register_user(new, SystemClock.now(), &mut rand::rngs::OsRng).map_err(invalid)?;
    let store = open_store(config)?;
    store.write(|repo| repo.insert_user(&user)).map_err(|e| match e {
        StoreError::Conflict(_) => invalid(format!("user {} already exists", user.username)),
        other => other.into(),
    })?;
    writeln!(out, "user {} created", user.username)?;
    Ok(())
}

pub fn user_list(config: &Config, out: &mut impl Write) -> Result<(), CommandError> {
    let store = open_store(config)?;
    let users = store.read(|repo| all(repo, |r, p| r.list_users(p)))?;
    let rows = users
        .iter()
        .map(|u| {
            vec![
                u.username.to_string(),
                u.name.clone().unwrap_or_default(),
                u.email.clone().unwrap_or_default(),
                if u.disabled { "disabled" } else { "active" }.to_owned(),
            ]
        })
        .collect();
    print_table(out, &["USERNAME", "NAME", "EMAIL", "STATUS"], rows)
}

pub fn revoke_user(config: &Config, username: &str, out: &mut impl Write) -> Result<(), CommandError> {
    let username = Username::parse(username).map_err(invalid)?;
    let store = open_store(config)?;
    let now = SystemClock.now();
    match store.write(|repo| latchkey_core::revoke_all::user(repo, &username, now))? {
        Some(revocation) => {
            writeln!(out, "{}", revocation.revoked)?;
            if revocation.sessions > 0 {
                eprintln!("{} browser sessions ended", revocation.sessions);
            }
            Ok(())
        }
        None => Err(invalid(format!("no user named {username}"))),
    }
}

pub fn revoke_client(config: &Config, client_id: &str, out: &mut impl Write) -> Result<(), CommandError> {
    let client_id = ClientId::parse(client_id).map_err(invalid)?;
    let store = open_store(config)?;
    let now = SystemClock.now();
    match store.write(|repo| latchkey_core::revoke_all::client(repo, &client_id, now))? {
        Some(revoked) => Ok(writeln!(out, "{revoked}")?),
        None => Err(invalid(format!("no client with id {client_id}"))),
    }
}

pub fn token_create(
    config: &Config,
    args: TokenCreateArgs,
    out: &mut impl Write,
) -> Result<(), CommandError> {
    use latchkey_core::personal::{self, NewToken, Origin, Owner};
    let owner = match (&args.user, &args.client) {
        (Some(user), _) => Owner::User(Username::parse(user).map_err(invalid)?),
        (None, Some(client)) => Owner::Client(ClientId::parse(client).map_err(invalid)?),
        (None, None) => return Err(invalid("give --user or --client")),
    };
    let scope = latchkey_model::Scope::from_tokens(&args.scopes).map_err(invalid)?;
    let now = SystemClock.now();
    let expires = args
        .ttl
        .as_deref()
        .map(personal::parse_ttl)
        .transpose()
        .map_err(invalid)?
        .map(|ttl| now.plus_seconds(ttl));
    let new = NewToken { name: args.name, scope, expires, data: Default::default(), derived_from: None };
    let issuer = match &config.issuer {
        Some(issuer) => issuer.as_str().to_owned(),
        None => format!("http://{}", config.bind),
    };
    let store = open_store(config)?;
    let created = store.write(|repo| {
        personal::create(repo, &owner, new, Origin::Cli, &issuer, now, &mut rand::rngs::OsRng)
    })?;
    let (record, secret) = created.map_err(invalid)?;
    writeln!(out, "{}", secret.expose())?;
    eprintln!("token {} created; the secret above is shown this once", record.id);
    Ok(())
}

pub fn token_list(
    config: &Config,
    user: Option<&str>,
    client: Option<&str>,
    out: &mut impl Write,
) -> Result<(), CommandError> {
    use latchkey_core::personal::TokenView;
    let now = SystemClock.now();
    let query = latchkey_store::TokenQuery {
        username: user.map(Username::parse).transpose().map_err(invalid)?,
        client_id: client.map(ClientId::parse).transpose().map_err(invalid)?,
        kind: None,
        active: Some(true),
        now,
    };
    let store = open_store(config)?;
    let tokens = store.read(|repo| all(repo, |r, p| r.query_tokens(&query, p)))?;
    let when = |millis: Option<i64>| match millis {
        Some(millis) => chrono::DateTime::from_timestamp(millis / 1000, 0)
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default(),
        None => "-".to_owned(),
    };
    let rows = tokens
        .iter()
        .map(|record| {
            let view = TokenView::of(record);
            vec![
                view.id,
                view.kind.to_owned(),
                view.name.unwrap_or_else(|| "-".to_owned()),
                view.username.unwrap_or_else(|| "-".to_owned()),
                view.client_id,
                view.origin,
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

pub fn token_revoke(config: &Config, id: &str, out: &mut impl Write) -> Result<(), CommandError> {
    let id = latchkey_model::RecordId::parse(id).map_err(|_| invalid(format!("no token with id {id}")))?;
    let store = open_store(config)?;
    let now = SystemClock.now();
    let revoked = store.write(|repo| {
        let record = match repo.get_token(&id) {
            Ok(record) => record,
            Err(StoreError::NotFound) => return Ok(None),
            Err(error) => return Err(error),
        };
        latchkey_core::revoke_all::token(repo, &record, now).map(Some)
    })?;
    match revoked {
        Some(count) => Ok(writeln!(out, "{count}")?),
        None => Err(invalid(format!("no token with id {id}"))),
    }
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

pub fn keys_rotate(config: &Config, out: &mut impl Write) -> Result<(), CommandError> {
    use latchkey_core::keys::Keyring;
    let issuer = match &config.issuer {
        Some(issuer) => issuer.clone(),
        None => crate::config::Issuer::parse(&format!("http://{}", config.bind)).map_err(invalid)?,
    };
    let kek = config.key_encryption_key(&issuer).map_err(invalid)?;
    let store = open_store(config)?;
    let now = SystemClock.now();
    let keyring =
        store.write(|repo| Keyring::rotate_in_transaction(repo, &kek, now, &mut rand::rngs::OsRng))?;
    writeln!(out, "signing keys rotated; published key ids: {}", keyring.kids().join(" "))?;
    writeln!(out, "running servers pick the new keys up within a minute")?;
    Ok(())
}

pub fn keys_new_encryption_key(out: &mut impl Write) -> Result<(), CommandError> {
    let key = latchkey_core::keys::KeyEncryptionKey::generate(&mut rand::rngs::OsRng);
    writeln!(out, "{}", key.to_base64url())?;
    Ok(())
}
