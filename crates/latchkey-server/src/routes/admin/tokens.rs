//! `/admin/tokens`: every token, filtered and paged; personal tokens and API keys made by an operator.

use super::{page_of, require_admin};
use crate::app::AppState;
use crate::http_error::HttpError;
use crate::routes::owner_tokens::{self, bad_request, expiry, json, parse_body, AmendBody, CreateBody};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use latchkey_core::personal::{self, NewToken, Origin, Owner, TokenView};
use latchkey_model::{ClientId, RecordId, Scope, TokenKind, TokenRecord, Username};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenFilter {
    username: Option<String>,
    client_id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    active: Option<bool>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// `GET /admin/tokens?username=&client_id=&type=&active=&limit=&cursor=`: newest first, a page at a time.
pub async fn list_tokens(
    request: HttpRequest,
    state: web::Data<AppState>,
    filter: Result<web::Query<TokenFilter>, actix_web::Error>,
) -> Result<HttpResponse, HttpError> {
    require_admin(&request, &state)?;
    let filter = filter.map_err(bad_request)?.into_inner();
    let kind =
        match filter.kind.as_deref() {
            None => None,
            Some(text) => Some(TokenKind::parse(text).ok_or_else(|| {
                bad_request("type must be oauth2-access, oauth2-refresh, personal or api-key")
            })?),
        };
    let query = latchkey_store::TokenQuery {
        username: filter.username.as_deref().map(Username::parse).transpose().map_err(bad_request)?,
        client_id: filter.client_id.as_deref().map(ClientId::parse).transpose().map_err(bad_request)?,
        kind,
        active: filter.active,
        now: state.clock.now(),
    };
    let page = page_of(filter.limit, filter.cursor);
    let found = state.store.read_async(move |repo| repo.query_tokens(&query, &page)).await?;
    Ok(owner_tokens::token_page(&found))
}

/// Unknown fields are refused when the rest is read as a [`CreateBody`].
#[derive(Deserialize)]
struct AdminCreateBody {
    username: Option<String>,
    client_id: Option<String>,
    #[serde(flatten)]
    token: Value,
}

/// `POST /admin/tokens`: a personal token for `username`, or an API key for `client_id`. The secret is in
/// this response only.
pub async fn create_token(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, HttpError> {
    require_admin(&request, &state)?;
    let body: AdminCreateBody = parse_body(&request, &body)?;
    let owner = match (body.username, body.client_id) {
        (Some(user), None) => Owner::User(Username::parse(&user).map_err(bad_request)?),
        (None, Some(client)) => Owner::Client(ClientId::parse(&client).map_err(bad_request)?),
        _ => return Err(bad_request("give exactly one of username and client_id")),
    };
    let token: CreateBody = serde_json::from_value(body.token).map_err(bad_request)?;
    let now = state.clock.now();
    let scope = Scope::from_tokens(token.scopes.unwrap_or_default()).map_err(bad_request)?;
    let data = personal::check_data(token.data.unwrap_or_else(|| Value::Object(Default::default())))
        .map_err(bad_request)?;
    let new = NewToken {
        name: token.name,
        scope,
        expires: expiry(token.ttl, token.expires_at, now)?,
        data,
        derived_from: None,
    };
    let issuer = state.issuer.as_str().to_owned();
    let created = state
        .store
        .write_async(move |repo| {
            personal::create(repo, &owner, new, Origin::Admin, &issuer, now, &mut rand::rngs::OsRng)
        })
        .await?;
    let (record, secret) = created.map_err(bad_request)?;
    owner_tokens::created_token(&record, &secret)
}

async fn any_token(state: &AppState, id: &str) -> Result<TokenRecord, HttpError> {
    let Ok(id) = RecordId::parse(id) else { return Err(HttpError::NotFound) };
    Ok(state.store.read_async(move |repo| repo.get_token(&id)).await?)
}

/// `GET /admin/tokens/{id}`.
pub async fn get_token(
    request: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    require_admin(&request, &state)?;
    Ok(json(StatusCode::OK, TokenView::of(&any_token(&state, &id).await?)))
}

/// `PATCH /admin/tokens/{id}`: name and custom data.
pub async fn amend_token(
    request: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, HttpError> {
    require_admin(&request, &state)?;
    let body: AmendBody = parse_body(&request, &body)?;
    owner_tokens::rename(&state, any_token(&state, &id).await?, body).await
}

/// `DELETE /admin/tokens/{id}`: revoked at once.
pub async fn delete_token(
    request: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    require_admin(&request, &state)?;
    owner_tokens::end(&state, any_token(&state, &id).await?).await
}
