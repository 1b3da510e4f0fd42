//! The route table: each path to its handler. Handlers extract typed input, call the endpoint layer and
//! render its answer; they share HTTP helpers (`crate::http`) and import no other route.

pub mod admin;
mod authorize;
mod documents;
mod logout;
mod owner_tokens;
mod token;
mod userinfo;

use crate::pages;
use actix_web::{web, HttpResponse};

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/healthz", web::get().to(documents::alive))
        .route("/readyz", web::get().to(documents::ready))
        .route("/metrics", web::get().to(documents::metrics))
        .route("/.well-known/openid-configuration", web::get().to(documents::metadata))
        .route("/.well-known/oauth-authorization-server", web::get().to(documents::metadata))
        .route("/jwks.json", web::get().to(documents::jwks))
        .route("/authorize", web::get().to(authorize::authorize_get))
        .route("/authorize", web::post().to(authorize::authorize_post))
        .route("/login", web::get().to(authorize::login_page))
        .route("/login", web::post().to(authorize::login_submit))
        .route("/consent", web::get().to(authorize::consent_page))
        .route("/consent", web::post().to(authorize::consent_submit))
        .route("/logout", web::get().to(logout::logout_page))
        .route("/logout", web::post().to(logout::logout_submit))
        // RFC 6749 §3.2: POST only; anything else is told so instead of "not found".
        .service(
            web::resource("/token").route(web::post().to(token::token)).default_service(allowing("POST")),
        )
        .service(
            web::resource("/introspect")
                .route(web::post().to(token::introspect))
                .default_service(allowing("POST")),
        )
        .service(
            web::resource("/revoke").route(web::post().to(token::revoke)).default_service(allowing("POST")),
        )
        .route("/userinfo", web::get().to(userinfo::userinfo))
        .route("/userinfo", web::post().to(userinfo::userinfo))
        .service(
            web::scope("/api/tokens")
                .service(
                    web::resource("")
                        .route(web::get().to(owner_tokens::list))
                        .route(web::post().to(owner_tokens::create))
                        .default_service(allowing("GET, POST")),
                )
                .service(
                    web::resource("/{id}")
                        .route(web::get().to(owner_tokens::get))
                        .route(web::patch().to(owner_tokens::amend))
                        .route(web::delete().to(owner_tokens::delete))
                        .default_service(allowing("GET, PATCH, DELETE")),
                ),
        )
        .configure(admin::configure)
        .route("/static/style.css", web::get().to(pages::stylesheet))
        .route("/static/form_post.js", web::get().to(pages::form_post_script));
}

/// The answer to a method a resource does not take: 405 naming those it does.
pub(crate) fn allowing(allow: impl Into<String>) -> actix_web::Route {
    let allow = allow.into();
    web::to(move || {
        let allow = allow.clone();
        async move { Err::<HttpResponse, _>(crate::error::WebError::MethodNotAllowed { allow }) }
    })
}
