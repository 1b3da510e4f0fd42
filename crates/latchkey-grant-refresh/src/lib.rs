//! The refresh token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2), driven
//! through oxide-auth's refresh state machine (`code_grant::refresh`) with Latchkey's [`TokenIssuer`]
//! behind it: the machine checks the token's client and that a requested scope only narrows the grant;
//! the issuer rotates (see `latchkey_core::rotation`).

use latchkey_core::keys::Keyring;
use latchkey_core::oxide::{machine_refusal, TokenIssuer};
use latchkey_core::tokens::TokenResponse;
use latchkey_core::{ErrorCode, OAuthError, Step};
use latchkey_model::{Client, GrantType, Scope, Timestamp};
use latchkey_store::Repo;
use oxide_auth::code_grant::refresh::{Input, Output, Refresh, Request};
use oxide_auth::primitives::issuer::Issuer;
use rand::{CryptoRng, RngCore};
use std::borrow::Cow;

/// The parameters of a `refresh_token` token request.
#[derive(Clone)]
pub struct RefreshRequest {
    pub refresh_token: String,
    /// A narrower scope, or `None` for the scope originally granted.
    pub scope: Option<String>,
}

/// The request as the state machine reads it. The client was authenticated before the grant was chosen
/// (RFC 6749 §2.3, OpenID Connect Core §9), so the form carries no credentials and the machine is told
/// which client that was.
struct RefreshForm<'a>(&'a RefreshRequest);

impl Request for RefreshForm<'_> {
    fn valid(&self) -> bool {
        true
    }

    fn refresh_token(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(&self.0.refresh_token))
    }

    fn scope(&self) -> Option<Cow<'_, str>> {
        self.0.scope.as_deref().map(Cow::Borrowed)
    }

    fn grant_type(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed("refresh_token"))
    }

    fn authorization(&self) -> Option<(Cow<'_, str>, Cow<'_, [u8]>)> {
        None
    }

    fn extension(&self, _: &str) -> Option<Cow<'_, str>> {
        None
    }
}

/// Rotates the refresh token of an already authenticated `client`.
pub fn refresh(
    repo: &mut Repo<'_>,
    client: &Client,
    request: &RefreshRequest,
    keyring: &Keyring,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Step<TokenResponse> {
    if !client.allows_grant(GrantType::RefreshToken) {
        return Ok(Err(OAuthError::new(ErrorCode::UnauthorizedClient, "client may not use refresh tokens")));
    }
    // Our scope grammar (RFC 6749 §3.3) decides what is malformed; the machine decides what is wider.
    if let Some(Err(error)) = request.scope.as_deref().map(Scope::parse) {
        return Ok(Err(OAuthError::invalid_scope(error.to_string())));
    }
    let form = RefreshForm(request);
    let mut machine = Refresh::new(&form);
    let mut issuer = TokenIssuer::new(repo, client, keyring, now, rng);
    let mut input = Input::None;
    loop {
        input = match machine.advance(input) {
            // The machine asks only when the token needs its client proven, which already happened.
            Output::Unauthenticated { .. } => Input::Authenticated { scope: form.scope() },
            Output::RecoverRefresh { token } => match issuer.recover_refresh(token) {
                Ok(grant) => {
                    // The machine compares the token's client with the authenticated one only when it
                    // authenticated the client itself.
                    if grant.as_ref().is_some_and(|grant| grant.client_id != client.id.as_str()) {
                        return Ok(Err(OAuthError::invalid_grant(
                            "the refresh token was issued to another client",
                        )));
                    }
                    Input::Recovered { scope: form.scope(), grant: grant.map(Box::new) }
                }
                Err(()) => return issuer.finish(OAuthError::invalid_grant("unknown refresh token")),
            },
            Output::Refresh { token, grant } => match issuer.refresh(token, *grant) {
                Ok(refreshed) => Input::Refreshed(refreshed),
                Err(()) => return issuer.finish(OAuthError::server_error()),
            },
            Output::Ok(_) => return issuer.finish(OAuthError::server_error()),
            Output::Err(mut error) => {
                return Ok(Err(machine_refusal(
                    error.description(),
                    match request.scope {
                        Some(_) => "unknown refresh token, or the scope may only narrow what was granted",
                        None => "unknown refresh token",
                    },
                )))
            }
        };
    }
}
