//! Signing keys: generated on first start, kept in the database with the private half encrypted under a
//! key-encryption key from the configuration, published as a JWKS (RFC 7517), rotated on demand.
//!
//! Private-key operations go through josekit (OpenSSL). The `rsa` crate that openidconnect links is used for
//! verification only, which RUSTSEC-2023-0071 (a timing side channel in RSA decryption and signing) does not
//! affect.

use base64::Engine;
use josekit::jwe::{Dir, JweHeader};
use josekit::jwk::{Jwk, KeyPair};
use josekit::jws::{EdDSA, JwsSigner, ES256, RS256};
use latchkey_model::{SigningKeyRecord, Timestamp};
use latchkey_store::{Exclusive, Repo, StoreError};
use openidconnect::core::{CoreJsonWebKey, CoreJwsSigningAlgorithm};
use openidconnect::{PrivateSigningKey, SigningError};
use rand::{CryptoRng, RngCore};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the key-encryption key must be 32 bytes, base64url-encoded (43 characters)")]
    BadEncryptionKey,
    #[error("key operation failed: {0}")]
    Crypto(String),
    #[error("signing key {0} cannot be decrypted with the configured key-encryption key")]
    Undecryptable(String),
    #[error(
        "the hash key cannot be decrypted with the configured key-encryption key (one made by a command run \
         without it is sealed with the development key: re-encrypt it, see CONFIGURATION.md)"
    )]
    HashKeyUndecryptable,
    #[error(
        "the database holds secret hashes but no hash key: if a version before keyed hashes wrote them, stop \
         every server and run `latchkey keys convert-hashes` once; otherwise the key was removed, so restore \
         it from a backup (see CONFIGURATION.md)"
    )]
    HashKeyMissing,
    #[error("the database has a hash key already; its hashes are keyed")]
    HashKeyExists,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn crypto(error: impl fmt::Display) -> KeyError {
    KeyError::Crypto(error.to_string())
}

/// The algorithms keys are made for: every [`SigningAlgorithm`] always has an active key, so any client can
/// be switched to any of them. RS256 is always there (OpenID Connect Discovery §3 requires it).
pub use latchkey_model::SigningAlgorithm as KeyAlgorithm;

/// The openidconnect name of `alg`.
pub fn jws(alg: KeyAlgorithm) -> CoreJwsSigningAlgorithm {
    match alg {
        KeyAlgorithm::Rs256 => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        KeyAlgorithm::Es256 => CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        KeyAlgorithm::EdDsa => CoreJwsSigningAlgorithm::EdDsa,
    }
}

/// The key that encrypts private signing keys at rest (AES-256-GCM through a `dir` JWE), and the keys it
/// replaced: those still decrypt, so a new key can be deployed first and the stored keys re-encrypted after
/// (`latchkey keys reencrypt`), the way Hydra rotates its system secret.
#[derive(Clone)]
pub struct KeyEncryptionKey {
    current: [u8; 32],
    previous: Vec<[u8; 32]>,
}

