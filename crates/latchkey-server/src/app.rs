//! Assembling and starting the HTTP server.

use crate::config::{AdminToken, Config, ConfigError, Issuer};
use crate::{demo, http_error::HttpError, middleware, routes};
use actix_web::dev::ServerHandle;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer, ResponseError};
use latchkey_core::keys::{KeyEncryptionKey, Keyring};
use latchkey_core::{Clock, SystemClock};
use latchkey_store::{Store, StoreError};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// How often a server reloads the signing keys, so a rotation made elsewhere (the CLI, another node) is
/// picked up.
const KEY_RELOAD_INTERVAL: Duration = Duration::from_secs(30);

/// What every handler can reach.
pub struct AppState {
    pub store: Store,
    pub issuer: Issuer,
    pub clock: Arc<dyn Clock>,
    pub discovery: serde_json::Value,
    /// The admin API's credential; `None` keeps the admin API closed.
    pub admin_token: Option<AdminToken>,
    kek: KeyEncryptionKey,
    keys: RwLock<Arc<Keyring>>,
}

impl AppState {
    /// The signing keys in force.
    pub fn keys(&self) -> Arc<Keyring> {
        match self.keys.read() {
            Ok(keys) => Arc::clone(&keys),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Rotates the signing keys in `repo`'s transaction; [`AppState::use_keys`] once it committed.
    pub fn rotate_keys(
        &self,
        repo: &mut latchkey_store::Repo<'_>,
        now: latchkey_model::Timestamp,
    ) -> Result<Keyring, StoreError> {
        Keyring::rotate_in_transaction(repo, &self.kek, now, &mut rand::rngs::OsRng)
    }

    /// Signs with `keys` from now on (other instances reload within a minute).
    pub fn use_keys(&self, keys: Keyring) {
        self.replace_keys(keys);
    }

    fn replace_keys(&self, keys: Keyring) {
        match self.keys.write() {
            Ok(mut slot) => *slot = Arc::new(keys),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(keys),
        }
    }
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
    #[error("signing keys: {0}")]
    Keys(String),
}

/// A server running in the background of the current async runtime.
pub struct RunningServer {
    addr: SocketAddr,
    issuer: Issuer,
    handle: ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
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

    /// Runs until the server stops (on SIGINT/SIGTERM, or [`RunningServer::stop`] from elsewhere).
    pub async fn wait(self) -> std::io::Result<()> {
        self.task.await.map_err(std::io::Error::other)?
    }

    /// Stops accepting, lets requests in flight finish, and waits for the end.
    pub async fn stop(self) -> std::io::Result<()> {
        self.handle.stop(true).await;
        self.wait().await
    }
}

/// Opens the database (creating and migrating it), binds the address, and starts serving. With `demo`
/// set, seeds an empty database with a demo user and client and prints how to use them on `out`.
pub async fn build(config: &Config) -> Result<RunningServer, StartError> {
    build_with_clock(config, Arc::new(SystemClock)).await
}

/// [`build`] with a clock of the caller's: tests move time forward instead of sleeping.
pub async fn build_with_clock(config: &Config, clock: Arc<dyn Clock>) -> Result<RunningServer, StartError> {
    let (url, options) = (config.database_url.clone(), config.store.clone());
    let open = move || Store::open(&url, &options);
    let store = tokio::task::spawn_blocking(open)
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))
        .and_then(|result| result)
        .map_err(|source| StartError::Store { url: config.database_url.to_string(), source })?;
    let listener = TcpListener::bind(&config.bind)
        .map_err(|source| StartError::Bind { bind: config.bind.clone(), source })?;
    let addr =
        listener.local_addr().map_err(|source| StartError::Bind { bind: config.bind.clone(), source })?;
    let issuer = match &config.issuer {
        Some(issuer) => issuer.clone(),
        None => Issuer::parse(&format!("http://{addr}"))?,
    };
    if config.demo {
        let seeded = {
            let (store, issuer, now) = (store.clone(), issuer.clone(), SystemClock.now());
            tokio::task::spawn_blocking(move || demo::seed(&store, &issuer, now, &mut rand::rngs::OsRng))
                .await
                .map_err(|e| StoreError::Unavailable(e.to_string()))
                .and_then(|result| result)
                .map_err(|source| StartError::Store { url: config.database_url.to_string(), source })?
        };
        demo::print(&seeded, &mut std::io::stdout().lock()).map_err(StartError::Output)?;
    }
    let kek = config.key_encryption_key(&issuer)?;
    let keys = load_keys(&store, &kek, clock.now()).await?;
    let discovery = routes::discovery_document(&issuer).map_err(|e| StartError::Config(ConfigError(e)))?;
    let state = web::Data::new(AppState {
        store,
        issuer,
        clock,
        discovery,
        admin_token: config.admin_token.clone(),
        kek: kek.clone(),
        keys: RwLock::new(Arc::new(keys)),
    });
    spawn_key_reloader(state.clone(), kek);
    if let Some(interval) = config.janitor_interval {
        spawn_janitor(state.clone(), interval);
    }
    start(state, listener)
}

