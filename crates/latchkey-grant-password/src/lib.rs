//! The resource owner password credentials grant (RFC 6749 §4.3). Legacy (RFC 9700 §2.4 says not to use
//! it), so it is off unless a client is registered with it, and a server can be built without it.
//!
//! It goes through the same throttle as the login page ([`latchkey_core::throttle`]): the attempt is
//! counted before the password is checked, so the token endpoint is no way around the lock-out. The grant
//! runs in three steps, so the slow hash holds no transaction open:
//!
//! 1. [`begin`], in a write transaction: the client may use the grant, the scope, the attempt counted;
//! 2. [`PasswordCheck::run`], outside any transaction (on a blocking thread): Argon2id;
//! 3. [`issue`], in a write transaction: the tokens (§4.3.3).

pub mod grant;
pub mod request;

pub use grant::{begin, issue, wrong_credentials, PasswordCheck, Verified};
pub use request::PasswordRequest;
