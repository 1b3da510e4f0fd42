//! Validating an authorization request: RFC 6749 §4.1.1 and §3.1, OpenID Connect Core §3.1.2.1.
//!
//! The order matters. Until the client and its redirect URI are established, nothing may be sent to the
//! redirect URI: such errors are shown on an error page (RFC 6749 §4.1.2.1). After that, errors go back to
//! the client at its validated redirect URI.

use crate::pkce;
use latchkey_core::oxide::{oxide_scope, ClientRegistrar};
use latchkey_core::{ErrorCode, OAuthError};
use latchkey_model::{Client, ClientCredentials, ClientId, GrantType, RedirectUri, ResponseMode, Scope};
use latchkey_store::StoreError;
use oxide_auth::primitives::registrar::{BoundClient, ClientUrl, ExactUrl, Registrar};
use std::borrow::Cow;
use std::collections::BTreeSet;

/// Longest `state` echoed back (RFC 6749 leaves it open; 2 KB and more must work).
pub const MAX_STATE_BYTES: usize = 4096;
pub const MAX_NONCE_BYTES: usize = 512;
pub const MAX_HINT_BYTES: usize = 512;

/// The request's parameters exactly as received (query string or form body), in order, repeats included.
#[derive(Debug, Clone, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    /// The value of a parameter sent at most once; `Err(())` if it was repeated (RFC 6749 §3.1).
    fn single(&self, name: &str) -> Result<Option<&str>, ()> {
        let mut values = self.0.iter().filter(|(key, _)| key == name).map(|(_, value)| value.as_str());
        let first = values.next();
        match values.next() {
            Some(_) => Err(()),
            None => Ok(first.filter(|value| !value.is_empty())),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Prompt {
    None,
    Login,
    Consent,
    SelectAccount,
}

/// A request that passed every check.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    pub client: Client,
    /// The redirect URI as presented (it may differ from the registered one only in a loopback port).
    pub redirect_uri: RedirectUri,
    pub response_type: String,
    pub response_mode: ResponseMode,
    pub scope: Scope,
    pub state: Option<String>,
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
    Redirect { redirect_uri: String, response_mode: ResponseMode, state: Option<String>, error: OAuthError },
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

/// Validates `params`, looking the client up with `find_client`.
pub fn validate(
    params: &Params,
    find_client: impl FnOnce(&ClientId) -> Result<Option<Client>, StoreError>,
) -> Result<Result<AuthorizationRequest, Rejection>, StoreError> {
    // 1. The client and its redirect URI: errors here are shown, never redirected.
    let (Ok(client_id), Ok(presented_redirect)) = (params.single("client_id"), params.single("redirect_uri"))
    else {
        return Ok(Err(page("client_id and redirect_uri may each be sent only once")));
    };
    let Some(client_id) = client_id.and_then(|id| ClientId::parse(id).ok()) else {
        return Ok(Err(page("client_id is missing or malformed")));
    };
    let Some(client) = find_client(&client_id)? else {
        return Ok(Err(Rejection::Page(OAuthError::new(ErrorCode::InvalidRequest, "unknown client"))));
    };
    // oxide-auth's registrar binds the client to the redirect URI: exactly as registered (RFC 9700 §4.1.3).
    let registrar = ClientRegistrar::new(&client);
    let presented_url = match presented_redirect.map(|uri| ExactUrl::new(uri.to_owned())) {
        Some(Err(_)) => return Ok(Err(page("redirect_uri is not registered for this client"))),
        Some(Ok(url)) => Some(Cow::Owned(url)),
        // OpenID Connect requires the parameter; plain OAuth may omit it when only one URI is registered.
        None if params.0.iter().any(|(k, v)| k == "scope" && v.split(' ').any(|s| s == "openid")) => {
            return Ok(Err(page("redirect_uri is required")));
        }
        None => None,
    };
    let client_url = ClientUrl { client_id: Cow::Owned(client.id.to_string()), redirect_uri: presented_url };
    let bound = match registrar.bound_redirect(client_url) {
        Ok(bound) => bound,
        Err(_) if presented_redirect.is_none() => return Ok(Err(page("redirect_uri is required"))),
        Err(_) => return Ok(Err(page("redirect_uri is not registered for this client"))),
    };
    let Ok(redirect_uri) = RedirectUri::parse(bound.redirect_uri.as_str()) else {
        return Ok(Err(page("redirect_uri is not registered for this client")));
    };

    // 2. From here on the client is told, at its redirect URI.
    let state = params.single("state").ok().flatten();
    let state = match clean(state, MAX_STATE_BYTES) {
        Ok(state) => state,
        Err(()) => return Ok(Err(page("state is too long or contains control characters"))),
    };
    // Tokens never travel in a query string (OAuth 2.0 Multiple Response Types §2.1): implicit responses,
    // and the errors of implicit requests, default to the fragment.
    let carries_tokens = matches!(params.single("response_type"),
        Ok(Some(kind)) if kind.split(' ').any(|word| word == "token" || word == "id_token"));
    let default_mode = if carries_tokens { ResponseMode::Fragment } else { ResponseMode::Query };
    let mode_param = params.single("response_mode");
    let response_mode = match mode_param {
        Ok(None) => default_mode,
        Ok(Some(mode)) => match ResponseMode::parse(mode) {
            Some(mode) => mode,
            None => {
                let error = OAuthError::invalid_request("unsupported response_mode");
                return Ok(Err(Rejection::Redirect {
                    redirect_uri: redirect_uri.to_string(),
                    response_mode: default_mode,
                    state,
                    error,
                }));
            }
        },
        Err(()) => default_mode,
    };
    if carries_tokens && response_mode == ResponseMode::Query {
        return Ok(Err(Rejection::Redirect {
            redirect_uri: redirect_uri.to_string(),
            response_mode: ResponseMode::Fragment,
            state,
            error: OAuthError::invalid_request("tokens are never sent in a query string"),
        }));
    }
    let reject = |error: OAuthError| {
        Ok(Err(Rejection::Redirect {
            redirect_uri: redirect_uri.to_string(),
            response_mode,
            state: state.clone(),
            error,
        }))
    };
    if mode_param.is_err() {
        return reject(OAuthError::invalid_request("response_mode was sent more than once"));
    }
    match validate_rest(params, &client, bound) {
        Ok(rest) => Ok(Ok(AuthorizationRequest {
            client,
            redirect_uri: redirect_uri.clone(),
            response_mode,
            state: state.clone(),
            response_type: rest.response_type,
            scope: rest.scope,
            nonce: rest.nonce,
            code_challenge: rest.code_challenge,
            prompt: rest.prompt,
            max_age: rest.max_age,
            login_hint: rest.login_hint,
        })),
        Err(error) => reject(error),
    }
}

struct Rest {
    response_type: String,
    scope: Scope,
    nonce: Option<String>,
    code_challenge: Option<String>,
    prompt: BTreeSet<Prompt>,
    max_age: Option<i64>,
    login_hint: Option<String>,
}

fn validate_rest(params: &Params, client: &Client, bound: BoundClient<'_>) -> Result<Rest, OAuthError> {
    let single = |name: &str| {
        params
            .single(name)
            .map_err(|()| OAuthError::invalid_request(format!("{name} was sent more than once")))
    };
    single("state")?;
    // Request objects are not supported; say so rather than ignore them (OpenID Connect Core §6).
    if single("request")?.is_some() {
        return Err(OAuthError::new(ErrorCode::RequestNotSupported, "request objects are not supported"));
    }
    if single("request_uri")?.is_some() {
        return Err(OAuthError::new(ErrorCode::RequestUriNotSupported, "request_uri is not supported"));
    }
    let response_type = match single("response_type")? {
        None => return Err(OAuthError::invalid_request("response_type is required")),
        Some(text) => normal_response_type(text)?,
    };
    let (grant, name) = match response_type {
        "code" => (GrantType::AuthorizationCode, "authorization code"),
        _ => (GrantType::Implicit, "implicit"),
    };
    if !client.allows_grant(grant) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            format!("client may not use the {name} grant"),
        ));
    }
    let wants_id_token = response_type.starts_with("id_token");
    let scope = match single("scope")? {
        None => return Err(OAuthError::invalid_scope("scope is required")),
        Some(text) => Scope::parse(text).map_err(|e| OAuthError::invalid_scope(e.to_string()))?,
    };
    // The registrar refuses a scope outside the client's instead of replacing it (RFC 6749 §3.3).
    let registrar = ClientRegistrar::new(client);
    if registrar.negotiate(bound, Some(oxide_scope(&scope)?)).is_err() {
        return Err(registrar.take_refusal().unwrap_or_else(OAuthError::server_error));
    }
    if wants_id_token && !scope.contains("openid") {
        return Err(OAuthError::invalid_request("an id_token response needs the openid scope"));
    }
    let nonce = clean(single("nonce")?, MAX_NONCE_BYTES)
        .map_err(|()| OAuthError::invalid_request("nonce is too long"))?;
    // OpenID Connect Core §3.2.2.1: the nonce is what stops an ID token in a URL from being replayed.
    if wants_id_token && nonce.is_none() {
        return Err(OAuthError::invalid_request("nonce is required when an ID token is returned"));
    }
    let login_hint = clean(single("login_hint")?, MAX_HINT_BYTES)
        .map_err(|()| OAuthError::invalid_request("login_hint is too long"))?;
    let public = matches!(client.credentials, ClientCredentials::Public);
    // PKCE protects a code; an implicit response has none to protect.
    let code_challenge = match grant {
        GrantType::AuthorizationCode => {
            pkce::check_challenge(single("code_challenge")?, single("code_challenge_method")?, public)?
        }
        _ => None,
    };
    let mut prompt = BTreeSet::new();
    if let Some(text) = single("prompt")? {
        for value in text.split(' ') {
            prompt.insert(match value {
                "none" => Prompt::None,
                "login" => Prompt::Login,
                "consent" => Prompt::Consent,
                "select_account" => Prompt::SelectAccount,
                _ => return Err(OAuthError::invalid_request("unknown prompt value")),
            });
        }
        if prompt.contains(&Prompt::None) && prompt.len() > 1 {
            return Err(OAuthError::invalid_request("prompt=none cannot be combined with other values"));
        }
    }
    let max_age = match single("max_age")? {
        None => None,
        Some(text) => match text.parse::<i64>() {
            Ok(seconds) if seconds >= 0 => Some(seconds),
            _ => return Err(OAuthError::invalid_request("max_age must be a non-negative integer")),
        },
    };
    Ok(Rest {
        response_type: response_type.to_owned(),
        scope,
        nonce,
        code_challenge,
        prompt,
        max_age,
        login_hint,
    })
}

/// The response types Latchkey answers, in one spelling whatever the order of their words: `code`
/// (RFC 6749 §4.1), and the implicit `token` (§4.2), `id_token` and `id_token token` (OpenID Connect Core
/// §3.2). Hybrid types are not offered.
fn normal_response_type(text: &str) -> Result<&'static str, OAuthError> {
    let mut words: Vec<&str> = text.split(' ').collect();
    words.sort_unstable();
    match words.as_slice() {
        ["code"] => Ok("code"),
        ["token"] => Ok("token"),
        ["id_token"] => Ok("id_token"),
        ["id_token", "token"] => Ok("id_token token"),
        _ => Err(OAuthError::new(
            ErrorCode::UnsupportedResponseType,
            "supported response types: code, token, id_token, id_token token",
        )),
    }
}
