//! Assembling and starting the HTTP server, and its background work (key reloads, the janitor).

use crate::config::{AdminToken, Config, ConfigError};
use crate::error::WebError;
use crate::http::MAX_BODY_BYTES;
use crate::{middleware, routes};
use actix_web::dev::ServerHandle;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpResponse, HttpServer};
use latchkey_core::keys::KeyError;
use latchkey_core::{Clock, Issuer, SystemClock};
use latchkey_endpoints::operations::demo::{self, Seeded, DEMO_CLIENT, DEMO_REDIRECT_URI, DEMO_USER};
use latchkey_endpoints::{background, ApiError, Context, SigningKeys};
use latchkey_store::{Store, StoreError};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

/// How often a server reloads the signing keys, so a rotation made elsewhere (the CLI, another node) is
/// published here before its keys sign.
const KEY_RELOAD_INTERVAL: Duration = Duration::from_secs(latchkey_endpoints::keys::RELOAD_EVERY_SECONDS);

/// What every handler can reach.
pub struct AppState {
    pub ctx: Context,
    /// The metadata document, built and serialised once at start-up.
    pub discovery: web::Bytes,
    /// The admin API's credential; `None` keeps the admin API closed.
    pub admin_token: Option<AdminToken>,
    pub trusted_proxies: crate::client_address::TrustedProxies,
    pub forwarded_header: crate::client_address::ForwardedHeader,
    pub metrics: crate::metrics::Metrics,
    /// The credential of `/metrics`; `None`: there is no `/metrics`.
    pub metrics_token: Option<AdminToken>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("database {url}: {source}")]
    Store { url: String, source: StoreError },
    #[error("cannot listen on {bind}: {source}")]
    Bind { bind: String, source: std::io::Error },
    #[error("cannot write to standard output: {0}")]
    Output(std::io::Error),
    #[error("keys: {0}")]
    Keys(String),
}

/// A server running in the background of the current async runtime.
pub struct RunningServer {
    addr: SocketAddr,
    issuer: Issuer,
    handle: ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    store: Store,
}

impl RunningServer {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://` and the bound address: where to send requests.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn issuer(&self) -> &Issuer {
        &self.issuer
    }

    /// Runs until the server stops (on SIGINT/SIGTERM, or [`RunningServer::stop`] from elsewhere), then
    /// waits for the writes its requests left behind (a token's last use), so that none is lost.
    pub async fn wait(self) -> std::io::Result<()> {
        let stopped = self.task.await.map_err(std::io::Error::other);
        self.store.settle().await;
        stopped?
    }

    /// Stops accepting, lets requests in flight finish, and waits for the end.
    pub async fn stop(self) -> std::io::Result<()> {
        self.handle.stop(true).await;
        self.wait().await
    }

    /// Waits until the writes requests answered so far left behind (a token's last use) have committed.
    pub async fn settle(&self) {
        self.store.settle().await;
    }
}

/// Opens the database (creating and migrating it), binds the address, and starts serving. With `demo`
/// set, seeds an empty database with a demo user and client and prints how to use them.
pub async fn build(config: &Config) -> Result<RunningServer, StartError> {
    build_with_clock(config, Arc::new(SystemClock)).await
}

async fn blocking<T: Send + 'static>(
    config: &Config,
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StartError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))
        .and_then(|result| result)
        .map_err(|source| StartError::Store { url: config.database_url.to_string(), source })
}

