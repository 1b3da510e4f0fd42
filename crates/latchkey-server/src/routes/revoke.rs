//! The revocation endpoint (RFC 7009 §2).

use crate::app::AppState;
use crate::http_error::{oauth_error_response, HttpError};
use crate::routes::token::{auth_context, token_question, TokenQuestion};
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use latchkey_core::client_auth::authenticate_client;
use latchkey_core::revocation::revoke as revoke_token;

pub async fn revoke(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, HttpError> {
    let TokenQuestion { presented, token, hint } = match token_question(&request, &body) {
        Ok(question) => question,
        Err(error) => return Ok(oauth_error_response(&error)),
    };
    let now = state.clock.now();
    let context = auth_context(&state, "/revoke");
    // A storage failure becomes 503 through `?`: the client must never be told a token is gone when it
    // is not (§2.2.1).
    let outcome = state
        .store
        .write_async(move |repo| {
            let caller = match authenticate_client(repo, &presented, &context)? {
                Ok(client) => client,
                Err(error) => return Ok(Err(error)),
            };
            revoke_token(repo, &caller, &token, hint, now)
        })
        .await?;
    Ok(match outcome {
        Ok(()) => HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).finish(),
        Err(error) => oauth_error_response(&error),
    })
}
