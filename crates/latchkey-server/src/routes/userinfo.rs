//! The UserInfo endpoint (OpenID Connect Core §5.3), with bearer tokens as RFC 6750 §2.1–2.2 allows.

use crate::error::WebError;
use crate::http::{json, state, BearerOrForm};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};

pub async fn userinfo(
    request: HttpRequest,
    BearerOrForm(token): BearerOrForm,
) -> Result<HttpResponse, WebError> {
    let claims = latchkey_endpoints::userinfo::userinfo(&state(&request)?.ctx, token)
        .await
        .map_err(WebError::Bearer)?;
    Ok(json(StatusCode::OK, claims))
}
