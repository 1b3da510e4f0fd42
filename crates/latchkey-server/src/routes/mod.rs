mod admin;
pub mod authorize;
mod discovery;
mod health;
mod introspect;
mod jwks;
mod logout;
pub(crate) mod owner_tokens;
mod revoke;
pub mod token;
mod userinfo;

pub use discovery::document as discovery_document;

use crate::pages;
use actix_web::web;

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/healthz", web::get().to(health::alive))
        .route("/readyz", web::get().to(health::ready))
        .route("/.well-known/openid-configuration", web::get().to(discovery::metadata))
        .route("/.well-known/oauth-authorization-server", web::get().to(discovery::metadata))
        .route("/jwks.json", web::get().to(jwks::jwks))
        .route("/authorize", web::get().to(authorize::authorize_get))
        .route("/authorize", web::post().to(authorize::authorize_post))
        .route("/login", web::get().to(authorize::login_page))
        .route("/login", web::post().to(authorize::login_submit))
        .route("/consent", web::get().to(authorize::consent_page))
        .route("/consent", web::post().to(authorize::consent_submit))
        .route("/logout", web::get().to(logout::logout_page))
        .route("/logout", web::post().to(logout::logout_submit))
        .service(
            // RFC 6749 §3.2: POST only; anything else is told so instead of "not found".
            web::resource("/token")
                .route(web::post().to(token::token))
                .default_service(web::to(method_not_allowed)),
        )
        .service(
            web::resource("/introspect")
                .route(web::post().to(introspect::introspect))
                .default_service(web::to(method_not_allowed)),
        )
        .service(
            web::resource("/revoke")
                .route(web::post().to(revoke::revoke))
                .default_service(web::to(method_not_allowed)),
        )
        .route("/userinfo", web::get().to(userinfo::userinfo))
        .route("/userinfo", web::post().to(userinfo::userinfo))
        .service(
            web::scope("/api/tokens")
                .route("", web::get().to(owner_tokens::list))
                .route("", web::post().to(owner_tokens::create))
                .route("/{id}", web::get().to(owner_tokens::get))
                .route("/{id}", web::patch().to(owner_tokens::amend))
                .route("/{id}", web::delete().to(owner_tokens::delete)),
        )
        .service(
            web::scope("/admin")
                .wrap(actix_web::middleware::from_fn(admin::guard))
                .route("/users", web::get().to(admin::list_users))
                .route("/users", web::post().to(admin::create_user))
                .route("/users/{username}", web::get().to(admin::get_user))
                .route("/users/{username}", web::patch().to(admin::amend_user))
                .route("/users/{username}", web::delete().to(admin::delete_user))
                .route("/users/{username}/revoke", web::post().to(admin::revoke_user))
                .route("/clients", web::get().to(admin::list_clients))
                .route("/clients", web::post().to(admin::create_client))
                .route("/clients/{id}", web::get().to(admin::get_client))
                .route("/clients/{id}", web::patch().to(admin::amend_client))
                .route("/clients/{id}", web::delete().to(admin::delete_client))
                .route("/clients/{id}/secret", web::post().to(admin::rotate_client_secret))
                .route("/clients/{id}/revoke", web::post().to(admin::revoke_client))
                .route("/tokens", web::get().to(admin::list_tokens))
                .route("/tokens", web::post().to(admin::create_token))
                .route("/tokens/{id}", web::get().to(admin::get_token))
                .route("/tokens/{id}", web::patch().to(admin::amend_token))
                .route("/tokens/{id}", web::delete().to(admin::delete_token))
                .route("/keys/rotate", web::post().to(admin::rotate_keys))
                .default_service(web::to(admin::unknown)),
        )
        .route("/static/style.css", web::get().to(pages::stylesheet))
        .route("/static/form_post.js", web::get().to(pages::form_post_script));
}

async fn method_not_allowed() -> actix_web::HttpResponse {
    actix_web::HttpResponse::MethodNotAllowed()
        .insert_header((actix_web::http::header::ALLOW, "POST"))
        .json(serde_json::json!({ "error": "invalid_request", "error_description": "use POST" }))
}
