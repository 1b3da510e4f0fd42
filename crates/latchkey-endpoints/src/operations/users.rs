//! Users: create, list, view, amend (a password reset or disabling ends everything the user holds), delete,
//! and revoke everything of a user.

use super::{blocking, double_option};
use crate::views::{Items, Listing, UserView};
use crate::{ApiError, Context};
use latchkey_core::registration::{register_user, NewUser};
use latchkey_core::revoke_all::{self, UserRevocation};
use latchkey_model::{PageRequest, User, Username};
use latchkey_store::{StoreError, UserChanges};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewUserBody {
    pub username: String,
    pub password: String,
    pub email: Option<String>,
    pub name: Option<String>,
}

/// The user to create, checked and with its password hashed (Argon2id: call it off the async workers).
/// Nothing is stored yet, so bad input leaves nothing behind.
pub fn prepare_user(body: NewUserBody, now: latchkey_model::Timestamp) -> Result<User, ApiError> {
    let new =
        NewUser { username: body.username, password: body.password, email: body.email, name: body.name };
    register_user(new, now, &mut rand::rngs::OsRng).map_err(ApiError::invalid)
}

/// `POST /admin/users`, `latchkey user add`.
pub async fn create_user(ctx: &Context, user: User) -> Result<UserView, ApiError> {
    let view = UserView::of(&user);
    ctx.store.write_async(move |repo| repo.insert_user(&user)).await?;
    Ok(view)
}

/// `GET /admin/users`, `latchkey user list`.
pub async fn list_users(ctx: &Context, page: PageRequest) -> Result<Listing<UserView>, ApiError> {
    let found = ctx.store.read_async(move |repo| repo.list_users(&page)).await?;
    Ok(Listing::of(found, UserView::of, Items::Users))
}

fn username(name: &str) -> Result<Username, ApiError> {
    Username::parse(name).map_err(|_| ApiError::NotFound)
}

/// `GET /admin/users/{username}`, `latchkey user get`.
pub async fn get_user(ctx: &Context, name: &str) -> Result<UserView, ApiError> {
    let name = username(name)?;
    let user = ctx.store.read_async(move |repo| repo.find_user(&name)).await?;
    user.map(|user| UserView::of(&user)).ok_or(ApiError::NotFound)
}

/// What to change of a user; absent fields stay, `null` clears `email` or `name`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UserAmendment {
    pub password: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub name: Option<Option<String>>,
    pub disabled: Option<bool>,
}

fn check_text(field: &str, value: &Option<Option<String>>) -> Result<(), ApiError> {
    match value {
        Some(Some(text))
            if text.is_empty() || text.chars().count() > 200 || text.chars().any(char::is_control) =>
        {
            Err(ApiError::invalid(format!("{field} must be 1 to 200 characters")))
        }
        _ => Ok(()),
    }
}

/// `PATCH /admin/users/{username}`, `latchkey user amend`: only the fields given are written. A new
/// password and a disabling both end every session and revoke every token of the user in the same
/// transaction (RFC 9700 §4.14.2: a credential change ends the grants made with the old one).
pub async fn amend_user(ctx: &Context, name: &str, amendment: UserAmendment) -> Result<UserView, ApiError> {
    let name = username(name)?;
    check_text("email", &amendment.email)?;
    check_text("name", &amendment.name)?;
    let password_hash = match amendment.password {
        Some(password) => Some(
            blocking(move || latchkey_core::password::hash_password(&password, &mut rand::rngs::OsRng))
                .await?
                .map_err(ApiError::invalid)?,
        ),
        None => None,
    };
    let now = ctx.now();
    let ends_everything = password_hash.is_some() || amendment.disabled == Some(true);
    let changes = UserChanges {
        password_hash,
        email: amendment.email,
        name: amendment.name,
        disabled: amendment.disabled,
        updated_at: now,
    };
    let user = ctx
        .store
        .write_async(move |repo| {
            repo.amend_user(&name, &changes)?;
            if ends_everything {
                revoke_all::user(repo, &name, now)?;
            }
            repo.find_user(&name)?.ok_or(StoreError::NotFound)
        })
        .await?;
    Ok(UserView::of(&user))
}

/// `DELETE /admin/users/{username}`, `latchkey user delete`: the user and, with them, every token they held.
pub async fn delete_user(ctx: &Context, name: &str) -> Result<(), ApiError> {
    let (name, now) = (username(name)?, ctx.now());
    ctx.store
        .write_async(move |repo| {
            // Sessions name the user too; end them before the user goes.
            revoke_all::user(repo, &name, now)?.ok_or(StoreError::NotFound)?;
            repo.delete_user(&name)
        })
        .await?;
    Ok(())
}

/// `POST /admin/users/{username}/revoke`, `latchkey revoke-user`: every token record and browser session of
/// the user, in one transaction.
pub async fn revoke_user(ctx: &Context, name: &str) -> Result<UserRevocation, ApiError> {
    let (name, now) = (username(name)?, ctx.now());
    let revoked = ctx.store.write_async(move |repo| revoke_all::user(repo, &name, now)).await?;
    revoked.ok_or(ApiError::NotFound)
}
