//! The hash key: the key of every stored secret hash (see `latchkey_model::secret`), so that a row written
//! into the database by someone without it (a token they chose, under its plain hash) matches nothing.
//!
//! It is made once, by the first server to start, and kept in the database sealed under the key-encryption
//! key like the private signing keys; every server unseals the same one. It is never replaced: a new key
//! would end every token and client secret at once. Replacing the key-encryption key only seals it again
//! (`latchkey keys reencrypt`).

use crate::keys::{KeyEncryptionKey, KeyError};
use latchkey_model::{SecretHasher, Timestamp, HASH_KEY_BYTES};
use latchkey_store::{Exclusive, Repo, Store};
use rand::{CryptoRng, RngCore};

/// Unseals the hash key, making it first if the database has none. Making it converts, in the same
/// transaction, every plain SHA-256 stored before keyed hashes existed, so upgraded deployments keep their
/// tokens. Holds [`Exclusive::SigningKeys`]: servers starting together make one key.
pub fn unseal_or_make(
    repo: &mut Repo<'_>,
    kek: &KeyEncryptionKey,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<SecretHasher, KeyError> {
    repo.hold_exclusive(Exclusive::SigningKeys)?;
    if let Some(sealed) = repo.sealed_hash_key()? {
        return unseal(kek, &sealed);
    }
    let mut key = [0_u8; HASH_KEY_BYTES];
    rng.fill_bytes(&mut key);
    let hasher = SecretHasher::new(&key);
    let converted = repo.key_plain_hashes(&hasher)?;
    repo.insert_sealed_hash_key(&kek.encrypt(&key)?, now)?;
    if converted > 0 {
        tracing::info!(rows = converted, "stored secret hashes converted to keyed hashes");
    }
    Ok(hasher)
}

fn unseal(kek: &KeyEncryptionKey, sealed: &str) -> Result<SecretHasher, KeyError> {
    let bytes = kek.decrypt(sealed).ok_or(KeyError::HashKeyUndecryptable)?;
    let key =
        <[u8; HASH_KEY_BYTES]>::try_from(bytes.as_slice()).map_err(|_| KeyError::HashKeyUndecryptable)?;
    Ok(SecretHasher::new(&key))
}

/// Unseals (or makes) the hash key and gives it to `store`: what every server and command does before
/// anything that stores or compares a secret.
pub fn unlock(
    store: &Store,
    kek: &KeyEncryptionKey,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<(), KeyError> {
    let hasher = store.write(|repo| unseal_or_make(repo, kek, now, rng).map_err(into_store))?;
    Ok(store.set_hasher(hasher)?)
}

/// Seals the hash key again with the current key-encryption key if a previous one sealed it (part of
/// `latchkey keys reencrypt`). Returns whether it was rewritten.
pub fn reseal(repo: &mut Repo<'_>, kek: &KeyEncryptionKey) -> Result<bool, KeyError> {
    repo.hold_exclusive(Exclusive::SigningKeys)?;
    let Some(sealed) = repo.sealed_hash_key()? else {
        return Ok(false);
    };
    if KeyEncryptionKey::decrypt_with(kek.current(), &sealed).is_some() {
        return Ok(false);
    }
    let bytes = kek.decrypt(&sealed).ok_or(KeyError::HashKeyUndecryptable)?;
    repo.reseal_hash_key(&kek.encrypt(&bytes)?)?;
    Ok(true)
}

/// A key error carried through a store transaction: storage failures stay what they were; anything else
/// (a key that does not decrypt) is refused as a constraint, and comes back out as `KeyError::Store`.
fn into_store(error: KeyError) -> latchkey_store::StoreError {
    match error {
        KeyError::Store(error) => error,
        other => latchkey_store::StoreError::Constraint(other.to_string()),
    }
}
