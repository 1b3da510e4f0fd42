//! The introspection endpoint (RFC 7662 §2) for resource servers and clients.

use crate::app::AppState;
use crate::http_error::{oauth_error_response, HttpError};
use crate::routes::token::{auth_context, token_question, TokenQuestion};
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use latchkey_core::client_auth::authenticate_client;
use latchkey_core::introspection::{introspect as describe, Introspection};
use latchkey_core::OAuthError;
use latchkey_model::ClientKind;

pub async fn introspect(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, HttpError> {
    let TokenQuestion { presented, token, hint } = match token_question(&request, &body) {
        Ok(question) => question,
        Err(error) => return Ok(oauth_error_response(&error)),
    };
    let now = state.clock.now();
    let context = auth_context(&state, "/introspect");
    // A client assertion's `jti` is recorded, which needs a write; a secret is checked on a read.
    let records_an_assertion = presented.client_assertion.is_some();
    let work = move |repo: &mut latchkey_store::Repo<'_>| {
        let caller = match authenticate_client(repo, &presented, &context)? {
            // §2.1: the caller must be authorized; a public client proves nothing about itself.
            Ok(client) if client.kind() == ClientKind::Confidential => client,
            Ok(_) => return Ok(Err(OAuthError::invalid_client(presented.basic.is_some()))),
            Err(error) => return Ok(Err(error)),
        };
        Ok(Ok(describe(repo, &caller, &token, hint, now)?))
    };
    let answer = if records_an_assertion {
        state.store.write_async(work).await?
    } else {
        state.store.read_async(work).await?
    };
    if let Ok(Introspection { answered_by: Some((id, active_at)), .. }) = &answer {
        crate::routes::owner_tokens::note_use_of(&state, id.clone(), *active_at, now).await;
    }
    Ok(match answer {
        Ok(description) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"))
            .json(description),
        Err(error) => oauth_error_response(&error),
    })
}
