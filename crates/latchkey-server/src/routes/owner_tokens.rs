//! The owner token API (docs/API.md): `/api/tokens`, behind the bearer check.

use crate::error::WebError;
use crate::http::{json, json_body, query, state, Bearer};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use latchkey_core::caller::Caller;
use latchkey_endpoints::operations::PageQuery;
use latchkey_endpoints::owner_tokens;

async fn caller(request: &HttpRequest, Bearer(token): Bearer) -> Result<Caller, WebError> {
    owner_tokens::authenticate(&state(request)?.ctx, token).await.map_err(WebError::Api)
}

pub async fn list(request: HttpRequest, bearer: Bearer) -> Result<HttpResponse, WebError> {
    let caller = caller(&request, bearer).await?;
    let page = query::<PageQuery>(&request)?.page().map_err(WebError::Api)?;
    let listing = owner_tokens::list(&state(&request)?.ctx, &caller, page).await.map_err(WebError::Api)?;
    Ok(json(StatusCode::OK, listing))
}

pub async fn get(
    request: HttpRequest,
    bearer: Bearer,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let caller = caller(&request, bearer).await?;
    let view = owner_tokens::get(&state(&request)?.ctx, &caller, &id).await.map_err(WebError::Api)?;
    Ok(json(StatusCode::OK, view))
}

pub async fn create(
    request: HttpRequest,
    bearer: Bearer,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let caller = caller(&request, bearer).await?;
    let state = state(&request)?;
    let created = owner_tokens::create(&state.ctx, &caller, json_body(&request, &body)?)
        .await
        .map_err(WebError::Api)?;
    state.metrics.issued("personal");
    Ok(json(StatusCode::CREATED, created))
}

pub async fn amend(
    request: HttpRequest,
    bearer: Bearer,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let caller = caller(&request, bearer).await?;
    let view = owner_tokens::amend(&state(&request)?.ctx, &caller, &id, json_body(&request, &body)?)
        .await
        .map_err(WebError::Api)?;
    Ok(json(StatusCode::OK, view))
}

pub async fn delete(
    request: HttpRequest,
    bearer: Bearer,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let caller = caller(&request, bearer).await?;
    let state = state(&request)?;
    owner_tokens::delete(&state.ctx, &caller, &id).await.map_err(WebError::Api)?;
    state.metrics.revoked(crate::metrics::Revoked::One, 1);
    Ok(HttpResponse::NoContent().insert_header((actix_web::http::header::CACHE_CONTROL, "no-store")).finish())
}
