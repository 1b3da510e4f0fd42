//! Issuing the authorization code (RFC 6749 §4.1.2): 256 random bits, single use, kept only as a hash on
//! the record of its request (§10.10), and short-lived.

use crate::authorize::settle;
use latchkey_model::{AuthMethod, PlainSecret, SecretKind, Timestamp, TokenRecord, Username};
use latchkey_store::{Repo, StoreError};
use rand::{CryptoRng, RngCore};

/// How long a code can be redeemed (§4.1.2 recommends at most ten minutes; one is plenty).
pub const CODE_LIFETIME_SECONDS: i64 = 60;

/// Settles `record` for the user and puts a fresh code on it; the code exists in the clear only in the
/// return value.
pub fn issue_code(
    repo: &mut Repo<'_>,
    record: &mut TokenRecord,
    username: Username,
    auth_time: Timestamp,
    methods: &[AuthMethod],
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<PlainSecret, StoreError> {
    settle(record, username, auth_time, methods);
    let code = PlainSecret::generate(SecretKind::AuthorizationCode, rng);
    record.code_hash = Some(code.hash(repo.hasher()?));
    record.code_expires = Some(now.plus_seconds(CODE_LIFETIME_SECONDS));
    repo.update_token(record)?;
    Ok(code)
}
