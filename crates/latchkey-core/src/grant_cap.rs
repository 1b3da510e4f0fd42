//! A cap on a user's outstanding grants with one client (RFC 6819 §4.4.1.11: "limit the number of access
//! tokens granted to a user"). Past it, a new grant revokes the oldest, as GitHub does for its OAuth apps:
//! no user and client can pile up live tokens without end, and nobody is ever refused a login for it.

use latchkey_model::{Timestamp, TokenRecord};
use latchkey_store::{Repo, StoreError};

/// Live grants (code, implicit or password, each with its refresh rotations) a user keeps with one client.
pub const GRANTS_KEPT_PER_USER_AND_CLIENT: usize = 100;

/// After `record`, a new grant, is stored: revokes its user's oldest grants with its client beyond the cap.
/// Returns how many records were revoked.
pub fn keep_newest(repo: &mut Repo<'_>, record: &TokenRecord, now: Timestamp) -> Result<u64, StoreError> {
    match &record.username {
        Some(username) => {
            repo.revoke_grants_beyond(username, &record.client_id, GRANTS_KEPT_PER_USER_AND_CLIENT, now)
        }
        None => Ok(0),
    }
}
