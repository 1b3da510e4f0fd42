//! Tokens as operators manage them: list every token, create a personal token or API key for an owner,
//! view, rename, revoke.

use super::page_of;
use crate::views::{CreatedToken, Items, Listing, TokenView};
use crate::{ApiError, Context};
use latchkey_core::personal::{self, NewToken, Origin, Owner};
use latchkey_core::{revoke_all, tx};
use latchkey_model::{ClientId, PageRequest, RecordId, Scope, Timestamp, TokenKind, TokenRecord, Username};
use latchkey_store::TokenQuery;
use serde::Deserialize;
use serde_json::Value;

/// A new token, as the owner token API and the operators ask for it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewTokenBody {
    pub name: String,
    pub scopes: Option<Vec<String>>,
    /// Seconds, or text such as `30d`.
    pub ttl: Option<Value>,
    /// Milliseconds since the Unix epoch.
    pub expires_at: Option<i64>,
    pub data: Option<Value>,
}

/// A new name or new custom data.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenAmendment {
    pub name: Option<String>,
    pub data: Option<Value>,
}

/// When a new token ends, from `ttl` or `expiresAt`; neither: until revoked. At most ten years away.
pub(crate) fn expiry(
    ttl: Option<Value>,
    expires_at: Option<i64>,
    now: Timestamp,
) -> Result<Option<Timestamp>, ApiError> {
    let seconds =
        |text: &str| personal::parse_ttl(text).map(|ttl| Some(now.plus_seconds(ttl))).map_err(ApiError::from);
    match (ttl, expires_at) {
        (Some(_), Some(_)) => Err(ApiError::invalid("give ttl or expiresAt, not both")),
        (Some(Value::String(text)), None) => seconds(&text),
        (Some(Value::Number(number)), None) => seconds(&number.to_string()),
        (Some(_), None) => Err(ApiError::invalid("ttl must be a number of seconds or text such as 30d")),
        (None, Some(millis)) => {
            let at = Timestamp::from_unix_seconds(millis.div_euclid(1000));
            if at.has_passed(now)
                || at.unix_seconds().saturating_sub(now.unix_seconds()) > personal::MAX_TTL_SECONDS
            {
                return Err(ApiError::invalid("expiresAt must be in the future and at most ten years away"));
            }
            Ok(Some(at))
        }
        (None, None) => Ok(None),
    }
}

/// Who a token made by an operator is for: a user (a personal token) or a client (an API key).
pub fn owner(username: Option<&str>, client_id: Option<&str>) -> Result<Owner, ApiError> {
    match (username, client_id) {
        (Some(user), None) => Ok(Owner::User(Username::parse(user).map_err(ApiError::invalid)?)),
        (None, Some(client)) => Ok(Owner::Client(ClientId::parse(client).map_err(ApiError::invalid)?)),
        _ => Err(ApiError::invalid("give exactly one of username and clientId")),
    }
}

/// `{"username" | "clientId", ...the token}`, as operators ask for a token: the owner beside the fields of
/// a new token, whose own type refuses anything unknown.
pub fn owned_token(mut body: serde_json::Map<String, Value>) -> Result<(Owner, NewTokenBody), ApiError> {
    let mut take = |field: &str| match body.remove(field) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(ApiError::invalid(format!("{field} must be a string"))),
    };
    let (username, client_id) = (take("username")?, take("clientId")?);
    let owner = owner(username.as_deref(), client_id.as_deref())?;
    Ok((owner, serde_json::from_value(Value::Object(body)).map_err(ApiError::invalid)?))
}

/// `POST /admin/tokens`, `latchkey token create`: tied to nothing, so it may be unlimited. The secret is in
/// this answer only.
pub async fn create_token(
    ctx: &Context,
    owner: Owner,
    body: NewTokenBody,
    origin: Origin,
) -> Result<CreatedToken, ApiError> {
    let now = ctx.now();
    let scope = Scope::from_tokens(body.scopes.unwrap_or_default()).map_err(ApiError::invalid)?;
    let data = personal::check_data(body.data.unwrap_or_else(|| Value::Object(Default::default())))?;
    let new = NewToken {
        name: body.name,
        scope,
        expires: expiry(body.ttl, body.expires_at, now)?,
        data,
        derived_from: None,
    };
    let issuer = ctx.issuer.to_string();
    let (record, token) = tx::write_async(&ctx.store, move |repo| {
        personal::create(repo, &owner, new, origin, &issuer, now, &mut rand::rngs::OsRng)
    })
    .await?;
    Ok(CreatedToken { view: TokenView::of(&record), token })
}

