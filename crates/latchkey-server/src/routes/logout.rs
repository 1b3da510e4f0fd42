//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): GET asks, POST signs out.

use crate::error::WebError;
use crate::http::{form_body, presented_session, removal_cookie, state};
use crate::pages;
use actix_web::{web, HttpRequest, HttpResponse};
use latchkey_core::Form;
use latchkey_endpoints::logout::{self, LogoutRequest};

fn logout_request(form: &Form) -> LogoutRequest {
    let text = |name| form.text(name).ok().flatten();
    LogoutRequest {
        id_token_hint: text("id_token_hint"),
        post_logout_redirect_uri: text("post_logout_redirect_uri"),
        state: text("state"),
        client_id: text("client_id"),
    }
}

pub async fn logout_page(request: HttpRequest) -> Result<HttpResponse, WebError> {
    let asked = logout_request(&Form::parse(request.query_string().as_bytes()));
    let (hint, back_state) = (asked.id_token_hint.clone(), asked.state.clone());
    let ctx = &state(&request)?.ctx;
    let answer =
        logout::logout_page(ctx, asked, presented_session(&request)).await.map_err(WebError::Page)?;
    Ok(pages::logout(&answer, hint.as_deref(), back_state.as_deref()))
}

pub async fn logout_submit(request: HttpRequest, body: web::Bytes) -> Result<HttpResponse, WebError> {
    let form = form_body(&request, &body, true)?;
    let asked = logout_request(&form);
    let csrf = form.text("csrf").ok().flatten();
    let ctx = &state(&request)?.ctx;
    let (answer, ended) = logout::confirm_logout(ctx, asked, presented_session(&request), csrf)
        .await
        .map_err(WebError::Page)?;
    let mut response = pages::logout(&answer, None, None);
    if ended {
        if let Err(error) = response.add_removal_cookie(&removal_cookie()) {
            tracing::error!(%error, "could not clear the session cookie");
        }
    }
    Ok(response)
}
