//! The hash key: the key of every stored secret hash (see `latchkey_model::secret`), so that a token, code,
//! session or client secret written into the database by someone without it (under its plain hash, the
//! only one they can compute) matches nothing.
//!
//! It is made once and kept in the database sealed under the key-encryption key, like the private signing
//! keys; every server unseals the same one. A server makes it only on a database that holds no secret
//! hash yet. A database that holds some but has no key was either written by a version before keyed
//! hashes or had its key removed, and only its operator can tell which: `latchkey keys convert-hashes`
//! makes the key and converts the plain hashes, run once, on purpose. Were the server to do that by itself,
//! removing the key would turn every plain hash anyone had written into a working one.
//!
//! The key is never replaced: a new key would end every token and client secret at once. Replacing the
//! key-encryption key only seals it again (`latchkey keys reencrypt`).

use crate::keys::{KeyEncryptionKey, KeyError};
use latchkey_model::{SecretHasher, Timestamp, HASH_KEY_BYTES};
use latchkey_store::{Exclusive, Repo, Store, StoreError};
use rand::{CryptoRng, RngCore};

/// Unseals the hash key, making it first on a database that holds no secret hash yet (and refusing, before
/// anything is written, a `kek` that cannot decrypt the stored signing keys). Holds
/// [`Exclusive::SigningKeys`]: servers starting together make one key.
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
    if repo.holds_secret_hashes()? {
        return Err(KeyError::HashKeyMissing);
    }
    make(repo, kek, now, rng)
}

/// `latchkey keys convert-hashes`: makes the hash key of a database written before keyed hashes and
/// converts, in the same transaction, every plain SHA-256 it holds, so its tokens and client secrets keep
/// working. Refused when the database has a hash key already, and, before anything is written, when `kek`
/// cannot decrypt the stored signing keys. Returns how many rows were converted.
pub fn convert_plain_hashes(
    repo: &mut Repo<'_>,
    kek: &KeyEncryptionKey,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<u64, KeyError> {
    repo.hold_exclusive(Exclusive::SigningKeys)?;
    if repo.sealed_hash_key()?.is_some() {
        return Err(KeyError::HashKeyExists);
    }
    let hasher = make(repo, kek, now, rng)?;
    Ok(repo.key_plain_hashes(&hasher)?)
}

/// Makes the key, sealed under `kek`, once `kek` has opened every stored signing key: a key sealed under
/// a mistyped key-encryption key could never be opened again.
fn make(
    repo: &mut Repo<'_>,
    kek: &KeyEncryptionKey,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<SecretHasher, KeyError> {
    for record in repo.published_signing_keys(now)? {
        crate::keys::load(&record, kek)?;
    }
    let mut key = [0_u8; HASH_KEY_BYTES];
    rng.fill_bytes(&mut key);
    repo.insert_sealed_hash_key(&kek.encrypt(&key)?, now)?;
    Ok(SecretHasher::new(&key))
}

fn unseal(kek: &KeyEncryptionKey, sealed: &str) -> Result<SecretHasher, KeyError> {
    let bytes = kek.decrypt(sealed).ok_or(KeyError::HashKeyUndecryptable)?;
    let key =
        <[u8; HASH_KEY_BYTES]>::try_from(bytes.as_slice()).map_err(|_| KeyError::HashKeyUndecryptable)?;
    Ok(SecretHasher::new(&key))
}

/// Runs `work` in a write transaction that commits only if it succeeds, keeping its own error.
pub fn in_transaction<T>(
    store: &Store,
    work: impl FnOnce(&mut Repo<'_>) -> Result<T, KeyError>,
) -> Result<T, KeyError> {
    let mut refused = None;
    let done = store.write(|repo| {
        work(repo).map_err(|error| match error {
            KeyError::Store(error) => error,
            other => {
                refused = Some(other);
                // Any error rolls the transaction back; the key error itself is returned below.
                StoreError::Constraint("refused".into())
            }
        })
    });
    match (done, refused) {
        (_, Some(error)) => Err(error),
        (result, None) => Ok(result?),
    }
}

/// Unseals (or, on a new database, makes) the hash key and gives it to `store`: what every server and
/// command does before anything that stores or compares a secret.
pub fn unlock(
    store: &Store,
    kek: &KeyEncryptionKey,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<(), KeyError> {
    let hasher = in_transaction(store, |repo| unseal_or_make(repo, kek, now, rng))?;
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
