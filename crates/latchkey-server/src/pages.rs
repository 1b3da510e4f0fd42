//! The HTML pages (askama templates under `templates/`) and how the browser flow's answers are served: no
//! third-party resources, no framing, no caching, forms that post only to this server or the client being
//! answered. Redirects are 303, so a browser never re-sends a posted form (with its password) to the client
//! (RFC 9700 §4.12).

use crate::http::{device_cookie, session_cookie};
use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use askama::Template;
use latchkey_endpoints::browser::{Answer, ConsentForm, LoginError, LoginForm, Notice, Reply};
use latchkey_endpoints::logout::LogoutAnswer;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    form: &'a LoginForm,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage<'a> {
    form: &'a ConsentForm,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
    code: Option<&'a str>,
}

#[derive(Template, Default)]
#[template(path = "logout.html")]
struct LogoutPage<'a> {
    signed_out: bool,
    client_name: Option<&'a str>,
    csrf: &'a str,
    id_token_hint: Option<&'a str>,
    post_logout_redirect_uri: Option<&'a str>,
    state: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "form_post.html")]
struct FormPostPage {
    action: String,
    fields: Vec<(String, String)>,
}

/// One message for every failed login, whatever the reason (OWASP Authentication Cheat Sheet).
pub const LOGIN_FAILED: &str = "Login failed; Invalid user ID or password.";
pub const LOCKED_OUT: &str = "Too many failed sign-in attempts. Wait a few minutes, then try again.";

/// The origin (`scheme://host[:port]`) of an absolute URL, for a CSP source list.
fn origin(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    match parsed.origin() {
        url::Origin::Tuple(..) => Some(parsed.origin().ascii_serialization()),
        // Custom-scheme (native app) redirects have no origin; allow the scheme.
        url::Origin::Opaque(_) => Some(format!("{}:", parsed.scheme())),
    }
}

/// Serves a rendered page. `form_target` is the one origin besides this server that a form on the page
/// may post or be redirected to (the client being answered), if any.
fn page(status: StatusCode, template: &impl Template, form_target: Option<&str>) -> HttpResponse {
    let html = match template.render() {
        Ok(html) => html,
        Err(error) => {
            tracing::error!(%error, "template failed to render");
            return HttpResponse::InternalServerError().content_type("text/plain").body("internal error");
        }
    };
    let extra = form_target.and_then(origin).map(|origin| format!(" {origin}")).unwrap_or_default();
    let csp = format!(
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'{extra}; frame-ancestors 'none'; base-uri 'none'"
    );
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, csp))
        .body(html)
}

pub fn error_page(status: StatusCode, title: &str, message: &str, code: Option<&str>) -> HttpResponse {
    page(status, &ErrorPage { title, message, code }, None)
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish()
}

fn notice(notice: &Notice) -> HttpResponse {
    match notice {
        Notice::Refused { code, description } => error_page(
            StatusCode::BAD_REQUEST,
            "This sign-in request cannot be completed",
            description,
            Some(code),
        ),
        Notice::Stale => error_page(
            StatusCode::BAD_REQUEST,
            "This sign-in has expired",
            "The sign-in request is no longer valid in this browser. Start again from the application.",
            None,
        ),
        Notice::FormExpired => error_page(
            StatusCode::FORBIDDEN,
            "This form has expired",
            "The form was not sent from this browser's current page. Go back, reload the page and try again.",
            None,
        ),
    }
}

/// The HTTP response for a step of the browser flow, with the new session cookie when there is one.
pub fn answer(reply: Reply) -> HttpResponse {
    let mut response = match reply.answer {
        Answer::GoToLogin { request_id } => see_other(&format!("/login?request={request_id}")),
        Answer::GoToConsent { request_id } => see_other(&format!("/consent?request={request_id}")),
        Answer::LoginForm(form) => {
            let (status, message) = match form.error {
                None => (StatusCode::OK, None),
                Some(LoginError::Failed) => (StatusCode::OK, Some(LOGIN_FAILED)),
                Some(LoginError::LockedOut { .. }) => (StatusCode::TOO_MANY_REQUESTS, Some(LOCKED_OUT)),
            };
            let mut response =
                page(status, &LoginPage { form: &form, error: message }, form.redirect_uri.as_deref());
            if let Some(LoginError::LockedOut { retry_after }) = form.error {
                if let Ok(value) = header::HeaderValue::from_str(&retry_after.to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
            }
            response
        }
        Answer::ConsentForm(form) => {
            page(StatusCode::OK, &ConsentPage { form: &form }, form.redirect_uri.as_deref())
        }
        Answer::Respond(response) => match response.location() {
            Some(location) => see_other(&location),
            None => {
                let action = response.redirect_uri.clone();
                let form = FormPostPage { action: action.clone(), fields: response.form_fields() };
                page(StatusCode::OK, &form, Some(&action))
            }
        },
        Answer::Notice(kind) => notice(&kind),
    };
    if let Some(secret) = reply.new_session {
        if let Err(error) = response.add_cookie(&session_cookie(&secret)) {
            tracing::error!(%error, "could not set the session cookie");
        }
    }
    if let Some(secret) = reply.new_device {
        if let Err(error) = response.add_cookie(&device_cookie(&secret)) {
            tracing::error!(%error, "could not set the device cookie");
        }
    }
    response
}

/// The HTTP response for a logout step; the confirmation form posts the hint and state back.
pub fn logout(answer: &LogoutAnswer, id_token_hint: Option<&str>, state: Option<&str>) -> HttpResponse {
    match answer {
        LogoutAnswer::Confirm { client_name, csrf, post_logout_redirect_uri } => {
            let confirm = LogoutPage {
                signed_out: false,
                client_name: client_name.as_deref(),
                csrf,
                id_token_hint,
                post_logout_redirect_uri: post_logout_redirect_uri.as_deref(),
                state,
            };
            page(StatusCode::OK, &confirm, post_logout_redirect_uri.as_deref())
        }
        LogoutAnswer::SignedOut => {
            page(StatusCode::OK, &LogoutPage { signed_out: true, ..LogoutPage::default() }, None)
        }
        LogoutAnswer::BackToClient(location) => see_other(location),
        LogoutAnswer::Untrusted => error_page(
            StatusCode::BAD_REQUEST,
            "This sign-out request cannot be completed",
            "The address to return to is not registered for this application.",
            Some("invalid_request"),
        ),
        LogoutAnswer::FormExpired => {
            error_page(StatusCode::FORBIDDEN, "This form has expired", "Reload the page and try again.", None)
        }
    }
}

pub const STYLESHEET: &str = include_str!("../../../static/style.css");
pub const FORM_POST_SCRIPT: &str = include_str!("../../../static/form_post.js");

fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(body)
}

pub async fn stylesheet() -> HttpResponse {
    asset("text/css; charset=utf-8", STYLESHEET)
}

pub async fn form_post_script() -> HttpResponse {
    asset("text/javascript; charset=utf-8", FORM_POST_SCRIPT)
}
