//! The UserInfo endpoint (OpenID Connect Core §5.3): the claims of the token's user that its scope in force
//! releases (§5.4), for a token that carries `openid`.

use crate::usage::note_use;
use crate::Context;
use latchkey_core::caller::{authenticate_bearer, Requirement};
use latchkey_core::claims::user_claims;
use latchkey_core::{tx, Outcome};
use serde_json::{Map, Value};

pub async fn userinfo(ctx: &Context, token: String) -> Outcome<Map<String, Value>> {
    let now = ctx.now();
    let caller = tx::read_async(&ctx.store, move |repo| {
        authenticate_bearer(repo, &token, Requirement { scope: "openid" }, now)
    })
    .await?;
    note_use(ctx, caller.record.id.clone(), caller.record.active_at, now);
    Ok(user_claims(&caller.user, &caller.scope))
}
