//! Secrets (codes, tokens, client secrets) and the only form in which they are stored: a keyed hash,
//! HMAC-SHA-256 under the server's hash key of the secret's SHA-256.
//!
//! Every secret carries 256 random bits, so a fast hash is enough (no dictionary to guess from) and keeps
//! the token endpoint's hot path cheap. The key is what makes a row written by someone without it useless
//! (a token they chose, stored under its plain hash, matches nothing), and hashing the SHA-256 rather than
//! the secret lets a store of plain SHA-256s be converted without knowing a single secret. The readable
//! prefix lets secret scanners recognise a leaked value.

use base64::Engine;
use hmac::{Hmac, Mac};
use rand::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;

/// What a secret is for; decides its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretKind {
    AuthorizationCode,
    AccessToken,
    RefreshToken,
    PersonalToken,
    ClientSecret,
    Session,
    /// Marks a browser its user signed in from (the login throttle's known sources).
    Device,
}

impl SecretKind {
    pub const ALL: [SecretKind; 7] = [
        SecretKind::AuthorizationCode,
        SecretKind::AccessToken,
        SecretKind::RefreshToken,
        SecretKind::PersonalToken,
        SecretKind::ClientSecret,
        SecretKind::Session,
        SecretKind::Device,
    ];

    pub const fn prefix(self) -> &'static str {
        match self {
            SecretKind::AuthorizationCode => "lk_code_",
            SecretKind::AccessToken => "lk_at_",
            SecretKind::RefreshToken => "lk_rt_",
            SecretKind::PersonalToken => "lk_pat_",
            SecretKind::ClientSecret => "lk_cs_",
            SecretKind::Session => "lk_ses_",
            SecretKind::Device => "lk_dev_",
        }
    }

    /// The kind a presented value claims to be, from its prefix.
    pub fn of(value: &str) -> Option<SecretKind> {
        Self::ALL.into_iter().find(|kind| value.starts_with(kind.prefix()))
    }
}

/// Number of random bytes in a generated secret (256 bits).
pub const SECRET_BYTES: usize = 32;

/// A secret in the clear: exists only between generation and the response that hands it out, or between
/// a request and the hash look-up. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct PlainSecret(String);

impl PlainSecret {
    pub fn generate(kind: SecretKind, rng: &mut (impl RngCore + CryptoRng)) -> Self {
        let mut bytes = [0_u8; SECRET_BYTES];
        rng.fill_bytes(&mut bytes);
        let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        Self(format!("{}{}", kind.prefix(), encoded))
    }

    /// A secret as presented by a caller (or chosen by an operator); nothing is checked, since the only
    /// thing ever done with it is hashing and comparing.
    pub fn from_presented(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self, hasher: &SecretHasher) -> SecretHash {
        hasher.hash(&self.0)
    }
}

impl fmt::Debug for PlainSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match SecretKind::of(&self.0) {
            Some(kind) => write!(f, "PlainSecret({}…)", kind.prefix()),
            None => f.write_str("PlainSecret(…)"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a secret hash is 64 lowercase hexadecimal characters")]
pub struct SecretHashError;

/// Bytes in the hash key.
pub const HASH_KEY_BYTES: usize = 32;

/// Makes [`SecretHash`]es: HMAC-SHA-256, under the server's hash key, of a secret's SHA-256. `Debug` never
/// shows the key.
#[derive(Clone)]
pub struct SecretHasher {
    /// The HMAC already keyed: each hash clones it instead of running the key schedule again.
    keyed: Hmac<Sha256>,
}

impl SecretHasher {
    pub fn new(key: &[u8; HASH_KEY_BYTES]) -> Self {
        // HMAC pads a key shorter than the hash's block with zeros (RFC 2104 §2); padding it here gives the
        // same MAC through the constructor that cannot fail.
        let mut block = [0_u8; 64];
        block[..HASH_KEY_BYTES].copy_from_slice(key);
        Self { keyed: <Hmac<Sha256> as hmac::digest::KeyInit>::new(&block.into()) }
    }

    pub fn hash(&self, secret: &str) -> SecretHash {
        self.rekey(&UnkeyedHash(Sha256::digest(secret.as_bytes()).into()))
    }

    /// Whether `presented` hashes to `expected`, in time independent of where the hashes differ.
    pub fn verify(&self, expected: &SecretHash, presented: &str) -> bool {
        expected.0.ct_eq(&self.hash(presented).0).into()
    }

    /// The keyed hash of a secret whose plain SHA-256 is all that is known: what converting a store that
    /// held plain hashes writes in their place.
    pub fn rekey(&self, unkeyed: &UnkeyedHash) -> SecretHash {
        let mut mac = self.keyed.clone();
        mac.update(&unkeyed.0);
        SecretHash(mac.finalize().into_bytes().into())
    }
}

impl fmt::Debug for SecretHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHasher(…)")
    }
}

/// A plain SHA-256 of a secret, as stores written before keyed hashes held it (see [`SecretHasher::rekey`]).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct UnkeyedHash([u8; 32]);

impl UnkeyedHash {
    pub fn from_hex(hex: &str) -> Result<Self, SecretHashError> {
        SecretHash::from_hex(hex).map(|hash| Self(hash.0))
    }
}

/// A secret kept in memory only (one from the configuration), to compare presented values with: its plain
/// SHA-256, compared in constant time. Nothing stored is ever one of these.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SecretDigest([u8; 32]);

