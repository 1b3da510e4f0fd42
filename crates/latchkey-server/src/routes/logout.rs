//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): the user confirms, the server-side session
//! is destroyed, and the browser goes back to the client if it named a registered URI.

use crate::app::AppState;
use crate::http_error::HttpError;
use crate::pages::{self, LogoutPage};
use crate::session;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use latchkey_model::{ClientId, SecretHash};
use latchkey_store::{Repo, StoreError};
use serde::Deserialize;

#[derive(Deserialize, Clone, Default)]
pub struct LogoutParams {
    id_token_hint: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
    client_id: Option<String>,
    csrf: Option<String>,
}

/// The client's display name and the trusted post-logout URI, if any.
struct Resolved {
    client_name: Option<String>,
    redirect_uri: Option<String>,
}

/// The client the request is about (from the ID token hint, or `client_id`) and the post-logout URI, which
/// must be one of that client's registered redirect URIs. `Err` when a URI was asked for but cannot be
/// trusted.
fn resolve(repo: &mut Repo<'_>, params: &LogoutParams) -> Result<Result<Resolved, ()>, StoreError> {
    let hinted = match &params.id_token_hint {
        Some(hint) => match repo.find_token_by_id_token(&SecretHash::of(hint))? {
            Some(record) => Some(record.client_id),
            // A hint this server never issued vouches for nothing, least of all a redirect.
            None if params.post_logout_redirect_uri.is_some() => return Ok(Err(())),
            None => None,
        },
        None => None,
    };
    let named = params.client_id.as_deref().and_then(|id| ClientId::parse(id).ok());
    if let (Some(hinted), Some(named)) = (&hinted, &named) {
        if hinted != named {
            return Ok(Err(()));
        }
    }
    let client = match hinted.or(named) {
        Some(id) => repo.find_client(&id)?,
        None => None,
    };
    match (&params.post_logout_redirect_uri, &client) {
        (None, _) => Ok(Ok(Resolved { client_name: client.map(|c| c.name), redirect_uri: None })),
        (Some(uri), Some(client)) if client.redirect_uris.iter().any(|r| r.as_str() == uri) => {
            Ok(Ok(Resolved { client_name: Some(client.name.clone()), redirect_uri: Some(uri.clone()) }))
        }
        (Some(_), _) => Ok(Err(())),
    }
}

fn untrusted() -> HttpResponse {
    pages::error_page(
        StatusCode::BAD_REQUEST,
        "This sign-out request cannot be completed",
        "The address to return to is not registered for this application.",
        Some("invalid_request"),
    )
}

fn back_to_client(uri: &str, state: Option<&str>) -> HttpResponse {
    let location = match state {
        Some(state) => {
            let separator = if uri.contains('?') { '&' } else { '?' };
            let query =
                url::form_urlencoded::Serializer::new(String::new()).append_pair("state", state).finish();
            format!("{uri}{separator}{query}")
        }
        None => uri.to_owned(),
    };
    HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish()
}

fn signed_out_page() -> LogoutPage {
    LogoutPage {
        signed_out: true,
        client_name: None,
        csrf: String::new(),
        id_token_hint: None,
        post_logout_redirect_uri: None,
        state: None,
    }
}

/// GET: ask the user to confirm (a link alone must not sign anyone out).
pub async fn logout_page(
    request: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<LogoutParams>,
) -> Result<HttpResponse, HttpError> {
    let params = query.into_inner();
    let presented = session::presented(&request);
    let now = state.clock.now();
    let lookup = params.clone();
    let (resolved, current) = state
        .store
        .read_async(move |repo| Ok((resolve(repo, &lookup)?, session::load(repo, presented, now)?)))
        .await?;
    let Ok(Resolved { client_name, redirect_uri: uri }) = resolved else { return Ok(untrusted()) };
    let Some(current) = current else {
        // Nobody is signed in here: nothing to confirm.
        return Ok(match &uri {
            Some(uri) => back_to_client(uri, params.state.as_deref()),
            None => pages::page(StatusCode::OK, &signed_out_page(), None),
        });
    };
    let page = LogoutPage {
        signed_out: false,
        client_name,
        csrf: session::csrf_token(&current.secret),
        id_token_hint: params.id_token_hint,
        post_logout_redirect_uri: uri.clone(),
        state: params.state,
    };
    Ok(pages::page(StatusCode::OK, &page, uri.as_deref()))
}

/// POST: the confirmed sign-out.
pub async fn logout_submit(
    request: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<LogoutParams>,
) -> Result<HttpResponse, HttpError> {
    let params = form.into_inner();
    let Some(presented) = session::presented(&request) else {
        return Ok(pages::page(StatusCode::OK, &signed_out_page(), None));
    };
    if !params.csrf.as_deref().is_some_and(|token| session::csrf_matches(&presented, token)) {
        return Ok(pages::error_page(
            StatusCode::FORBIDDEN,
            "This form has expired",
            "Reload the page and try again.",
            None,
        ));
    }
    let lookup = params.clone();
    let resolved = state
        .store
        .write_async(move |repo| {
            repo.delete_session(&presented.hash())?;
            resolve(repo, &lookup)
        })
        .await?;
    let mut response = match resolved {
        Ok(Resolved { redirect_uri: Some(uri), .. }) => back_to_client(&uri, params.state.as_deref()),
        Ok(Resolved { redirect_uri: None, .. }) => pages::page(StatusCode::OK, &signed_out_page(), None),
        Err(()) => untrusted(),
    };
    if let Err(error) = response.add_removal_cookie(&session::removal_cookie()) {
        tracing::error!(%error, "could not clear the session cookie");
    }
    Ok(response)
}
