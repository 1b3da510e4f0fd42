//! Client authentication at the token endpoint (RFC 6749 §2.3): `client_secret_basic`,
//! `client_secret_post`, and public clients identified by `client_id` alone.

use crate::OAuthError;
use latchkey_model::{Client, ClientCredentials, ClientId};
use latchkey_store::{Repo, StoreError};

/// What a request offered to identify its client, as the HTTP layer found it.
#[derive(Default, Clone)]
pub struct PresentedCredentials {
    /// From `Authorization: Basic`, already decoded (RFC 6749 §2.3.1 form-decoding included).
    pub basic: Option<(String, String)>,
    pub body_client_id: Option<String>,
    pub body_client_secret: Option<String>,
}

impl std::fmt::Debug for PresentedCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresentedCredentials")
            .field("basic_client_id", &self.basic.as_ref().map(|(id, _)| id))
            .field("body_client_id", &self.body_client_id)
            .field("body_client_secret", &self.body_client_secret.as_ref().map(|_| "…"))
            .finish()
    }
}

/// The authenticated client, or `invalid_client` / `invalid_request` as RFC 6749 §5.2 prescribes.
pub fn authenticate_client(
    repo: &mut Repo<'_>,
    presented: &PresentedCredentials,
) -> Result<Result<Client, OAuthError>, StoreError> {
    let used_basic = presented.basic.is_some();
    let (id, secret) = match (&presented.basic, &presented.body_client_id, &presented.body_client_secret) {
        (Some(_), _, Some(_)) => {
            return Ok(Err(OAuthError::invalid_request("use one client authentication method, not two")));
        }
        (Some((id, _)), Some(body_id), None) if body_id != id => {
            return Ok(Err(OAuthError::invalid_request("client_id does not match the authenticated client")));
        }
        (Some((id, secret)), _, None) => (id.as_str(), Some(secret.as_str())),
        (None, Some(id), secret) => (id.as_str(), secret.as_deref()),
        (None, None, _) => return Ok(Err(OAuthError::invalid_client(false))),
    };
    let Ok(client_id) = ClientId::parse(id) else {
        return Ok(Err(OAuthError::invalid_client(used_basic)));
    };
    let Some(client) = repo.find_client(&client_id)? else {
        // Hash the presented secret anyway, so an unknown client takes as long as a wrong secret.
        let _ = latchkey_model::SecretHash::of(secret.unwrap_or_default());
        return Ok(Err(OAuthError::invalid_client(used_basic)));
    };
    let authenticated = match (&client.credentials, secret) {
        (ClientCredentials::Public, None) => true,
        (ClientCredentials::Secret(hash), Some(secret)) => hash.verify(secret),
        // A confidential client must prove itself; a public one has nothing to prove with.
        (ClientCredentials::Secret(_), None) | (ClientCredentials::Public, Some(_)) => false,
    };
    Ok(if authenticated { Ok(client) } else { Err(OAuthError::invalid_client(used_basic)) })
}
