//! ID tokens (OpenID Connect Core §2), built with openidconnect's types and signed by a [`SigningKey`].

use crate::keys::{KeyAlgorithm, Keyring};
use crate::OAuthError;
use chrono::{DateTime, Utc};
use latchkey_model::{PlainSecret, Timestamp};
use openidconnect::core::{CoreGenderClaim, CoreIdToken, CoreIdTokenClaims};
use openidconnect::{
    AccessToken, Audience, AuthenticationMethodReference, AuthorizationCode, EmptyAdditionalClaims,
    IssuerUrl, Nonce, StandardClaims, SubjectIdentifier,
};

/// What goes into one ID token.
#[derive(Debug)]
pub struct IdTokenContent<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub subject: &'a str,
    pub nonce: Option<&'a str>,
    pub auth_time: Option<Timestamp>,
    /// The user's claims (OpenID Connect Core §5.4), put in the ID token itself when no access token is
    /// issued to fetch them from UserInfo with (`response_type=id_token`); must include `sub`.
    pub user_claims: Option<&'a serde_json::Map<String, serde_json::Value>>,
    /// `amr` values (RFC 8176) for how the user authenticated at `auth_time`.
    pub authentication_methods: &'a [&'a str],
    pub now: Timestamp,
    pub lifetime_seconds: i64,
    /// Sets `at_hash` when given.
    pub access_token: Option<&'a PlainSecret>,
    /// Sets `c_hash` when given (hybrid and implicit responses).
    pub code: Option<&'a PlainSecret>,
    pub alg: KeyAlgorithm,
}

fn time(at: Timestamp) -> Result<DateTime<Utc>, OAuthError> {
    DateTime::from_timestamp(at.unix_seconds(), 0).ok_or_else(OAuthError::server_error)
}

fn standard_claims(content: &IdTokenContent<'_>) -> Result<StandardClaims<CoreGenderClaim>, OAuthError> {
    let Some(claims) = content.user_claims else {
        return Ok(StandardClaims::new(SubjectIdentifier::new(content.subject.to_owned())));
    };
    let mut claims = claims.clone();
    claims.insert("sub".into(), serde_json::Value::from(content.subject));
    serde_json::from_value(serde_json::Value::Object(claims))
        .map_err(|e| OAuthError { internal: Some(format!("user claims: {e}")), ..OAuthError::server_error() })
}

/// Signs the ID token; returns its compact serialisation.
pub fn issue_id_token(keyring: &Keyring, content: &IdTokenContent<'_>) -> Result<String, OAuthError> {
    let key = keyring.signing_key(content.alg, content.now).ok_or_else(OAuthError::server_error)?;
    let issuer = IssuerUrl::new(content.issuer.to_owned()).map_err(|_| OAuthError::server_error())?;
    let claims = CoreIdTokenClaims::new(
        issuer,
        vec![Audience::new(content.client_id.to_owned())],
        time(content.now.plus_seconds(content.lifetime_seconds))?,
        time(content.now)?,
        standard_claims(content)?,
        EmptyAdditionalClaims {},
    )
    .set_nonce(content.nonce.map(|n| Nonce::new(n.to_owned())))
    .set_auth_time(content.auth_time.map(time).transpose()?)
    .set_auth_method_refs(if content.authentication_methods.is_empty() {
        None
    } else {
        Some(
            content
                .authentication_methods
                .iter()
                .map(|m| AuthenticationMethodReference::new((*m).to_owned()))
                .collect(),
        )
    });
    let access_token = content.access_token.map(|t| AccessToken::new(t.expose().to_owned()));
    let code = content.code.map(|c| AuthorizationCode::new(c.expose().to_owned()));
    let token =
        CoreIdToken::new(claims, key, crate::keys::jws(content.alg), access_token.as_ref(), code.as_ref())
            .map_err(|e| OAuthError { internal: Some(e.to_string()), ..OAuthError::server_error() })?;
    Ok(token.to_string())
}
