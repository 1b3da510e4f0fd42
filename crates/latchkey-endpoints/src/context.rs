use crate::SigningKeys;
use latchkey_core::rate_limit::{Rate, RateLimiter};
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
    pub limits: Arc<RateLimits>,
}

/// The request rate limits of this server (see `latchkey_core::rate_limit`); `None`: unlimited.
#[derive(Debug, Default)]
pub struct RateLimits {
    /// Per authenticated client, at the token, introspection and revocation endpoints.
    pub client: Option<Arc<RateLimiter>>,
    /// Per address group, at `/authorize` and the login page.
    pub address: Option<Arc<RateLimiter>>,
    /// Per user, creating personal tokens.
    pub personal_tokens: Option<Arc<RateLimiter>>,
    /// Live personal tokens a user may hold and still create one more through the owner API.
    pub max_personal_tokens: Option<u32>,
}

impl RateLimits {
    pub fn new(client: Rate, address: Rate, personal_tokens: Rate, max_personal_tokens: u32) -> Self {
        let limiter = |rate| RateLimiter::new(rate).map(Arc::new);
        Self {
            client: limiter(client),
            address: limiter(address),
            personal_tokens: limiter(personal_tokens),
            max_personal_tokens: Some(max_personal_tokens),
        }
    }

    /// Admits one request from `address` at `now` (the pages' limit).
    pub fn admit_address(&self, address: &str, now: Timestamp) -> Result<(), latchkey_core::OAuthError> {
        match &self.address {
            Some(limit) => limit.admit(&latchkey_core::throttle::address_group(address), now),
            None => Ok(()),
        }
    }
}

impl Context {
    /// Without rate limits; see [`Context::with_limits`].
    pub fn new(store: Store, issuer: Issuer, clock: Arc<dyn Clock>, keys: SigningKeys) -> Self {
        Self { store, issuer, clock, keys: Arc::new(keys), limits: Arc::default() }
    }

    pub fn with_limits(self, limits: RateLimits) -> Self {
        Self { limits: Arc::new(limits), ..self }
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
