//! `/authorize` (GET and POST), the login page and the consent page: input extracted, the browser step
//! called, its answer rendered. Every failure here is a page.

use crate::error::WebError;
use crate::http::{client_address, form_body, presented_device, presented_session, state};
use crate::pages;
use actix_web::{web, HttpRequest, HttpResponse};
use latchkey_core::Form;
use latchkey_endpoints::browser::{self, Decision, LoginSubmission};

/// The per-address limit of `/authorize` and the login page, before anything is read or written.
fn admit(request: &HttpRequest) -> Result<&latchkey_endpoints::Context, WebError> {
    let ctx = &state(request)?.ctx;
    ctx.limits
        .admit_address(&client_address(request), ctx.now())
        .map_err(|refused| WebError::Page(refused.into()))?;
    Ok(ctx)
}

pub async fn authorize_get(request: HttpRequest) -> Result<HttpResponse, WebError> {
    let form = Form::parse(request.query_string().as_bytes());
    let ctx = admit(&request)?;
    let reply = browser::authorize(ctx, form, presented_session(&request)).await.map_err(WebError::Page)?;
    Ok(pages::answer(reply))
}

/// OpenID Connect Core §3.1.2.1: the same request, sent as a form.
pub async fn authorize_post(request: HttpRequest, body: web::Bytes) -> Result<HttpResponse, WebError> {
    let form = form_body(&request, &body, true)?;
    let ctx = admit(&request)?;
    let reply = browser::authorize(ctx, form, presented_session(&request)).await.map_err(WebError::Page)?;
    Ok(pages::answer(reply))
}

/// The `request` the login and consent pages are for.
fn request_id(request: &HttpRequest) -> Result<String, WebError> {
    Form::parse(request.query_string().as_bytes())
        .text("request")
        .ok()
        .flatten()
        .ok_or_else(|| WebError::bad_page("the request parameter is missing"))
}

pub async fn login_page(request: HttpRequest) -> Result<HttpResponse, WebError> {
    let ctx = admit(&request)?;
    let answer = browser::login_page(ctx, presented_session(&request), request_id(&request)?)
        .await
        .map_err(WebError::Page)?;
    Ok(pages::answer(answer.into()))
}

/// The fields of a page's form; a missing one is a malformed request.
fn field(form: &Form, name: &str) -> Result<String, WebError> {
    form.text(name).ok().flatten().ok_or_else(|| WebError::bad_page(&format!("the form has no {name}")))
}

pub async fn login_submit(request: HttpRequest, body: web::Bytes) -> Result<HttpResponse, WebError> {
    let ctx = admit(&request)?;
    let form = form_body(&request, &body, true)?;
    let login = LoginSubmission {
        session: presented_session(&request),
        csrf: form.text("csrf").ok().flatten(),
        request_id: field(&form, "request")?,
        username: field(&form, "username")?,
        password: field(&form, "password")?,
        client_address: client_address(&request),
        device: presented_device(&request),
    };
    let reply = browser::password_login(ctx, login).await.map_err(WebError::Page)?;
    if let browser::Answer::LoginForm(browser::LoginForm { error: Some(error), .. }) = &reply.answer {
        let locked_out = matches!(error, browser::LoginError::LockedOut { .. });
        state(&request)?.metrics.failed_login(locked_out);
    }
    Ok(pages::answer(reply))
}

pub async fn consent_page(request: HttpRequest) -> Result<HttpResponse, WebError> {
    let ctx = &state(&request)?.ctx;
    let answer = browser::consent_page(ctx, presented_session(&request), request_id(&request)?)
        .await
        .map_err(WebError::Page)?;
    Ok(pages::answer(answer.into()))
}

pub async fn consent_submit(request: HttpRequest, body: web::Bytes) -> Result<HttpResponse, WebError> {
    let form = form_body(&request, &body, true)?;
    let decision = Decision::parse(&field(&form, "decision")?)
        .ok_or_else(|| WebError::bad_page("decision must be allow or deny"))?;
    let ctx = &state(&request)?.ctx;
    let reply = browser::decide(
        ctx,
        presented_session(&request),
        form.text("csrf").ok().flatten(),
        field(&form, "request")?,
        decision,
    )
    .await
    .map_err(WebError::Page)?;
    Ok(pages::answer(reply))
}