impl KeyEncryptionKey {
    /// One key, or a comma-separated list: the first encrypts, every one decrypts.
    pub fn parse(base64url: &str) -> Result<Self, KeyError> {
        let one = |text: &str| -> Result<[u8; 32], KeyError> {
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(text.trim())
                .map_err(|_| KeyError::BadEncryptionKey)?;
            <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| KeyError::BadEncryptionKey)
        };
        let mut keys = base64url.split(',').map(one);
        let current = keys.next().ok_or(KeyError::BadEncryptionKey)??;
        let previous = keys.collect::<Result<Vec<_>, _>>()?;
        Ok(Self { current, previous })
    }

    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> Self {
        let mut bytes = [0_u8; 32];
        rng.fill_bytes(&mut bytes);
        Self { current: bytes, previous: Vec::new() }
    }

    /// For local development only: a fixed, publicly known key. Using it is the same as storing keys in the
    /// clear, which is why production mode refuses to start without a real one.
    pub fn insecure_development_key() -> Self {
        Self { current: *b"latchkey-development-only-key!!!", previous: Vec::new() }
    }

    /// The key that encrypts (the previous ones are not printed).
    pub fn to_base64url(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.current)
    }

    pub(crate) fn encrypt(&self, plaintext: &[u8]) -> Result<String, KeyError> {
        let mut header = JweHeader::new();
        header.set_content_encryption("A256GCM");
        let encrypter = Dir.encrypter_from_bytes(self.current).map_err(crypto)?;
        josekit::jwe::serialize_compact(plaintext, &header, &encrypter).map_err(crypto)
    }

    pub(crate) fn current(&self) -> &[u8; 32] {
        &self.current
    }

    pub(crate) fn decrypt_with(key: &[u8; 32], jwe: &str) -> Option<Vec<u8>> {
        let decrypter = Dir.decrypter_from_bytes(key).ok()?;
        josekit::jwe::deserialize_compact(jwe, &decrypter).ok().map(|(plaintext, _)| plaintext)
    }

    pub(crate) fn decrypt(&self, jwe: &str) -> Option<Vec<u8>> {
        std::iter::once(&self.current).chain(&self.previous).find_map(|key| Self::decrypt_with(key, jwe))
    }

    /// The stored key encrypted with the current key, if one of the previous ones encrypted it: what
    /// `latchkey keys reencrypt` writes back. `None` when it needs nothing.
    pub fn reencrypted(&self, record: &SigningKeyRecord) -> Result<Option<String>, KeyError> {
        if Self::decrypt_with(&self.current, &record.encrypted_private_key).is_some() {
            return Ok(None);
        }
        let plaintext = self
            .decrypt(&record.encrypted_private_key)
            .ok_or_else(|| KeyError::Undecryptable(record.kid.clone()))?;
        self.encrypt(&plaintext).map(Some)
    }
}

impl std::str::FromStr for KeyEncryptionKey {
    type Err = KeyError;
    fn from_str(base64url: &str) -> Result<Self, KeyError> {
        Self::parse(base64url)
    }
}

impl fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyEncryptionKey(…)")
    }
}

/// A private key ready to sign, held by OpenSSL, and usable as an openidconnect signing key.
pub struct SigningKey {
    pub kid: String,
    pub alg: KeyAlgorithm,
    signer: Box<dyn JwsSigner>,
    public: CoreJsonWebKey,
    public_json: serde_json::Value,
    /// It signs from here on …
    pub signs_from: Timestamp,
    /// … until here, when its successor takes over.
    pub retired_at: Option<Timestamp>,
}

impl SigningKey {
    fn signs_at(&self, now: Timestamp) -> bool {
        self.signs_from <= now && self.retired_at.is_none_or(|retired| now < retired)
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).field("alg", &self.alg).finish_non_exhaustive()
    }
}

impl PrivateSigningKey for SigningKey {
    type VerificationKey = CoreJsonWebKey;

    fn sign(&self, alg: &CoreJwsSigningAlgorithm, message: &[u8]) -> Result<Vec<u8>, SigningError> {
        if *alg != jws(self.alg) {
            return Err(SigningError::UnsupportedAlg(format!("{alg:?}")));
        }
        self.signer.sign(message).map_err(|e| SigningError::Other(e.to_string()))
    }

    fn as_verification_key(&self) -> CoreJsonWebKey {
        self.public.clone()
    }
}

