//! The token endpoint (RFC 6749 §3.2), introspection (RFC 7662 §2) and revocation (RFC 7009 §2).

use crate::error::WebError;
use crate::http::{state, ClientForm};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use latchkey_endpoints::token;

fn no_store(mut response: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    response.insert_header((header::CACHE_CONTROL, "no-store")).insert_header((header::PRAGMA, "no-cache"));
    response
}

pub async fn token(request: HttpRequest, ClientForm(client): ClientForm) -> Result<HttpResponse, WebError> {
    let state = state(&request)?;
    let grant = client.form.text("grant_type").ok().flatten().unwrap_or_default();
    let issued = token::token(&state.ctx, client).await.map_err(WebError::Token)?;
    state.metrics.issued(&grant);
    Ok(no_store(HttpResponse::Ok()).json(issued))
}

pub async fn introspect(
    request: HttpRequest,
    ClientForm(client): ClientForm,
) -> Result<HttpResponse, WebError> {
    let answer = token::introspect(&state(&request)?.ctx, client).await.map_err(WebError::Token)?;
    Ok(no_store(HttpResponse::Ok()).json(answer))
}

pub async fn revoke(request: HttpRequest, ClientForm(client): ClientForm) -> Result<HttpResponse, WebError> {
    let state = state(&request)?;
    token::revoke(&state.ctx, client).await.map_err(WebError::Token)?;
    state.metrics.revoked(crate::metrics::Revoked::RevocationEndpoint, 1);
    Ok(no_store(HttpResponse::Ok()).finish())
}
