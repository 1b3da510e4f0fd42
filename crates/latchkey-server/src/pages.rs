//! The HTML pages (askama templates under `templates/`) and how they are served: no third-party
//! resources, no framing, no caching, forms that post only to this server or the client being answered.

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use askama::Template;

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    pub client_name: &'a str,
    pub error: Option<&'a str>,
    pub csrf: &'a str,
    pub request_id: &'a str,
    pub username: &'a str,
}

#[derive(Template)]
#[template(path = "consent.html")]
pub struct ConsentPage<'a> {
    pub client_name: &'a str,
    pub scopes: Vec<(String, String)>,
    pub username: &'a str,
    pub csrf: &'a str,
    pub request_id: &'a str,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub title: &'a str,
    pub message: &'a str,
    pub code: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "logout.html")]
pub struct LogoutPage {
    pub signed_out: bool,
    pub client_name: Option<String>,
    pub csrf: String,
    pub id_token_hint: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
}

#[derive(Template)]
#[template(path = "form_post.html")]
pub struct FormPostPage {
    pub action: String,
    pub fields: Vec<(String, String)>,
}

/// The origin (`scheme://host[:port]`) of an absolute URL, for a CSP source list.
pub fn origin(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    match parsed.origin() {
        url::Origin::Tuple(..) => Some(parsed.origin().ascii_serialization()),
        // Custom-scheme (native app) redirects have no origin; allow the scheme.
        url::Origin::Opaque(_) => Some(format!("{}:", parsed.scheme())),
    }
}

/// Serves a rendered page. `form_target` is the one origin besides this server that a form on the page
/// may post or be redirected to (the client being answered), if any.
pub fn page(status: StatusCode, template: &impl Template, form_target: Option<&str>) -> HttpResponse {
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

pub const STYLESHEET: &str = include_str!("../../../static/style.css");
pub const FORM_POST_SCRIPT: &str = include_str!("../../../static/form_post.js");

pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(STYLESHEET)
}

pub async fn form_post_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(FORM_POST_SCRIPT)
}
