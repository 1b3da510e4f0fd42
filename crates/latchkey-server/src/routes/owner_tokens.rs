//! The owner token API (docs/API.md): a user lists, creates, renames and deletes their own tokens with a
//! bearer token of theirs (RFC 6750 §2.1) that carries the `latchkey:tokens` scope. Another user's token is answered 404, exactly like one that does
//! not exist, so ids cannot be probed.

use crate::app::AppState;
use crate::http_error::HttpError;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use latchkey_core::personal::{self, NewToken, Origin, Owner, TokenView};
use latchkey_model::{
    Cursor, Page, PageRequest, PlainSecret, RecordId, Scope, SecretHash, Timestamp, TokenRecord, Username,
};
use latchkey_store::StoreError;
use serde::Deserialize;
use serde_json::Value;

const DEFAULT_PAGE_SIZE: u32 = 50;

/// RFC 6750 §3: a missing, malformed, expired or revoked bearer token.
fn unauthorized() -> HttpResponse {
    HttpResponse::build(StatusCode::UNAUTHORIZED)
        .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"latchkey\", error=\"invalid_token\""))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({ "error": "invalid_token" }))
}

pub(crate) fn insufficient_scope() -> HttpResponse {
    HttpResponse::build(StatusCode::FORBIDDEN)
        .insert_header((
            header::WWW_AUTHENTICATE,
            format!(
                "Bearer realm=\"latchkey\", error=\"insufficient_scope\", scope=\"{}\"",
                personal::MANAGE_SCOPE
            ),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({
            "error": "insufficient_scope",
            "error_description": format!("the token needs the {} scope", personal::MANAGE_SCOPE),
        }))
}

pub(crate) fn bad_request(why: impl std::fmt::Display) -> HttpError {
    HttpError::BadRequest(why.to_string())
}

/// The token making the request and its owner, or the 401 to answer.
async fn authenticate(
    request: &HttpRequest,
    state: &AppState,
) -> Result<Result<(TokenRecord, Username), HttpResponse>, HttpError> {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| SecretHash::of(token.trim()));
    let Some(hash) = presented else { return Ok(Err(unauthorized())) };
    let now = state.clock.now();
    let found = state
        .store
        .read_async(move |repo| {
            let Some(record) = repo.find_token_by_access_token(&hash)? else { return Ok(None) };
            let Some(username) = record.username.clone() else { return Ok(None) };
            let active = record.access_token_is_active(now)
                && repo.find_user(&username)?.is_some_and(|user| !user.disabled);
            Ok(active.then_some((record, username)))
        })
        .await?;
    let Some((record, owner)) = found else { return Ok(Err(unauthorized())) };
    note_use(state, &record, now).await;
    if !record.scope.contains(personal::MANAGE_SCOPE) {
        return Ok(Err(insufficient_scope()));
    }
    Ok(Ok((record, owner)))
}

/// Moves the token's `activeAt`, at most once a minute per token (a write per request would make every
/// read a write).
pub async fn note_use(state: &AppState, record: &TokenRecord, now: Timestamp) {
    note_use_of(state, record.id.clone(), record.active_at, now).await;
}

/// [`note_use`] for a record known by its id and last noted use.
pub async fn note_use_of(state: &AppState, id: RecordId, active_at: Option<Timestamp>, now: Timestamp) {
    if active_at
        .is_some_and(|at| now.unix_seconds() - at.unix_seconds() < personal::ACTIVE_AT_RESOLUTION_SECONDS)
    {
        return;
    }
    let resolution = personal::ACTIVE_AT_RESOLUTION_SECONDS;
    if let Err(error) = state.store.write_async(move |repo| repo.touch_token(&id, now, resolution)).await {
        // The request itself succeeded; last-use time is best effort.
        tracing::warn!(%error, "could not record a token's last use");
    }
}

macro_rules! owner_or_401 {
    ($request:expr, $state:expr) => {
        match authenticate(&$request, &$state).await? {
            Ok(found) => found,
            Err(response) => return Ok(response),
        }
    };
}

pub(crate) fn json(status: StatusCode, body: impl serde::Serialize) -> HttpResponse {
    HttpResponse::build(status).insert_header((header::CACHE_CONTROL, "no-store")).json(body)
}

