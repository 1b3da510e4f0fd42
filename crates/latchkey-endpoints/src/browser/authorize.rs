//! `/authorize` (RFC 6749 §4.1.1, §4.2.1; OpenID Connect Core §3.1.2.1): a request, validated, becomes a
//! record bound to the browser's session, and the flow moves on as far as it can.

use super::answer::{advance, rejection};
use super::Reply;
use crate::{offered_response_types, session, Context};
use latchkey_core::{tx, Form, Outcome};
use latchkey_grant_code::authorize;
use latchkey_grant_code::request;
use latchkey_model::PlainSecret;

/// Answers an authorization request (its query string, or its form body for POST) from the browser that
/// holds `presented` (its session secret, if any).
pub async fn authorize(ctx: &Context, form: Form, presented: Option<PlainSecret>) -> Outcome<Reply> {
    let issuer = ctx.issuer.to_string();
    let client_id = match request::client_id(&form) {
        Ok(id) => id,
        Err(refused) => return Ok(rejection(refused, &issuer).into()),
    };
    let (keys, now) = (ctx.keys.current(), ctx.now());
    tx::write_async(&ctx.store, move |repo| {
        let client = repo.find_client(&client_id)?;
        let accepted = match request::validate(&form, client, &offered_response_types()) {
            Ok(accepted) => accepted,
            Err(refused) => return Ok(rejection(refused, &issuer).into()),
        };
        // Held (client, then user in the session) before the request is stored, against a revocation of
        // either made at the same instant.
        repo.hold_client(&client_id)?;
        let rng = &mut rand::rngs::OsRng;
        let current = session::load_or_start(repo, presented, now, rng)?;
        let mut record = authorize::begin(repo, &accepted, &issuer, &current.session.id_hash, now, rng)?;
        let answer = advance(repo, &mut record, &current.session, &issuer, &keys, now)?;
        Ok(Reply::with_session(answer, current.fresh.then_some(current.secret)))
    })
    .await
}
