//! Tokens people manage themselves: personal tokens of a user and API keys of a client, created without a
//! login flow, and the metadata every token shows when listed (docs/API.md).
//!
//! A personal token is a token record of grant type `T` whose access-token hash is the hash of an
//! `lk_pat_` secret: it authenticates wherever an access token does (introspection, UserInfo, the token
//! API). A user's personal tokens hang off the reserved client [`PERSONAL_CLIENT`], which can use no grant.

use latchkey_model::{
    Client, ClientCredentials, ClientId, GrantType, PlainSecret, RecordId, Scope, SecretKind, Stage,
    Timestamp, TokenRecord, Username,
};
use latchkey_store::{Repo, StoreError};
use rand::{CryptoRng, RngCore};
use serde::Serialize;
use serde_json::{Map, Value};

/// The scope a token needs to manage its owner's tokens through the owner token API. Without it, any client
/// holding a user's access token could turn it into a personal token that never expires.
pub const MANAGE_SCOPE: &str = "latchkey:tokens";

/// The client a user's personal tokens belong to. Registration refuses this id.
pub const PERSONAL_CLIENT: &str = "latchkey";
pub const MAX_NAME_CHARS: usize = 100;
/// Custom `data`, as JSON text.
pub const MAX_DATA_BYTES: usize = 4096;
const DAY: i64 = 24 * 60 * 60;
pub const MAX_TTL_SECONDS: i64 = 10 * 366 * DAY;
/// `activeAt` is written at most this often per token, not on every request.
pub const ACTIVE_AT_RESOLUTION_SECONDS: i64 = 60;

const ORIGIN_PROPERTY: &str = "origin";
const DATA_PROPERTY: &str = "data";

/// Who a token is created by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Cli,
    Admin,
    Api,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Cli => "cli",
            Origin::Admin => "admin",
            Origin::Api => "api",
        }
    }
}

/// Whose token it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    User(Username),
    /// An API key: the client itself is the owner.
    Client(ClientId),
}

/// Why a token cannot be created or changed as asked: the caller's mistake, answered 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

fn refuse<T>(why: impl Into<String>) -> Result<T, InputError> {
    Err(InputError(why.into()))
}

/// A name: 1 to [`MAX_NAME_CHARS`] characters, no control characters.
pub fn check_name(name: &str) -> Result<String, InputError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return refuse(format!("name must be 1 to {MAX_NAME_CHARS} characters without control characters"));
    }
    Ok(name.to_owned())
}

/// Custom data: a JSON object of at most [`MAX_DATA_BYTES`].
pub fn check_data(data: Value) -> Result<Map<String, Value>, InputError> {
    let Value::Object(object) = data else { return refuse("data must be a JSON object") };
    if serde_json::to_string(&object).map_or(true, |text| text.len() > MAX_DATA_BYTES) {
        return refuse(format!("data must be at most {MAX_DATA_BYTES} bytes of JSON"));
    }
    Ok(object)
}

/// A lifetime such as `3600`, `90s`, `15m`, `12h` or `30d`; at most ten years.
pub fn parse_ttl(text: &str) -> Result<i64, InputError> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().last() {
        Some((at, unit)) if unit.is_ascii_alphabetic() => (&text[..at], unit),
        _ => (text, 's'),
    };
    let scale = match unit {
        's' => 1,
        'm' => 60,
        'h' => 60 * 60,
        'd' => DAY,
        _ => return refuse("ttl unit must be s, m, h or d"),
    };
    match number.parse::<i64>().ok().and_then(|n| n.checked_mul(scale)) {
        Some(seconds) if (1..=MAX_TTL_SECONDS).contains(&seconds) => Ok(seconds),
        _ => refuse("ttl must be a positive number of seconds, minutes, hours or days, at most ten years"),
    }
}

/// What a new token is to be.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub name: String,
    pub scope: Scope,
    /// `None`: until deleted.
    pub expires: Option<Timestamp>,
    pub data: Map<String, Value>,
    /// The grant the token was made through (the family of the token that asked), if any: revoking that
    /// grant, or resetting its client, revokes this token too.
    pub derived_from: Option<RecordId>,
}

fn personal_client(now: Timestamp) -> Result<Client, StoreError> {
    Ok(Client {
        id: ClientId::parse(PERSONAL_CLIENT).map_err(|e| StoreError::InvalidInput(e.to_string()))?,
        name: "Personal tokens".into(),
        credentials: ClientCredentials::Public,
        redirect_uris: Vec::new(),
        grant_types: Default::default(),
        scope: Scope::empty(),
        access_token_ttl_seconds: Client::DEFAULT_ACCESS_TOKEN_TTL,
        refresh_token_ttl_seconds: None,
        id_token_signing_alg: Default::default(),
        created_at: now,
        updated_at: now,
    })
}

