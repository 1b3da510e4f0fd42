//! `/authorize` (GET and POST), the login page and the consent page.

use crate::app::AppState;
use crate::flow::{self, Answer, Outcome};
use crate::http_error::HttpError;
use crate::pages::{self, ConsentPage, LoginPage};
use crate::session;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use latchkey_core::throttle::{self, Attempt};
use latchkey_grant_code::authorize;
use latchkey_grant_code::request::{self, Params};
use latchkey_model::{PlainSecret, RecordId, Timestamp, TokenRecord, User};
use latchkey_store::{Repo, StoreError};
use serde::Deserialize;

fn parse_form(bytes: &[u8]) -> Params {
    Params(url::form_urlencoded::parse(bytes).into_owned().collect())
}

pub async fn authorize_get(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, HttpError> {
    authorize(request.clone(), state, parse_form(request.query_string().as_bytes())).await
}

/// OpenID Connect Core §3.1.2.1: the same request, sent as a form.
pub async fn authorize_post(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, HttpError> {
    if !is_form(&request) {
        return Err(HttpError::BadRequest("expected application/x-www-form-urlencoded".into()));
    }
    authorize(request, state, parse_form(&body)).await
}

pub fn is_form(request: &HttpRequest) -> bool {
    request.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).is_some_and(|value| {
        value
            .split(';')
            .next()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
    })
}

async fn authorize(
    request: HttpRequest,
    state: web::Data<AppState>,
    params: Params,
) -> Result<HttpResponse, HttpError> {
    let presented = session::presented(&request);
    let issuer = state.issuer.to_string();
    let keys = state.keys();
    let now = state.clock.now();
    let answer = state
        .store
        .write_async(move |repo| {
            let validated = request::validate(&params, |id| repo.find_client(id))?;
            let accepted = match validated {
                Ok(accepted) => accepted,
                Err(rejection) => {
                    return Ok(Answer { outcome: flow::rejection(rejection, &issuer), cookie: None })
                }
            };
            let rng = &mut rand::rngs::OsRng;
            let current = session::load_or_start(repo, presented, now, rng)?;
            let mut record = authorize::begin(repo, &accepted, &issuer, &current.session.id_hash, now, rng)?;
            let outcome = flow::advance(repo, &mut record, &current.session, &issuer, &keys, now, rng)?;
            Ok(Answer { outcome, cookie: current.fresh.then_some(current.secret) })
        })
        .await?;
    Ok(flow::respond(answer))
}

#[derive(Deserialize)]
pub struct RequestQuery {
    request: String,
}

/// Loads the flow named by `request_id` if it belongs to this browser's session.
fn owned_record(
    repo: &mut Repo<'_>,
    request_id: &str,
    session: &latchkey_model::Session,
) -> Result<Option<TokenRecord>, StoreError> {
    let Ok(id) = RecordId::parse(request_id) else { return Ok(None) };
    match repo.get_token(&id) {
        Ok(record) if authorize::belongs_to(&record, &session.id_hash) => Ok(Some(record)),
        Ok(_) | Err(StoreError::NotFound) => Ok(None),
        Err(other) => Err(other),
    }
}

fn client_name(repo: &mut Repo<'_>, record: &TokenRecord) -> Result<String, StoreError> {
    Ok(repo.find_client(&record.client_id)?.map(|c| c.name).unwrap_or_else(|| record.client_id.to_string()))
}

/// What a login or consent page needs to render.
struct PageData {
    client_name: String,
    csrf: String,
    request_id: String,
    redirect_uri: Option<String>,
    username: String,
    scopes: Vec<(String, String)>,
}

enum PageOr {
    Page(PageData),
    Answer(Answer),
}

fn page_data(
    repo: &mut Repo<'_>,
    presented: Option<PlainSecret>,
    request_id: &str,
    now: Timestamp,
) -> Result<PageOr, StoreError> {
    let Some(current) = session::load(repo, presented, now)? else {
        return Ok(PageOr::Answer(Answer { outcome: flow::stale(), cookie: None }));
    };
    let Some(record) = owned_record(repo, request_id, &current.session)? else {
        return Ok(PageOr::Answer(Answer { outcome: flow::stale(), cookie: None }));
    };
    let username = current
        .session
        .username
        .as_ref()
        .map(ToString::to_string)
        .or_else(|| authorize::login_hint(&record).map(str::to_owned))
        .unwrap_or_default();
    Ok(PageOr::Page(PageData {
        client_name: client_name(repo, &record)?,
        csrf: session::csrf_token(&current.secret),
        request_id: record.id.to_string(),
        redirect_uri: record.redirect_uri.as_ref().map(ToString::to_string),
        username,
        scopes: record.scope.iter().map(|s| (s.to_owned(), latchkey_core::scopes::describe(s))).collect(),
    }))
}

pub async fn login_page(
    request: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<RequestQuery>,
) -> Result<HttpResponse, HttpError> {
    let presented = session::presented(&request);
    let now = state.clock.now();
    let data = state.store.read_async(move |repo| page_data(repo, presented, &query.request, now)).await?;
    Ok(match data {
        PageOr::Answer(answer) => flow::respond(answer),
        PageOr::Page(data) => render_login(&data, None, StatusCode::OK),
    })
}

fn render_login(data: &PageData, error: Option<&str>, status: StatusCode) -> HttpResponse {
    let page = LoginPage {
        client_name: &data.client_name,
        error,
        csrf: &data.csrf,
        request_id: &data.request_id,
        username: &data.username,
    };
    pages::page(status, &page, data.redirect_uri.as_deref())
}

#[derive(Deserialize)]
pub struct LoginForm {
    csrf: Option<String>,
    request: String,
    username: String,
    password: String,
}

fn forbidden() -> HttpResponse {
    pages::error_page(
        StatusCode::FORBIDDEN,
        "This form has expired",
        "The form was not sent from this browser's current page. Go back, reload the page and try again.",
        None,
    )
}

/// One message for every failed login, whatever the reason (OWASP Authentication Cheat Sheet).
pub const LOGIN_FAILED: &str = "Login failed; Invalid user ID or password.";
pub const LOCKED_OUT: &str = "Too many failed sign-in attempts. Wait a few minutes, then try again.";

pub async fn login_submit(
    request: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, HttpError> {
    let form = form.into_inner();
    let Some(presented) = session::presented(&request) else { return Ok(forbidden()) };
    if !form.csrf.as_deref().is_some_and(|token| session::csrf_matches(&presented, token)) {
        return Ok(forbidden());
    }
    let address = request.peer_addr().map(|addr| addr.ip().to_string()).unwrap_or_else(|| "unknown".into());
    let succeeded_from = address.clone();
    let now = state.clock.now();

    // 1. Count the attempt (atomically, before any password is checked).
    let (secret, username, request_id) = (presented.clone(), form.username.clone(), form.request.clone());
    let begun = state
        .store
        .write_async(move |repo| {
            let data = match page_data(repo, Some(secret), &request_id, now)? {
                PageOr::Page(data) => data,
                PageOr::Answer(answer) => return Ok(Err(answer)),
            };
            Ok(Ok((data, throttle::begin_attempt(repo, &username, &address, now)?)))
        })
        .await?;
    let (mut data, attempt) = match begun {
        Ok(begun) => begun,
        Err(answer) => return Ok(flow::respond(answer)),
    };
    data.username = form.username.clone();
    let user: Box<User> = match attempt {
        Attempt::Locked(until) => {
            let mut response = render_login(&data, Some(LOCKED_OUT), StatusCode::TOO_MANY_REQUESTS);
            let wait = until.unix_seconds().saturating_sub(now.unix_seconds()).max(1);
            if let Ok(value) = header::HeaderValue::from_str(&wait.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return Ok(response);
        }
        Attempt::Allowed(user) => {
            // 2. The slow hash, outside any transaction.
            let password = form.password;
            let checked = user.clone();
            let matches = web::block(move || throttle::password_matches(checked.as_deref(), &password))
                .await
                .map_err(|_| HttpError::Store(StoreError::Corrupt("password check failed".into())))?;
            match (user, matches) {
                (Some(user), true) => user,
                _ => {
                    let record_id = data.request_id.clone();
                    state
                        .store
                        .write_async(move |repo| {
                            let id = RecordId::parse(&record_id)
                                .map_err(|e| StoreError::InvalidInput(e.to_string()))?;
                            let mut record = repo.get_token(&id)?;
                            authorize::login_failed(repo, &mut record)
                        })
                        .await?;
                    return Ok(render_login(&data, Some(LOGIN_FAILED), StatusCode::OK));
                }
            }
        }
    };

    // 3. Logged in: a new session (the old cookie value stops working), then on to consent or the client.
    let issuer = state.issuer.to_string();
    let keys = state.keys();
    let answer = state
        .store
        .write_async(move |repo| {
            let old = presented.hash();
            let rng = &mut rand::rngs::OsRng;
            throttle::succeeded(repo, &user.username, &succeeded_from)?;
            let id =
                RecordId::parse(&data.request_id).map_err(|e| StoreError::InvalidInput(e.to_string()))?;
            let mut record = repo.get_token(&id)?;
            // Checked again after the slow hash: a second submission of the same form, finishing after the
            // first, finds the request already moved on and changes nothing.
            if !authorize::belongs_to(&record, &old) {
                return Ok(Answer { outcome: flow::stale(), cookie: None });
            }
            let current = session::log_in(repo, &old, user.username.clone(), now, rng)?;
            authorize::logged_in(repo, &mut record, &current.session.id_hash, now)?;
            let outcome = flow::advance(repo, &mut record, &current.session, &issuer, &keys, now, rng)?;
            Ok(Answer { outcome, cookie: Some(current.secret) })
        })
        .await?;
    Ok(flow::respond(answer))
}

pub async fn consent_page(
    request: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<RequestQuery>,
) -> Result<HttpResponse, HttpError> {
    let presented = session::presented(&request);
    let now = state.clock.now();
    let data = state.store.read_async(move |repo| page_data(repo, presented, &query.request, now)).await?;
    Ok(match data {
        PageOr::Answer(answer) => flow::respond(answer),
        PageOr::Page(data) if data.username.is_empty() => {
            flow::respond(Answer { outcome: flow::stale(), cookie: None })
        }
        PageOr::Page(data) => {
            let page = ConsentPage {
                client_name: &data.client_name,
                scopes: data.scopes.clone(),
                username: &data.username,
                csrf: &data.csrf,
                request_id: &data.request_id,
            };
            pages::page(StatusCode::OK, &page, data.redirect_uri.as_deref())
        }
    })
}

#[derive(Deserialize)]
pub struct ConsentForm {
    csrf: Option<String>,
    request: String,
    decision: String,
}

pub async fn consent_submit(
    request: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<ConsentForm>,
) -> Result<HttpResponse, HttpError> {
    let form = form.into_inner();
    let Some(presented) = session::presented(&request) else { return Ok(forbidden()) };
    if !form.csrf.as_deref().is_some_and(|token| session::csrf_matches(&presented, token)) {
        return Ok(forbidden());
    }
    let allow = match form.decision.as_str() {
        "allow" => true,
        "deny" => false,
        _ => return Err(HttpError::BadRequest("decision must be allow or deny".into())),
    };
    let issuer = state.issuer.to_string();
    let keys = state.keys();
    let now = state.clock.now();
    let answer = state
        .store
        .write_async(move |repo| {
            let Some(current) = session::load(repo, Some(presented), now)? else {
                return Ok(Answer { outcome: flow::stale(), cookie: None });
            };
            let Some(username) = current.session.username.clone() else {
                return Ok(Answer { outcome: flow::stale(), cookie: None });
            };
            let Some(mut record) = owned_record(repo, &form.request, &current.session)? else {
                return Ok(Answer { outcome: flow::stale(), cookie: None });
            };
            if !allow {
                authorize::abandon(repo, &record, now)?;
                let (Some(redirect_uri), Some(mode)) = (record.redirect_uri.clone(), record.response_mode)
                else {
                    return Ok(Answer { outcome: flow::stale(), cookie: None });
                };
                let error = latchkey_core::OAuthError::new(
                    latchkey_core::ErrorCode::AccessDenied,
                    "the user denied access",
                );
                let params = flow::error_params(&error, record.state.as_deref(), &issuer);
                return Ok(Answer {
                    outcome: Outcome::Respond { redirect_uri: redirect_uri.to_string(), mode, params },
                    cookie: None,
                });
            }
            let previous = repo.find_consent(&username, &record.client_id)?;
            authorize::consented(repo, &mut record, &username, previous.as_ref(), now)?;
            let outcome = flow::advance(
                repo,
                &mut record,
                &current.session,
                &issuer,
                &keys,
                now,
                &mut rand::rngs::OsRng,
            )?;
            Ok(Answer { outcome, cookie: None })
        })
        .await?;
    Ok(flow::respond(answer))
}
