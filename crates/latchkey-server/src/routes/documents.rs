//! What anyone may read: liveness and readiness, the server metadata (RFC 8414, OpenID Connect Discovery)
//! and the JSON Web Key Set (RFC 7517 §5).

use crate::app::AppState;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use latchkey_store::StoreError;
use serde_json::json;

/// The process answers: no database involved, so a database outage does not get the server restarted.
pub async fn alive() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "alive" }))
}

/// The database can serve requests now, and the signing keys are current (a rotation made elsewhere has
/// been seen); 503 sends traffic elsewhere until both hold.
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let ctx = &state.ctx;
    let keys_stale =
        || StoreError::Unavailable("the signing keys could not be reloaded for a minute or more".into());
    let ready = match ctx.store.ping_async().await {
        Ok(()) if ctx.keys.stale(ctx.now()) => Err(keys_stale()),
        other => other,
    };
    match ready {
        Ok(()) => HttpResponse::Ok().json(json!({ "status": "ready" })),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            HttpResponse::ServiceUnavailable()
                .insert_header((header::RETRY_AFTER, "5"))
                .json(json!({ "status": "unavailable" }))
        }
    }
}

pub async fn metadata(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .content_type(header::ContentType::json())
        .body(state.discovery.clone())
}

const JWKS_CACHE_CONTROL: &str = "public, max-age=60";
const _: () = assert!(latchkey_endpoints::keys::JWKS_CACHE_SECONDS == 60, "JWKS_CACHE_CONTROL says 60");

pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        // A rotation's keys sign only after this has passed (latchkey_endpoints::keys::PUBLISH_AHEAD_SECONDS).
        .insert_header((header::CACHE_CONTROL, JWKS_CACHE_CONTROL))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .content_type(header::ContentType::json())
        .body(state.ctx.keys.current().jwks_json().to_owned())
}

/// `/metrics` (see [`crate::metrics`]): for the bearer of `metrics_token` only; without the setting, 404.
pub async fn metrics(request: actix_web::HttpRequest) -> Result<HttpResponse, crate::error::WebError> {
    let state = crate::http::state(&request)?;
    let Some(expected) = &state.metrics_token else {
        return Err(crate::error::WebError::Api(latchkey_endpoints::ApiError::NotFound));
    };
    match crate::http::bearer_header(&request) {
        Ok(Some(presented)) if expected.verify(&presented) => {}
        _ => return Err(crate::http::not_operator(&request)),
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(&state.ctx.store)))
}