/// Generates a key pair; returns its stored form (private half encrypted).
pub fn generate(
    alg: KeyAlgorithm,
    kek: &KeyEncryptionKey,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<SigningKeyRecord, KeyError> {
    let (private_pem, mut public): (Vec<u8>, Jwk) = match alg {
        KeyAlgorithm::Rs256 => {
            let pair = RS256.generate_key_pair(2048).map_err(crypto)?;
            (pair.to_pem_private_key(), pair.to_jwk_public_key())
        }
        KeyAlgorithm::Es256 => {
            let pair = ES256.generate_key_pair().map_err(crypto)?;
            (pair.to_pem_private_key(), pair.to_jwk_public_key())
        }
        KeyAlgorithm::EdDsa => {
            let pair = EdDSA.generate_key_pair(josekit::jwk::alg::ed::EdCurve::Ed25519).map_err(crypto)?;
            (pair.to_pem_private_key(), pair.to_jwk_public_key())
        }
    };
    let mut kid_bytes = [0_u8; 12];
    rng.fill_bytes(&mut kid_bytes);
    let kid = format!(
        "{}-{}",
        alg.as_str().to_ascii_lowercase(),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(kid_bytes)
    );
    public.set_key_id(&kid);
    public.set_key_use("sig");
    public.set_algorithm(alg.as_str());
    Ok(SigningKeyRecord {
        kid,
        alg: alg.as_str().to_owned(),
        encrypted_private_key: kek.encrypt(&private_pem)?,
        public_jwk: public.to_string(),
        created_at: now,
        signs_from: now,
        retired_at: None,
        expires_at: None,
    })
}

/// Decrypts a stored key into one that can sign.
pub fn load(record: &SigningKeyRecord, kek: &KeyEncryptionKey) -> Result<SigningKey, KeyError> {
    let alg = KeyAlgorithm::parse(&record.alg)
        .ok_or_else(|| crypto(format!("unknown algorithm {}", record.alg)))?;
    let pem = kek
        .decrypt(&record.encrypted_private_key)
        .ok_or_else(|| KeyError::Undecryptable(record.kid.clone()))?;
    let signer: Box<dyn JwsSigner> = match alg {
        KeyAlgorithm::Rs256 => Box::new(RS256.signer_from_pem(&pem).map_err(crypto)?),
        KeyAlgorithm::Es256 => Box::new(ES256.signer_from_pem(&pem).map_err(crypto)?),
        KeyAlgorithm::EdDsa => Box::new(EdDSA.signer_from_pem(&pem).map_err(crypto)?),
    };
    let public: CoreJsonWebKey = serde_json::from_str(&record.public_jwk).map_err(crypto)?;
    let public_json: serde_json::Value = serde_json::from_str(&record.public_jwk).map_err(crypto)?;
    Ok(SigningKey {
        kid: record.kid.clone(),
        alg,
        signer,
        public,
        public_json,
        signs_from: record.signs_from,
        retired_at: record.retired_at,
    })
}

/// The keys in force: every published key is in the JWKS; of each algorithm, the one whose signing period
/// holds `now` signs.
#[derive(Debug, Default)]
pub struct Keyring {
    keys: Vec<SigningKey>,
    /// The JWKS document, serialised once per key change rather than once per request.
    jwks_json: String,
}

/// Kept published this long past the expiry of the last thing a retired key signed.
pub const EXP_LEEWAY_SECONDS: i64 = 300;

/// When a rotation's new keys start signing, and how long the old ones stay published.
#[derive(Debug, Clone, Copy)]
pub struct RotationSchedule {
    /// From the rotation until the new keys sign: long enough for every server to load them into its JWKS
    /// and for relying parties to refetch theirs. Until then the old keys go on signing.
    pub publish_ahead_seconds: i64,
    /// From the switch until the old keys leave the JWKS: the longest lifetime of anything they signed.
    pub keep_old_for_seconds: i64,
}

impl Keyring {
    /// The published keys, if every algorithm has one that is not retired; `None` when some must be made
    /// ([`Keyring::load_or_create`]). Reads only.
    pub fn load_published(
        repo: &mut Repo<'_>,
        kek: &KeyEncryptionKey,
        now: Timestamp,
    ) -> Result<Option<Self>, KeyError> {
        let records = repo.published_signing_keys(now)?;
        let keys = records.iter().map(|record| load(record, kek)).collect::<Result<Vec<_>, _>>()?;
        let complete = KeyAlgorithm::ALL.iter().all(|alg| active_record(&records, *alg));
        Ok(complete.then(|| Self::of(keys)))
    }

    /// Loads the published keys, generating any algorithm that has no active key yet (first start, or after
    /// a new algorithm was added). Runs inside one write transaction, which holds
    /// [`Exclusive::SigningKeys`] before it makes anything: servers starting together on an empty
    /// database make one key set, the first one's, and the others load it.
    pub fn load_or_create(
        repo: &mut Repo<'_>,
        kek: &KeyEncryptionKey,
        now: Timestamp,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Self, KeyError> {
        if let Some(keyring) = Self::load_published(repo, kek, now)? {
            return Ok(keyring);
        }
        repo.hold_exclusive(Exclusive::SigningKeys)?;
        // Read again under the lock: another server may have made them while this one waited.
        let records = repo.published_signing_keys(now)?;
        // Decrypt what is there before writing anything, so a wrong key-encryption key changes nothing.
        let mut keys = records.iter().map(|record| load(record, kek)).collect::<Result<Vec<_>, _>>()?;
        for alg in KeyAlgorithm::ALL {
            if !active_record(&records, alg) {
                // Nothing of this algorithm signs yet, so there is nothing to publish ahead of: it signs now.
                let record = generate(alg, kek, now, rng)?;
                repo.insert_signing_key(&record)?;
                keys.push(load(&record, kek)?);
            }
        }
        Ok(Self::of(keys))
    }

    /// Makes a successor for every active key. The new keys are published now and sign from
    /// `now + publish_ahead_seconds`; the old ones sign until then and stay published for
    /// `keep_old_for_seconds` after it.
    pub fn rotate(
        repo: &mut Repo<'_>,
        kek: &KeyEncryptionKey,
        now: Timestamp,
        schedule: RotationSchedule,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Self, KeyError> {
        // Refuse before retiring anything if the published keys cannot be read with this key.
        for record in repo.published_signing_keys(now)? {
            load(&record, kek)?;
        }
        let switch = now.plus_seconds(schedule.publish_ahead_seconds.max(0));
        for alg in KeyAlgorithm::ALL {
            // Five minutes more than anything it signed lives: the clock leeway relying parties allow on `exp`.
            let keep_until =
                switch.plus_seconds(schedule.keep_old_for_seconds.saturating_add(EXP_LEEWAY_SECONDS));
            let retired = repo.retire_signing_keys(alg.as_str(), switch, keep_until)?;
            let mut record = generate(alg, kek, now, rng)?;
            // With no predecessor there is no one to take over from: sign at once.
            record.signs_from = if retired == 0 { now } else { switch };
            repo.insert_signing_key(&record)?;
        }
        Self::load_or_create(repo, kek, now, rng)
    }

    /// Re-encrypts, with the current key-encryption key, every published key that a previous one encrypted,
    /// under the same lock as key creation. Returns how many were rewritten. Afterwards the previous keys can
    /// be dropped from the configuration.
    pub fn reencrypt(repo: &mut Repo<'_>, kek: &KeyEncryptionKey, now: Timestamp) -> Result<usize, KeyError> {
        repo.hold_exclusive(Exclusive::SigningKeys)?;
        let mut rewritten = 0;
        for record in repo.published_signing_keys(now)? {
            if let Some(encrypted) = kek.reencrypted(&record)? {
                repo.reencrypt_signing_key(&record.kid, &encrypted)?;
                rewritten += 1;
            }
        }
        Ok(rewritten)
    }

    fn of(keys: Vec<SigningKey>) -> Self {
        let jwks_json = jwks_of(&keys).to_string();
        Self { keys, jwks_json }
    }

    /// The key that signs `alg` at `now`. Should no key's period hold `now` (a server whose clock is behind
    /// the one that made the first keys), the earliest not yet retired.
    pub fn signing_key(&self, alg: KeyAlgorithm, now: Timestamp) -> Option<&SigningKey> {
        let of_alg = || self.keys.iter().filter(move |key| key.alg == alg);
        of_alg().filter(|key| key.signs_at(now)).max_by_key(|key| key.signs_from).or_else(|| {
            of_alg()
                .filter(|key| key.retired_at.is_none_or(|retired| now < retired))
                .min_by_key(|key| key.signs_from)
        })
    }

    /// The JWKS document: every published key, each with a unique `kid`.
    pub fn jwks(&self) -> serde_json::Value {
        jwks_of(&self.keys)
    }

    /// [`Keyring::jwks`], serialised.
    pub fn jwks_json(&self) -> &str {
        &self.jwks_json
    }

    pub fn kids(&self) -> Vec<&str> {
        self.keys.iter().map(|key| key.kid.as_str()).collect()
    }

    /// When the newest key of any algorithm starts signing.
    pub fn newest_signs_from(&self) -> Option<Timestamp> {
        self.keys.iter().map(|key| key.signs_from).max()
    }
}

fn active_record(records: &[SigningKeyRecord], alg: KeyAlgorithm) -> bool {
    records.iter().any(|r| r.alg == alg.as_str() && r.retired_at.is_none())
}

fn jwks_of(keys: &[SigningKey]) -> serde_json::Value {
    serde_json::json!({ "keys": keys.iter().map(|key| key.public_json.clone()).collect::<Vec<_>>() })
}
