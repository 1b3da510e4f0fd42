//! Rows as the database holds them, and their conversion to and from the model. Parsing a row goes through
//! the model's parsers, so a value that could not have been written by the server surfaces as `Corrupt`.

use crate::schema::{clients, tokens, users};
use crate::StoreError;
use latchkey_model::{
    Client, ClientCredentials, ClientId, GrantType, PasswordHash, RecordId, RedirectUri, ResponseMode,
    ResponseType, Scope, SecretHash, SigningAlgorithm, Stage, State, Timestamp, TokenRecord, User, Username,
};
use std::collections::{BTreeMap, BTreeSet};

type JsonObject = serde_json::Map<String, serde_json::Value>;

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable, diesel::AsChangeset)]
#[diesel(table_name = tokens, treat_none_as_null = true)]
pub(crate) struct TokenRow {
    #[diesel(skip_update)]
    pub id: String,
    pub code_hash: Option<String>,
    pub code_expires: Option<i64>,
    pub code_redeemed_at: Option<i64>,
    pub access_token_hash: Option<String>,
    pub access_token_expires: Option<i64>,
    pub refresh_token_hash: Option<String>,
    pub refresh_token_expires: Option<i64>,
    pub id_token_hash: Option<String>,
    pub client_id: String,
    pub username: Option<String>,
    pub issuer: String,
    pub audience: String,
    pub scope: String,
    pub scope_descriptions: String,
    pub grant_type: String,
    pub stage: String,
    pub state: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub response_mode: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub auth_time: Option<i64>,
    pub properties: String,
    pub name: Option<String>,
    #[diesel(skip_update)]
    pub created_at: i64,
    pub active_at: Option<i64>,
    // Revocation only ever happens through the revoke methods, so that a record read before a concurrent
    // revocation can never be written back over it.
    #[diesel(skip_update)]
    pub revoked_at: Option<i64>,
    #[diesel(skip_update)]
    pub family_id: String,
}

fn hash(value: Option<&SecretHash>) -> Option<String> {
    value.map(SecretHash::to_hex)
}

fn seconds(value: Option<Timestamp>) -> Option<i64> {
    value.map(Timestamp::unix_seconds)
}

pub(crate) fn json<T: serde::Serialize>(value: &T) -> String {
    // Serialising maps of strings and vectors of strings cannot fail; an empty object is a safe fallback.
    serde_json::to_string(value).unwrap_or_else(|_| "{}".to_owned())
}

impl From<&TokenRecord> for TokenRow {
    fn from(r: &TokenRecord) -> Self {
        Self {
            id: r.id.to_string(),
            code_hash: hash(r.code_hash.as_ref()),
            code_expires: seconds(r.code_expires),
            code_redeemed_at: seconds(r.code_redeemed_at),
            access_token_hash: hash(r.access_token_hash.as_ref()),
            access_token_expires: seconds(r.access_token_expires),
            refresh_token_hash: hash(r.refresh_token_hash.as_ref()),
            refresh_token_expires: seconds(r.refresh_token_expires),
            id_token_hash: hash(r.id_token_hash.as_ref()),
            client_id: r.client_id.to_string(),
            username: r.username.as_ref().map(Username::to_string),
            issuer: r.issuer.clone(),
            audience: json(&r.audience),
            scope: r.scope.to_string(),
            scope_descriptions: json(&r.scope_descriptions),
            grant_type: r.grant_type.letter().to_string(),
            stage: r.stage.to_string(),
            state: r.state.as_ref().map(State::to_stored),
            redirect_uri: r.redirect_uri.as_ref().map(RedirectUri::to_string),
            response_type: r.response_type.map(|t| t.as_str().to_owned()),
            response_mode: r.response_mode.map(|m| m.as_str().to_owned()),
            nonce: r.nonce.clone(),
            code_challenge: r.code_challenge.clone(),
            code_challenge_method: r.code_challenge_method.clone(),
            auth_time: seconds(r.auth_time),
            properties: json(&r.properties),
            name: r.name.clone(),
            created_at: r.created_at.unix_seconds(),
            active_at: seconds(r.active_at),
            revoked_at: seconds(r.revoked_at),
            family_id: r.family_id.to_string(),
        }
    }
}