/// [`build`] with a clock of the caller's: tests move time forward instead of sleeping.
pub async fn build_with_clock(config: &Config, clock: Arc<dyn Clock>) -> Result<RunningServer, StartError> {
    let (url, options) = (config.database_url.clone(), config.store_options());
    let store = blocking(config, move || Store::open(&url, &options)).await?;
    let listener = TcpListener::bind(&config.bind)
        .map_err(|source| StartError::Bind { bind: config.bind.clone(), source })?;
    let addr =
        listener.local_addr().map_err(|source| StartError::Bind { bind: config.bind.clone(), source })?;
    let issuer = match &config.issuer {
        Some(issuer) => issuer.clone(),
        None => Issuer::parse(&format!("http://{addr}")).map_err(ConfigError)?,
    };
    let kek = config.key_encryption_key(&issuer)?;
    if config.key_encryption_key.is_none() {
        tracing::warn!("no key_encryption_key set: signing keys and the hash key are protected only by the public development key");
    }
    let (unlocking, sealing, now) = (store.clone(), kek.clone(), clock.now());
    let unlocked = tokio::task::spawn_blocking(move || {
        latchkey_core::hash_key::unlock(&unlocking, &sealing, now, &mut rand::rngs::OsRng)
    })
    .await
    .map_err(|e| StartError::Keys(e.to_string()))?;
    unlocked.map_err(|e| match e {
        KeyError::Store(source) => StartError::Store { url: config.database_url.to_string(), source },
        other => StartError::Keys(other.to_string()),
    })?;
    if config.demo {
        let (seeding, at, now) = (store.clone(), issuer.clone(), clock.now());
        let seeded = blocking(config, move || demo::seed(&seeding, &at, now, &mut rand::rngs::OsRng)).await?;
        print_demo(&seeded, &mut std::io::stdout().lock()).map_err(StartError::Output)?;
    }
    let keys = SigningKeys::new(kek);
    let limits = latchkey_endpoints::RateLimits::new(
        config.rate_limit_client,
        config.rate_limit_address,
        config.rate_limit_personal_tokens,
        config.max_personal_tokens_per_user,
    );
    let ctx = Context::new(store, issuer, clock, keys).with_limits(limits);
    ctx.keys.reload_async(&ctx.store, ctx.now()).await.map_err(|e| StartError::Keys(e.to_string()))?;
    let discovery = latchkey_endpoints::discovery::document(&ctx.issuer)
        .map_err(|e| StartError::Config(ConfigError(e)))?;
    let discovery = web::Bytes::from(discovery.to_string());
    let state = web::Data::new(AppState {
        ctx,
        discovery,
        admin_token: config.admin_token.clone(),
        trusted_proxies: config.trusted_proxies.clone(),
        forwarded_header: config.forwarded_header,
        metrics: crate::metrics::Metrics::default(),
        metrics_token: config.metrics_token.clone(),
    });
    tokio::spawn(background::reload_keys(state.ctx.clone(), KEY_RELOAD_INTERVAL));
    if let Some(interval) = config.janitor_interval() {
        tokio::spawn(background::sweep(state.ctx.clone(), interval));
    }
    start(state, listener, config.database_max_connections)
}

/// The demo's credentials, shown once on standard output (never in the log): they are stored as hashes.
fn print_demo(seeded: &Seeded, out: &mut impl std::io::Write) -> std::io::Result<()> {
    let Seeded::Created { password, client_secret, authorize_url, code_verifier } = seeded else {
        let why = "the database already has users or clients; nothing added (demo secrets are shown only when created)";
        return writeln!(out, "demo: {why}");
    };
    writeln!(out, "demo data created; these secrets are shown once:")?;
    writeln!(out, "  user:          {DEMO_USER} / {password}")?;
    writeln!(out, "  client_id:     {DEMO_CLIENT}")?;
    writeln!(out, "  client_secret: {}", client_secret.expose())?;
    writeln!(out, "  redirect_uri:  {DEMO_REDIRECT_URI}")?;
    writeln!(out, "  authorize:     {authorize_url}")?;
    writeln!(out, "  code_verifier: {code_verifier}")
}

fn start(
    state: web::Data<AppState>,
    listener: TcpListener,
    database_connections: u32,
) -> Result<RunningServer, StartError> {
    let (issuer, store) = (state.ctx.issuer.clone(), state.ctx.store.clone());
    let addr = listener.local_addr().map_err(|source| StartError::Bind { bind: String::new(), source })?;
    let https = issuer.is_https();
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let blocking_threads =
        usize::try_from(database_connections).unwrap_or(usize::MAX).div_ceil(workers).max(2);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
            .configure(routes::configure)
            .default_service(web::to(|| async { Err::<HttpResponse, _>(WebError::Api(ApiError::NotFound)) }))
            .wrap(from_fn(middleware::limit_body))
            .wrap(middleware::security_headers(https))
            .wrap(from_fn(middleware::log_request))
    })
    .workers(workers)
    // Storage calls block; each worker's threads for them are as many as its share of the database's
    // connections, since more could only wait for one. Under load the thread count stays steady.
    .worker_max_blocking_threads(blocking_threads)
    .listen(listener)
    .map_err(|source| StartError::Bind { bind: addr.to_string(), source })?
    .run();
    let handle = server.handle();
    let task = tokio::spawn(server);
    Ok(RunningServer { addr, issuer, handle, task, store })
}
