//! The admin API (docs/API.md): every operator action of `latchkey_endpoints::operations`, behind the admin
//! credential (RFC 6750 §2.1). A missing or wrong credential is 401 for every path under `/admin`, so the
//! API's shape cannot be probed.

use crate::error::WebError;
use crate::http::{is_operator, json, json_body, not_operator, query, state, Operator};
use crate::metrics::Revoked;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse, Route};
use latchkey_core::personal::Origin;
use latchkey_endpoints::operations::{self, clients, tokens, users, Operation, PageQuery};
use latchkey_endpoints::ApiError;

/// The route of each operation: method, path under `/admin`, handler.
pub fn route(operation: Operation) -> (Method, &'static str, Route) {
    let to = |method: Method| web::method(method);
    match operation {
        Operation::CreateUser => (Method::POST, "/users", to(Method::POST).to(create_user)),
        Operation::ListUsers => (Method::GET, "/users", to(Method::GET).to(list_users)),
        Operation::GetUser => (Method::GET, "/users/{name}", to(Method::GET).to(get_user)),
        Operation::AmendUser => (Method::PATCH, "/users/{name}", to(Method::PATCH).to(amend_user)),
        Operation::DeleteUser => (Method::DELETE, "/users/{name}", to(Method::DELETE).to(delete_user)),
        Operation::RevokeUser => (Method::POST, "/users/{name}/revoke", to(Method::POST).to(revoke_user)),
        Operation::CreateClient => (Method::POST, "/clients", to(Method::POST).to(create_client)),
        Operation::ListClients => (Method::GET, "/clients", to(Method::GET).to(list_clients)),
        Operation::GetClient => (Method::GET, "/clients/{id}", to(Method::GET).to(get_client)),
        Operation::AmendClient => (Method::PATCH, "/clients/{id}", to(Method::PATCH).to(amend_client)),
        Operation::RotateClientSecret => {
            (Method::POST, "/clients/{id}/secret", to(Method::POST).to(rotate_secret))
        }
        Operation::DeleteClient => (Method::DELETE, "/clients/{id}", to(Method::DELETE).to(delete_client)),
        Operation::RevokeClient => (Method::POST, "/clients/{id}/revoke", to(Method::POST).to(revoke_client)),
        Operation::CreateToken => (Method::POST, "/tokens", to(Method::POST).to(create_token)),
        Operation::ListTokens => (Method::GET, "/tokens", to(Method::GET).to(list_tokens)),
        Operation::GetToken => (Method::GET, "/tokens/{id}", to(Method::GET).to(get_token)),
        Operation::AmendToken => (Method::PATCH, "/tokens/{id}", to(Method::PATCH).to(amend_token)),
        Operation::RevokeToken => (Method::DELETE, "/tokens/{id}", to(Method::DELETE).to(revoke_token)),
        Operation::RotateKeys => (Method::POST, "/keys/rotate", to(Method::POST).to(rotate_keys)),
    }
}

pub fn configure(config: &mut web::ServiceConfig) {
    let mut scope = web::scope("/admin").wrap(actix_web::middleware::from_fn(guard));
    let mut paths: Vec<&'static str> = Vec::new();
    for operation in Operation::ALL {
        let (_, path, _) = route(operation);
        if !paths.contains(&path) {
            paths.push(path);
        }
    }
    // One resource per path, so a known path asked with another method is 405, not 404.
    for path in paths {
        let here: Vec<Operation> = Operation::ALL.into_iter().filter(|op| route(*op).1 == path).collect();
        let allow: Vec<String> = here.iter().map(|op| route(*op).0.to_string()).collect();
        let mut resource = web::resource(path);
        for operation in here {
            resource = resource.route(route(operation).2);
        }
        scope = scope.service(resource.default_service(super::allowing(allow.join(", "))));
    }
    config.service(scope.default_service(web::to(unknown)));
}

/// In front of everything under `/admin`, so that no answer (a 404, a 405 for a wrong method) reveals the
/// API's shape to a caller without the credential.
async fn guard(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if !is_operator(request.request()) {
        let refused = actix_web::ResponseError::error_response(&not_operator(request.request()));
        return Ok(request.into_response(refused).map_into_right_body());
    }
    next.call(request).await.map(ServiceResponse::map_into_left_body)
}

async fn unknown(_: Operator) -> Result<HttpResponse, WebError> {
    Err(WebError::Api(ApiError::NotFound))
}

type Answer = Result<HttpResponse, WebError>;

fn ok(status: StatusCode, body: Result<impl serde::Serialize, ApiError>) -> Answer {
    Ok(json(status, body.map_err(WebError::Api)?))
}

fn gone(result: Result<(), ApiError>) -> Answer {
    result.map_err(WebError::Api)?;
    Ok(HttpResponse::NoContent().finish())
}

async fn create_user(_: Operator, request: HttpRequest, body: web::Bytes) -> Answer {
    let ctx = &state(&request)?.ctx;
    let (body, now) = (json_body(&request, &body)?, ctx.now());
    let user = operations::blocking(move || users::prepare_user(body, now)).await.map_err(WebError::Api)?;
    ok(StatusCode::CREATED, users::create_user(ctx, user.map_err(WebError::Api)?).await)
}

