//! Token introspection (RFC 7662 §2), for confidential clients.

use super::{auth_context, ClientRequest, Endpoint};
use crate::usage::note_use;
use crate::Context;
use latchkey_core::client_auth::authenticate_client;
use latchkey_core::introspection::{introspect as describe, Introspection, TokenQuestion};
use latchkey_core::{tx, OAuthError, Outcome};
use latchkey_model::ClientKind;

pub async fn introspect(ctx: &Context, request: ClientRequest) -> Outcome<Introspection> {
    let question = TokenQuestion::from_form(&request.form)?;
    let (now, auth) = (ctx.now(), auth_context(ctx, Endpoint::Introspection, &request.client_address));
    let presented = request.credentials;
    // A client assertion's `jti` is recorded, which needs a write; a secret is checked on a read.
    let records_an_assertion = presented.client_assertion.is_some();
    let step = move |repo: &mut latchkey_store::Repo<'_>| {
        let caller = authenticate_client(repo, &presented, &auth)?;
        // §2.1: the caller must be authorized; a public client proves nothing about itself.
        if caller.kind() != ClientKind::Confidential {
            return Err(OAuthError::invalid_client(presented.basic.is_some()).into());
        }
        Ok(describe(repo, &caller, &question, now)?)
    };
    let answer = match records_an_assertion {
        true => tx::write_async(&ctx.store, step).await?,
        false => tx::read_async(&ctx.store, step).await?,
    };
    // A resource server asking about a token is a use of it.
    if let Some((id, active_at)) = &answer.answered_by {
        note_use(ctx, id.clone(), *active_at, now);
    }
    Ok(answer)
}