/// `limit` and `cursor` of a listing, and nothing else.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// A page request from `limit` and `cursor` query parameters.
pub(crate) fn page_of(limit: Option<u32>, cursor: Option<String>) -> PageRequest {
    let limit = limit.unwrap_or(DEFAULT_PAGE_SIZE);
    match cursor {
        Some(cursor) => PageRequest::after(limit, Cursor::from_opaque(cursor)),
        None => PageRequest::first(limit),
    }
}

/// A page of tokens as both token APIs answer it: `{"tokens": [...], "next": cursor or null}`.
pub(crate) fn token_page(found: &Page<TokenRecord>) -> HttpResponse {
    let tokens: Vec<TokenView> = found.items.iter().map(TokenView::of).collect();
    let next = found.next.as_ref().map(|cursor| cursor.as_str());
    json(StatusCode::OK, serde_json::json!({ "tokens": tokens, "next": next }))
}

/// `201` with a new token and, this once, its secret.
pub(crate) fn created_token(record: &TokenRecord, secret: &PlainSecret) -> Result<HttpResponse, HttpError> {
    let mut view =
        serde_json::to_value(TokenView::of(record)).map_err(|e| HttpError::Internal(e.to_string()))?;
    view["token"] = Value::from(secret.expose());
    Ok(json(StatusCode::CREATED, view))
}

/// `GET /api/tokens`: the caller's tokens in force, newest first; `next` is the cursor of the next page.
pub async fn list(
    request: HttpRequest,
    state: web::Data<AppState>,
    query: Result<web::Query<PageQuery>, actix_web::Error>,
) -> Result<HttpResponse, HttpError> {
    let (_, owner) = owner_or_401!(request, state);
    let query = query.map_err(bad_request)?.into_inner();
    let page = page_of(query.limit, query.cursor);
    let now = state.clock.now();
    let found =
        state.store.read_async(move |repo| repo.list_live_tokens_by_username(&owner, now, &page)).await?;
    Ok(token_page(&found))
}

