//! The client credentials grant (RFC 6749 §4.4): a confidential client asks for a token on its own behalf.
//!
//! This is the hot path of service-to-service traffic. The client was already authenticated with a
//! SHA-256 comparison (its secret is generated and high-entropy), so issuing costs one insert.

use latchkey_core::tokens::{mint, TokenResponse};
use latchkey_core::{ErrorCode, OAuthError, Step};
use latchkey_model::{Client, ClientKind, GrantType, RecordId, Scope, Stage, Timestamp, TokenRecord};
use latchkey_store::Repo;
use rand::{CryptoRng, RngCore};

/// Scopes that describe a signed-in person; a client acting for itself has none (OpenID Connect Core §5.4).
const USER_SCOPES: [&str; 6] = ["openid", "profile", "email", "address", "phone", "offline_access"];

/// Issues an access token to an already authenticated `client`. `requested` is the `scope` parameter.
pub fn issue(
    repo: &mut Repo<'_>,
    client: &Client,
    requested: Option<&str>,
    issuer: &str,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Step<TokenResponse> {
    // §4.4: "The client credentials grant type MUST only be used by confidential clients."
    if client.kind() != ClientKind::Confidential || !client.allows_grant(GrantType::ClientCredentials) {
        return Ok(Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client may not use the client_credentials grant",
        )));
    }
    let scope = match granted_scope(client, requested) {
        Ok(scope) => scope,
        Err(error) => return Ok(Err(error)),
    };
    let mut record = TokenRecord::new(
        RecordId::generate(rng),
        client.id.clone(),
        GrantType::ClientCredentials,
        issuer,
        now,
    );
    record.audience = vec![client.id.to_string()];
    record.scope = scope;
    record.stage = Stage::Complete;
    // §4.4.3: "A refresh token SHOULD NOT be included."
    let minted = mint(&mut record, client, false, now, rng);
    repo.insert_token(&record)?;
    Ok(Ok(TokenResponse {
        access_token: minted.access_token.expose().to_owned(),
        token_type: "Bearer",
        expires_in: client.access_token_ttl_seconds,
        refresh_token: None,
        id_token: None,
        scope: record.scope.to_string(),
    }))
}

/// The requested scope if the client may have all of it (RFC 6749 §3.3), else `invalid_scope`; without a
/// request, everything the client is allowed that does not need a user.
fn granted_scope(client: &Client, requested: Option<&str>) -> Result<Scope, OAuthError> {
    let Some(text) = requested else {
        return Scope::from_tokens(client.scope.iter().filter(|s| !USER_SCOPES.contains(s)))
            .map_err(|_| OAuthError::server_error());
    };
    let scope = Scope::parse(text).map_err(|_| OAuthError::invalid_scope("malformed scope"))?;
    if let Some(user_scope) = scope.iter().find(|s| USER_SCOPES.contains(s)) {
        return Err(OAuthError::invalid_scope(format!("{user_scope} needs a signed-in user")));
    }
    if !scope.is_subset_of(&client.scope) {
        return Err(OAuthError::invalid_scope("the scope is wider than the client is allowed"));
    }
    Ok(scope)
}
