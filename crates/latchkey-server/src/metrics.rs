//! `/metrics` in the Prometheus text exposition format (version 0.0.4): requests by route pattern, method
//! and status with a latency histogram per route, tokens issued by grant and revoked by way, failed logins,
//! rate-limit refusals, and the store's pool and group-commit figures. Routes are counted by their pattern
//! (`/api/tokens/{id}`), never their path, so a label cannot carry a token id or grow without bound.
//!
//! Served only to a caller presenting `metrics_token` as a bearer credential; without that setting the
//! route answers 404, as if it did not exist.

use latchkey_store::Store;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Mutex;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Debug, Default)]
struct Latency {
    /// Observations at or under each bound (not cumulative here; summed when written).
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// One route pattern's figures.
#[derive(Debug, Default)]
struct Route {
    /// Answers by method and status: a handful per route, so a list.
    answers: Vec<(String, u16, u64)>,
    latency: Latency,
    rate_limited: u64,
}

#[derive(Debug, Default)]
struct Counts {
    /// Looked up by `&str` on every request: no allocation once a route has been seen.
    routes: HashMap<String, Route>,
    issued: BTreeMap<String, u64>,
    revoked: BTreeMap<&'static str, u64>,
    failed_logins: BTreeMap<&'static str, u64>,
}

#[derive(Debug, Default)]
pub struct Metrics {
    counts: Mutex<Counts>,
}

/// Where a token was revoked.
#[derive(Debug, Clone, Copy)]
pub enum Revoked {
    /// `POST /revoke` (RFC 7009): requests answered, not tokens (the answer does not say whether one was).
    RevocationEndpoint,
    /// The admin API or the command line: every token of a user.
    User,
    /// Every token of a client.
    Client,
    /// One token, by its owner or an operator.
    One,
}

impl Revoked {
    fn label(self) -> &'static str {
        match self {
            Revoked::RevocationEndpoint => "revocation_endpoint",
            Revoked::User => "user",
            Revoked::Client => "client",
            Revoked::One => "one",
        }
    }
}

impl Metrics {
    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        match self.counts.lock() {
            Ok(counts) => counts,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    pub fn request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let mut counts = self.counts();
        let figures = match counts.routes.get_mut(route) {
            Some(figures) => figures,
            None => counts.routes.entry(route.to_owned()).or_default(),
        };
        match figures.answers.iter_mut().find(|(m, s, _)| m == method && *s == status) {
            Some((_, _, n)) => *n += 1,
            None => figures.answers.push((method.to_owned(), status, 1)),
        }
        if status == 429 {
            figures.rate_limited += 1;
        }
        let latency = &mut figures.latency;
        if let Some(bucket) = BUCKETS.iter().position(|bound| seconds <= *bound) {
            latency.buckets[bucket] += 1;
        }
        latency.count += 1;
        latency.sum += seconds;
    }

    pub fn issued(&self, grant: &str) {
        // Only the grant types there are: the label comes from the request.
        let grant = match grant {
            "authorization_code" | "refresh_token" | "client_credentials" | "password" | "personal" => grant,
            _ => "other",
        };
        *self.counts().issued.entry(grant.to_owned()).or_default() += 1;
    }

    pub fn revoked(&self, way: Revoked, count: u64) {
        *self.counts().revoked.entry(way.label()).or_default() += count;
    }

    pub fn failed_login(&self, locked_out: bool) {
        let why = if locked_out { "locked_out" } else { "wrong_credentials" };
        *self.counts().failed_logins.entry(why).or_default() += 1;
    }

    /// The text exposition of everything counted, and the store's figures now.
    pub fn render(&self, store: &Store) -> String {
        let counts = self.counts();
        let mut text = String::new();
        section(
            &mut text,
            "latchkey_http_requests_total",
            "counter",
            "Requests answered, by route pattern, method and status.",
        );
        let mut routes: Vec<(&String, &Route)> = counts.routes.iter().collect();
        routes.sort_by(|a, b| a.0.cmp(b.0));
        for (route, figures) in &routes {
            let mut answers = figures.answers.clone();
            answers.sort();
            for (method, status, n) in answers {
                let _ = writeln!(
                    text,
                    "latchkey_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{status}\"}} {n}",
                    label(route),
                    label(&method)
                );
            }
        }
        section(
            &mut text,
            "latchkey_http_request_duration_seconds",
            "histogram",
            "Time to answer, by route pattern.",
        );
        for (route, figures) in &routes {
            let (route, latency) = (label(route), &figures.latency);
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(latency.buckets) {
                cumulative += n;
                let _ = writeln!(text, "latchkey_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}");
            }
            let _ = writeln!(
                text,
                "latchkey_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                latency.count
            );
            let _ = writeln!(
                text,
                "latchkey_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                latency.sum
            );
            let _ = writeln!(
                text,
                "latchkey_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                latency.count
            );
        }
        section(&mut text, "latchkey_tokens_issued_total", "counter", "Tokens issued, by grant type.");
        for (grant, n) in &counts.issued {
            let _ = writeln!(text, "latchkey_tokens_issued_total{{grant=\"{grant}\"}} {n}");
        }
        section(&mut text, "latchkey_tokens_revoked_total", "counter", "Tokens revoked, by how.");
        for (way, n) in &counts.revoked {
            let _ = writeln!(text, "latchkey_tokens_revoked_total{{via=\"{way}\"}} {n}");
        }
        section(&mut text, "latchkey_failed_logins_total", "counter", "Password logins refused, by why.");
        for (why, n) in &counts.failed_logins {
            let _ = writeln!(text, "latchkey_failed_logins_total{{reason=\"{why}\"}} {n}");
        }
        section(
            &mut text,
            "latchkey_rate_limited_total",
            "counter",
            "Requests refused by a rate limit, by route pattern.",
        );
        for (route, figures) in routes.iter().filter(|(_, figures)| figures.rate_limited > 0) {
            let _ = writeln!(
                text,
                "latchkey_rate_limited_total{{route=\"{}\"}} {}",
                label(route),
                figures.rate_limited
            );
        }
        drop(routes);
        drop(counts);
        let pool = store.pool_state();
        section(&mut text, "latchkey_db_connections", "gauge", "Database connections open.");
        let _ = writeln!(text, "latchkey_db_connections {}", pool.connections);
        section(&mut text, "latchkey_db_connections_idle", "gauge", "Database connections open and idle.");
        let _ = writeln!(text, "latchkey_db_connections_idle {}", pool.idle);
        if let Some(batches) = store.write_batches() {
            section(
                &mut text,
                "latchkey_group_commit_batches_total",
                "counter",
                "Transactions the SQLite writer committed.",
            );
            let _ = writeln!(text, "latchkey_group_commit_batches_total {}", batches.batches);
            section(
                &mut text,
                "latchkey_group_commit_pieces_total",
                "counter",
                "Pieces of work those transactions ran.",
            );
            let _ = writeln!(text, "latchkey_group_commit_pieces_total {}", batches.pieces);
            section(
                &mut text,
                "latchkey_group_commit_queued",
                "gauge",
                "Pieces of work waiting for the writer.",
            );
            let _ = writeln!(text, "latchkey_group_commit_queued {}", batches.queued);
        }
        text
    }
}

fn section(text: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A label value as the exposition format escapes it.
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}
