//! What every route takes from HTTP, extracted once: form bodies, the client's credentials, bearer tokens,
//! the admin credential, the session cookie and the client's address. Routes import these, never each
//! other.

use crate::app::AppState;
use crate::error::WebError;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::{header, Method};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use latchkey_core::client_auth::PresentedCredentials;
use latchkey_core::{Form, OAuthError};
use latchkey_endpoints::token::ClientRequest;
use latchkey_model::PlainSecret;
use std::future::Future;
use std::pin::Pin;

/// Largest request body any endpoint accepts (RFC 6749 forms and JSON admin calls are far smaller).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Largest form body (token, authorization and login forms).
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// `__Host-`: only ever set by this origin, over https (browsers treat loopback http as secure too), for
/// the whole site, with no `Domain` (RFC 6265bis §4.1.3.2).
pub const SESSION_COOKIE: &str = "__Host-latchkey-session";
/// Marks a browser someone signed in from, so the login throttle can tell its owner from strangers.
pub const DEVICE_COOKIE: &str = "__Host-latchkey-device";

pub fn state(request: &HttpRequest) -> Result<&AppState, WebError> {
    request
        .app_data::<web::Data<AppState>>()
        .map(|data| data.get_ref())
        .ok_or_else(|| WebError::Token(OAuthError::server_error().logged("no application state").into()))
}

fn has_content_type(request: &HttpRequest, expected: &str) -> bool {
    request.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).is_some_and(|value| {
        value.split(';').next().is_some_and(|kind| kind.trim().eq_ignore_ascii_case(expected))
    })
}

pub fn is_form(request: &HttpRequest) -> bool {
    has_content_type(request, "application/x-www-form-urlencoded")
}

/// A form body of at most [`MAX_FORM_BYTES`], or why it is not one (RFC 6749 §3.2, RFC 7662 §2.1,
/// RFC 7009 §2.1 take forms only), as a page or as the token endpoint's JSON.
pub fn form_body(request: &HttpRequest, body: &[u8], page: bool) -> Result<Form, WebError> {
    let refused =
        |error: OAuthError| if page { WebError::Page(error.into()) } else { WebError::Token(error.into()) };
    if !is_form(request) {
        return Err(refused(OAuthError::invalid_request("expected application/x-www-form-urlencoded")));
    }
    if body.len() > MAX_FORM_BYTES {
        return Err(WebError::TooLarge { page });
    }
    Ok(Form::parse(body))
}

/// Credentials from `Authorization: Basic` (RFC 6749 §2.3.1). `Err` when the header is there but malformed.
fn basic_credentials(request: &HttpRequest) -> Result<Option<(String, String)>, ()> {
    let Some(value) = request.headers().get(header::AUTHORIZATION) else { return Ok(None) };
    let value = value.to_str().map_err(|_| ())?;
    latchkey_core::basic_auth::basic_credentials(value).map_err(|_| ())
}

/// A client's request to the token, introspection or revocation endpoint: its form and the credentials it
/// presented, in HTTP Basic or the form (RFC 6749 §2.3.1), or as an assertion (OpenID Connect Core §9).
pub struct ClientForm(pub ClientRequest);

fn client_request(request: &HttpRequest, body: &[u8]) -> Result<ClientRequest, WebError> {
    let form = form_body(request, body, false)?;
    let refused = |error: OAuthError| WebError::Token(error.into());
    let basic = basic_credentials(request).map_err(|()| refused(OAuthError::invalid_client(true)))?;
    let credentials = PresentedCredentials {
        basic,
        body_client_id: form.text("client_id").map_err(refused)?,
        body_client_secret: form.text("client_secret").map_err(refused)?,
        client_assertion_type: form.text("client_assertion_type").map_err(refused)?,
        client_assertion: form.text("client_assertion").map_err(refused)?,
    };
    Ok(ClientRequest { credentials, form, client_address: client_address(request) })
}

impl FromRequest for ClientForm {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, WebError>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Bytes::from_request(request, payload);
        let request = request.clone();
        Box::pin(async move {
            let body =
                body.await.map_err(|e| WebError::Token(OAuthError::invalid_request(e.to_string()).into()))?;
            client_request(&request, &body).map(ClientForm)
        })
    }
}

/// The token of `Authorization: Bearer` (RFC 6750 §2.1): `Ok(None)` without credentials, `Err` when the
/// header is not a bearer credential.
pub fn bearer_header(request: &HttpRequest) -> Result<Option<String>, OAuthError> {
    let Some(value) = request.headers().get(header::AUTHORIZATION) else { return Ok(None) };
    let malformed = || OAuthError::invalid_request("malformed bearer credentials");
    let value = value.to_str().map_err(|_| malformed())?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(Some(token.trim().to_owned()))
        }
        _ => Err(malformed()),
    }
}

/// A bearer token from the `Authorization` header, for the owner token API.
pub struct Bearer(pub String);

fn malformed(error: OAuthError) -> WebError {
    WebError::Bearer(error.into())
}

impl FromRequest for Bearer {
    type Error = WebError;
    type Future = std::future::Ready<Result<Self, WebError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(match bearer_header(request) {
            Ok(Some(token)) => Ok(Bearer(token)),
            Ok(None) => Err(WebError::NoCredentials),
            Err(error) => Err(malformed(error)),
        })
    }
}

