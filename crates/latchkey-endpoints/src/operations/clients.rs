//! Clients: register, list, view, amend, rotate a secret, delete, and revoke everything of a client. The
//! reserved client of personal tokens is none of these: it cannot be changed, re-keyed, deleted or reset.

use super::double_option;
use crate::views::{ClientView, ClientWithSecret, Items, Listing};
use crate::{supported_grants, ApiError, Context};
use latchkey_core::registration::{register_client, NewClient, SecretChoice};
use latchkey_core::{revoke_all, tx, OAuthError};
use latchkey_model::{
    Client, ClientId, GrantType, PageRequest, PlainSecret, RedirectUri, Scope, SecretHasher, SecretKind,
    SigningAlgorithm, Timestamp, PERSONAL_CLIENT_ID,
};
use latchkey_store::{ClientChanges, StoreError};
use serde::Deserialize;
use std::collections::BTreeSet;

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewClientBody {
    pub id: String,
    pub name: Option<String>,
    /// A public client (native or browser app): no secret, PKCE required.
    #[serde(default)]
    pub public: bool,
    /// A secret the operator chose (at least 32 characters); without one, a confidential client gets a
    /// generated secret, shown once.
    pub secret: Option<String>,
    /// Authenticate with `private_key_jwt`: the client's public keys, a JWK set.
    pub jwks: Option<serde_json::Value>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    pub access_token_ttl: Option<i64>,
    pub refresh_token_ttl: Option<i64>,
    pub id_token_alg: Option<String>,
}

fn signing_alg(text: &str) -> Result<SigningAlgorithm, ApiError> {
    SigningAlgorithm::parse(text).ok_or_else(|| ApiError::invalid("idTokenAlg must be RS256, ES256 or EdDSA"))
}

/// Grants this server was built without cannot be given to a client.
fn check_grants_built_in(grants: &BTreeSet<GrantType>) -> Result<(), OAuthError> {
    let supported = supported_grants();
    match grants.iter().find(|grant| !supported.contains(grant)) {
        Some(grant) => {
            Err(OAuthError::invalid_request(format!("grant type {grant} is not built into this server")))
        }
        None => Ok(()),
    }
}

/// A client to register, checked, with the secret to show once if one was generated. Nothing is stored
/// yet, so bad input leaves nothing behind.
pub fn prepare_client(
    body: NewClientBody,
    hasher: &SecretHasher,
    now: Timestamp,
) -> Result<(Client, Option<PlainSecret>), ApiError> {
    let secret = match (body.public, body.secret, body.jwks) {
        (true, None, None) => SecretChoice::Public,
        (true, _, _) => return Err(ApiError::invalid("a public client has no secret and no keys")),
        (false, Some(_), Some(_)) => return Err(ApiError::invalid("give a secret or keys, not both")),
        (false, Some(secret), None) => SecretChoice::Given(secret),
        (false, None, Some(jwks)) => SecretChoice::PrivateKeyJwt(jwks.to_string()),
        (false, None, None) => SecretChoice::Generate,
    };
    let new = NewClient {
        id: body.id,
        name: body.name,
        secret,
        redirect_uris: body.redirect_uris,
        grant_types: body.grant_types,
        scopes: body.scopes,
        access_token_ttl_seconds: body.access_token_ttl,
        refresh_token_ttl_seconds: body.refresh_token_ttl,
        id_token_signing_alg: body.id_token_alg.as_deref().map(signing_alg).transpose()?.unwrap_or_default(),
    };
    let (client, secret) =
        register_client(new, hasher, now, &mut rand::rngs::OsRng).map_err(ApiError::invalid)?;
    check_grants_built_in(&client.grant_types)?;
    Ok((client, secret))
}

/// `POST /admin/clients`, `latchkey client add`.
pub async fn create_client(
    ctx: &Context,
    client: Client,
    secret: Option<PlainSecret>,
) -> Result<ClientWithSecret, ApiError> {
    let view = ClientView::of(&client);
    ctx.store.write_async(move |repo| repo.insert_client(&client)).await?;
    Ok(ClientWithSecret { view, client_secret: secret })
}

/// `GET /admin/clients`, `latchkey client list`.
pub async fn list_clients(ctx: &Context, page: PageRequest) -> Result<Listing<ClientView>, ApiError> {
    let found = ctx.store.read_async(move |repo| repo.list_clients(&page)).await?;
    Ok(Listing::of(found, ClientView::of, Items::Clients))
}

fn client_id(id: &str) -> Result<ClientId, ApiError> {
    ClientId::parse(id).map_err(|_| ApiError::NotFound)
}

