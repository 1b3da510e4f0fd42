//! What every Latchkey grant and front end shares: the protocol error, client authentication, signing keys
//! and ID tokens, access-token minting and refresh rotation, oxide-auth's registrar and issuer seams over
//! the store, introspection and revocation, the clock, password hashing, and the rules for registering
//! clients and users.

pub mod claims;
pub mod client_assertion;
pub mod client_auth;
pub mod clock;
pub mod error;
pub mod id_token;
pub mod introspection;
pub mod janitor;
pub mod keys;
pub mod oxide;
pub mod password;
pub mod personal;
pub mod registration;
pub mod revocation;
pub mod revoke_all;
pub mod rotation;
pub mod scopes;
pub mod throttle;
pub mod tokens;

pub use clock::{Clock, FixedClock, SystemClock};
pub use error::{ErrorCode, OAuthError, OAuthResult};

/// One flow step's result: a storage failure (the transaction rolls back, the caller answers 503), or a
/// protocol outcome. A refusal commits, because some refusals revoke (a replayed code, a reused refresh
/// token) and that revocation must stick.
pub type Step<T> = Result<Result<T, OAuthError>, latchkey_store::StoreError>;