fn parse_hash(column: &str, value: Option<String>) -> Result<Option<SecretHash>, StoreError> {
    value.map(|hex| SecretHash::from_hex(&hex).map_err(|e| StoreError::corrupt(column, e))).transpose()
}

fn time(value: Option<i64>) -> Option<Timestamp> {
    value.map(Timestamp::from_unix_seconds)
}

fn parse_json<T: serde::de::DeserializeOwned>(column: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::corrupt(column, e))
}

impl TryFrom<TokenRow> for TokenRecord {
    type Error = StoreError;

    fn try_from(row: TokenRow) -> Result<Self, StoreError> {
        Ok(TokenRecord {
            id: RecordId::parse(&row.id).map_err(|e| StoreError::corrupt("tokens.id", e))?,
            code_hash: parse_hash("tokens.code_hash", row.code_hash)?,
            code_expires: time(row.code_expires),
            code_redeemed_at: time(row.code_redeemed_at),
            access_token_hash: parse_hash("tokens.access_token_hash", row.access_token_hash)?,
            access_token_expires: time(row.access_token_expires),
            refresh_token_hash: parse_hash("tokens.refresh_token_hash", row.refresh_token_hash)?,
            refresh_token_expires: time(row.refresh_token_expires),
            id_token_hash: parse_hash("tokens.id_token_hash", row.id_token_hash)?,
            client_id: ClientId::parse(&row.client_id)
                .map_err(|e| StoreError::corrupt("tokens.client_id", e))?,
            username: row
                .username
                .map(|u| Username::parse(&u).map_err(|e| StoreError::corrupt("tokens.username", e)))
                .transpose()?,
            issuer: row.issuer,
            audience: parse_json("tokens.audience", &row.audience)?,
            scope: Scope::parse(&row.scope).map_err(|e| StoreError::corrupt("tokens.scope", e))?,
            scope_descriptions: parse_json::<BTreeMap<String, String>>(
                "tokens.scope_descriptions",
                &row.scope_descriptions,
            )?,
            grant_type: GrantType::from_letter(&row.grant_type)
                .map_err(|e| StoreError::corrupt("tokens.grant_type", e))?,
            stage: Stage::parse(&row.stage).map_err(|e| StoreError::corrupt("tokens.stage", e))?,
            state: row.state.as_deref().map(State::from_stored),
            redirect_uri: row
                .redirect_uri
                .map(|u| RedirectUri::parse(&u).map_err(|e| StoreError::corrupt("tokens.redirect_uri", e)))
                .transpose()?,
            response_type: row
                .response_type
                .map(|t| {
                    ResponseType::parse(&t).ok_or_else(|| StoreError::corrupt("tokens.response_type", t))
                })
                .transpose()?,
            response_mode: row
                .response_mode
                .map(|m| {
                    ResponseMode::parse(&m).ok_or_else(|| StoreError::corrupt("tokens.response_mode", m))
                })
                .transpose()?,
            nonce: row.nonce,
            code_challenge: row.code_challenge,
            code_challenge_method: row.code_challenge_method,
            auth_time: time(row.auth_time),
            properties: parse_json::<JsonObject>("tokens.properties", &row.properties)?,
            name: row.name,
            created_at: Timestamp::from_unix_seconds(row.created_at),
            active_at: time(row.active_at),
            revoked_at: time(row.revoked_at),
            family_id: RecordId::parse(&row.family_id)
                .map_err(|e| StoreError::corrupt("tokens.family_id", e))?,
        })
    }
}

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable, diesel::AsChangeset)]
#[diesel(table_name = clients, treat_none_as_null = true)]
pub(crate) struct ClientRow {
    pub id: String,
    pub name: String,
    pub secret_hash: Option<String>,
    pub jwks: Option<String>,
    pub redirect_uris: String,
    pub grant_types: String,
    pub scope: String,
    pub access_token_ttl: i64,
    pub refresh_token_ttl: Option<i64>,
    pub id_token_alg: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A client's grant types as stored: their wire names, space separated.
pub(crate) fn grant_list(grants: &BTreeSet<GrantType>) -> String {
    grants.iter().map(|g| g.as_str()).collect::<Vec<_>>().join(" ")
}

impl From<&Client> for ClientRow {
    fn from(c: &Client) -> Self {
        Self {
            id: c.id.to_string(),
            name: c.name.clone(),
            secret_hash: match &c.credentials {
                ClientCredentials::Secret(hash) => Some(hash.to_hex()),
                ClientCredentials::Public | ClientCredentials::PrivateKeyJwt { .. } => None,
            },
            jwks: match &c.credentials {
                ClientCredentials::PrivateKeyJwt { jwks } => Some(jwks.clone()),
                ClientCredentials::Public | ClientCredentials::Secret(_) => None,
            },
            redirect_uris: json(&c.redirect_uris),
            grant_types: grant_list(&c.grant_types),
            scope: c.scope.to_string(),
            access_token_ttl: c.access_token_ttl_seconds,
            refresh_token_ttl: c.refresh_token_ttl_seconds,
            id_token_alg: c.id_token_signing_alg.as_str().to_owned(),
            created_at: c.created_at.unix_seconds(),
            updated_at: c.updated_at.unix_seconds(),
        }
    }
}

impl TryFrom<ClientRow> for Client {
    type Error = StoreError;

