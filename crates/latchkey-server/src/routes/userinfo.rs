//! The UserInfo endpoint (OpenID Connect Core §5.3), with bearer tokens as RFC 6750 §2.1–2.2 allows.

use crate::app::AppState;
use crate::http_error::HttpError;
use crate::routes::authorize::is_form;
use crate::routes::token::Form;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use latchkey_core::claims::user_claims;
use latchkey_model::SecretHash;

fn challenge(status: StatusCode, error: Option<(&str, &str)>) -> HttpResponse {
    let value = match error {
        Some((code, description)) => {
            format!("Bearer realm=\"latchkey\", error=\"{code}\", error_description=\"{description}\"")
        }
        None => "Bearer realm=\"latchkey\"".to_owned(),
    };
    HttpResponse::build(status).insert_header((header::WWW_AUTHENTICATE, value)).finish()
}

/// The bearer token from the `Authorization` header, or from a form body's `access_token` on POST; both at
/// once is a malformed request (RFC 6750 §2).
fn bearer(request: &HttpRequest, body: &[u8]) -> Result<Option<String>, ()> {
    let header_token = match request.headers().get(header::AUTHORIZATION) {
        Some(value) => {
            let value = value.to_str().map_err(|_| ())?;
            match value.split_once(' ') {
                Some((scheme, token))
                    if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
                {
                    Some(token.trim().to_owned())
                }
                _ => return Err(()),
            }
        }
        None => None,
    };
    let body_token = if request.method() == actix_web::http::Method::POST && is_form(request) {
        Form::parse(body).single("access_token").map_err(|_| ())?
    } else {
        None
    };
    match (header_token, body_token) {
        (Some(_), Some(_)) => Err(()),
        (token, None) | (None, token) => Ok(token),
    }
}

pub async fn userinfo(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, HttpError> {
    let token = match bearer(&request, &body) {
        Ok(Some(token)) => token,
        Ok(None) => return Ok(challenge(StatusCode::UNAUTHORIZED, None)),
        Err(()) => {
            return Ok(challenge(
                StatusCode::BAD_REQUEST,
                Some(("invalid_request", "malformed bearer credentials")),
            ))
        }
    };
    let now = state.clock.now();
    let hash = SecretHash::of(&token);
    let found = state
        .store
        .read_async(move |repo| {
            let Some(record) = repo.find_token_by_access_token(&hash)? else { return Ok(None) };
            if !record.access_token_is_active(now) {
                return Ok(None);
            }
            let Some(username) = &record.username else { return Ok(Some((record, None))) };
            let user = repo.find_user(username)?.filter(|user| !user.disabled);
            Ok(Some((record, user)))
        })
        .await?;
    let invalid = || {
        challenge(
            StatusCode::UNAUTHORIZED,
            Some(("invalid_token", "the access token is invalid, expired or revoked")),
        )
    };
    match found {
        None | Some((_, None)) => Ok(invalid()),
        Some((record, _)) if !record.scope.contains("openid") => Ok(challenge(
            StatusCode::FORBIDDEN,
            Some(("insufficient_scope", "the access token was not granted the openid scope")),
        )),
        Some((record, Some(user))) => {
            crate::routes::owner_tokens::note_use(&state, &record, now).await;
            Ok(HttpResponse::Ok()
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(user_claims(&user, &record.scope)))
        }
    }
}