/// One of the caller's tokens, by id or as `current`; `None` (404) for anything else.
async fn own_token(
    state: &AppState,
    caller: &TokenRecord,
    owner: &Username,
    id: &str,
) -> Result<Option<TokenRecord>, HttpError> {
    if id == "current" {
        return Ok(Some(caller.clone()));
    }
    let Ok(id) = RecordId::parse(id) else { return Ok(None) };
    let record = match state.store.read_async(move |repo| repo.get_token(&id)).await {
        Ok(record) => record,
        Err(StoreError::NotFound) => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    let live = record.in_force(state.clock.now());
    Ok((live && record.username.as_ref() == Some(owner)).then_some(record))
}

/// `GET /api/tokens/{id}`.
pub async fn get(
    request: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let (caller, owner) = owner_or_401!(request, state);
    match own_token(&state, &caller, &owner, &id).await? {
        Some(record) => Ok(json(StatusCode::OK, TokenView::of(&record))),
        None => Err(HttpError::NotFound),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBody {
    pub name: String,
    pub scopes: Option<Vec<String>>,
    /// Seconds, or text such as `30d`.
    pub ttl: Option<Value>,
    #[serde(rename = "expiresAt")]
    pub expires_at: Option<i64>,
    pub data: Option<Value>,
}

pub(crate) fn parse_body<T: serde::de::DeserializeOwned>(
    request: &HttpRequest,
    body: &[u8],
) -> Result<T, HttpError> {
    let is_json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value.split(';').next().is_some_and(|kind| kind.trim().eq_ignore_ascii_case("application/json"))
        });
    if !is_json {
        return Err(bad_request("the body must be application/json"));
    }
    serde_json::from_slice(body).map_err(bad_request)
}

/// When a new token ends, from `ttl` or `expiresAt` (milliseconds); neither: until deleted.
pub(crate) fn expiry(
    ttl: Option<Value>,
    expires_at: Option<i64>,
    now: Timestamp,
) -> Result<Option<Timestamp>, HttpError> {
    match (ttl, expires_at) {
        (Some(_), Some(_)) => Err(bad_request("give ttl or expiresAt, not both")),
        (Some(Value::String(text)), None) => {
            Ok(Some(now.plus_seconds(personal::parse_ttl(&text).map_err(bad_request)?)))
        }
        (Some(Value::Number(number)), None) => {
            let text = number.to_string();
            Ok(Some(now.plus_seconds(personal::parse_ttl(&text).map_err(bad_request)?)))
        }
        (Some(_), None) => Err(bad_request("ttl must be a number of seconds or text such as 30d")),
        (None, Some(millis)) => {
            let at = Timestamp::from_unix_seconds(millis.div_euclid(1000));
            if at.has_passed(now) || at.unix_seconds() - now.unix_seconds() > personal::MAX_TTL_SECONDS {
                return Err(bad_request("expiresAt must be in the future and at most ten years away"));
            }
            Ok(Some(at))
        }
        (None, None) => Ok(None),
    }
}

/// `POST /api/tokens`: a personal token of the caller. Its scopes may not exceed those of the token making
/// the request (and leave out `latchkey:tokens` unless asked for); it ends no later than the grant of that
/// token, and with it. The secret is in this response and nowhere else, ever.
pub async fn create(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, HttpError> {
    let (caller, owner) = owner_or_401!(request, state);
    let body: CreateBody = parse_body(&request, &body)?;
    let now = state.clock.now();
    // By default a new token may do what the caller may, except make more tokens: that must be asked for.
    let scope = match body.scopes {
        None => Scope::from_tokens(caller.scope.iter().filter(|scope| *scope != personal::MANAGE_SCOPE))
            .map_err(bad_request)?,
        Some(scopes) => Scope::from_tokens(&scopes).map_err(bad_request)?,
    };
    if !scope.is_subset_of(&caller.scope) {
        return Err(bad_request("scopes may not exceed those of the token making the request"));
    }
    let data = personal::check_data(body.data.unwrap_or_else(|| Value::Object(Default::default())))
        .map_err(bad_request)?;
    // A token may not outlive the grant of the token that made it, and ends with that grant.
    let expires = match (expiry(body.ttl, body.expires_at, now)?, personal::end_of(&caller)) {
        (Some(asked), Some(ceiling)) => Some(asked.min(ceiling)),
        (None, ceiling) => ceiling,
        (asked, None) => asked,
    };
    let new =
        NewToken { name: body.name, scope, expires, data, derived_from: Some(caller.family_id.clone()) };
    let issuer = state.issuer.as_str().to_owned();
    let created = state
        .store
        .write_async(move |repo| {
            personal::create(
                repo,
                &Owner::User(owner),
                new,
                Origin::Api,
                &issuer,
                now,
                &mut rand::rngs::OsRng,
            )
        })
        .await?;
    let (record, secret) = created.map_err(bad_request)?;
    created_token(&record, &secret)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AmendBody {
    pub name: Option<String>,
    pub data: Option<Value>,
}

/// `PATCH /api/tokens/{id}`: a new name or new custom data.
pub async fn amend(
    request: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, HttpError> {
    let (caller, owner) = owner_or_401!(request, state);
    let body: AmendBody = parse_body(&request, &body)?;
    let Some(record) = own_token(&state, &caller, &owner, &id).await? else {
        return Err(HttpError::NotFound);
    };
    rename(&state, record, body).await
}

/// Applies a PATCH to a token: its name and custom data, nothing else.
pub(crate) async fn rename(
    state: &AppState,
    mut record: TokenRecord,
    body: AmendBody,
) -> Result<HttpResponse, HttpError> {
    personal::amend(&mut record, body.name.as_deref(), body.data).map_err(bad_request)?;
    let (id, name, properties) = (record.id.clone(), record.name.clone(), record.properties.clone());
    let live =
        state.store.write_async(move |repo| repo.amend_token(&id, name.as_deref(), &properties)).await?;
    if !live {
        return Err(HttpError::NotFound);
    }
    Ok(json(StatusCode::OK, TokenView::of(&record)))
}

/// `DELETE /api/tokens/{id}`, where `{id}` may be `current`: the token stops working at once. Deleting a
/// token that holds a refresh token ends its whole grant, every rotation of it.
pub async fn delete(
    request: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let (caller, owner) = owner_or_401!(request, state);
    let Some(record) = own_token(&state, &caller, &owner, &id).await? else {
        return Err(HttpError::NotFound);
    };
    end(&state, record).await
}

/// Revokes a token for good; one holding a refresh token takes its whole grant with it.
pub(crate) async fn end(state: &AppState, record: TokenRecord) -> Result<HttpResponse, HttpError> {
    let now = state.clock.now();
    state.store.write_async(move |repo| latchkey_core::revoke_all::token(repo, &record, now)).await?;
    Ok(HttpResponse::NoContent().insert_header((header::CACHE_CONTROL, "no-store")).finish())
}
