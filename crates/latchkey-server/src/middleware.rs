use crate::error::WebError;
use crate::http::{MAX_BODY_BYTES, MAX_FORM_BYTES};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{DefaultHeaders, Next};
use std::time::Instant;

/// The paths that are pages: whatever they answer is HTML.
fn is_page(path: &str) -> bool {
    matches!(path, "/authorize" | "/login" | "/consent" | "/logout")
}

/// Headers every response carries unless a handler set its own. `frame-ancestors 'none'` and
/// `X-Frame-Options` stop clickjacking (RFC 6749 §10.13); `no-store` keeps tokens out of caches (§5.1).
pub fn security_headers(https: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::CACHE_CONTROL, "no-store"));
    if https {
        headers.add((header::STRICT_TRANSPORT_SECURITY, "max-age=31536000"))
    } else {
        headers
    }
}

/// Refuses a declared body over the limit (a form's is smaller) before any handler reads it. Bodies without
/// a length (chunked) are bounded when read.
pub async fn limit_body(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    let limit = if crate::http::is_form(request.request()) { MAX_FORM_BYTES } else { MAX_BODY_BYTES };
    if declared.is_some_and(|length| length > limit as u64) {
        let response =
            actix_web::ResponseError::error_response(&WebError::TooLarge { page: is_page(request.path()) });
        return Ok(request.into_response(response).map_into_right_body());
    }
    next.call(request).await.map(ServiceResponse::map_into_left_body)
}

/// Names a request in every log line it causes and in its `X-Request-Id` answer header.
pub const REQUEST_ID: &str = "x-request-id";

/// The request's id: the one a trusted proxy in front set, when it is a plain token (letters, digits, `.`, `_`,
/// `-`, at most 64), so it cannot forge log lines; else a new random one.
fn request_id(request: &ServiceRequest) -> String {
    let from_proxy = request
        .app_data::<actix_web::web::Data<crate::app::AppState>>()
        .zip(request.peer_addr())
        .is_some_and(|(state, peer)| state.trusted_proxies.trusts(peer.ip()));
    let given = request.headers().get(REQUEST_ID).and_then(|value| value.to_str().ok()).filter(|id| {
        from_proxy
            && !id.is_empty()
            && id.len() <= 64
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    });
    match given {
        Some(id) => id.to_owned(),
        None => format!("{:016x}", rand::random::<u64>()),
    }
}

/// One structured line per request, and a span with the request's id around everything it logs. The path
/// is logged without its query string: queries can carry authorization codes and other secrets.
pub async fn log_request(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    use tracing::Instrument;
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.path().to_owned();
    let id = request_id(&request);
    let span = tracing::info_span!("request", request_id = %id);
    let mut response = next.call(request).instrument(span.clone()).await?;
    if let Ok(value) = header::HeaderValue::from_str(&id) {
        response.headers_mut().insert(header::HeaderName::from_static(REQUEST_ID), value);
    }
    let (status, elapsed) = (response.status().as_u16(), started.elapsed().as_secs_f64());
    if let Some(state) = response.request().app_data::<actix_web::web::Data<crate::app::AppState>>() {
        // The pattern, never the path: `/api/tokens/{id}`, and one label for every unknown path.
        let route = response.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
        // Methods too come from a fixed set: any token is a valid method, and a label may not grow.
        let counted = match method.as_str() {
            known @ ("GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS") => known,
            _ => "other",
        };
        state.metrics.request(&route, counted, status, elapsed);
    }
    span.in_scope(|| tracing::info!(%method, path, status, elapsed_ms = elapsed * 1000.0, "request"));
    Ok(response)
}
