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

mod clients;
mod tokens;
mod users;

pub use clients::{
    amend_client, create_client, delete_client, get_client, list_clients, rotate_client_secret,
};
pub use tokens::{amend_token, create_token, delete_token, get_token, list_tokens};
pub use users::{amend_user, create_user, delete_user, get_user, list_users};

pub(crate) use crate::routes::owner_tokens::{page_of, PageQuery};

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
