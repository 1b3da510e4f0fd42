//! Every operator action, once: the command line and the admin API both call these. Each runs in one
//! transaction, and every change writes only the fields it changes, so two operators acting at once
//! cannot undo each other.

pub mod clients;
pub mod demo;
pub mod tokens;
pub mod users;

use crate::{ApiError, Context};
use latchkey_model::{Cursor, PageRequest, Timestamp};
use serde::Deserialize;

/// The operator actions, for the check that both front ends offer each of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operation {
    CreateUser,
    ListUsers,
    GetUser,
    AmendUser,
    DeleteUser,
    RevokeUser,
    CreateClient,
    ListClients,
    GetClient,
    AmendClient,
    RotateClientSecret,
    DeleteClient,
    RevokeClient,
    CreateToken,
    ListTokens,
    GetToken,
    AmendToken,
    RevokeToken,
    RotateKeys,
}

impl Operation {
    pub const ALL: [Operation; 19] = [
        Operation::CreateUser,
        Operation::ListUsers,
        Operation::GetUser,
        Operation::AmendUser,
        Operation::DeleteUser,
        Operation::RevokeUser,
        Operation::CreateClient,
        Operation::ListClients,
        Operation::GetClient,
        Operation::AmendClient,
        Operation::RotateClientSecret,
        Operation::DeleteClient,
        Operation::RevokeClient,
        Operation::CreateToken,
        Operation::ListTokens,
        Operation::GetToken,
        Operation::AmendToken,
        Operation::RevokeToken,
        Operation::RotateKeys,
    ];
}

pub const DEFAULT_PAGE_SIZE: u32 = 50;

/// `limit` and `cursor` of a listing, and nothing else.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn page(self) -> Result<PageRequest, ApiError> {
        page_of(self.limit, self.cursor)
    }
}

/// A limit outside 1..=[`latchkey_model::MAX_PAGE_SIZE`] is refused, not quietly changed: a client asking
/// for more than it can get learns so at once.
pub(crate) fn page_of(limit: Option<u32>, cursor: Option<String>) -> Result<PageRequest, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=latchkey_model::MAX_PAGE_SIZE).contains(&limit) {
        let why = format!("limit must be from 1 to {}", latchkey_model::MAX_PAGE_SIZE);
        return Err(ApiError::invalid(why));
    }
    Ok(match cursor.filter(|cursor| !cursor.is_empty()) {
        Some(cursor) => PageRequest::after(limit, Cursor::from_opaque(cursor)),
        None => PageRequest::first(limit),
    })
}

/// `POST /admin/keys/rotate`, `latchkey keys rotate`: new signing keys, published at once on every node and
/// signing from the instant returned (old ones sign until then, and stay published while what they signed
/// can still be checked). Returns every published key id.
pub async fn rotate_keys(ctx: &Context) -> Result<(Vec<String>, Timestamp), ApiError> {
    let (keys, store, now) = (ctx.keys.clone(), ctx.store.clone(), ctx.now());
    blocking(move || keys.rotate(&store, now).map_err(ApiError::from)).await?
}

/// `latchkey keys reencrypt`: the stored signing keys and the hash key sealed with the current
/// key-encryption key. How many signing keys were rewritten, and whether the hash key was.
pub async fn reencrypt_keys(ctx: &Context) -> Result<(usize, bool), ApiError> {
    let (keys, store, now) = (ctx.keys.clone(), ctx.store.clone(), ctx.now());
    blocking(move || keys.reencrypt(&store, now).map_err(ApiError::from)).await?
}

/// Every item of a listing, page after page (the command line shows them all).
pub async fn every_page<T, F, Fut>(mut list: F) -> Result<Vec<T>, ApiError>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<crate::views::Listing<T>, ApiError>>,
    T: Clone,
{
    let mut items = Vec::new();
    let mut page = PageRequest::first(latchkey_model::MAX_PAGE_SIZE);
    loop {
        let listing = list(page).await?;
        items.extend(listing.items().iter().cloned());
        match listing.next {
            Some(cursor) => {
                page = PageRequest::after(latchkey_model::MAX_PAGE_SIZE, Cursor::from_opaque(cursor))
            }
            None => return Ok(items),
        }
    }
}

/// Runs slow work (Argon2id, key generation) off the async workers.
pub async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work).await.map_err(|error| {
        ApiError::Storage(latchkey_store::StoreError::Unavailable(format!("task failed: {error}")))
    })
}

/// Reads a field that may be absent (leave it), `null` (clear it) or a value (set it).
pub(crate) fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}