/// A bearer token from the header or, on a form POST, from the body's `access_token` (RFC 6750 §2.1–2.2),
/// for UserInfo; both at once is a malformed request.
pub struct BearerOrForm(pub String);

impl FromRequest for BearerOrForm {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, WebError>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Bytes::from_request(request, payload);
        let request = request.clone();
        Box::pin(async move {
            let header = bearer_header(&request).map_err(malformed)?;
            let body_token = match request.method() == Method::POST && is_form(&request) {
                true => {
                    let body =
                        body.await.map_err(|e| malformed(OAuthError::invalid_request(e.to_string())))?;
                    Form::parse(&body).text("access_token").map_err(malformed)?
                }
                false => None,
            };
            match (header, body_token) {
                (Some(_), Some(_)) => {
                    Err(malformed(OAuthError::invalid_request("one bearer token, not two")))
                }
                (Some(token), None) | (None, Some(token)) => Ok(BearerOrForm(token)),
                (None, None) => Err(WebError::NoCredentials),
            }
        })
    }
}

/// The admin API's caller: the request carried the configured admin credential, compared in constant time.
/// With none configured, no one is.
pub struct Operator;

pub fn is_operator(request: &HttpRequest) -> bool {
    let Ok(app) = state(request) else { return false };
    match (&app.admin_token, bearer_header(request)) {
        (Some(expected), Ok(Some(presented))) => expected.verify(&presented),
        _ => false,
    }
}

/// The refusal for a request that is not an operator's.
pub fn not_operator(request: &HttpRequest) -> WebError {
    WebError::NotOperator { presented: request.headers().contains_key(header::AUTHORIZATION) }
}

impl FromRequest for Operator {
    type Error = WebError;
    type Future = std::future::Ready<Result<Self, WebError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(if is_operator(request) { Ok(Operator) } else { Err(not_operator(request)) })
    }
}

/// The session secret the browser presented, if any.
pub fn presented_session(request: &HttpRequest) -> Option<PlainSecret> {
    presented_cookie(request, SESSION_COOKIE)
}

fn presented_cookie(request: &HttpRequest, name: &str) -> Option<PlainSecret> {
    request.cookie(name).map(|cookie| PlainSecret::from_presented(cookie.value()))
}

pub fn presented_device(request: &HttpRequest) -> Option<PlainSecret> {
    presented_cookie(request, DEVICE_COOKIE)
}

pub fn device_cookie(secret: &PlainSecret) -> Cookie<'static> {
    let mut cookie = session_cookie(secret);
    cookie.set_name(DEVICE_COOKIE);
    cookie
        .set_max_age(actix_web::cookie::time::Duration::seconds(latchkey_core::throttle::KNOWN_FOR_SECONDS));
    cookie
}

pub fn session_cookie(secret: &PlainSecret) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, secret.expose().to_owned())
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Lax)
        .finish()
}

pub fn removal_cookie() -> Cookie<'static> {
    let mut cookie = session_cookie(&PlainSecret::from_presented(""));
    cookie.make_removal();
    cookie
}

/// The address the request came from, as throttles and limits count it: the peer, or what a trusted proxy
/// says the client was (see [`crate::client_address`]).
pub fn client_address(request: &HttpRequest) -> String {
    let peer = request.peer_addr().map(|addr| addr.ip());
    let headers = |name: &str| -> Vec<&str> {
        request.headers().get_all(name).filter_map(|value| value.to_str().ok()).collect()
    };
    let client = match request.app_data::<web::Data<crate::app::AppState>>() {
        // Headers are read only from a trusted proxy: for everyone else (every request, without proxies)
        // the peer is the answer, with nothing collected.
        Some(state) if peer.is_some_and(|peer| state.trusted_proxies.trusts(peer)) => {
            let header = state.forwarded_header;
            state.trusted_proxies.client(peer, header, &headers(header.name()))
        }
        Some(_) => peer,
        None => peer,
    };
    client.map(|address| address.to_string()).unwrap_or_else(|| "unknown".into())
}

fn bad_input(why: impl std::fmt::Display) -> WebError {
    WebError::Api(latchkey_endpoints::ApiError::invalid(why))
}

/// A JSON body of `T` (unknown fields refused by `T`), or a 400 saying why.
pub fn json_body<T: serde::de::DeserializeOwned>(request: &HttpRequest, body: &[u8]) -> Result<T, WebError> {
    if !has_content_type(request, "application/json") {
        return Err(bad_input("the body must be application/json"));
    }
    // Every body the API takes is an object; serde would also build a struct from an array of its fields.
    if body.iter().find(|byte| !byte.is_ascii_whitespace()) != Some(&b'{') {
        return Err(bad_input("the body must be a JSON object"));
    }
    serde_json::from_slice(body).map_err(bad_input)
}

/// Query parameters as `T` (unknown ones refused by `T`), or a 400 saying why.
pub fn query<T: serde::de::DeserializeOwned>(request: &HttpRequest) -> Result<T, WebError> {
    web::Query::<T>::from_query(request.query_string()).map(web::Query::into_inner).map_err(bad_input)
}

/// A no-store JSON answer.
pub fn json(status: actix_web::http::StatusCode, body: impl serde::Serialize) -> HttpResponse {
    HttpResponse::build(status).insert_header((header::CACHE_CONTROL, "no-store")).json(body)
}
