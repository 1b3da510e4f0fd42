//! Client authentication at the token, introspection and revocation endpoints (RFC 6749 §2.3, OpenID
//! Connect Core §9): `client_secret_basic`, `client_secret_post`, `private_key_jwt`, and public clients
//! identified by `client_id` alone. One method per request.

use crate::client_assertion::{self, ASSERTION_TYPE};
use crate::oxide::ClientRegistrar;
use crate::{OAuthError, Outcome};
use latchkey_model::{Client, ClientCredentials, ClientId, Timestamp};
use latchkey_store::Repo;
use oxide_auth::primitives::registrar::Registrar;

/// What a request offered to identify its client, as the HTTP layer found it.
#[derive(Default, Clone)]
pub struct PresentedCredentials {
    /// From `Authorization: Basic`, already decoded (RFC 6749 §2.3.1 form-decoding included).
    pub basic: Option<(String, String)>,
    pub body_client_id: Option<String>,
    pub body_client_secret: Option<String>,
    pub client_assertion_type: Option<String>,
    pub client_assertion: Option<String>,
}

impl std::fmt::Debug for PresentedCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresentedCredentials")
            .field("basic_client_id", &self.basic.as_ref().map(|(id, _)| id))
            .field("body_client_id", &self.body_client_id)
            .field("body_client_secret", &self.body_client_secret.as_ref().map(|_| "…"))
            .field("client_assertion", &self.client_assertion.as_ref().map(|_| "…"))
            .finish()
    }
}

/// Where and when the request arrived: what an assertion's `aud` may name (the issuer, the token endpoint,
/// or the endpoint called), and the time its `exp` is checked against.
#[derive(Debug, Clone)]
pub struct AuthContext {
    pub audiences: Vec<String>,
    pub now: Timestamp,
    /// The per-client rate limit, counted once the client has authenticated: requests that fail to
    /// authenticate as a client never spend its budget, so nobody else can exhaust it. A public client
    /// proves nothing but its id, so its budget is per address group as well.
    pub limit: Option<std::sync::Arc<crate::rate_limit::RateLimiter>>,
    /// Where the request came from; grouped (`crate::throttle::address_group`) only for a public client.
    pub client_address: String,
}

/// The authenticated client, or `invalid_client` / `invalid_request` as RFC 6749 §5.2 prescribes, or
/// `too_many_requests` past the client's rate limit.
pub fn authenticate_client(
    repo: &mut Repo<'_>,
    presented: &PresentedCredentials,
    context: &AuthContext,
) -> Outcome<Client> {
    let client = authenticate(repo, presented, context)?;
    if let Some(limit) = &context.limit {
        match client.credentials {
            ClientCredentials::Public => {
                let group = crate::throttle::address_group(&context.client_address);
                limit.admit(&format!("{}@{group}", client.id), context.now)?
            }
            _ => limit.admit(client.id.as_str(), context.now)?,
        }
    }
    Ok(client)
}

fn authenticate(
    repo: &mut Repo<'_>,
    presented: &PresentedCredentials,
    context: &AuthContext,
) -> Outcome<Client> {
    let used_basic = presented.basic.is_some();
    let methods = [
        presented.basic.is_some(),
        presented.body_client_secret.is_some(),
        presented.client_assertion.is_some(),
    ];
    if methods.iter().filter(|used| **used).count() > 1 {
        return Err(OAuthError::invalid_request("use one client authentication method, not two").into());
    }
    if presented.client_assertion.is_some() || presented.client_assertion_type.is_some() {
        return authenticate_assertion(repo, presented, context);
    }
    let (id, secret) = match (&presented.basic, &presented.body_client_id, &presented.body_client_secret) {
        (Some((id, _)), Some(body_id), None) if body_id != id => {
            return Err(
                OAuthError::invalid_request("client_id does not match the authenticated client").into()
            );
        }
        (Some((id, secret)), _, _) => (id.as_str(), Some(secret.as_str())),
        (None, Some(id), secret) => (id.as_str(), secret.as_deref()),
        (None, None, _) => return Err(OAuthError::invalid_client(false).into()),
    };
    let Ok(client_id) = ClientId::parse(id) else {
        return Err(OAuthError::invalid_client(used_basic).into());
    };
    let Some(client) = repo.find_client(&client_id)? else {
        // Hash the presented secret anyway, so an unknown client takes as long as a wrong secret.
        let _ = repo.hasher()?.hash(secret.unwrap_or_default());
        return Err(OAuthError::invalid_client(used_basic).into());
    };
    // oxide-auth's registrar seam, over this client: a constant-time comparison of keyed hashes.
    let registrar = ClientRegistrar::authenticating(&client, repo.hasher()?);
    let authenticated = registrar.check(client.id.as_str(), secret.map(str::as_bytes)).is_ok();
    if !authenticated {
        return Err(OAuthError::invalid_client(used_basic).into());
    }
    Ok(client)
}

/// `private_key_jwt`: the assertion names its client in `sub`, is verified with that client's registered
/// keys, and is good for one use only.
fn authenticate_assertion(
    repo: &mut Repo<'_>,
    presented: &PresentedCredentials,
    context: &AuthContext,
) -> Outcome<Client> {
    if presented.client_assertion_type.as_deref() != Some(ASSERTION_TYPE) {
        let why = format!("client_assertion_type must be {ASSERTION_TYPE}");
        return Err(OAuthError::invalid_request(why).into());
    }
    let Some(assertion) = &presented.client_assertion else {
        let why = "client_assertion is required with client_assertion_type";
        return Err(OAuthError::invalid_request(why).into());
    };
    let refuse = |why: String| OAuthError::invalid_client(false).logged(why).into();
    let Some(claimed) = client_assertion::claimed_subject(assertion) else {
        return Err(refuse("the assertion names no client".into()));
    };
    if presented.body_client_id.as_ref().is_some_and(|id| *id != claimed) {
        return Err(refuse("client_id and the assertion's sub differ".into()));
    }
    let client = match ClientId::parse(&claimed) {
        Ok(id) => repo.find_client(&id)?,
        Err(_) => None,
    };
    let Some(client) = client else { return Err(refuse("unknown client".into())) };
    let ClientCredentials::PrivateKeyJwt { jwks } = &client.credentials else {
        return Err(refuse("the client is not registered for private_key_jwt".into()));
    };
    let verified = match client_assertion::verify(
        assertion,
        jwks,
        client.id.as_str(),
        &context.audiences,
        context.now,
    ) {
        Ok(verified) => verified,
        Err(why) => return Err(refuse(why)),
    };
    if !repo.use_client_assertion(&client.id, &verified.jti, verified.expires_at, context.now)? {
        return Err(refuse("the assertion's jti was used before".into()));
    }
    Ok(client)
}