    fn try_from(row: ClientRow) -> Result<Self, StoreError> {
        let grant_types = row
            .grant_types
            .split_whitespace()
            .map(|g| GrantType::parse(g).map_err(|e| StoreError::corrupt("clients.grant_types", e)))
            .collect::<Result<BTreeSet<_>, _>>()?;
        Ok(Client {
            id: ClientId::parse(&row.id).map_err(|e| StoreError::corrupt("clients.id", e))?,
            name: row.name,
            credentials: match (parse_hash("clients.secret_hash", row.secret_hash)?, row.jwks) {
                (Some(hash), None) => ClientCredentials::Secret(hash),
                (None, Some(jwks)) => ClientCredentials::PrivateKeyJwt { jwks },
                (None, None) => ClientCredentials::Public,
                (Some(_), Some(_)) => {
                    return Err(StoreError::corrupt("clients", "both a secret and a JWK set"));
                }
            },
            redirect_uris: parse_json("clients.redirect_uris", &row.redirect_uris)?,
            grant_types,
            scope: Scope::parse(&row.scope).map_err(|e| StoreError::corrupt("clients.scope", e))?,
            access_token_ttl_seconds: row.access_token_ttl,
            refresh_token_ttl_seconds: row.refresh_token_ttl,
            id_token_signing_alg: SigningAlgorithm::parse(&row.id_token_alg)
                .ok_or_else(|| StoreError::corrupt("clients.id_token_alg", &row.id_token_alg))?,
            created_at: Timestamp::from_unix_seconds(row.created_at),
            updated_at: Timestamp::from_unix_seconds(row.updated_at),
        })
    }
}

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable, diesel::AsChangeset)]
#[diesel(table_name = users, treat_none_as_null = true)]
pub(crate) struct UserRow {
    pub username: String,
    pub subject: String,
    pub password_hash: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub claims: String,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<&User> for UserRow {
    fn from(u: &User) -> Self {
        Self {
            username: u.username.to_string(),
            subject: u.subject.clone(),
            password_hash: u.password_hash.as_phc().to_owned(),
            email: u.email.clone(),
            email_verified: u.email_verified,
            name: u.name.clone(),
            claims: json(&u.claims),
            disabled: u.disabled,
            created_at: u.created_at.unix_seconds(),
            updated_at: u.updated_at.unix_seconds(),
        }
    }
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        Ok(User {
            username: Username::parse(&row.username).map_err(|e| StoreError::corrupt("users.username", e))?,
            subject: row.subject,
            password_hash: PasswordHash::from_phc(row.password_hash),
            email: row.email,
            email_verified: row.email_verified,
            name: row.name,
            claims: parse_json::<JsonObject>("users.claims", &row.claims)?,
            disabled: row.disabled,
            created_at: Timestamp::from_unix_seconds(row.created_at),
            updated_at: Timestamp::from_unix_seconds(row.updated_at),
        })
    }
}
