//! What every Latchkey grant and front end shares: the error model and transactions of flow steps, request
//! parameters, client authentication, the bearer check, signing keys and ID tokens, token minting and the
//! token response, introspection and revocation, personal tokens, the login throttle, the clock, password
//! hashing, and the rules for registering clients and users.

pub mod basic_auth;
pub mod caller;
pub mod claims;
pub mod client_assertion;
pub mod client_auth;
pub mod clock;
pub mod error;
pub mod form;
pub mod grant_cap;
pub mod hash_key;
pub mod id_token;
pub mod introspection;
pub mod issuer;
pub mod janitor;
pub mod keys;
pub mod oxide;
pub mod password;
pub mod personal;
pub mod rate_limit;
pub mod registration;
pub mod revocation;
pub mod revoke_all;
pub mod scopes;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod throttle;
pub mod tokens;
pub mod tx;

pub use clock::{Clock, FixedClock, SystemClock};
pub use error::{ErrorCode, Failure, OAuthError, Outcome};
pub use form::Form;
pub use issuer::Issuer;