/// Which tokens a listing shows; `None` matches anything.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TokenFilter {
    pub username: Option<String>,
    pub client_id: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Usable now (or not).
    pub active: Option<bool>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// `GET /admin/tokens`, `latchkey token list`: newest first, a page at a time.
pub async fn list_tokens(ctx: &Context, filter: TokenFilter) -> Result<Listing<TokenView>, ApiError> {
    let kind = match filter.kind.as_deref() {
        None => None,
        Some(text) => Some(TokenKind::parse(text).ok_or_else(|| {
            ApiError::invalid("type must be oauth2-access, oauth2-refresh, personal or api-key")
        })?),
    };
    let query = TokenQuery {
        username: filter.username.as_deref().map(Username::parse).transpose().map_err(ApiError::invalid)?,
        client_id: filter.client_id.as_deref().map(ClientId::parse).transpose().map_err(ApiError::invalid)?,
        kind,
        active: filter.active,
        now: ctx.now(),
    };
    let page: PageRequest = page_of(filter.limit, filter.cursor)?;
    let found = ctx.store.read_async(move |repo| repo.query_tokens(&query, &page)).await?;
    Ok(Listing::of(found, TokenView::of, Items::Tokens))
}

async fn any_token(ctx: &Context, id: &str) -> Result<TokenRecord, ApiError> {
    let id = RecordId::parse(id).map_err(|_| ApiError::NotFound)?;
    Ok(ctx.store.read_async(move |repo| repo.get_token(&id)).await?)
}

/// `GET /admin/tokens/{id}`, `latchkey token get`.
pub async fn get_token(ctx: &Context, id: &str) -> Result<TokenView, ApiError> {
    Ok(TokenView::of(&any_token(ctx, id).await?))
}

/// `PATCH /admin/tokens/{id}`, `latchkey token amend`: name and custom data.
pub async fn amend_token(ctx: &Context, id: &str, amendment: TokenAmendment) -> Result<TokenView, ApiError> {
    let record = any_token(ctx, id).await?;
    amend_record(ctx, record, amendment).await
}

/// `DELETE /admin/tokens/{id}`, `latchkey token revoke`: how many records were revoked.
pub async fn revoke_token(ctx: &Context, id: &str) -> Result<u64, ApiError> {
    let record = any_token(ctx, id).await?;
    end(ctx, record).await
}

/// Writes a token's new name and data, and nothing else, from the record as it is in the same transaction,
/// so a rename racing with the token's own use (a code redeemed, a token rotated) cannot undo it; a token
/// revoked meanwhile is not found.
pub(crate) async fn amend_record(
    ctx: &Context,
    record: TokenRecord,
    amendment: TokenAmendment,
) -> Result<TokenView, ApiError> {
    let id = record.id;
    let amended = tx::write_async(&ctx.store, move |repo| {
        let mut record = repo.get_token_for_update(&id)?;
        personal::amend(&mut record, amendment.name.as_deref(), amendment.data)?;
        let live = repo.amend_token(&record.id, record.name.as_deref(), &record.properties)?;
        Ok(live.then_some(record))
    })
    .await?;
    amended.map(|record| TokenView::of(&record)).ok_or(ApiError::NotFound)
}

/// Revokes a token for good; one holding a refresh token takes its whole grant with it (RFC 7009 §2.1).
pub(crate) async fn end(ctx: &Context, record: TokenRecord) -> Result<u64, ApiError> {
    let now = ctx.now();
    Ok(ctx.store.write_async(move |repo| revoke_all::token(repo, &record, now)).await?)
}
