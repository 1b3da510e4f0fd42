//! `private_key_jwt` client authentication (OpenID Connect Core §9, RFC 7523 §2.2 and §3): the client
//! signs a short-lived JWT with a private key whose public half it registered.

use josekit::jwk::JwkSet;
use josekit::jws::{EdDSA, JwsVerifier, ES256, RS256};
use latchkey_model::Timestamp;

/// The only `client_assertion_type` (RFC 7523 §2.2).
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Algorithms an assertion may be signed with: asymmetric only, so a public key can never be used as an
/// HMAC secret, and never `none`.
pub const ALGORITHMS: [&str; 3] = ["RS256", "ES256", "EdDSA"];

/// Longest accepted assertion lifetime: a long-lived assertion is a password in disguise.
pub const MAX_LIFETIME_SECONDS: i64 = 10 * 60;

/// The parts of a verified assertion the caller still has to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAssertion {
    pub jti: String,
    pub expires_at: Timestamp,
}

/// The `sub` an assertion claims, read without verification: only to find whose keys to verify it with.
pub fn claimed_subject(assertion: &str) -> Option<String> {
    use base64::Engine;
    let payload = assertion.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("sub")?.as_str().map(str::to_owned)
}

/// Verifies `assertion` for `client_id` against its registered `jwks`: the signature (with a key of the
/// header's asymmetric algorithm, chosen by `kid` when given), `iss` and `sub` equal to the client id,
/// an `aud` naming one of `audiences`, an `exp` in the near future, `nbf` if present, and a `jti`.
/// The error says what was wrong, for the log; the client only ever learns `invalid_client`.
pub fn verify(
    assertion: &str,
    jwks: &str,
    client_id: &str,
    audiences: &[String],
    now: Timestamp,
) -> Result<VerifiedAssertion, String> {
    let header = josekit::jwt::decode_header(assertion).map_err(|e| format!("malformed assertion: {e}"))?;
    let alg = header.claim("alg").and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    if !ALGORITHMS.contains(&alg.as_str()) {
        return Err(format!("algorithm {alg:?} is not accepted"));
    }
    let kid = header.claim("kid").and_then(|v| v.as_str()).map(str::to_owned);
    let set =
        JwkSet::from_bytes(jwks.as_bytes()).map_err(|e| format!("registered JWK set unreadable: {e}"))?;
    let candidates = match &kid {
        Some(kid) => set.get(kid),
        None => set.keys(),
    };
    let verifiers: Vec<Box<dyn JwsVerifier>> = candidates
        .into_iter()
        .filter(|jwk| jwk.algorithm().is_none_or(|key_alg| key_alg == alg))
        .filter_map(|jwk| -> Option<Box<dyn JwsVerifier>> {
            // The key was already chosen by `kid` (when there is one); a verifier that knows a `kid` would
            // also demand it in the header, so it is built without.
            let mut jwk = jwk.clone();
            jwk.set_parameter("kid", None).ok()?;
            match alg.as_str() {
                "RS256" => RS256.verifier_from_jwk(&jwk).ok().map(|v| Box::new(v) as Box<dyn JwsVerifier>),
                "ES256" => ES256.verifier_from_jwk(&jwk).ok().map(|v| Box::new(v) as Box<dyn JwsVerifier>),
                "EdDSA" => EdDSA.verifier_from_jwk(&jwk).ok().map(|v| Box::new(v) as Box<dyn JwsVerifier>),
                _ => None,
            }
        })
        .collect();
    let payload = verifiers
        .iter()
        .find_map(|verifier| josekit::jwt::decode_with_verifier(assertion, verifier.as_ref()).ok())
        .map(|(payload, _)| payload)
        .ok_or_else(|| "no registered key verifies the assertion".to_owned())?;

    if payload.issuer() != Some(client_id) || payload.subject() != Some(client_id) {
        return Err("iss and sub must both be the client_id".into());
    }
    let audience_ok =
        payload.audience().is_some_and(|aud| aud.iter().any(|a| audiences.iter().any(|x| x == a)));
    if !audience_ok {
        return Err("aud must name this server".into());
    }
    // Read as plain integers: a huge or fractional value is refused here, never converted to a time.
    let number = |name: &str| payload.claim(name).and_then(serde_json::Value::as_i64);
    let expires_at = number("exp").ok_or("exp is required, as whole seconds")?;
    if expires_at <= now.unix_seconds() {
        return Err("the assertion has expired".into());
    }
    if expires_at > now.unix_seconds().saturating_add(MAX_LIFETIME_SECONDS) {
        return Err("exp is too far in the future".into());
    }
    match payload.claim("nbf") {
        None => {}
        Some(nbf) => match nbf.as_i64() {
            Some(nbf) if nbf <= now.unix_seconds() => {}
            Some(_) => return Err("the assertion is not valid yet".into()),
            None => return Err("nbf must be whole seconds".into()),
        },
    }
    let jti = payload.jwt_id().filter(|jti| !jti.is_empty() && jti.len() <= 256).ok_or("jti is required")?;
    Ok(VerifiedAssertion { jti: jti.to_owned(), expires_at: Timestamp::from_unix_seconds(expires_at) })
}

/// Checks a JWK set registered for a client: JSON with at least one public key of an accepted kind, and
/// no private key material (a client must never hand its private key over).
pub fn check_registered_jwks(jwks: &str) -> Result<(), String> {
    let set = JwkSet::from_bytes(jwks.as_bytes()).map_err(|e| format!("not a JWK set: {e}"))?;
    let keys = set.keys();
    if keys.is_empty() {
        return Err("the JWK set has no keys".into());
    }
    for key in keys {
        if ["d", "p", "q", "dp", "dq", "qi", "k"].iter().any(|private| key.parameter(private).is_some()) {
            return Err("the JWK set contains private key material".into());
        }
        if !["RSA", "EC", "OKP"].contains(&key.key_type()) {
            return Err(format!("key type {} is not accepted", key.key_type()));
        }
    }
    Ok(())
}
