//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2–§3): the user confirms, the server-side
//! session is destroyed, and the browser goes back to the client only to a URI registered for it.

use crate::{session, Context};
use latchkey_core::{tx, Outcome};
use latchkey_model::{ClientId, PlainSecret};
use latchkey_store::{Repo, StoreError};

/// The parameters of a logout request (§2). `Debug` does not show the ID token.
#[derive(Clone, Default)]
pub struct LogoutRequest {
    pub id_token_hint: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub client_id: Option<String>,
}

/// What the browser is shown or where it goes. `Debug` does not show the CSRF token.
#[derive(Clone, PartialEq, Eq)]
pub enum LogoutAnswer {
    /// Ask the signed-in user to confirm (a link alone must not sign anyone out).
    Confirm { client_name: Option<String>, csrf: String, post_logout_redirect_uri: Option<String> },
    /// Nobody is (or is any longer) signed in here.
    SignedOut,
    /// Back to the client, at this URL (its registered URI, with `state`).
    BackToClient(String),
    /// The URI to return to is not one the client registered, or the hint is not ours.
    Untrusted,
    /// The confirmation form did not come from this browser's page.
    FormExpired,
}

impl std::fmt::Debug for LogoutRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogoutRequest")
            .field("id_token_hint", &self.id_token_hint.as_ref().map(|_| "…"))
            .field("post_logout_redirect_uri", &self.post_logout_redirect_uri)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for LogoutAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LogoutAnswer::Confirm { client_name, post_logout_redirect_uri, .. } => f
                .debug_struct("Confirm")
                .field("client_name", client_name)
                .field("post_logout_redirect_uri", post_logout_redirect_uri)
                .finish_non_exhaustive(),
            LogoutAnswer::SignedOut => f.write_str("SignedOut"),
            LogoutAnswer::BackToClient(location) => f.debug_tuple("BackToClient").field(location).finish(),
            LogoutAnswer::Untrusted => f.write_str("Untrusted"),
            LogoutAnswer::FormExpired => f.write_str("FormExpired"),
        }
    }
}

/// The client's display name and the trusted post-logout URI, if any.
struct Resolved {
    client_name: Option<String>,
    redirect_uri: Option<String>,
}

/// The client the request is about (from the ID token hint, or `client_id`) and the post-logout URI, which
/// must be one of that client's registered redirect URIs (§3). `None` when a URI was asked for but cannot
/// be trusted.
fn resolve(repo: &mut Repo<'_>, request: &LogoutRequest) -> Result<Option<Resolved>, StoreError> {
    let hinted = match &request.id_token_hint {
        Some(hint) => match repo.find_token_by_id_token(&repo.hasher()?.hash(hint))? {
            Some(record) => Some(record.client_id),
            // A hint this server never issued vouches for nothing, least of all a redirect.
            None if request.post_logout_redirect_uri.is_some() => return Ok(None),
            None => None,
        },
        None => None,
    };
    let named = request.client_id.as_deref().and_then(|id| ClientId::parse(id).ok());
    if let (Some(hinted), Some(named)) = (&hinted, &named) {
        if hinted != named {
            return Ok(None);
        }
    }
    let client = match hinted.or(named) {
        Some(id) => repo.find_client(&id)?,
        None => None,
    };
    Ok(match (&request.post_logout_redirect_uri, &client) {
        (None, _) => Some(Resolved { client_name: client.map(|c| c.name), redirect_uri: None }),
        (Some(uri), Some(client)) if client.redirect_uris.iter().any(|r| r.as_str() == uri) => {
            Some(Resolved { client_name: Some(client.name.clone()), redirect_uri: Some(uri.clone()) })
        }
        (Some(_), _) => None,
    })
}

fn back_to_client(uri: &str, state: Option<&str>) -> LogoutAnswer {
    let location = match state {
        Some(state) => {
            let separator = if uri.contains('?') { '&' } else { '?' };
            let query = url::form_urlencoded::byte_serialize(state.as_bytes());
            format!("{uri}{separator}state={}", query.collect::<String>())
        }
        None => uri.to_owned(),
    };
    LogoutAnswer::BackToClient(location)
}

/// `GET /logout`: what to ask, or where to go when nobody is signed in.
pub async fn logout_page(
    ctx: &Context,
    request: LogoutRequest,
    presented: Option<PlainSecret>,
) -> Outcome<LogoutAnswer> {
    let now = ctx.now();
    let lookup = request.clone();
    let (resolved, current) = tx::read_async(&ctx.store, move |repo| {
        Ok((resolve(repo, &lookup)?, session::load(repo, presented, now)?))
    })
    .await?;
    let Some(Resolved { client_name, redirect_uri }) = resolved else { return Ok(LogoutAnswer::Untrusted) };
    let Some(current) = current else {
        return Ok(match &redirect_uri {
            Some(uri) => back_to_client(uri, request.state.as_deref()),
            None => LogoutAnswer::SignedOut,
        });
    };
    Ok(LogoutAnswer::Confirm {
        client_name,
        csrf: session::csrf_token(&current.secret),
        post_logout_redirect_uri: redirect_uri,
    })
}

/// `POST /logout`: the confirmed sign-out. The answer says whether a session was ended (and its cookie
/// is to be cleared).
pub async fn confirm_logout(
    ctx: &Context,
    request: LogoutRequest,
    presented: Option<PlainSecret>,
    csrf: Option<String>,
) -> Outcome<(LogoutAnswer, bool)> {
    let Some(presented) = presented else { return Ok((LogoutAnswer::SignedOut, false)) };
    if !session::csrf_matches(&presented, csrf.as_deref()) {
        return Ok((LogoutAnswer::FormExpired, false));
    }
    let lookup = request.clone();
    let resolved = tx::write_async(&ctx.store, move |repo| {
        repo.delete_session(&presented.hash(repo.hasher()?))?;
        Ok(resolve(repo, &lookup)?)
    })
    .await?;
    let answer = match resolved {
        Some(Resolved { redirect_uri: Some(uri), .. }) => back_to_client(&uri, request.state.as_deref()),
        Some(Resolved { redirect_uri: None, .. }) => LogoutAnswer::SignedOut,
        None => LogoutAnswer::Untrusted,
    };
    Ok((answer, true))
}
