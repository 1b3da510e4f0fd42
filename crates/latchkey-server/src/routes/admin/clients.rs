//! `/admin/clients`: clients, their secrets, and the reserved client of personal tokens.

use super::{page_of, require_admin, PageQuery};
use crate::app::AppState;
use crate::http_error::HttpError;
use crate::routes::owner_tokens::{bad_request, json, parse_body};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use latchkey_core::personal;
use latchkey_core::registration::{register_client, NewClient, SecretChoice};
use latchkey_model::{Client, ClientCredentials, ClientId, Scope, SigningAlgorithm};
use serde::Deserialize;
use serde_json::Value;

/// A client as the admin API shows it: never a secret or its hash.
fn client_view(client: &Client) -> Value {
    let authentication = match client.credentials {
        ClientCredentials::Public => "none",
        ClientCredentials::Secret(_) => "client_secret",
        ClientCredentials::PrivateKeyJwt { .. } => "private_key_jwt",
    };
    serde_json::json!({
        "id": client.id.as_str(),
        "name": client.name,
        "authentication": authentication,
        "redirect_uris": client.redirect_uris.iter().map(|uri| uri.as_str()).collect::<Vec<_>>(),
        "grant_types": client.grant_types.iter().map(|grant| grant.as_str()).collect::<Vec<_>>(),
        "scopes": client.scope.iter().collect::<Vec<_>>(),
        "access_token_ttl": client.access_token_ttl_seconds,
        "refresh_token_ttl": client.refresh_token_ttl_seconds,
        "id_token_alg": client.id_token_signing_alg.as_str(),
        "createdAt": client.created_at.unix_millis(),
        "updatedAt": client.updated_at.unix_millis(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateClient {
    id: String,
    name: Option<String>,
    #[serde(default)]
    public: bool,
    secret: Option<String>,
    #[serde(default)]
    redirect_uris: Vec<String>,
    grant_types: Vec<String>,
    #[serde(default)]
    scopes: Vec<String>,
    access_token_ttl: Option<i64>,
    refresh_token_ttl: Option<i64>,
    id_token_alg: Option<String>,
}

fn signing_alg(text: Option<&str>) -> Result<SigningAlgorithm, HttpError> {
    match text {
        None => Ok(SigningAlgorithm::default()),
        Some(text) => SigningAlgorithm::parse(text)
            .ok_or_else(|| bad_request("id_token_alg must be RS256, ES256 or EdDSA")),
    }
}

/// `POST /admin/clients`: a confidential client without a `secret` gets a generated one, in this response
/// only (`client_secret`).
pub async fn create_client(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, HttpError> {
    require_admin(&request, &state)?;
    let body: CreateClient = parse_body(&request, &body)?;
    let secret = match (body.public, body.secret) {
        (true, Some(_)) => return Err(bad_request("a public client has no secret")),
        (true, None) => SecretChoice::Public,
        (false, Some(secret)) => SecretChoice::Given(secret),
        (false, None) => SecretChoice::Generate,
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
        id_token_signing_alg: signing_alg(body.id_token_alg.as_deref())?,
    };
    let (client, shown_once) =
        register_client(new, state.clock.now(), &mut rand::rngs::OsRng).map_err(bad_request)?;
    let stored = client.clone();
    state.store.write_async(move |repo| repo.insert_client(&stored)).await?;
    let mut view = client_view(&client);
    if let Some(secret) = shown_once {
        view["client_secret"] = Value::from(secret.expose());
    }
    Ok(json(StatusCode::CREATED, view))
}

/// `GET /admin/clients`.
pub async fn list_clients(
    request: HttpRequest,
    state: web::Data<AppState>,
    query: Result<web::Query<PageQuery>, actix_web::Error>,
) -> Result<HttpResponse, HttpError> {
    require_admin(&request, &state)?;
    let query = query.map_err(bad_request)?.into_inner();
    let page = page_of(query.limit, query.cursor);
    let found = state.store.read_async(move |repo| repo.list_clients(&page)).await?;
    let clients: Vec<Value> = found.items.iter().map(client_view).collect();
    Ok(json(
        StatusCode::OK,
        serde_json::json!({ "clients": clients, "next": found.next.map(|c| c.as_str().to_owned()) }),
    ))
}

/// The client that holds users' personal tokens is Latchkey's own: changing or deleting it would break or
/// delete every personal token.
fn refuse_reserved(id: &str) -> Result<(), HttpError> {
    if id == personal::PERSONAL_CLIENT {
        return Err(bad_request("this client is reserved for personal tokens"));
    }
    Ok(())
}

async fn find_client(state: &AppState, id: &str) -> Result<Client, HttpError> {
    let Ok(id) = ClientId::parse(id) else { return Err(HttpError::NotFound) };
    state.store.read_async(move |repo| repo.find_client(&id)).await?.ok_or(HttpError::NotFound)
}

/// `GET /admin/clients/{id}`.
pub async fn get_client(
    request: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    require_admin(&request, &state)?;
    Ok(json(StatusCode::OK, client_view(&find_client(&state, &id).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AmendClient {
    name: Option<String>,
    redirect_uris: Option<Vec<String>>,
    grant_types: Option<Vec<String>>,
    scopes: Option<Vec<String>>,
    access_token_ttl: Option<i64>,
    refresh_token_ttl: Option<Option<i64>>,
    id_token_alg: Option<String>,
}

/// `PATCH /admin/clients/{id}`: the client's registration, checked by the same rules as a new one.
pub async fn amend_client(
    request: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, HttpError> {
    require_admin(&request, &state)?;
    let body: AmendClient = parse_body(&request, &body)?;
    refuse_reserved(&id)?;
    let mut client = find_client(&state, &id).await?;
    if let Some(name) = body.name {
        client.name = name;
    }
    if let Some(uris) = body.redirect_uris {
        client.redirect_uris = uris
            .iter()
            .map(|uri| latchkey_model::RedirectUri::parse(uri))
            .collect::<Result<_, _>>()
            .map_err(bad_request)?;
    }
    if let Some(grants) = body.grant_types {
        client.grant_types = grants
            .iter()
            .map(|grant| latchkey_model::GrantType::parse(grant))
            .collect::<Result<_, _>>()
            .map_err(bad_request)?;
    }
    if let Some(scopes) = body.scopes {
        client.scope = Scope::from_tokens(&scopes).map_err(bad_request)?;
    }
    if let Some(ttl) = body.access_token_ttl {
        client.access_token_ttl_seconds = ttl;
    }
    if let Some(ttl) = body.refresh_token_ttl {
        client.refresh_token_ttl_seconds = ttl;
    }
    if body.id_token_alg.is_some() {
        client.id_token_signing_alg = signing_alg(body.id_token_alg.as_deref())?;
    }
    client.validate().map_err(bad_request)?;
    client.updated_at = state.clock.now();
    let saved = client.clone();
    state.store.write_async(move |repo| repo.update_client(&saved)).await?;
    Ok(json(StatusCode::OK, client_view(&client)))
}

/// `POST /admin/clients/{id}/secret`: a new generated secret, in this response only; the old one stops
/// working at once.
pub async fn rotate_client_secret(
    request: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    require_admin(&request, &state)?;
    refuse_reserved(&id)?;
    let mut client = find_client(&state, &id).await?;
    if !matches!(client.credentials, ClientCredentials::Secret(_)) {
        return Err(bad_request("only a client that authenticates with a secret has one to rotate"));
    }
    let secret = latchkey_model::PlainSecret::generate(
        latchkey_model::SecretKind::ClientSecret,
        &mut rand::rngs::OsRng,
    );
    client.credentials = ClientCredentials::Secret(secret.hash());
    client.updated_at = state.clock.now();
    let saved = client.clone();
    state.store.write_async(move |repo| repo.update_client(&saved)).await?;
    let mut view = client_view(&client);
    view["client_secret"] = Value::from(secret.expose());
    Ok(json(StatusCode::OK, view))
}

/// `DELETE /admin/clients/{id}`: the client and every token it held.
pub async fn delete_client(
    request: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    require_admin(&request, &state)?;
    refuse_reserved(&id)?;
    let Ok(id) = ClientId::parse(&id) else { return Err(HttpError::NotFound) };
    state.store.write_async(move |repo| repo.delete_client(&id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
