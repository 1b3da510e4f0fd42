//! Validating an authorization request: RFC 6749 §4.1.1 and §3.1, OpenID Connect Core §3.1.2.1.
//!
//! The order matters. Until the client and its redirect URI are established, nothing may be sent to the
//! redirect URI: such errors are shown on an error page (RFC 6749 §4.1.2.1). After that, errors go back to
//! the client at its validated redirect URI.

use crate::pkce;
use latchkey_core::oxide::{oxide_scope, ClientRegistrar};
use latchkey_core::{ErrorCode, Form, OAuthError};
use latchkey_model::{
    Client, ClientCredentials, ClientId, GrantType, Prompt, RedirectUri, ResponseMode, ResponseType, Scope,
    State,
};
use oxide_auth::primitives::registrar::{BoundClient, ClientUrl, ExactUrl, Registrar};
use std::borrow::Cow;
use std::collections::BTreeSet;

/// Longest `state` echoed back (RFC 6749 leaves it open; 2 KB and more must work).
pub const MAX_STATE_BYTES: usize = 4096;
pub const MAX_NONCE_BYTES: usize = 512;
pub const MAX_HINT_BYTES: usize = 512;

/// A request that passed every check.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    pub client: Client,
    /// Where the answer goes: as presented (it may differ from the registered one only in a loopback
    /// port), or the client's only registered URI when the request left it out.
    pub redirect_uri: RedirectUri,
    /// Whether the request named the redirect URI: then the token request must name it too (§4.1.3).
    pub redirect_uri_presented: bool,
    pub response_type: ResponseType,
    pub response_mode: ResponseMode,
    pub scope: Scope,
    pub state: Option<State>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt: BTreeSet<Prompt>,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
}

/// Why a request was refused, and where the refusal may be told.
#[derive(Debug, Clone, PartialEq)]
pub enum Rejection {
    /// The client or redirect URI cannot be trusted: show an error page, never redirect.
    Page(OAuthError),
    /// Send the error to the client's validated redirect URI.
    Redirect {
        redirect_uri: RedirectUri,
        response_mode: ResponseMode,
        state: Option<State>,
        error: Box<OAuthError>,
    },
}

fn page(description: &str) -> Rejection {
    Rejection::Page(OAuthError::invalid_request(description))
}

/// A value safe to store and echo: no control characters (a NUL would not even survive PostgreSQL).
fn clean(value: Option<&str>, max: usize) -> Result<Option<String>, ()> {
    match value {
        Some(value) if value.len() > max || value.chars().any(char::is_control) => Err(()),
        other => Ok(other.map(str::to_owned)),
    }
}

/// The client the request names (the caller looks it up before [`validate`]).
pub fn client_id(form: &Form) -> Result<ClientId, Rejection> {
    let once =
        |name| form.single(name).map_err(|_| page("client_id and redirect_uri may each be sent only once"));
    once("redirect_uri")?;
    match once("client_id")?.and_then(|id| ClientId::parse(&id).ok()) {
        Some(id) => Ok(id),
        None => Err(page("client_id is missing or malformed")),
    }
}

