//! Token revocation (RFC 7009 §2). A storage failure is never reported as done (§2.2.1).

use super::{auth_context, ClientRequest, Endpoint};
use crate::Context;
use latchkey_core::client_auth::authenticate_client;
use latchkey_core::introspection::TokenQuestion;
use latchkey_core::revocation::revoke as revoke_token;
use latchkey_core::{tx, Outcome};

pub async fn revoke(ctx: &Context, request: ClientRequest) -> Outcome<()> {
    let question = TokenQuestion::from_form(&request.form)?;
    let (now, auth) = (ctx.now(), auth_context(ctx, Endpoint::Revocation, &request.client_address));
    let presented = request.credentials;
    tx::write_async(&ctx.store, move |repo| {
        let caller = authenticate_client(repo, &presented, &auth)?;
        revoke_token(repo, &caller, &question, now)
    })
    .await
}
