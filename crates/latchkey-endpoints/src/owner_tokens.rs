//! The owner token API (docs/API.md): a user lists, creates, renames and revokes their own tokens with a
//! bearer token of theirs (RFC 6750 §2.1) that may manage tokens (`latchkey:tokens`, within its client's
//! current scope). Another user's token is answered exactly like one that does not exist, so ids cannot be
//! probed.

use crate::operations::tokens::{amend_record, end, expiry, NewTokenBody, TokenAmendment};
use crate::usage::note_use;
use crate::views::{CreatedToken, Items, Listing, TokenView};
use crate::{ApiError, Context};
use latchkey_core::caller::{authenticate_bearer, Caller, Requirement};
use latchkey_core::personal::{self, NewToken, Origin, Owner, MANAGE_SCOPE};
use latchkey_core::tx;
use latchkey_model::{PageRequest, RecordId, Scope, TokenRecord};
use latchkey_store::StoreError;

/// The caller behind `token`, if it may manage its owner's tokens.
pub async fn authenticate(ctx: &Context, token: String) -> Result<Caller, ApiError> {
    let now = ctx.now();
    let caller = tx::read_async(&ctx.store, move |repo| {
        authenticate_bearer(repo, &token, Requirement { scope: MANAGE_SCOPE }, now)
    })
    .await?;
    note_use(ctx, caller.record.id.clone(), caller.record.active_at, now);
    Ok(caller)
}

/// `GET /api/tokens`: the caller's tokens in force, newest first.
pub async fn list(ctx: &Context, caller: &Caller, page: PageRequest) -> Result<Listing<TokenView>, ApiError> {
    let (owner, now) = (caller.username().clone(), ctx.now());
    let found =
        ctx.store.read_async(move |repo| repo.list_live_tokens_by_username(&owner, now, &page)).await?;
    Ok(Listing::of(found, TokenView::of, Items::Tokens))
}

/// One of the caller's tokens in force, by id or as `current`.
async fn own_token(ctx: &Context, caller: &Caller, id: &str) -> Result<TokenRecord, ApiError> {
    if id == "current" {
        return Ok(caller.record.clone());
    }
    let id = RecordId::parse(id).map_err(|_| ApiError::NotFound)?;
    let record = match ctx.store.read_async(move |repo| repo.get_token(&id)).await {
        Ok(record) => record,
        Err(StoreError::NotFound) => return Err(ApiError::NotFound),
        Err(error) => return Err(error.into()),
    };
    let mine = record.username.as_ref() == Some(caller.username());
    if !(mine && record.in_force(ctx.now())) {
        return Err(ApiError::NotFound);
    }
    Ok(record)
}

/// `GET /api/tokens/{id}`.
pub async fn get(ctx: &Context, caller: &Caller, id: &str) -> Result<TokenView, ApiError> {
    Ok(TokenView::of(&own_token(ctx, caller, id).await?))
}

/// `POST /api/tokens`: a personal token of the caller. Its scopes may not exceed what the calling token may
/// do now (and leave out `latchkey:tokens` unless asked for); it ends no later than the grant of the token
/// that made it, and with it. The secret is in this answer and nowhere else, ever.
pub async fn create(ctx: &Context, caller: &Caller, body: NewTokenBody) -> Result<CreatedToken, ApiError> {
    let now = ctx.now();
    // By default a new token may do what the caller may, except make more tokens: that must be asked for.
    let scope = match body.scopes {
        None => Scope::from_tokens(caller.scope.iter().filter(|scope| *scope != MANAGE_SCOPE)),
        Some(scopes) => Scope::from_tokens(&scopes),
    }
    .map_err(ApiError::invalid)?;
    if !scope.is_subset_of(&caller.scope) {
        return Err(ApiError::invalid("scopes may not exceed those of the token making the request"));
    }
    let data =
        personal::check_data(body.data.unwrap_or_else(|| serde_json::Value::Object(Default::default())))?;
    // A token may not outlive the grant of the token that made it, and ends with that grant.
    let expires = match (expiry(body.ttl, body.expires_at, now)?, personal::end_of(&caller.record)) {
        (Some(asked), Some(ceiling)) => Some(asked.min(ceiling)),
        (None, ceiling) => ceiling,
        (asked, None) => asked,
    };
    let new = NewToken {
        name: body.name,
        scope,
        expires,
        data,
        derived_from: Some(caller.record.family_id.clone()),
    };
    if let Some(limit) = &ctx.limits.personal_tokens {
        limit.admit(caller.username().as_str(), now)?;
    }
    let (username, issuer, cap) =
        (caller.username().clone(), ctx.issuer.to_string(), ctx.limits.max_personal_tokens);
    let (caller_id, caller_client) = (caller.record.id.clone(), caller.record.client_id.clone());
    let (record, token) = tx::write_async(&ctx.store, move |repo| {
        let owner = Owner::User(username.clone());
        // The client, then the user, held against revocations made at the same instant; the user taken
        // outright, so that parallel creations are counted one after the other against the cap.
        repo.hold_client(&caller_client)?;
        repo.lock_user(&username)?;
        // The calling token was checked on a read before this write: it must still be in force now.
        let calling = repo.get_token(&caller_id)?;
        if calling.is_revoked() || calling.access_token_expires.is_some_and(|expires| expires.has_passed(now))
        {
            let why = "the token making the request is no longer valid";
            return Err(latchkey_core::OAuthError::new(latchkey_core::ErrorCode::InvalidToken, why).into());
        }
        if let Some(cap) = cap {
            if repo.count_live_personal_tokens(&username, now)? >= u64::from(cap) {
                let why = format!("a user may hold at most {cap} personal tokens; delete one first");
                return Err(latchkey_core::OAuthError::invalid_request(why).into());
            }
        }
        personal::create(repo, &owner, new, Origin::Api, &issuer, now, &mut rand::rngs::OsRng)
    })
    .await?;
    Ok(CreatedToken { view: TokenView::of(&record), token })
}

/// `PATCH /api/tokens/{id}`: a new name or new custom data.
pub async fn amend(
    ctx: &Context,
    caller: &Caller,
    id: &str,
    body: TokenAmendment,
) -> Result<TokenView, ApiError> {
    let record = own_token(ctx, caller, id).await?;
    amend_record(ctx, record, body).await
}

/// `DELETE /api/tokens/{id}`, where `{id}` may be `current`: the token stops working at once; one holding a
/// refresh token takes its whole grant with it.
pub async fn delete(ctx: &Context, caller: &Caller, id: &str) -> Result<u64, ApiError> {
    let record = own_token(ctx, caller, id).await?;
    end(ctx, record).await
}
