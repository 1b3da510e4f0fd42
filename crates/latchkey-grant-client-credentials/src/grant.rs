//! Issuing the client's own token (RFC 6749 §4.4.3).

use crate::ClientCredentialsRequest;
use latchkey_core::tokens::{mint, TokenResponse};
use latchkey_core::{OAuthError, Outcome};
use latchkey_model::{
    Client, ClientKind, GrantType, RecordId, Scope, SecretHasher, Stage, Timestamp, TokenRecord,
};
use latchkey_store::Repo;
use rand::{CryptoRng, RngCore};

/// Scopes that describe a signed-in person; a client acting for itself has none (OpenID Connect Core §5.4).
const USER_SCOPES: [&str; 6] = ["openid", "profile", "email", "address", "phone", "offline_access"];

/// Issues an access token to an already authenticated `client`.
pub fn issue(
    repo: &mut Repo<'_>,
    client: &Client,
    request: &ClientCredentialsRequest,
    issuer: &str,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Outcome<TokenResponse> {
    let issued = prepare(client, request, issuer, repo.hasher()?, now, rng)?;
    // Against a revocation of every token of the client made at the same instant.
    repo.hold_client(&client.id)?;
    repo.insert_token(&issued.record)?;
    Ok(issued.response)
}

/// A token made but not yet stored: the record to insert, and the answer to send once it is committed.
pub struct Prepared {
    pub record: TokenRecord,
    pub response: TokenResponse,
}

/// Everything [`issue`] does but the insert, so that it can run outside the transaction that stores it.
pub fn prepare(
    client: &Client,
    request: &ClientCredentialsRequest,
    issuer: &str,
    hasher: &SecretHasher,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<Prepared, OAuthError> {
    // §4.4: "The client credentials grant type MUST only be used by confidential clients."
    if client.kind() != ClientKind::Confidential || !client.allows_grant(GrantType::ClientCredentials) {
        let why = "this client may not use the client_credentials grant";
        return Err(OAuthError::unauthorized_client(why));
    }
    let scope = granted_scope(client, request.scope.as_ref())?;
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
    let minted = mint(&mut record, client, false, hasher, now, rng);
    let response = TokenResponse::of(&record, client, minted, None);
    Ok(Prepared { record, response })
}

/// The requested scope if the client may have all of it (RFC 6749 §3.3), else `invalid_scope`; without a
/// request, everything the client is allowed that does not need a user.
fn granted_scope(client: &Client, requested: Option<&Scope>) -> Result<Scope, OAuthError> {
    let Some(scope) = requested else {
        return Scope::from_tokens(client.scope.iter().filter(|s| !USER_SCOPES.contains(s)))
            .map_err(|_| OAuthError::server_error());
    };
    if let Some(user_scope) = scope.iter().find(|s| USER_SCOPES.contains(s)) {
        return Err(OAuthError::invalid_scope(format!("{user_scope} needs a signed-in user")));
    }
    if !scope.is_subset_of(&client.scope) {
        return Err(OAuthError::invalid_scope("the scope is wider than the client is allowed"));
    }
    Ok(scope.clone())
}
