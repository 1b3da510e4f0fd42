//! Tokens people manage themselves: personal tokens of a user and API keys of a client, created without a
//! login flow, and the metadata every token shows when listed (docs/API.md).
//!
//! A personal token is a token record of grant type `T` whose access-token hash is the hash of an
//! `lk_pat_` secret: it authenticates wherever an access token does (introspection, UserInfo, the token
//! API). A user's personal tokens hang off the reserved client [`PERSONAL_CLIENT_ID`], which can use no
//! grant and cannot authenticate.

use crate::{OAuthError, Outcome};
use latchkey_model::{
    ClientId, GrantType, PlainSecret, RecordId, Scope, SecretKind, Stage, Timestamp, TokenRecord, Username,
    PERSONAL_CLIENT_ID,
};
use latchkey_store::Repo;
use rand::{CryptoRng, RngCore};
use serde_json::{Map, Value};

/// The scope a token needs to manage its owner's tokens through the owner token API. Without it, any client
/// holding a user's access token could turn it into a personal token that never expires.
pub const MANAGE_SCOPE: &str = "latchkey:tokens";

pub const MAX_NAME_CHARS: usize = 100;
/// Custom `data`, as JSON text.
pub const MAX_DATA_BYTES: usize = 4096;
const DAY: i64 = 24 * 60 * 60;
pub const MAX_TTL_SECONDS: i64 = 10 * 366 * DAY;
/// `activeAt` is written at most this often per token, not on every request.
pub const ACTIVE_AT_RESOLUTION_SECONDS: i64 = 60;

const ORIGIN_PROPERTY: &str = "origin";
/// Where a token keeps its owner's custom data.
pub const DATA_PROPERTY: &str = "data";

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

fn refuse<T>(why: impl AsRef<str>) -> Result<T, OAuthError> {
    Err(OAuthError::invalid_request(why))
}

/// A name: 1 to [`MAX_NAME_CHARS`] characters, no control characters.
pub fn check_name(name: &str) -> Result<String, OAuthError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return refuse(format!("name must be 1 to {MAX_NAME_CHARS} characters without control characters"));
    }
    Ok(name.to_owned())
}

/// Custom data: a JSON object of at most [`MAX_DATA_BYTES`].
pub fn check_data(data: Value) -> Result<Map<String, Value>, OAuthError> {
    let Value::Object(object) = data else { return refuse("data must be a JSON object") };
    if serde_json::to_string(&object).map_or(true, |text| text.len() > MAX_DATA_BYTES) {
        return refuse(format!("data must be at most {MAX_DATA_BYTES} bytes of JSON"));
    }
    Ok(object)
}

/// A lifetime such as `3600`, `90s`, `15m`, `12h` or `30d`; at most ten years.
pub fn parse_ttl(text: &str) -> Result<i64, OAuthError> {
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

/// Creates a token for `owner`; the secret exists in the clear only in the return value. Refused
/// (`invalid_request`) when the owner does not exist or is disabled, or the input breaks a rule.
pub fn create(
    repo: &mut Repo<'_>,
    owner: &Owner,
    new: NewToken,
    origin: Origin,
    issuer: &str,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Outcome<(TokenRecord, PlainSecret)> {
    let name = check_name(&new.name)?;
    if new.expires.is_some_and(|expires| expires.has_passed(now)) {
        return refuse("expiresAt must be in the future").map_err(Into::into);
    }
    let (client_id, username) = match owner {
        Owner::User(username) => {
            // Against a revocation of everything the user holds, made at the same instant.
            repo.hold_user(username)?;
            match repo.find_user(username)? {
                Some(user) if !user.disabled => {}
                _ => return refuse(format!("no active user named {username}")).map_err(Into::into),
            }
            let reserved = ClientId::parse(PERSONAL_CLIENT_ID).map_err(|_| OAuthError::server_error())?;
            (reserved, Some(username.clone()))
        }
        Owner::Client(client_id) => {
            repo.hold_client(client_id)?;
            let Some(client) = repo.find_client(client_id)?.filter(|client| !client.is_reserved()) else {
                return refuse(format!("no client with id {client_id}")).map_err(Into::into);
            };
            if !new.scope.is_subset_of(&client.scope) {
                return refuse("an API key's scopes must be among its client's").map_err(Into::into);
            }
            (client.id, None)
        }
    };
    let secret = PlainSecret::generate(SecretKind::PersonalToken, rng);
    let mut record = TokenRecord::new(RecordId::generate(rng), client_id, GrantType::Personal, issuer, now);
    record.username = username;
    record.scope = new.scope;
    record.name = Some(name);
    record.access_token_hash = Some(secret.hash(repo.hasher()?));
    record.access_token_expires = new.expires;
    record.stage = Stage::Complete;
    if let Some(family) = new.derived_from {
        record.family_id = family;
    }
    record.properties.insert(ORIGIN_PROPERTY.into(), Value::from(origin.as_str()));
    record.properties.insert(DATA_PROPERTY.into(), Value::Object(new.data));
    repo.insert_token(&record)?;
    Ok((record, secret))
}

/// How the token came to be: the grant, or who created a personal token.
pub fn origin(record: &TokenRecord) -> String {
    match record.properties.get(ORIGIN_PROPERTY).and_then(Value::as_str) {
        Some(origin) => origin.to_owned(),
        None => record.grant_type.as_str().to_owned(),
    }
}

/// Replaces a token's name and custom data, where given.
pub fn amend(record: &mut TokenRecord, name: Option<&str>, data: Option<Value>) -> Result<(), OAuthError> {
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
