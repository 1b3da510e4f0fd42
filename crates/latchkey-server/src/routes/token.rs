//! The token endpoint (RFC 6749 §3.2): client authentication, then the grant named by `grant_type`.

use crate::app::AppState;
use crate::http_error::{oauth_error_response, HttpError};
use crate::routes::authorize::is_form;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use latchkey_core::client_auth::{authenticate_client, AuthContext, PresentedCredentials};
use latchkey_core::{ErrorCode, OAuthError};
use latchkey_grant_code::exchange::{exchange, CodeExchange};
use latchkey_grant_password::PasswordRequest;
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

/// The body of a request to an endpoint that takes `application/x-www-form-urlencoded` only (RFC 6749 §3.2,
/// RFC 7662 §2.1, RFC 7009 §2.1).
pub fn form_body(request: &HttpRequest, body: &[u8]) -> Result<Form, OAuthError> {
    if !is_form(request) {
        return Err(OAuthError::invalid_request("expected application/x-www-form-urlencoded"));
    }
    Ok(Form::parse(body))
}

/// A request about one token (RFC 7662 §2.1, RFC 7009 §2.1): the client's credentials, the `token`, and
/// the `token_type_hint`, which only speeds the look-up (an unknown one is ignored; every kind is searched).
pub struct TokenQuestion {
    pub presented: PresentedCredentials,
    pub token: String,
    pub hint: Option<latchkey_core::introspection::TokenKind>,
}

pub fn token_question(request: &HttpRequest, body: &[u8]) -> Result<TokenQuestion, OAuthError> {
    let form = form_body(request, body)?;
    let presented = presented_credentials(request, &form)?;
    let token = form.single("token")?.ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    let hint = form
        .single("token_type_hint")?
        .as_deref()
        .and_then(latchkey_core::introspection::TokenKind::from_hint);
    Ok(TokenQuestion { presented, token, hint })
}

/// What the request offers to authenticate its client (RFC 6749 §2.3.1): HTTP Basic and/or form fields.
pub fn presented_credentials(request: &HttpRequest, form: &Form) -> Result<PresentedCredentials, OAuthError> {
    let basic = basic_credentials(request).map_err(|()| OAuthError::invalid_client(true))?;
    Ok(PresentedCredentials {
        basic,
        body_client_id: form.single("client_id")?,
        body_client_secret: form.single("client_secret")?,
        client_assertion_type: form.single("client_assertion_type")?,
        client_assertion: form.single("client_assertion")?,
    })
}

/// What a `private_key_jwt` assertion sent to `path` may name as its audience (OpenID Connect Core §9: the
/// issuer or the token endpoint; the endpoint actually called is also accepted), and the time.
pub fn auth_context(state: &AppState, path: &str) -> AuthContext {
    let mut audiences =
        vec![state.issuer.to_string(), state.issuer.endpoint("/token"), state.issuer.endpoint(path)];
    audiences.dedup();
    AuthContext { audiences, now: state.clock.now() }
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
    let form = match form_body(request, body) {
        Ok(form) => form,
        Err(error) => return Ok(Err(error)),
    };
    let parsed = (|| {
        let presented = presented_credentials(request, &form)?;
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
            "client_credentials" => Grant::ClientCredentials { scope: form.single("scope")? },
            "password" => Grant::Password(PasswordRequest {
                username: form
                    .single("username")?
                    .ok_or_else(|| OAuthError::invalid_request("username is required"))?,
                password: form
                    .single("password")?
                    .ok_or_else(|| OAuthError::invalid_request("password is required"))?,
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
    let grant = match grant {
        Grant::Password(password) => return password_grant(request, state, presented, password).await,
        other => other,
    };
    let keys = state.keys();
    let now = state.clock.now();
    let issuer = state.issuer.to_string();
    let context = auth_context(state, "/token");
    let result = state
        .store
        .write_async(move |repo| {
            let client = match authenticate_client(repo, &presented, &context)? {
                Ok(client) => client,
                Err(error) => return Ok(Err(error)),
            };
            let rng = &mut rand::rngs::OsRng;
            match &grant {
                Grant::Code(request) => exchange(repo, &client, request, &keys, now, rng),
                Grant::Refresh(request) => refresh(repo, &client, request, &keys, now, rng),
                Grant::ClientCredentials { scope } => latchkey_grant_client_credentials::issue(
                    repo,
                    &client,
                    scope.as_deref(),
                    &issuer,
                    now,
                    rng,
                ),
                // Taken above: it needs the slow hash outside the transaction.
                Grant::Password(_) => Ok(Err(OAuthError::server_error())),
            }
        })
        .await?;
    Ok(result)
}

enum Grant {
    Code(CodeExchange),
    Refresh(RefreshRequest),
    ClientCredentials { scope: Option<String> },
    Password(PasswordRequest),
}

/// The password grant in its three steps: count the attempt and find the user (one transaction), check
/// the password (Argon2id, on the blocking pool, no transaction open), then issue (one transaction).
async fn password_grant(
    request: &HttpRequest,
    state: &web::Data<AppState>,
    presented: PresentedCredentials,
    password: PasswordRequest,
) -> Result<Result<latchkey_core::tokens::TokenResponse, OAuthError>, HttpError> {
    let address = request.peer_addr().map(|addr| addr.ip().to_string()).unwrap_or_else(|| "unknown".into());
    let now = state.clock.now();
    let attempt = password.clone();
    let succeeded_from = address.clone();
    let context = auth_context(state, "/token");
    let begun = state
        .store
        .write_async(move |repo| {
            let client = match authenticate_client(repo, &presented, &context)? {
                Ok(client) => client,
                Err(error) => return Ok(Err(error)),
            };
            Ok(latchkey_grant_password::begin(repo, &client, &attempt, &address, now)?.map(|b| (client, b)))
        })
        .await?;
    let (client, begun) = match begun {
        Ok(begun) => begun,
        Err(error) => return Ok(Err(error)),
    };
    let checked = begun.user.clone();
    let matches =
        web::block(move || latchkey_grant_password::password_matches(checked.as_deref(), &password.password))
            .await
            .map_err(|_| {
                HttpError::Store(latchkey_store::StoreError::Corrupt("password check failed".into()))
            })?;
    let user = match (begun.user, matches) {
        (Some(user), true) => user,
        _ => return Ok(Err(latchkey_grant_password::wrong_credentials())),
    };
    let keys = state.keys();
    let issuer = state.issuer.to_string();
    let issued = state
        .store
        .write_async(move |repo| {
            let rng = &mut rand::rngs::OsRng;
            latchkey_grant_password::issue(
                repo,
                &client,
                &user,
                begun.scope,
                &succeeded_from,
                &issuer,
                &keys,
                now,
                rng,
            )
        })
        .await?;
    Ok(issued)
}