/// The id of a client an operator may change: the reserved client of personal tokens is Latchkey's own,
/// and changing, re-keying, resetting or deleting it would break or delete every personal token.
fn registered(id: &str) -> Result<ClientId, ApiError> {
    if id == PERSONAL_CLIENT_ID {
        return Err(ApiError::invalid("this client is reserved for personal tokens"));
    }
    client_id(id)
}

/// `GET /admin/clients/{id}`, `latchkey client get`.
pub async fn get_client(ctx: &Context, id: &str) -> Result<ClientView, ApiError> {
    let id = client_id(id)?;
    let client = ctx.store.read_async(move |repo| repo.find_client(&id)).await?;
    client.map(|client| ClientView::of(&client)).ok_or(ApiError::NotFound)
}

/// What to change of a client's registration; absent fields stay.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClientAmendment {
    pub name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub grant_types: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
    pub access_token_ttl: Option<i64>,
    /// `null`: refresh tokens stop expiring on their own.
    #[serde(default, deserialize_with = "double_option")]
    pub refresh_token_ttl: Option<Option<i64>>,
    pub id_token_alg: Option<String>,
}

impl ClientAmendment {
    fn changes(self, now: Timestamp) -> Result<ClientChanges, ApiError> {
        Ok(ClientChanges {
            name: self.name,
            redirect_uris: self
                .redirect_uris
                .map(|uris| uris.iter().map(|uri| RedirectUri::parse(uri)).collect::<Result<_, _>>())
                .transpose()
                .map_err(ApiError::invalid)?,
            grant_types: self
                .grant_types
                .map(|grants| grants.iter().map(|grant| GrantType::parse(grant)).collect::<Result<_, _>>())
                .transpose()
                .map_err(ApiError::invalid)?,
            scope: self.scopes.map(Scope::from_tokens).transpose().map_err(ApiError::invalid)?,
            access_token_ttl_seconds: self.access_token_ttl,
            refresh_token_ttl_seconds: self.refresh_token_ttl,
            id_token_signing_alg: self.id_token_alg.as_deref().map(signing_alg).transpose()?,
            updated_at: now,
        })
    }
}

/// `PATCH /admin/clients/{id}`, `latchkey client amend`: checked by the same rules as a new registration,
/// against the client as it is inside the transaction; only the fields given are written.
pub async fn amend_client(
    ctx: &Context,
    id: &str,
    amendment: ClientAmendment,
) -> Result<ClientView, ApiError> {
    let id = registered(id)?;
    let changes = amendment.changes(ctx.now())?;
    let client = tx::write_async(&ctx.store, move |repo| {
        let current = repo.find_client_for_update(&id)?.ok_or(StoreError::NotFound)?;
        let changed = changes.applied_to(&current);
        changed.validate().map_err(|e| OAuthError::invalid_request(e.to_string()))?;
        check_grants_built_in(&changed.grant_types)?;
        repo.amend_client(&id, &changes)?;
        Ok(changed)
    })
    .await?;
    Ok(ClientView::of(&client))
}

/// `POST /admin/clients/{id}/secret`, `latchkey client rotate-secret`: a new generated secret, in this
/// answer only; the old one stops working at once.
pub async fn rotate_client_secret(ctx: &Context, id: &str) -> Result<ClientWithSecret, ApiError> {
    let id = registered(id)?;
    let (secret, now) = (PlainSecret::generate(SecretKind::ClientSecret, &mut rand::rngs::OsRng), ctx.now());
    let hash = secret.hash(ctx.store.hasher()?);
    let client = tx::write_async(&ctx.store, move |repo| {
        let replaced = repo.replace_client_secret(&id, &hash, now)?;
        let client = repo.find_client(&id)?.ok_or(StoreError::NotFound)?;
        if !replaced {
            let why = "only a client that authenticates with a secret has one to rotate";
            return Err(OAuthError::invalid_request(why).into());
        }
        Ok(client)
    })
    .await?;
    Ok(ClientWithSecret { view: ClientView::of(&client), client_secret: Some(secret) })
}

/// `DELETE /admin/clients/{id}`, `latchkey client delete`: the client and every token it held.
pub async fn delete_client(ctx: &Context, id: &str) -> Result<(), ApiError> {
    let id = registered(id)?;
    ctx.store.write_async(move |repo| repo.delete_client(&id)).await?;
    Ok(())
}

/// `POST /admin/clients/{id}/revoke`, `latchkey revoke-client`: every token of the client (an app reset),
/// with every personal token made through its grants; other clients' tokens are untouched.
pub async fn revoke_client(ctx: &Context, id: &str) -> Result<u64, ApiError> {
    let (id, now) = (registered(id)?, ctx.now());
    let revoked = ctx.store.write_async(move |repo| revoke_all::client(repo, &id, now)).await?;
    revoked.ok_or(ApiError::NotFound)
}
