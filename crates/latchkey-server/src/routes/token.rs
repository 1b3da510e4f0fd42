//! The token endpoint (RFC 6749 §3.2): client authentication, then the grant named by `grant_type`.

use crate::app::AppState;
use crate::http_error::{oauth_error_response, HttpError};
use crate::routes::authorize::is_form;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use latchkey_core::client_auth::{authenticate_client, PresentedCredentials};
use latchkey_core::{ErrorCode, OAuthError};
use latchkey_grant_code::exchange::{exchange, CodeExchange};
use latchkey_grant_refresh::{refresh, RefreshRequest};

/// Credentials from `Authorization: Basic`: base64 of `id:secret`, each form-urlencoded (RFC 6749 §2.3.1).
/// `Err` when the header is there but malformed.
pub fn basic_credentials(request: &HttpRequest) -> Result<Option<(String, String)>, ()> {
    let Some(value) = request.headers().get(header::AUTHORIZATION) else { return Ok(None) };
    let value = value.to_str().map_err(|_| ())?;
    let Some((scheme, encoded)) = value.split_once(' ') else { return Ok(None) };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).map_err(|_| ())?;
    let text = String::from_utf8(decoded).map_err(|_| ())?;
    let (id, secret) = text.split_once(':').ok_or(())?;
    let unescape = |s: &str| -> Result<String, ()> {
        let spaced = s.replace('+', " ");
        percent_encoding::percent_decode_str(&spaced).decode_utf8().map(|v| v.into_owned()).map_err(|_| ())
    };
    Ok(Some((unescape(id)?, unescape(secret)?)))
}

/// Form parameters, each allowed once (RFC 6749 §3.2: "Request and response parameters MUST NOT be
/// included more than once").
pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn parse(body: &[u8]) -> Self {
        Self(url::form_urlencoded::parse(body).into_owned().collect())
    }

    pub fn single(&self, name: &str) -> Result<Option<String>, OAuthError> {
        let mut values = self.0.iter().filter(|(key, _)| key == name).map(|(_, value)| value);
        let first = values.next().cloned();
        if values.next().is_some() {
            return Err(OAuthError::invalid_request(format!("{name} was sent more than once")));
        }
        Ok(first.filter(|value| !value.is_empty()))
    }
}

pub async fn token(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, HttpError> {
    match token_request(&request, &state, &body).await? {
        Ok(response) => Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"))
            .json(response)),
        Err(error) => Ok(oauth_error_response(&error)),
    }
}

async fn token_request(
    request: &HttpRequest,
    state: &web::Data<AppState>,
    body: &[u8],
) -> Result<Result<latchkey_core::tokens::TokenResponse, OAuthError>, HttpError> {
    if !is_form(request) {
        return Ok(Err(OAuthError::invalid_request("expected application/x-www-form-urlencoded")));
    }
    let form = Form::parse(body);
    let parsed = (|| {
        let basic = basic_credentials(request).map_err(|()| OAuthError::invalid_client(true))?;
        let presented = PresentedCredentials {
            basic,
            body_client_id: form.single("client_id")?,
            body_client_secret: form.single("client_secret")?,
        };
        let grant_type = form
            .single("grant_type")?
            .ok_or_else(|| OAuthError::invalid_request("grant_type is required"))?;
        let grant = match grant_type.as_str() {
            "authorization_code" => Grant::Code(CodeExchange {
                code: form.single("code")?.ok_or_else(|| OAuthError::invalid_request("code is required"))?,
                redirect_uri: form.single("redirect_uri")?,
                code_verifier: form.single("code_verifier")?,
            }),
            "refresh_token" => Grant::Refresh(RefreshRequest {
                refresh_token: form
                    .single("refresh_token")?
                    .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?,
                scope: form.single("scope")?,
            }),
            _ => return Err(OAuthError::new(ErrorCode::UnsupportedGrantType, "unsupported grant_type")),
        };
        Ok((presented, grant))
    })();
    let (presented, grant) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => return Ok(Err(error)),
    };
    let keys = state.keys();
    let now = state.clock.now();
    let result = state
        .store
        .write_async(move |repo| {
            let client = match authenticate_client(repo, &presented)? {
                Ok(client) => client,
                Err(error) => return Ok(Err(error)),
            };
            let rng = &mut rand::rngs::OsRng;
            match &grant {
                Grant::Code(request) => exchange(repo, &client, request, &keys, now, rng),
                Grant::Refresh(request) => refresh(repo, &client, request, &keys, now, rng),
            }
        })
        .await?;
    Ok(result)
}

enum Grant {
    Code(CodeExchange),
    Refresh(RefreshRequest),
}