impl SecretDigest {
    pub fn of(secret: &str) -> Self {
        Self(Sha256::digest(secret.as_bytes()).into())
    }

    /// Whether `presented` is the secret, in time independent of where they differ.
    pub fn verify(&self, presented: &str) -> bool {
        self.0.ct_eq(&Self::of(presented).0).into()
    }
}

impl fmt::Debug for SecretDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretDigest(…)")
    }
}

/// The keyed hash of a secret (see [`SecretHasher`]): the only form a secret is stored in.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SecretHash([u8; 32]);

impl SecretHash {
    pub fn to_hex(&self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(64);
        for byte in self.0 {
            out.push(char::from(DIGITS[usize::from(byte >> 4)]));
            out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
        }
        out
    }

    pub fn from_hex(hex: &str) -> Result<Self, SecretHashError> {
        fn nibble(c: u8) -> Result<u8, SecretHashError> {
            match c {
                b'0'..=b'9' => Ok(c - b'0'),
                b'a'..=b'f' => Ok(c - b'a' + 10),
                _ => Err(SecretHashError),
            }
        }
        let bytes = hex.as_bytes();
        if bytes.len() != 64 {
            return Err(SecretHashError);
        }
        let mut out = [0_u8; 32];
        for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
            *slot = (nibble(pair[0])? << 4) | nibble(pair[1])?;
        }
        Ok(Self(out))
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A hash of a 256-bit secret reveals nothing, but a log line with it could still be used to find the
        // row; show only enough to tell two apart while debugging.
        write!(f, "SecretHash({}…)", &self.to_hex()[..8])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_have_prefix_and_256_bits() {
        let mut rng = rand::thread_rng();
        for kind in SecretKind::ALL {
            let secret = PlainSecret::generate(kind, &mut rng);
            let body = secret.expose().strip_prefix(kind.prefix()).expect("prefix");
            let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(body).expect("base64url");
            assert_eq!(decoded.len(), SECRET_BYTES);
            assert_eq!(SecretKind::of(secret.expose()), Some(kind));
        }
        let a = PlainSecret::generate(SecretKind::AccessToken, &mut rng);
        let b = PlainSecret::generate(SecretKind::AccessToken, &mut rng);
        assert_ne!(a, b);
    }

    const KEY: [u8; HASH_KEY_BYTES] = [7; HASH_KEY_BYTES];
    const KEYED_ABC: &str = "a2d1993e17f077129d14af2ac3c9862ec72f83bce565814b56f067562b06408b";

    #[test]
    fn debug_prints_nothing_secret() {
        let secret = PlainSecret::generate(SecretKind::RefreshToken, &mut rand::thread_rng());
        let printed = format!("{secret:?}");
        assert_eq!(printed, "PlainSecret(lk_rt_…)");
        let body = &secret.expose()["lk_rt_".len()..];
        assert!(!printed.contains(&body[..6]));
        let hasher = SecretHasher::new(&KEY);
        let hash_printed = format!("{:?}", secret.hash(&hasher));
        assert!(!hash_printed.contains(&secret.hash(&hasher).to_hex()));
        assert_eq!(format!("{hasher:?}"), "SecretHasher(…)");
        assert_eq!(format!("{:?}", SecretDigest::of("hunter2")), "SecretDigest(…)");
        assert_eq!(format!("{:?}", PlainSecret::from_presented("hunter2")), "PlainSecret(…)");
    }

    #[test]
    fn hash_is_hmac_of_the_sha256_and_round_trips_through_hex() {
        // HMAC-SHA-256 under the key 0x07 × 32 of SHA-256("abc"), computed independently:
        // `printf abc | sha256sum | xxd -r -p | openssl mac -digest SHA256 -macopt hexkey:0707… HMAC`
        let hash = SecretHasher::new(&KEY).hash("abc");
        assert_eq!(hash.to_hex(), KEYED_ABC);
        assert_eq!(SecretHash::from_hex(&hash.to_hex()), Ok(hash));
        assert!(
            SecretHash::from_hex("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD").is_err()
        );
        assert!(SecretHash::from_hex("abc").is_err());
        assert!(SecretHash::from_hex(&"g".repeat(64)).is_err());
    }

    #[test]
    fn verify_accepts_only_the_exact_secret_under_the_same_key() {
        let secret = PlainSecret::generate(SecretKind::ClientSecret, &mut rand::thread_rng());
        let hasher = SecretHasher::new(&KEY);
        let hash = secret.hash(&hasher);
        assert!(hasher.verify(&hash, secret.expose()));
        assert!(!hasher.verify(&hash, &secret.expose()[1..]));
        assert!(!hasher.verify(&hash, ""));
        let other = SecretHasher::new(&[8; HASH_KEY_BYTES]);
        assert!(!other.verify(&hash, secret.expose()), "a hash made without the key matches nothing");
    }

    #[test]
    fn rekeying_a_plain_sha256_gives_the_keyed_hash_of_its_secret() {
        let plain = UnkeyedHash::from_hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        let hasher = SecretHasher::new(&KEY);
        assert_eq!(hasher.rekey(&plain.unwrap()), hasher.hash("abc"));
    }

    #[test]
    fn a_configured_secret_matches_only_itself() {
        let digest = SecretDigest::of("hunter2");
        assert!(digest.verify("hunter2"));
        assert!(!digest.verify("hunter3"));
        assert!(!digest.verify(""));
    }
}
