//! Liveness and readiness, for load balancers and orchestrators.

use crate::app::AppState;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde_json::json;

/// The process answers: no database involved, so a database outage does not get the server restarted.
pub async fn alive() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "alive" }))
}

/// The database can serve requests now; 503 sends traffic elsewhere until it can.
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    match state.store.ping_async().await {
        Ok(()) => HttpResponse::Ok().json(json!({ "status": "ready" })),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            HttpResponse::ServiceUnavailable()
                .insert_header((header::RETRY_AFTER, "5"))
                .json(json!({ "status": "unavailable" }))
        }
    }
}
