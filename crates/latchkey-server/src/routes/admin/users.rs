//! `/admin/users`: users, their passwords, and disabling them (which revokes everything they hold).

use super::{page_of, require_admin, PageQuery};
use crate::app::AppState;
use crate::http_error::HttpError;
use crate::routes::owner_tokens::{bad_request, json, parse_body};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use latchkey_core::registration::{register_user, NewUser};
use latchkey_core::revoke_all;
use latchkey_model::{User, Username};
use latchkey_store::StoreError;
use serde::Deserialize;
use serde_json::Value;

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