/// Creates a token for `owner`; the secret exists in the clear only in the return value. `Ok(Err(..))`
/// when the owner does not exist, is disabled, or the input is refused.
pub fn create(
    repo: &mut Repo<'_>,
    owner: &Owner,
    new: NewToken,
    origin: Origin,
    issuer: &str,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<Result<(TokenRecord, PlainSecret), InputError>, StoreError> {
    let name = match check_name(&new.name) {
        Ok(name) => name,
        Err(error) => return Ok(Err(error)),
    };
    if new.expires.is_some_and(|expires| expires.has_passed(now)) {
        return Ok(refuse("expiresAt must be in the future"));
    }
    let (client_id, username) = match owner {
        Owner::User(username) => {
            match repo.find_user(username)? {
                Some(user) if !user.disabled => {}
                _ => return Ok(refuse(format!("no active user named {username}"))),
            }
            let client = personal_client(now)?;
            if repo.find_client(&client.id)?.is_none() {
                repo.insert_client(&client)?;
            }
            (client.id, Some(username.clone()))
        }
        Owner::Client(client_id) => {
            let Some(client) = repo.find_client(client_id)? else {
                return Ok(refuse(format!("no client with id {client_id}")));
            };
            if !new.scope.is_subset_of(&client.scope) {
                return Ok(refuse("an API key's scopes must be among its client's"));
            }
            (client.id, None)
        }
    };
    let secret = PlainSecret::generate(SecretKind::PersonalToken, rng);
    let mut record = TokenRecord::new(RecordId::generate(rng), client_id, GrantType::Personal, issuer, now);
    record.username = username;
    record.scope = new.scope;
    record.name = Some(name);
    record.access_token_hash = Some(secret.hash());
    record.access_token_expires = new.expires;
    record.stage = Stage::Complete;
    if let Some(family) = new.derived_from {
        record.family_id = family;
    }
    record.properties.insert(ORIGIN_PROPERTY.into(), Value::from(origin.as_str()));
    record.properties.insert(DATA_PROPERTY.into(), Value::Object(new.data));
    repo.insert_token(&record)?;
    Ok(Ok((record, secret)))
}

/// How the token came to be: the grant, or who created a personal token.
pub fn origin(record: &TokenRecord) -> String {
    match record.properties.get(ORIGIN_PROPERTY).and_then(Value::as_str) {
        Some(origin) => origin.to_owned(),
        None => record.grant_type.as_str().to_owned(),
    }
}

/// Replaces a token's name and custom data, where given.
pub fn amend(record: &mut TokenRecord, name: Option<&str>, data: Option<Value>) -> Result<(), InputError> {
    let name = name.map(check_name).transpose()?;
    let data = data.map(check_data).transpose()?;
    if let Some(name) = name {
        record.name = Some(name);
    }
    if let Some(data) = data {
        record.properties.insert(DATA_PROPERTY.into(), Value::Object(data));
    }
    Ok(())
}

/// When the grant behind `token` ends, if it does: a token made by another may not outlive it.
pub fn end_of(token: &TokenRecord) -> Option<Timestamp> {
    match (token.grant_type, &token.refresh_token_hash) {
        (GrantType::Personal, _) | (_, None) => token.access_token_expires,
        (_, Some(_)) => token.refresh_token_expires,
    }
}

/// Whether using the token now should move its `activeAt` (at most once per
/// [`ACTIVE_AT_RESOLUTION_SECONDS`]).
pub fn due_for_touch(active_at: Option<Timestamp>, now: Timestamp) -> bool {
    active_at.is_none_or(|at| now.unix_seconds() - at.unix_seconds() >= ACTIVE_AT_RESOLUTION_SECONDS)
}

/// A token as the token APIs show it: never a secret, times in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenView {
    pub id: String,
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub origin: String,
    pub scopes: Vec<String>,
    pub client_id: String,
    pub username: Option<String>,
    #[serde(rename = "createdAt")]
    pub created_at: i64,
    #[serde(rename = "activeAt")]
    pub active_at: Option<i64>,
    #[serde(rename = "expiresAt")]
    pub expires_at: Option<i64>,
    pub data: Value,
}

impl TokenView {
    pub fn of(record: &TokenRecord) -> Self {
        let kind = record.kind().as_str();
        // The credential that lasts longest decides when the token as a whole is gone.
        let expires = match kind {
            "oauth2-refresh" => record.refresh_token_expires,
            _ => record.access_token_expires,
        };
        Self {
            id: record.id.to_string(),
            name: record.name.clone(),
            kind,
            origin: origin(record),
            scopes: record.scope.iter().map(str::to_owned).collect(),
            client_id: record.client_id.to_string(),
            username: record.username.as_ref().map(ToString::to_string),
            created_at: record.created_at.unix_millis(),
            active_at: record.active_at.map(Timestamp::unix_millis),
            expires_at: expires.map(Timestamp::unix_millis),
            data: record.properties.get(DATA_PROPERTY).cloned().unwrap_or_else(|| Value::Object(Map::new())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_read_as_people_write_them() {
        assert_eq!(parse_ttl("3600"), Ok(3600));
        assert_eq!(parse_ttl("90s"), Ok(90));
        assert_eq!(parse_ttl("15m"), Ok(900));
        assert_eq!(parse_ttl("12h"), Ok(43_200));
        assert_eq!(parse_ttl("30d"), Ok(2_592_000));
        for bad in ["", "0", "-5", "5w", "d", "1.5h", "99999999999999999999", "3700d", "1 d x"] {
            assert!(parse_ttl(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn names_and_data_are_bounded() {
        assert_eq!(check_name("  CI deploy  "), Ok("CI deploy".to_owned()));
        assert!(check_name("").is_err());
        assert!(check_name(&"x".repeat(MAX_NAME_CHARS + 1)).is_err());
        assert!(check_name("bell\u{7}").is_err());
        assert!(check_data(serde_json::json!({"team": "ops"})).is_ok());
        assert!(check_data(serde_json::json!(["not", "an", "object"])).is_err());
        assert!(check_data(serde_json::json!({"big": "x".repeat(MAX_DATA_BYTES)})).is_err());
    }
}
