use crate::SigningKeys;
use latchkey_core::{Clock, Issuer};
use latchkey_model::Timestamp;
use latchkey_store::Store;
use std::sync::Arc;

/// What every endpoint works with: the store, the issuer, the clock (time is an input) and the signing
/// keys. Built once; cheap to share.
#[derive(Clone)]
pub struct Context {
    pub store: Store,
    pub issuer: Issuer,
    pub clock: Arc<dyn Clock>,
    pub keys: Arc<SigningKeys>,
}

impl Context {
    pub fn new(store: Store, issuer: Issuer, clock: Arc<dyn Clock>, keys: SigningKeys) -> Self {
        Self { store, issuer, clock, keys: Arc::new(keys) }
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("issuer", &self.issuer)
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}