async fn load_keys(
    store: &Store,
    kek: &KeyEncryptionKey,
    now: latchkey_model::Timestamp,
) -> Result<Keyring, StartError> {
    let (store, kek) = (store.clone(), kek.clone());
    let loaded = tokio::task::spawn_blocking(move || {
        store.write(|repo| Ok(Keyring::load_or_create(repo, &kek, now, &mut rand::rngs::OsRng)))
    })
    .await
    .map_err(|e| StartError::Keys(e.to_string()))?
    .map_err(|e| StartError::Keys(e.to_string()))?;
    loaded.map_err(|e| StartError::Keys(e.to_string()))
}

fn spawn_key_reloader(state: web::Data<AppState>, kek: KeyEncryptionKey) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(KEY_RELOAD_INTERVAL);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            match load_keys(&state.store, &kek, state.clock.now()).await {
                Ok(keys) => state.replace_keys(keys),
                // Keep signing with the keys we have; the next tick tries again.
                Err(error) => tracing::warn!(%error, "could not reload signing keys"),
            }
        }
    });
}

/// Deletes what nothing can use any more, every `interval`, beside the traffic (see `latchkey_core::janitor`).
fn spawn_janitor(state: web::Data<AppState>, interval: Duration) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first sweep waits one interval: starting up is busy enough.
        ticks.tick().await;
        loop {
            ticks.tick().await;
            let (store, now) = (state.store.clone(), state.clock.now());
            let idle_before = now.plus_seconds(-crate::session::IDLE_SECONDS);
            let swept = tokio::task::spawn_blocking(move || {
                latchkey_core::janitor::sweep(&store, now, idle_before, latchkey_core::janitor::BATCH)
            })
            .await;
            match swept {
                Ok(Ok(swept)) if swept != latchkey_core::janitor::Swept::default() => tracing::info!(
                    tokens = swept.tokens,
                    sessions = swept.sessions,
                    login_failures = swept.login_failures,
                    "expired data deleted"
                ),
                Ok(Ok(_)) => {}
                // The next tick tries again; nothing is lost by waiting.
                Ok(Err(error)) => tracing::warn!(%error, "janitor: storage unavailable"),
                Err(error) => tracing::warn!(%error, "janitor: task failed"),
            }
        }
    });
}

fn start(state: web::Data<AppState>, listener: TcpListener) -> Result<RunningServer, StartError> {
    let issuer = state.issuer.clone();
    let addr = listener.local_addr().map_err(|source| StartError::Bind { bind: String::new(), source })?;
    let https = issuer.is_https();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(middleware::MAX_BODY_BYTES))
            .app_data(
                web::FormConfig::default()
                    .limit(middleware::MAX_FORM_BYTES)
                    .error_handler(|e, _| HttpError::from(e).into()),
            )
            .app_data(
                web::JsonConfig::default()
                    .limit(middleware::MAX_BODY_BYTES)
                    .error_handler(|e, _| HttpError::from(e).into()),
            )
            .app_data(
                web::QueryConfig::default().error_handler(|e, _| HttpError::BadRequest(e.to_string()).into()),
            )
            .configure(routes::configure)
            .default_service(web::to(|| async { HttpError::NotFound.error_response() }))
            .wrap(from_fn(middleware::limit_body))
            .wrap(middleware::security_headers(https))
            .wrap(from_fn(middleware::log_request))
    })
    .listen(listener)
    .map_err(|source| StartError::Bind { bind: addr.to_string(), source })?
    .run();
    let handle = server.handle();
    let task = tokio::spawn(server);
    Ok(RunningServer { addr, issuer, handle, task })
}
