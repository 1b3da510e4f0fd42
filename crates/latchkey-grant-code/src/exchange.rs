//! Redeeming a code at the token endpoint (RFC 6749 §4.1.3–4.1.4, RFC 7636 §4.5–4.6, OpenID Connect Core
//! §3.1.3), driven through oxide-auth's access-token state machine (`code_grant::accesstoken`) with
//! Latchkey's primitives behind it: [`CodeAuthorizer`] redeems, its PKCE addon and our nonce addon carry the
//! authorization request's commitments, [`TokenIssuer`] issues. Where the machine's own answer would be
//! less precise than the RFCs ask (`invalid_request` for a bad code, RFC 6749 §5.2 wants `invalid_grant`),
//! the primitive's recorded reason is answered instead.

use crate::authorizer::CodeAuthorizer;
use crate::pkce;
use latchkey_core::keys::Keyring;
use latchkey_core::oxide::{machine_refusal, NonceAddon, TokenIssuer};
use latchkey_core::tokens::TokenResponse;
use latchkey_core::{ErrorCode, OAuthError, Step};
use latchkey_model::{Client, GrantType, Timestamp, TokenRecord};
use latchkey_store::Repo;
use oxide_auth::code_grant::accesstoken::{
    AccessToken, Authorization, Extension, Input, Output, Request as AccessTokenRequest,
};
use oxide_auth::code_grant::extensions::Pkce;
use oxide_auth::frontends::simple::extensions::AddonList;
use oxide_auth::primitives::authorizer::Authorizer;
use oxide_auth::primitives::issuer::Issuer;
use rand::{CryptoRng, RngCore};
use std::borrow::Cow;

/// The parameters of an `authorization_code` token request.
#[derive(Clone)]
pub struct CodeExchange {
    pub code: String,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
}

/// The token request as the state machine reads it. The client was authenticated before the grant was
/// chosen (every method of RFC 6749 §2.3 and OpenID Connect Core §9, `private_key_jwt` included, which
/// oxide-auth does not know), so the form names that client and carries no secret.
struct TokenForm<'a> {
    client: &'a Client,
    request: &'a CodeExchange,
}

impl AccessTokenRequest for TokenForm<'_> {
    fn valid(&self) -> bool {
        true
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(&self.request.code))
    }

    fn authorization(&self) -> Authorization<'_> {
        Authorization::Username(Cow::Borrowed(self.client.id.as_str()))
    }

    fn client_id(&self) -> Option<Cow<'_, str>> {
        None
    }

    fn redirect_uri(&self) -> Option<Cow<'_, str>> {
        self.request.redirect_uri.as_deref().map(Cow::Borrowed)
    }

    fn grant_type(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed("authorization_code"))
    }

    fn extension(&self, key: &str) -> Option<Cow<'_, str>> {
        match key {
            "code_verifier" => self.request.code_verifier.as_deref().map(Cow::Borrowed),
            _ => None,
        }
    }
}

/// Exchanges a code for tokens, for an already authenticated `client`. A second presentation of the same
/// code fails and revokes everything the first one issued (RFC 6749 §4.1.2).
pub fn exchange(
    repo: &mut Repo<'_>,
    client: &Client,
    request: &CodeExchange,
    keyring: &Keyring,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Step<TokenResponse> {
    if !client.allows_grant(GrantType::AuthorizationCode) {
        return Ok(Err(OAuthError::new(ErrorCode::UnauthorizedClient, "client may not use this grant")));
    }
    let form = TokenForm { client, request };
    let mut machine = AccessToken::new(&form);
    let mut redeemed = None;
    let mut input = Input::None;
    loop {
        input = match machine.advance(input) {
            Output::Authenticate { .. } => Input::Authenticated,
            Output::Recover { code } => {
                let mut authorizer = CodeAuthorizer::redeeming(repo, &client.id, now, &mut *rng);
                let recovered = authorizer.extract(code);
                let (_, taken, failure) = authorizer.into_parts();
                match recovered {
                    Ok(grant) => {
                        redeemed = taken;
                        Input::Recovered(grant.map(Box::new))
                    }
                    Err(()) => {
                        return failure.into_step(OAuthError::invalid_grant("unknown authorization code"))
                    }
                }
            }
            Output::Extend { extensions } => {
                let Some((record, _)) = &redeemed else { return Ok(Err(OAuthError::server_error())) };
                if let Err(refusal) = check_commitments(record, request) {
                    return Ok(Err(refusal));
                }
                let mut addons = AddonList::new();
                if record.code_challenge.is_some() {
                    addons.push_access_token(Pkce::required());
                }
                addons.push_access_token(NonceAddon);
                match Extension::extend(&mut addons, &form, extensions.clone()) {
                    Ok(access_extensions) => Input::Extended { access_extensions },
                    // Only the PKCE comparison can fail here: everything else was checked above.
                    Err(()) => {
                        return Ok(Err(OAuthError::invalid_grant(
                            "code_verifier does not match the code_challenge",
                        )))
                    }
                }
            }
            Output::Issue { grant } => {
                let grant = grant.clone();
                let Some((record, user)) = redeemed.take() else {
                    return Ok(Err(OAuthError::server_error()));
                };
                let mut issuer = TokenIssuer::new(repo, client, keyring, now, rng);
                issuer.prepare(record, Some(user));
                let Ok(token) = issuer.issue(grant) else {
                    return issuer.finish(OAuthError::server_error());
                };
                return match machine.advance(Input::Issued(token)) {
                    Output::Ok(_) => issuer.finish(OAuthError::server_error()),
                    _ => Ok(Err(OAuthError::server_error())),
                };
            }
            Output::Ok(_) => return Ok(Err(OAuthError::server_error())),
            Output::Err(mut error) => {
                let why = match redeemed {
                    None => "code and redirect_uri are required; redirect_uri must be an absolute URL",
                    Some(_) => "the token request does not match the code's client or redirect_uri",
                };
                return Ok(Err(machine_refusal(error.description(), why)));
            }
        };
    }
}

/// What the authorization request committed the token request to, checked on the code just taken: the
/// exact `redirect_uri` string (RFC 6749 §4.1.3; the machine compares parsed URLs, which normalise), and a
/// well-formed PKCE verifier exactly when a challenge was made (RFC 7636 §4.6, RFC 9700 §4.8).
fn check_commitments(record: &TokenRecord, request: &CodeExchange) -> Result<(), OAuthError> {
    let expected = record.redirect_uri.as_ref().map(|uri| uri.as_str());
    if expected != request.redirect_uri.as_deref() {
        return Err(OAuthError::invalid_grant("redirect_uri does not match the authorization request"));
    }
    pkce::precheck(record.code_challenge.as_deref(), request.code_verifier.as_deref())
}
