//! The JSON Web Key Set (RFC 7517 §5): every published signing key.

use crate::app::AppState;
use actix_web::http::header;
use actix_web::{web, HttpResponse};

pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        // Short enough that clients see a rotation within a minute.
        .insert_header((header::CACHE_CONTROL, "public, max-age=60"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .json(state.keys().jwks())
}
