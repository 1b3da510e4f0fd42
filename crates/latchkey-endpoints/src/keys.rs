//! The signing keys in force, shared by every request: loaded at start, reloaded from the database so a
//! rotation made elsewhere is picked up, replaced at once by a rotation made here.

use latchkey_core::keys::{KeyEncryptionKey, Keyring};
use latchkey_model::{Client, Timestamp};
use latchkey_store::{Store, StoreError};
use std::sync::{Arc, RwLock};

pub struct SigningKeys {
    /// `None` in a context that never signs or rotates (most operator commands).
    kek: Option<KeyEncryptionKey>,
    current: RwLock<Arc<Keyring>>,
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
        Self { kek: Some(kek), current: RwLock::new(Arc::new(Keyring::default())) }
    }

    /// For a context that signs nothing: loading or rotating keys fails.
    pub fn without_encryption_key() -> Self {
        Self { kek: None, current: RwLock::new(Arc::new(Keyring::default())) }
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

    /// Loads the published keys (making any that are missing) and signs with them from now on.
    pub fn reload(&self, store: &Store, now: Timestamp) -> Result<(), StoreError> {
        let kek = self.kek.as_ref().ok_or_else(no_kek)?;
        let keys = store.write(|repo| {
            Keyring::load_or_create(repo, kek, now, &mut rand::rngs::OsRng).map_err(key_error)
        })?;
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

    /// New keys for every algorithm, signing at once here; the old ones stay published for the longest
    /// access-token lifetime of any client (an ID token lives as long as its access token). All or nothing.
    pub fn rotate(&self, store: &Store, now: Timestamp) -> Result<Vec<String>, StoreError> {
        let kek = self.kek.as_ref().ok_or_else(no_kek)?;
        let keys = store.write(|repo| {
            let keep = repo.longest_access_token_ttl()?.unwrap_or(Client::DEFAULT_ACCESS_TOKEN_TTL);
            Keyring::rotate(repo, kek, now, keep, &mut rand::rngs::OsRng).map_err(key_error)
        })?;
        let kids = keys.kids().into_iter().map(str::to_owned).collect();
        self.replace(keys);
        Ok(kids)
    }
}
