//! `/metrics`: Prometheus text for the bearer of `metrics_token`, by route pattern, never by path.

use crate::on_both_backends;
use crate::support::{tokens_for, Fixture, TestApp, TestDatabase, SERVICE};
use latchkey_server::config::{AdminToken, Setting};

on_both_backends!(
    metrics_count_requests_tokens_and_refusals_for_their_credential_only,
    no_metrics_without_a_credential
);

const METRICS_TOKEN: &str = "metrics-token-0123456789abcdef-0123456789";

async fn scrape(fixture: &Fixture, bearer: Option<&str>) -> reqwest::Response {
    let request = fixture.app.http.get(fixture.url("/metrics"));
    match bearer {
        Some(bearer) => request.bearer_auth(bearer),
        None => request,
    }
    .send()
    .await
    .unwrap()
}

/// The value of the sample `line` starts with, if any.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

async fn metrics_count_requests_tokens_and_refusals_for_their_credential_only(db: TestDatabase) {
    let fixture = Fixture::with(db, |config| {
        config.metrics_token = Some(<AdminToken as Setting>::parse(METRICS_TOKEN).unwrap());
        config.rate_limit_client = Setting::parse("60/2").unwrap();
    })
    .await;
    assert_eq!(scrape(&fixture, None).await.status(), 401);
    assert_eq!(scrape(&fixture, Some("wrong-token-0123456789abcdef-0123456789")).await.status(), 401);

    let issued = fixture.token(SERVICE, &[("grant_type", "client_credentials")]).await;
    let access_token =
        issued.json::<serde_json::Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();
    fixture.token(SERVICE, &[("grant_type", "client_credentials")]).await;
    assert_eq!(fixture.token(SERVICE, &[("grant_type", "client_credentials")]).await.status(), 429);
    let personal =
        tokens_for(&fixture, "openid latchkey:tokens").await["access_token"].as_str().unwrap().to_owned();
    let unknown =
        fixture.call(reqwest::Method::GET, "/api/tokens/AAAAAAAAAAAAAAAAAAAAAA", &personal, None).await;
    assert_eq!(unknown.status(), 404);

    // Any token is a method: counted as "other", so a label cannot grow without bound.
    let odd = reqwest::Method::from_bytes(b"FROBNICATE").unwrap();
    fixture.app.http.request(odd, fixture.url("/nowhere")).send().await.unwrap();

    let scraped = scrape(&fixture, Some(METRICS_TOKEN)).await;
    assert_eq!(scraped.status(), 200);
    assert!(scraped.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = scraped.text().await.unwrap();
    let count = |series: &str| sample(&text, series).unwrap_or_else(|| panic!("no {series} in\n{text}"));
    assert_eq!(
        count(r#"latchkey_http_requests_total{route="/token",method="POST",status="200"}"#),
        3.0,
        "two here, one in tokens_for"
    );
    assert_eq!(count(r#"latchkey_http_requests_total{route="/token",method="POST",status="429"}"#), 1.0);
    assert_eq!(count(r#"latchkey_rate_limited_total{route="/token"}"#), 1.0);
    assert_eq!(count(r#"latchkey_tokens_issued_total{grant="client_credentials"}"#), 2.0);
    assert_eq!(count(r#"latchkey_tokens_issued_total{grant="authorization_code"}"#), 1.0);
    assert_eq!(count(r#"latchkey_http_request_duration_seconds_count{route="/token"}"#), 4.0);
    assert_eq!(count(r#"latchkey_http_request_duration_seconds_bucket{route="/token",le="+Inf"}"#), 4.0);
    assert!(
        count(r#"latchkey_http_requests_total{route="/api/tokens/{id}",method="GET",status="404"}"#) >= 1.0
    );
    assert!(!text.contains("AAAAAAAAAAAAAAAAAAAAAA"), "paths are not labels");
    assert!(!text.contains("FROBNICATE") && !text.contains("/nowhere"), "nor methods or unknown paths");
    assert_eq!(count(r#"latchkey_http_requests_total{route="unmatched",method="other",status="404"}"#), 1.0);
    assert!(!text.contains(&access_token) && !text.contains(&personal), "no secret");
    assert!(text.contains("# TYPE latchkey_http_request_duration_seconds histogram"));
    assert!(sample(&text, "latchkey_db_connections").is_some());
}

async fn no_metrics_without_a_credential(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    assert_eq!(app.get("/metrics").await.status(), 404);
}
