//! The consent step (OpenID Connect Core §3.1.2.4, RFC 6819 §5.2.4.2): the user sees the client and every
//! scope in words; allowing remembers it for the user and client, denying ends the request with
//! `access_denied`.

use super::answer::{advance, client_name, error_answer, owned_record, stale};
use super::{Answer, ConsentForm, Notice, Reply};
use crate::{session, Context};
use latchkey_core::{tx, ErrorCode, OAuthError, Outcome};
use latchkey_grant_code::authorize;
use latchkey_model::PlainSecret;

/// `GET /consent`.
pub async fn consent_page(
    ctx: &Context,
    presented: Option<PlainSecret>,
    request_id: String,
) -> Outcome<Answer> {
    let now = ctx.now();
    tx::read_async(&ctx.store, move |repo| {
        let Some(current) = session::load(repo, presented, now)? else { return Ok(stale()) };
        let Some(username) = current.session.username.clone() else { return Ok(stale()) };
        let Some(record) = owned_record(repo, &request_id, &current.session)? else { return Ok(stale()) };
        let scopes =
            record.scope.iter().map(|s| (s.to_owned(), latchkey_core::scopes::describe(s))).collect();
        Ok(Answer::ConsentForm(ConsentForm {
            client_name: client_name(repo, &record)?,
            csrf: session::csrf_token(&current.secret),
            request_id: record.id.to_string(),
            username: username.to_string(),
            scopes,
            redirect_uri: record.redirect_uri.as_ref().map(ToString::to_string),
        }))
    })
    .await
}

/// The user's answer on the consent page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny,
}

impl Decision {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "allow" => Some(Decision::Allow),
            "deny" => Some(Decision::Deny),
            _ => None,
        }
    }
}

/// `POST /consent`.
pub async fn decide(
    ctx: &Context,
    presented: Option<PlainSecret>,
    csrf: Option<String>,
    request_id: String,
    decision: Decision,
) -> Outcome<Reply> {
    let Some(presented) = presented.filter(|secret| session::csrf_matches(secret, csrf.as_deref())) else {
        return Ok(Answer::Notice(Notice::FormExpired).into());
    };
    let (issuer, keys, now) = (ctx.issuer.to_string(), ctx.keys.current(), ctx.now());
    tx::write_async(&ctx.store, move |repo| {
        let Some(current) = session::load(repo, Some(presented), now)? else { return Ok(stale().into()) };
        let Some(username) = current.session.username.clone() else { return Ok(stale().into()) };
        let Some(mut record) = owned_record(repo, &request_id, &current.session)? else {
            return Ok(stale().into());
        };
        if decision == Decision::Deny {
            authorize::abandon(repo, &record, now)?;
            let (Some(redirect_uri), Some(mode)) = (record.redirect_uri.clone(), record.response_mode) else {
                return Ok(stale().into());
            };
            let error = OAuthError::new(ErrorCode::AccessDenied, "the user denied access");
            return Ok(
                error_answer(redirect_uri.as_str(), mode, &error, record.state.as_ref(), &issuer).into()
            );
        }
        let previous = repo.find_consent(&username, &record.client_id)?;
        authorize::consented(repo, &mut record, &username, previous.as_ref(), now)?;
        Ok(advance(repo, &mut record, &current.session, &issuer, &keys, now)?.into())
    })
    .await
}
