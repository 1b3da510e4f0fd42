//! The signing keys in force, shared by every request: loaded at start, reloaded from the database so a
//! rotation made elsewhere is picked up, replaced at once by a rotation made here.
//!
//! A rotation publishes before it signs: its new keys sign only [`PUBLISH_AHEAD_SECONDS`] after it, by which
//! time every server has reloaded them into its JWKS (every [`RELOAD_EVERY_SECONDS`]) and every relying party
//! that honours the JWKS's cache lifetime ([`JWKS_CACHE_SECONDS`]) has fetched them.

use latchkey_core::keys::{KeyEncryptionKey, Keyring, RotationSchedule};
use latchkey_model::{Client, Timestamp};
use latchkey_store::{Store, StoreError};
use std::sync::{Arc, RwLock};

/// How often every server reloads the published keys.
pub const RELOAD_EVERY_SECONDS: u64 = 30;
/// How long relying parties may cache the JWKS document (its `Cache-Control: max-age`).
pub const JWKS_CACHE_SECONDS: u64 = 60;
/// From a rotation until its keys sign: a reload, a relying party's cache lifetime, and a margin for clocks
/// and a slow reload.
pub const PUBLISH_AHEAD_SECONDS: i64 = (RELOAD_EVERY_SECONDS + JWKS_CACHE_SECONDS + 30) as i64;
/// A server whose reloads have failed this long may have missed a rotation made elsewhere, whose keys sign
/// within [`PUBLISH_AHEAD_SECONDS`]: its JWKS would lack them. It says it is not ready, so a balancer takes
/// it out before that can happen.
pub const STALE_AFTER_SECONDS: i64 = 2 * RELOAD_EVERY_SECONDS as i64;

pub struct SigningKeys {
    /// `None` in a context that never signs or rotates (most operator commands).
    kek: Option<KeyEncryptionKey>,
    current: RwLock<Arc<Keyring>>,
    /// When the reloads began to fail; `None` while they succeed.
    failing_since: std::sync::Mutex<Option<Timestamp>>,
}

fn no_kek() -> StoreError {
    StoreError::Constraint("no key-encryption key is configured".to_owned())
}

fn key_error(error: latchkey_core::keys::KeyError) -> StoreError {
    match error {
        latchkey_core::keys::KeyError::Store(error) => error,
        other => StoreError::Corrupt(format!("signing keys: {other}")),
    }
}

impl SigningKeys {
    /// Keys encrypted at rest under `kek`; none loaded yet.
    pub fn new(kek: KeyEncryptionKey) -> Self {
        Self {
            kek: Some(kek),
            current: RwLock::new(Arc::new(Keyring::default())),
            failing_since: Default::default(),
        }
    }

    /// For a context that signs nothing: loading or rotating keys fails.
    pub fn without_encryption_key() -> Self {
        Self {
            kek: None,
            current: RwLock::new(Arc::new(Keyring::default())),
            failing_since: Default::default(),
        }
    }

    /// The keys in force.
    pub fn current(&self) -> Arc<Keyring> {
        match self.current.read() {
            Ok(keys) => Arc::clone(&keys),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn replace(&self, keys: Keyring) {
        match self.current.write() {
            Ok(mut slot) => *slot = Arc::new(keys),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(keys),
        }
    }

    /// Loads the published keys (making any that are missing) and signs with them from now on. A read
    /// unless keys are missing; should another server make them at the same instant, loads its keys.
    pub fn reload(&self, store: &Store, now: Timestamp) -> Result<(), StoreError> {
        let reloaded = self.load(store, now);
        let mut failing_since = self.failing_since.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match &reloaded {
            Ok(()) => *failing_since = None,
            Err(_) => *failing_since = Some(failing_since.unwrap_or(now)),
        }
        reloaded
    }

    /// Whether reloads have failed for [`STALE_AFTER_SECONDS`] or more by `now`.
    pub fn stale(&self, now: Timestamp) -> bool {
        let failing_since = *self.failing_since.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        failing_since.is_some_and(|since| now.unix_seconds() - since.unix_seconds() >= STALE_AFTER_SECONDS)
    }

    fn load(&self, store: &Store, now: Timestamp) -> Result<(), StoreError> {
        let kek = self.kek.as_ref().ok_or_else(no_kek)?;
        let published = store.read(|repo| Ok(Keyring::load_published(repo, kek, now)))?.map_err(key_error)?;
        let keys = match published {
            Some(keys) => keys,
            None => {
                let create = || {
                    store.write(|repo| {
                        Keyring::load_or_create(repo, kek, now, &mut rand::rngs::OsRng).map_err(key_error)
                    })
                };
                // The unique active key per algorithm refuses a second key set made beside this one.
                match create() {
                    Err(StoreError::Conflict(_)) => create()?,
                    other => other?,
                }
            }
        };
        self.replace(keys);
        Ok(())
    }

    /// [`SigningKeys::reload`] on the blocking thread pool.
    pub async fn reload_async(self: &Arc<Self>, store: &Store, now: Timestamp) -> Result<(), StoreError> {
        let (keys, store) = (Arc::clone(self), store.clone());
        match tokio::task::spawn_blocking(move || keys.reload(&store, now)).await {
            Ok(result) => result,
            Err(error) => Err(StoreError::Unavailable(format!("key reload failed: {error}"))),
        }
    }

    /// New keys for every algorithm, published at once and signing from [`PUBLISH_AHEAD_SECONDS`] on; the
    /// old ones sign until then and stay published for the longest access-token lifetime of any client after
    /// it (an ID token lives as long as its access token). All or nothing. Returns the published key ids
    /// and when the new keys start signing.
    /// `latchkey keys reencrypt`: see [`Keyring::reencrypt`]; the hash key is sealed again too. Returns
    /// how many signing keys were rewritten, and whether the hash key was.
    pub fn reencrypt(&self, store: &Store, now: Timestamp) -> Result<(usize, bool), StoreError> {
        let kek = self.kek.as_ref().ok_or_else(no_kek)?;
        store.write(|repo| {
            let signing = Keyring::reencrypt(repo, kek, now).map_err(key_error)?;
            let hashing = latchkey_core::hash_key::reseal(repo, kek).map_err(key_error)?;
            Ok((signing, hashing))
        })
    }

    pub fn rotate(&self, store: &Store, now: Timestamp) -> Result<(Vec<String>, Timestamp), StoreError> {
        let kek = self.kek.as_ref().ok_or_else(no_kek)?;
        let keys = store.write(|repo| {
            let keep = repo.longest_access_token_ttl()?.unwrap_or(Client::DEFAULT_ACCESS_TOKEN_TTL);
            let schedule =
                RotationSchedule { publish_ahead_seconds: PUBLISH_AHEAD_SECONDS, keep_old_for_seconds: keep };
            Keyring::rotate(repo, kek, now, schedule, &mut rand::rngs::OsRng).map_err(key_error)
        })?;
        let kids = keys.kids().into_iter().map(str::to_owned).collect();
        let signs_from = keys.newest_signs_from().unwrap_or(now);
        self.replace(keys);
        Ok((kids, signs_from))
    }
}