/// Validates the request `form` for `client` (as [`client_id`] named it; `None` if there is no such
/// client). `offered` are the response types this server answers.
pub fn validate(
    form: &Form,
    client: Option<Client>,
    offered: &[ResponseType],
) -> Result<AuthorizationRequest, Rejection> {
    // 1. The client and its redirect URI: errors here are shown, never redirected.
    client_id(form)?;
    let Some(client) = client.filter(|client| !client.is_reserved()) else {
        return Err(Rejection::Page(OAuthError::invalid_request("unknown client")));
    };
    let presented = form.text("redirect_uri").map_err(|_| page("redirect_uri was sent more than once"))?;
    // oxide-auth's registrar binds the client to the redirect URI: exactly as registered (RFC 9700 §4.1.3).
    let registrar = ClientRegistrar::new(&client);
    let presented_url = match presented.as_ref().map(|uri| ExactUrl::new(uri.clone())) {
        Some(Err(_)) => return Err(page("redirect_uri is not registered for this client")),
        Some(Ok(url)) => Some(Cow::Owned(url)),
        // OpenID Connect requires the parameter; plain OAuth may omit it when only one URI is registered.
        None if form.single("scope").ok().flatten().is_some_and(|s| s.split(' ').any(|s| s == "openid")) => {
            return Err(page("redirect_uri is required"));
        }
        None => None,
    };
    let client_url = ClientUrl { client_id: Cow::Owned(client.id.to_string()), redirect_uri: presented_url };
    let bound = match registrar.bound_redirect(client_url) {
        Ok(bound) => bound,
        Err(_) if presented.is_none() => return Err(page("redirect_uri is required")),
        Err(_) => return Err(page("redirect_uri is not registered for this client")),
    };
    let Ok(redirect_uri) = RedirectUri::parse(bound.redirect_uri.as_str()) else {
        return Err(page("redirect_uri is not registered for this client"));
    };

    // 2. From here on the client is told, at its redirect URI, and `state` goes back byte for byte.
    let state = match form.single_bytes("state") {
        Ok(Some(bytes)) if bytes.len() > MAX_STATE_BYTES || bytes.iter().any(|b| b.is_ascii_control()) => {
            return Err(page("state is too long or contains control characters"));
        }
        Ok(bytes) => bytes.map(State::from_bytes),
        Err(_) => None,
    };
    let response_type = form.single("response_type").ok().flatten();
    // Tokens never travel in a query string (OAuth 2.0 Multiple Response Types §2.1): implicit responses,
    // and the errors of implicit requests, default to the fragment.
    let carries_tokens = response_type
        .as_deref()
        .is_some_and(|kind| kind.split(' ').any(|word| word == "token" || word == "id_token"));
    let default_mode = if carries_tokens { ResponseMode::Fragment } else { ResponseMode::Query };
    let redirect = |response_mode, state: &Option<State>, error| Rejection::Redirect {
        redirect_uri: redirect_uri.clone(),
        response_mode,
        state: state.clone(),
        error: Box::new(error),
    };
    let response_mode = match form.single("response_mode") {
        Ok(None) => default_mode,
        Ok(Some(mode)) => match ResponseMode::parse(&mode) {
            Some(mode) => mode,
            None => {
                let error = OAuthError::invalid_request("unsupported response_mode");
                return Err(redirect(default_mode, &state, error));
            }
        },
        Err(error) => return Err(redirect(default_mode, &state, error)),
    };
    if carries_tokens && response_mode == ResponseMode::Query {
        let error = OAuthError::invalid_request("tokens are never sent in a query string");
        return Err(redirect(ResponseMode::Fragment, &state, error));
    }
    // A browser posts a form as UTF-8 text: other bytes could not reach the client unchanged.
    if response_mode == ResponseMode::FormPost
        && state.as_ref().is_some_and(|state| state.as_utf8().is_none())
    {
        return Err(page("state must be UTF-8 text to be sent back with response_mode=form_post"));
    }
    let rest = validate_rest(form, &client, bound, offered)
        .map_err(|error| redirect(response_mode, &state, error))?;
    Ok(AuthorizationRequest {
        client,
        redirect_uri,
        redirect_uri_presented: presented.is_some(),
        response_mode,
        state,
        response_type: rest.response_type,
        scope: rest.scope,
        nonce: rest.nonce,
        code_challenge: rest.code_challenge,
        prompt: rest.prompt,
        max_age: rest.max_age,
        login_hint: rest.login_hint,
    })
}

struct Rest {
    response_type: ResponseType,
    scope: Scope,
    nonce: Option<String>,
    code_challenge: Option<String>,
    prompt: BTreeSet<Prompt>,
    max_age: Option<i64>,
    login_hint: Option<String>,
}

