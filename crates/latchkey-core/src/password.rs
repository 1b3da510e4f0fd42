//! User passwords: Argon2id at the OWASP minimum cost (m = 19 MiB, t = 2, p = 1), per-user random salt.

use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use latchkey_model::PasswordHash;
use rand::{CryptoRng, RngCore};
use std::sync::OnceLock;

/// NIST SP 800-63B §5.1.1.2: at least 8 characters, and at least 64 accepted. The upper bound only stops
/// someone from making the server hash megabytes; nothing is ever truncated.
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_BYTES: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("password must be at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("password must be at most {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

fn argon2() -> Argon2<'static> {
    // These parameters are constants that Params::new accepts; the fallback is never taken.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash_password(
    password: &str,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<PasswordHash, PasswordError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong);
    }
    let mut salt = [0_u8; 16];
    rng.fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| PasswordError::Hashing(e.to_string()))?;
    let hash = argon2()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| PasswordError::Hashing(e.to_string()))?;
    Ok(PasswordHash::from_phc(hash.to_string()))
}

/// A hash that matches no password, verified in place of an unknown user's so that "no such user" and
/// "wrong password" take the same time.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::encode_b64(b"latchkey-dummy-salt").map(|s| s.to_string()).unwrap_or_default();
        SaltString::from_b64(&salt)
            .ok()
            .and_then(|salt| {
                argon2().hash_password(b"no password matches this", &salt).map(|h| h.to_string()).ok()
            })
            .unwrap_or_default()
    })
}

/// Checks `password` against `stored`, or against a dummy hash when there is no stored hash, doing the same
/// work either way. Over-long input is refused before hashing.
pub fn verify_password(stored: Option<&PasswordHash>, password: &str) -> bool {
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    let phc: &str = match stored {
        Some(hash) => hash.as_phc(),
        None => dummy_hash(),
    };
    let Ok(parsed) = argon2::password_hash::PasswordHash::new(phc) else {
        return false;
    };
    let matches = argon2().verify_password(password.as_bytes(), &parsed).is_ok();
    matches && stored.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_the_owasp_cost_and_a_fresh_salt() {
        let mut rng = rand::thread_rng();
        let a = hash_password("correct horse battery", &mut rng).unwrap();
        let b = hash_password("correct horse battery", &mut rng).unwrap();
        assert!(a.as_phc().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{}", a.as_phc());
        assert_ne!(a, b, "each hash has its own salt");
    }

    #[test]
    fn verifies_only_the_right_password() {
        let hash = hash_password("correct horse battery", &mut rand::thread_rng()).unwrap();
        assert!(verify_password(Some(&hash), "correct horse battery"));
        assert!(!verify_password(Some(&hash), "correct horse batter"));
        assert!(!verify_password(Some(&hash), ""));
        assert!(!verify_password(None, "correct horse battery"));
        assert!(!verify_password(Some(&PasswordHash::from_phc("garbage")), "x"));
    }

    #[test]
    fn length_rules_without_truncation() {
        let mut rng = rand::thread_rng();
        assert_eq!(hash_password("short", &mut rng), Err(PasswordError::TooShort));
        assert_eq!(hash_password(&"x".repeat(MAX_PASSWORD_BYTES + 1), &mut rng), Err(PasswordError::TooLong));
        let long = "p".repeat(100);
        let hash = hash_password(&long, &mut rng).unwrap();
        assert!(verify_password(Some(&hash), &long));
        assert!(!verify_password(Some(&hash), &long[..99]), "no silent truncation");
    }

    #[test]
    fn dummy_hash_is_a_real_argon2id_hash() {
        assert!(dummy_hash().starts_with("$argon2id$"));
    }
}