async fn list_users(_: Operator, request: HttpRequest) -> Answer {
    let page = query::<PageQuery>(&request)?.page().map_err(WebError::Api)?;
    ok(StatusCode::OK, users::list_users(&state(&request)?.ctx, page).await)
}

async fn get_user(_: Operator, request: HttpRequest, name: web::Path<String>) -> Answer {
    ok(StatusCode::OK, users::get_user(&state(&request)?.ctx, &name).await)
}

async fn amend_user(_: Operator, request: HttpRequest, name: web::Path<String>, body: web::Bytes) -> Answer {
    ok(StatusCode::OK, users::amend_user(&state(&request)?.ctx, &name, json_body(&request, &body)?).await)
}

async fn delete_user(_: Operator, request: HttpRequest, name: web::Path<String>) -> Answer {
    gone(users::delete_user(&state(&request)?.ctx, &name).await)
}

async fn revoke_user(_: Operator, request: HttpRequest, name: web::Path<String>) -> Answer {
    let state = state(&request)?;
    let revoked = users::revoke_user(&state.ctx, &name).await;
    if let Ok(revocation) = &revoked {
        state.metrics.revoked(Revoked::User, revocation.revoked);
    }
    ok(StatusCode::OK, revoked)
}

async fn create_client(_: Operator, request: HttpRequest, body: web::Bytes) -> Answer {
    let ctx = &state(&request)?.ctx;
    let hasher = ctx.store.hasher().map_err(|e| WebError::Api(e.into()))?;
    let (client, secret) =
        clients::prepare_client(json_body(&request, &body)?, hasher, ctx.now()).map_err(WebError::Api)?;
    ok(StatusCode::CREATED, clients::create_client(ctx, client, secret).await)
}

async fn list_clients(_: Operator, request: HttpRequest) -> Answer {
    let page = query::<PageQuery>(&request)?.page().map_err(WebError::Api)?;
    ok(StatusCode::OK, clients::list_clients(&state(&request)?.ctx, page).await)
}

async fn get_client(_: Operator, request: HttpRequest, id: web::Path<String>) -> Answer {
    ok(StatusCode::OK, clients::get_client(&state(&request)?.ctx, &id).await)
}

async fn amend_client(_: Operator, request: HttpRequest, id: web::Path<String>, body: web::Bytes) -> Answer {
    ok(StatusCode::OK, clients::amend_client(&state(&request)?.ctx, &id, json_body(&request, &body)?).await)
}

async fn rotate_secret(_: Operator, request: HttpRequest, id: web::Path<String>) -> Answer {
    ok(StatusCode::OK, clients::rotate_client_secret(&state(&request)?.ctx, &id).await)
}

async fn delete_client(_: Operator, request: HttpRequest, id: web::Path<String>) -> Answer {
    gone(clients::delete_client(&state(&request)?.ctx, &id).await)
}

async fn revoke_client(_: Operator, request: HttpRequest, id: web::Path<String>) -> Answer {
    let state = state(&request)?;
    let revoked = clients::revoke_client(&state.ctx, &id).await;
    if let Ok(count) = &revoked {
        state.metrics.revoked(Revoked::Client, *count);
    }
    ok(StatusCode::OK, revoked.map(|revoked| serde_json::json!({ "revoked": revoked })))
}

async fn create_token(_: Operator, request: HttpRequest, body: web::Bytes) -> Answer {
    let (owner, token) = tokens::owned_token(json_body(&request, &body)?).map_err(WebError::Api)?;
    ok(StatusCode::CREATED, tokens::create_token(&state(&request)?.ctx, owner, token, Origin::Admin).await)
}

async fn list_tokens(_: Operator, request: HttpRequest) -> Answer {
    ok(StatusCode::OK, tokens::list_tokens(&state(&request)?.ctx, query(&request)?).await)
}

async fn get_token(_: Operator, request: HttpRequest, id: web::Path<String>) -> Answer {
    ok(StatusCode::OK, tokens::get_token(&state(&request)?.ctx, &id).await)
}

async fn amend_token(_: Operator, request: HttpRequest, id: web::Path<String>, body: web::Bytes) -> Answer {
    ok(StatusCode::OK, tokens::amend_token(&state(&request)?.ctx, &id, json_body(&request, &body)?).await)
}

async fn revoke_token(_: Operator, request: HttpRequest, id: web::Path<String>) -> Answer {
    let state = state(&request)?;
    let revoked = tokens::revoke_token(&state.ctx, &id).await;
    if let Ok(count) = &revoked {
        state.metrics.revoked(Revoked::One, *count);
    }
    gone(revoked.map(|_| ()))
}

async fn rotate_keys(_: Operator, request: HttpRequest) -> Answer {
    let rotated = operations::rotate_keys(&state(&request)?.ctx).await;
    ok(
        StatusCode::OK,
        rotated.map(
            |(kids, signs_from)| serde_json::json!({ "kids": kids, "signs_from": signs_from.unix_seconds() }),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_operation_has_one_route_and_no_two_share_one() {
        let routes: BTreeSet<(String, &str)> = Operation::ALL
            .iter()
            .map(|op| route(*op))
            .map(|(method, path, _)| (method.to_string(), path))
            .collect();
        assert_eq!(routes.len(), Operation::ALL.len());
    }
}