fn validate_rest(
    form: &Form,
    client: &Client,
    bound: BoundClient<'_>,
    offered: &[ResponseType],
) -> Result<Rest, OAuthError> {
    form.single_bytes("state")?;
    // Request objects are not supported; say so rather than ignore them (OpenID Connect Core §6).
    if form.single("request")?.is_some() {
        return Err(OAuthError::new(ErrorCode::RequestNotSupported, "request objects are not supported"));
    }
    if form.single("request_uri")?.is_some() {
        return Err(OAuthError::new(ErrorCode::RequestUriNotSupported, "request_uri is not supported"));
    }
    let response_type = match form.single("response_type")? {
        None => return Err(OAuthError::invalid_request("response_type is required")),
        Some(text) => ResponseType::parse(&text).filter(|kind| offered.contains(kind)).ok_or_else(|| {
            let names: Vec<&str> = offered.iter().map(|kind| kind.as_str()).collect();
            let why = format!("supported response types: {}", names.join(", "));
            OAuthError::new(ErrorCode::UnsupportedResponseType, why)
        })?,
    };
    let grant = response_type.grant_type();
    if !client.allows_grant(grant) {
        let name = match grant {
            GrantType::AuthorizationCode => "authorization code",
            _ => "implicit",
        };
        return Err(OAuthError::unauthorized_client(format!("client may not use the {name} grant")));
    }
    let scope = match form.single("scope")? {
        None => return Err(OAuthError::invalid_scope("scope is required")),
        Some(text) => Scope::parse(&text).map_err(|e| OAuthError::invalid_scope(e.to_string()))?,
    };
    // The registrar refuses a scope outside the client's instead of replacing it (RFC 6749 §3.3).
    let registrar = ClientRegistrar::new(client);
    if registrar.negotiate(bound, Some(oxide_scope(&scope)?)).is_err() {
        return Err(registrar.take_refusal().unwrap_or_else(OAuthError::server_error));
    }
    if response_type.issues_id_token() && !scope.contains("openid") {
        return Err(OAuthError::invalid_request("an id_token response needs the openid scope"));
    }
    let nonce = clean(form.single("nonce")?.as_deref(), MAX_NONCE_BYTES)
        .map_err(|()| OAuthError::invalid_request("nonce is too long"))?;
    // OpenID Connect Core §3.2.2.1: the nonce is what stops an ID token in a URL from being replayed.
    if response_type.issues_id_token() && nonce.is_none() {
        return Err(OAuthError::invalid_request("nonce is required when an ID token is returned"));
    }
    let login_hint = clean(form.single("login_hint")?.as_deref(), MAX_HINT_BYTES)
        .map_err(|()| OAuthError::invalid_request("login_hint is too long"))?;
    let public = matches!(client.credentials, ClientCredentials::Public);
    // PKCE protects a code; an implicit response has none to protect.
    let code_challenge = match grant {
        GrantType::AuthorizationCode => pkce::check_challenge(
            form.single("code_challenge")?.as_deref(),
            form.single("code_challenge_method")?.as_deref(),
            public,
        )?,
        _ => None,
    };
    let prompt = prompts(form.single("prompt")?.as_deref())?;
    let max_age = match form.single("max_age")? {
        None => None,
        Some(text) => match text.parse::<i64>() {
            Ok(seconds) if seconds >= 0 => Some(seconds),
            _ => return Err(OAuthError::invalid_request("max_age must be a non-negative integer")),
        },
    };
    Ok(Rest { response_type, scope, nonce, code_challenge, prompt, max_age, login_hint })
}

/// `prompt`: space-separated values; `none` stands alone (OpenID Connect Core §3.1.2.1).
fn prompts(text: Option<&str>) -> Result<BTreeSet<Prompt>, OAuthError> {
    let Some(text) = text else { return Ok(BTreeSet::new()) };
    let prompt = text
        .split(' ')
        .map(|value| Prompt::parse(value).ok_or_else(|| OAuthError::invalid_request("unknown prompt value")))
        .collect::<Result<BTreeSet<_>, _>>()?;
    if prompt.contains(&Prompt::None) && prompt.len() > 1 {
        return Err(OAuthError::invalid_request("prompt=none cannot be combined with other values"));
    }
    Ok(prompt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_parse_and_none_stands_alone() {
        assert!(prompts(None).unwrap().is_empty());
        assert_eq!(prompts(Some("login consent")).unwrap(), [Prompt::Login, Prompt::Consent].into());
        for bad in ["none login", "sometimes", "login  consent", ""] {
            assert!(prompts(Some(bad)).is_err(), "{bad:?}");
        }
    }
}
