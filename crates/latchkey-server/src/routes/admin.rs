//! The admin API (docs/API.md): what operators do to everything a user or client holds, and key rotation.
//! Every request carries the configured admin credential as a bearer token (RFC 6750 §2.1), compared in
//! constant time; a missing or wrong one is 401, and so is every request when none is configured.

use crate::app::AppState;
use crate::http_error::HttpError;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use latchkey_core::revoke_all;
use latchkey_model::{ClientId, Username};
use latchkey_store::StoreError;

/// Refuses the request unless it carries the admin credential.
fn require_admin(request: &HttpRequest, state: &AppState) -> Result<(), HttpError> {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    match (&state.admin_token, presented) {
        (Some(expected), Some(presented)) if expected.verify(presented) => Ok(()),
        _ => Err(HttpError::Unauthorized),
    }
}

/// In front of everything under `/admin`, so that no answer (a 404, a 405 for a wrong method) reveals the
/// API's shape to a caller without the credential.
pub async fn guard(
    request: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<
    actix_web::dev::ServiceResponse<actix_web::body::EitherBody<impl actix_web::body::MessageBody>>,
    actix_web::Error,
> {
    use actix_web::ResponseError;
    let allowed = request
        .app_data::<web::Data<AppState>>()
        .is_some_and(|state| require_admin(request.request(), state).is_ok());
    if !allowed {
        let response = HttpError::Unauthorized.error_response();
        return Ok(request.into_response(response).map_into_right_body());
    }
    next.call(request).await.map(actix_web::dev::ServiceResponse::map_into_left_body)
}

fn no_store(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    response
}

/// `POST /admin/users/{username}/revoke`: every token record and browser session of the user, in one
/// transaction. `{"revoked": N, "sessions": M}`.
pub async fn revoke_user(
    request: HttpRequest,
    state: web::Data<AppState>,
    username: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    require_admin(&request, &state)?;
    let Ok(username) = Username::parse(&username) else { return Err(HttpError::NotFound) };
    let now = state.clock.now();
    match state.store.write_async(move |repo| revoke_all::user(repo, &username, now)).await? {
        Some(revocation) => Ok(no_store(HttpResponse::Ok().json(revocation))),
        None => Err(HttpError::NotFound),
    }
}

/// `POST /admin/clients/{id}/revoke`: every token record of the client (an app reset). `{"revoked": N}`.
pub async fn revoke_client(
    request: HttpRequest,
    state: web::Data<AppState>,
    client_id: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    require_admin(&request, &state)?;
    let Ok(client_id) = ClientId::parse(&client_id) else { return Err(HttpError::NotFound) };
    let now = state.clock.now();
    match state.store.write_async(move |repo| revoke_all::client(repo, &client_id, now)).await? {
        Some(revoked) => Ok(no_store(HttpResponse::Ok().json(serde_json::json!({ "revoked": revoked })))),
        None => Err(HttpError::NotFound),
    }
}

/// `POST /admin/keys/rotate`: new signing keys, used at once by this instance; the old ones stay published
/// while what they signed can still be checked. `{"kids": [...]}`, every published key id.
pub async fn rotate_keys(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, HttpError> {
    require_admin(&request, &state)?;
    let now = state.clock.now();
    let rotating = state.clone();
    let keys = state.store.write_async(move |repo| rotating.rotate_keys(repo, now)).await?;
    let kids: Vec<String> = keys.kids().into_iter().map(str::to_owned).collect();
    state.use_keys(keys);
    Ok(no_store(HttpResponse::Ok().json(serde_json::json!({ "kids": kids }))))
}

/// Anything else under `/admin`: 401 without the credential (so the API's shape is not probed), else 404.
pub async fn unknown(request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    require_admin(&request, &state)?;
    Err(HttpError::Store(StoreError::NotFound))
}

// ---- Tokens -------------------------------------------------------------------------------------------

use crate::routes::owner_tokens::{self, bad_request, expiry, json, parse_body, AmendBody, CreateBody};
use actix_web::http::StatusCode;
use latchkey_core::personal::{self, NewToken, Origin, Owner, TokenView};
use latchkey_model::{Cursor, PageRequest, RecordId, Scope, TokenKind, TokenRecord};
use serde::Deserialize;
use serde_json::Value;

const DEFAULT_PAGE_SIZE: u32 = 50;

fn page_of(limit: Option<u32>, cursor: Option<String>) -> PageRequest {
    let limit = limit.unwrap_or(DEFAULT_PAGE_SIZE);
    match cursor {
        Some(cursor) => PageRequest::after(limit, Cursor::from_opaque(cursor)),
        None => PageRequest::first(limit),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenFilter {
    username: Option<String>,
    client_id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    active: Option<bool>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// `GET /admin/tokens?username=&client_id=&type=&active=&limit=&cursor=`: newest first, a page at a time.
pub async fn list_tokens(
    request: HttpRequest,
    state: web::Data<AppState>,
    filter: Result<web::Query<TokenFilter>, actix_web::Error>,
) -> Result<HttpResponse, HttpError> {
    require_admin(&request, &state)?;
    let filter = filter.map_err(bad_request)?.into_inner();
    let kind =
        match filter.kind.as_deref() {
            None => None,
            Some(text) => Some(TokenKind::parse(text).ok_or_else(|| {
                bad_request("type must be oauth2-access, oauth2-refresh, personal or api-key")
            })?),
        };
    let query = latchkey_store::TokenQuery {
        username: filter.username.as_deref().map(Username::parse).transpose().map_err(bad_request)?,
        client_id: filter.client_id.as_deref().map(ClientId::parse).transpose().map_err(bad_request)?,
        kind,
        active: filter.active,
        now: state.clock.now(),
    };
    let page = page_of(filter.limit, filter.cursor);
    let found = state.store.read_async(move |repo| repo.query_tokens(&query, &page)).await?;
    let tokens: Vec<TokenView> = found.items.iter().map(TokenView::of).collect();
    let next = found.next.map(|cursor| cursor.as_str().to_owned());
    Ok(json(StatusCode::OK, serde_json::json!({ "tokens": tokens, "next": next })))
}

/// Unknown fields are refused when the rest is read as a [`CreateBody`].
#[derive(Deserialize)]
struct AdminCreateBody {
    username: Option<String>,
    client_id: Option<String>,
    #[serde(flatten)]
    token: Value,
}

/// `POST /admin/tokens`: a personal token for `username`, or an API key for `client_id`. The secret is in
/// this response only.
pub async fn create_token(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, HttpError> {
    require_admin(&request, &state)?;
    let body: AdminCreateBody = parse_body(&request, &body)?;
    let owner = match (body.username, body.client_id) {
        (Some(user), None) => Owner::User(Username::parse(&user).map_err(bad_request)?),
        (None, Some(client)) => Owner::Client(ClientId::parse(&client).map_err(bad_request)?),
        _ => return Err(bad_request("give exactly one of username and client_id")),
    };
    let token: CreateBody = serde_json::from_value(body.token).map_err(bad_request)?;
    let now = state.clock.now();
    let scope = Scope::from_tokens(token.scopes.unwrap_or_default()).map_err(bad_request)?;
    let data = personal::check_data(token.data.unwrap_or_else(|| Value::Object(Default::default())))
        .map_err(bad_request)?;
    let new = NewToken {
        name: token.name,
        scope,
        expires: expiry(token.ttl, token.expires_at, now)?,
        data,
        derived_from: None,
    };
    let issuer = state.issuer.as_str().to_owned();
    let created = state
        .store
        .write_async(move |repo| {
            personal::create(repo, &owner, new, Origin::Admin, &issuer, now, &mut rand::rngs::OsRng)
        })
        .await?;
    let (record, secret) = created.map_err(bad_request)?;
    let mut view =
        serde_json::to_value(TokenView::of(&record)).map_err(|e| HttpError::Internal(e.to_string()))?;
    view["token"] = Value::from(secret.expose());
    Ok(json(StatusCode::CREATED, view))
}

async fn any_token(state: &AppState, id: &str) -> Result<TokenRecord, HttpError> {
    let Ok(id) = RecordId::parse(id) else { return Err(HttpError::NotFound) };
    Ok(state.store.read_async(move |repo| repo.get_token(&id)).await?)
}

/// `GET /admin/tokens/{id}`.
pub async fn get_token(
    request: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    require_admin(&request, &state)?;
    Ok(json(StatusCode::OK, TokenView::of(&any_token(&state, &id).await?)))
}

/// `PATCH /admin/tokens/{id}`: name and custom data.
pub async fn amend_token(
    request: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, HttpError> {
    require_admin(&request, &state)?;
    let body: AmendBody = parse_body(&request, &body)?;
    owner_tokens::rename(&state, any_token(&state, &id).await?, body).await
}

/// `DELETE /admin/tokens/{id}`: revoked at once.
pub async fn delete_token(
    request: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    require_admin(&request, &state)?;
    owner_tokens::end(&state, any_token(&state, &id).await?).await
}

// ---- Users --------------------------------------------------------------------------------------------

use latchkey_core::registration::{register_client, register_user, NewClient, NewUser, SecretChoice};
use latchkey_model::{Client, ClientCredentials, SigningAlgorithm, User};

/// A user as the admin API shows it: never a password hash.
fn user_view(user: &User) -> Value {
    serde_json::json!({
        "username": user.username.as_str(),
        "sub": user.subject,
        "email": user.email,
        "name": user.name,
        "disabled": user.disabled,
        "createdAt": user.created_at.unix_millis(),
        "updatedAt": user.updated_at.unix_millis(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

/// Argon2id is slow on purpose: it runs off the async workers.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, HttpError> {
    web::block(work).await.map_err(|e| HttpError::Internal(e.to_string()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateUser {
    username: String,
    password: String,
    email: Option<String>,
    name: Option<String>,
}

/// `POST /admin/users`.
pub async fn create_user(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, HttpError> {
    require_admin(&request, &state)?;
    let body: CreateUser = parse_body(&request, &body)?;
    let now = state.clock.now();
    let new =
        NewUser { username: body.username, password: body.password, email: body.email, name: body.name };
    let user =
        blocking(move || register_user(new, now, &mut rand::rngs::OsRng)).await?.map_err(bad_request)?;
    let stored = user.clone();
    state.store.write_async(move |repo| repo.insert_user(&stored)).await?;
    Ok(json(StatusCode::CREATED, user_view(&user)))
}

/// `GET /admin/users`.
pub async fn list_users(
    request: HttpRequest,
    state: web::Data<AppState>,
    query: Result<web::Query<PageQuery>, actix_web::Error>,
) -> Result<HttpResponse, HttpError> {
    require_admin(&request, &state)?;
    let query = query.map_err(bad_request)?.into_inner();
    let page = page_of(query.limit, query.cursor);
    let found = state.store.read_async(move |repo| repo.list_users(&page)).await?;
    let users: Vec<Value> = found.items.iter().map(user_view).collect();
    Ok(json(
        StatusCode::OK,
        serde_json::json!({ "users": users, "next": found.next.map(|c| c.as_str().to_owned()) }),
    ))
}

async fn find_user(state: &AppState, username: &str) -> Result<User, HttpError> {
    let Ok(username) = Username::parse(username) else { return Err(HttpError::NotFound) };
    state.store.read_async(move |repo| repo.find_user(&username)).await?.ok_or(HttpError::NotFound)
}

/// `GET /admin/users/{username}`.
pub async fn get_user(
    request: HttpRequest,
    state: web::Data<AppState>,
    username: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    require_admin(&request, &state)?;
    Ok(json(StatusCode::OK, user_view(&find_user(&state, &username).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AmendUser {
    password: Option<String>,
    email: Option<Option<String>>,
    name: Option<Option<String>>,
    disabled: Option<bool>,
}

/// `PATCH /admin/users/{username}`: set a password, change profile fields, disable or enable. Disabling
/// revokes every token and ends every session of the user, in the same transaction.
pub async fn amend_user(
    request: HttpRequest,
    state: web::Data<AppState>,
    username: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, HttpError> {
    require_admin(&request, &state)?;
    let body: AmendUser = parse_body(&request, &body)?;
    let mut user = find_user(&state, &username).await?;
    if let Some(password) = body.password {
        let hashed =
            blocking(move || latchkey_core::password::hash_password(&password, &mut rand::rngs::OsRng))
                .await?;
        user.password_hash = hashed.map_err(bad_request)?;
    }
    for (field, value) in [("email", body.email.clone()), ("name", body.name.clone())] {
        if let Some(Some(text)) = &value {
            if text.is_empty() || text.chars().count() > 200 || text.chars().any(char::is_control) {
                return Err(bad_request(format!("{field} must be 1 to 200 characters")));
            }
        }
    }
    if let Some(email) = body.email {
        user.email = email;
    }
    if let Some(name) = body.name {
        user.name = name;
    }
    let disabling = body.disabled == Some(true) && !user.disabled;
    if let Some(disabled) = body.disabled {
        user.disabled = disabled;
    }
    let now = state.clock.now();
    user.updated_at = now;
    let saved = user.clone();
    state
        .store
        .write_async(move |repo| {
            repo.update_user(&saved)?;
            if disabling {
                revoke_all::user(repo, &saved.username, now)?;
            }
            Ok(())
        })
        .await?;
    Ok(json(StatusCode::OK, user_view(&user)))
}

/// `DELETE /admin/users/{username}`: the user and, with them, every token they held.
pub async fn delete_user(
    request: HttpRequest,
    state: web::Data<AppState>,
    username: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    require_admin(&request, &state)?;
    let Ok(username) = Username::parse(&username) else { return Err(HttpError::NotFound) };
    let now = state.clock.now();
    state
        .store
        .write_async(move |repo| {
            // Sessions name the user too; end them before the user goes.
            revoke_all::user(repo, &username, now)?.ok_or(StoreError::NotFound)?;
            repo.delete_user(&username)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---- Clients ------------------------------------------------------------------------------------------

/// A client as the admin API shows it: never a secret or its hash.
fn client_view(client: &Client) -> Value {
    let authentication = match client.credentials {
        ClientCredentials::Public => "none",
        ClientCredentials::Secret(_) => "client_secret",
        ClientCredentials::PrivateKeyJwt { .. } => "private_key_jwt",
    };
    serde_json::json!({
        "id": client.id.as_str(),
        "name": client.name,
        "authentication": authentication,
        "redirect_uris": client.redirect_uris.iter().map(|uri| uri.as_str()).collect::<Vec<_>>(),
        "grant_types": client.grant_types.iter().map(|grant| grant.as_str()).collect::<Vec<_>>(),
        "scopes": client.scope.iter().collect::<Vec<_>>(),
        "access_token_ttl": client.access_token_ttl_seconds,
        "refresh_token_ttl": client.refresh_token_ttl_seconds,
        "id_token_alg": client.id_token_signing_alg.as_str(),
        "createdAt": client.created_at.unix_millis(),
        "updatedAt": client.updated_at.unix_millis(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateClient {
    id: String,
    name: Option<String>,
    #[serde(default)]
    public: bool,
    secret: Option<String>,
    #[serde(default)]
    redirect_uris: Vec<String>,
    grant_types: Vec<String>,
    #[serde(default)]
    scopes: Vec<String>,
    access_token_ttl: Option<i64>,
    refresh_token_ttl: Option<i64>,
    id_token_alg: Option<String>,
}

fn signing_alg(text: Option<&str>) -> Result<SigningAlgorithm, HttpError> {
    match text {
        None => Ok(SigningAlgorithm::default()),
        Some(text) => SigningAlgorithm::parse(text)
            .ok_or_else(|| bad_request("id_token_alg must be RS256, ES256 or EdDSA")),
    }
}

/// `POST /admin/clients`: a confidential client without a `secret` gets a generated one, in this response
/// only (`client_secret`).
pub async fn create_client(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, HttpError> {
    require_admin(&request, &state)?;
    let body: CreateClient = parse_body(&request, &body)?;
    let secret = match (body.public, body.secret) {
        (true, Some(_)) => return Err(bad_request("a public client has no secret")),
        (true, None) => SecretChoice::Public,
        (false, Some(secret)) => SecretChoice::Given(secret),
        (false, None) => SecretChoice::Generate,
    };
    let new = NewClient {
        id: body.id,
        name: body.name,
        secret,
        redirect_uris: body.redirect_uris,
        grant_types: body.grant_types,
        scopes: body.scopes,
        access_token_ttl_seconds: body.access_token_ttl,
        refresh_token_ttl_seconds: body.refresh_token_ttl,
        id_token_signing_alg: signing_alg(body.id_token_alg.as_deref())?,
    };
    let (client, shown_once) =
        register_client(new, state.clock.now(), &mut rand::rngs::OsRng).map_err(bad_request)?;
    let stored = client.clone();
    state.store.write_async(move |repo| repo.insert_client(&stored)).await?;
    let mut view = client_view(&client);
    if let Some(secret) = shown_once {
        view["client_secret"] = Value::from(secret.expose());
    }
    Ok(json(StatusCode::CREATED, view))
}

/// `GET /admin/clients`.
pub async fn list_clients(
    request: HttpRequest,
    state: web::Data<AppState>,
    query: Result<web::Query<PageQuery>, actix_web::Error>,
) -> Result<HttpResponse, HttpError> {
    require_admin(&request, &state)?;
    let query = query.map_err(bad_request)?.into_inner();
    let page = page_of(query.limit, query.cursor);
    let found = state.store.read_async(move |repo| repo.list_clients(&page)).await?;
    let clients: Vec<Value> = found.items.iter().map(client_view).collect();
    Ok(json(
        StatusCode::OK,
        serde_json::json!({ "clients": clients, "next": found.next.map(|c| c.as_str().to_owned()) }),
    ))
}

/// The client that holds users' personal tokens is Latchkey's own: changing or deleting it would break or
/// delete every personal token.
fn refuse_reserved(id: &str) -> Result<(), HttpError> {
    if id == personal::PERSONAL_CLIENT {
        return Err(bad_request("this client is reserved for personal tokens"));
    }
    Ok(())
}

async fn find_client(state: &AppState, id: &str) -> Result<Client, HttpError> {
    let Ok(id) = ClientId::parse(id) else { return Err(HttpError::NotFound) };
    state.store.read_async(move |repo| repo.find_client(&id)).await?.ok_or(HttpError::NotFound)
}

/// `GET /admin/clients/{id}`.
pub async fn get_client(
    request: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    require_admin(&request, &state)?;
    Ok(json(StatusCode::OK, client_view(&find_client(&state, &id).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AmendClient {
    name: Option<String>,
    redirect_uris: Option<Vec<String>>,
    grant_types: Option<Vec<String>>,
    scopes: Option<Vec<String>>,
    access_token_ttl: Option<i64>,
    refresh_token_ttl: Option<Option<i64>>,
    id_token_alg: Option<String>,
}

/// `PATCH /admin/clients/{id}`: the client's registration, checked by the same rules as a new one.
pub async fn amend_client(
    request: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, HttpError> {
    require_admin(&request, &state)?;
    let body: AmendClient = parse_body(&request, &body)?;
    refuse_reserved(&id)?;
    let mut client = find_client(&state, &id).await?;
    if let Some(name) = body.name {
        client.name = name;
    }
    if let Some(uris) = body.redirect_uris {
        client.redirect_uris = uris
            .iter()
            .map(|uri| latchkey_model::RedirectUri::parse(uri))
            .collect::<Result<_, _>>()
            .map_err(bad_request)?;
    }
    if let Some(grants) = body.grant_types {
        client.grant_types = grants
            .iter()
            .map(|grant| latchkey_model::GrantType::parse(grant))
            .collect::<Result<_, _>>()
            .map_err(bad_request)?;
    }
    if let Some(scopes) = body.scopes {
        client.scope = Scope::from_tokens(&scopes).map_err(bad_request)?;
    }
    if let Some(ttl) = body.access_token_ttl {
        client.access_token_ttl_seconds = ttl;
    }
    if let Some(ttl) = body.refresh_token_ttl {
        client.refresh_token_ttl_seconds = ttl;
    }
    if body.id_token_alg.is_some() {
        client.id_token_signing_alg = signing_alg(body.id_token_alg.as_deref())?;
    }
    client.validate().map_err(bad_request)?;
    client.updated_at = state.clock.now();
    let saved = client.clone();
    state.store.write_async(move |repo| repo.update_client(&saved)).await?;
    Ok(json(StatusCode::OK, client_view(&client)))
}

/// `POST /admin/clients/{id}/secret`: a new generated secret, in this response only; the old one stops
/// working at once.
pub async fn rotate_client_secret(
    request: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    require_admin(&request, &state)?;
    refuse_reserved(&id)?;
    let mut client = find_client(&state, &id).await?;
    if !matches!(client.credentials, ClientCredentials::Secret(_)) {
        return Err(bad_request("only a client that authenticates with a secret has one to rotate"));
    }
    let secret = latchkey_model::PlainSecret::generate(
        latchkey_model::SecretKind::ClientSecret,
        &mut rand::rngs::OsRng,
    );
    client.credentials = ClientCredentials::Secret(secret.hash());
    client.updated_at = state.clock.now();
    let saved = client.clone();
    state.store.write_async(move |repo| repo.update_client(&saved)).await?;
    let mut view = client_view(&client);
    view["client_secret"] = Value::from(secret.expose());
    Ok(json(StatusCode::OK, view))
}

/// `DELETE /admin/clients/{id}`: the client and every token it held.
pub async fn delete_client(
    request: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    require_admin(&request, &state)?;
    refuse_reserved(&id)?;
    let Ok(id) = ClientId::parse(&id) else { return Err(HttpError::NotFound) };
    state.store.write_async(move |repo| repo.delete_client(&id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
