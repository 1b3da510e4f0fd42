//! private_key_jwt assertions checked in-process, for each accepted algorithm.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use josekit::jwk::KeyPair;
use josekit::jws::{EdDSA, JwsHeader, JwsSigner, ES256, RS256};
use josekit::jwt::JwtPayload;
use latchkey_core::client_assertion::{check_registered_jwks, verify};
use latchkey_model::Timestamp;
use std::time::{Duration, UNIX_EPOCH};

const NOW: i64 = 1_800_000_000;

fn assertion(signer: &dyn JwsSigner, kid: Option<&str>, exp: i64) -> String {
    let mut payload = JwtPayload::new();
    payload.set_issuer("c");
    payload.set_subject("c");
    payload.set_audience(vec!["https://id.example.com"]);
    payload.set_expires_at(&(UNIX_EPOCH + Duration::from_secs(exp as u64)));
    payload.set_jwt_id("j-1");
    let mut header = JwsHeader::new();
    if let Some(kid) = kid {
        header.set_key_id(kid);
    }
    josekit::jwt::encode_with_signer(&payload, &header, signer).unwrap()
}

#[test]
fn each_algorithm_verifies_with_and_without_kid() {
    let rsa = RS256.generate_key_pair(2048).unwrap();
    let ec = ES256.generate_key_pair().unwrap();
    let ed = EdDSA.generate_key_pair(josekit::jwk::alg::ed::EdCurve::Ed25519).unwrap();
    let mut publics = Vec::new();
    let mut signers: Vec<(Box<dyn JwsSigner>, &str)> = Vec::new();
    for (kid, public, signer) in [
        (
            "r",
            rsa.to_jwk_public_key(),
            Box::new(RS256.signer_from_jwk(&rsa.to_jwk_private_key()).unwrap()) as Box<dyn JwsSigner>,
        ),
        ("e", ec.to_jwk_public_key(), Box::new(ES256.signer_from_jwk(&ec.to_jwk_private_key()).unwrap())),
        ("d", ed.to_jwk_public_key(), Box::new(EdDSA.signer_from_jwk(&ed.to_jwk_private_key()).unwrap())),
    ] {
        let mut public = public;
        public.set_key_id(kid);
        publics.push(public.to_string());
        signers.push((signer, kid));
    }
    let jwks = format!("{{\"keys\":[{}]}}", publics.join(","));
    check_registered_jwks(&jwks).unwrap();
    let audiences = vec!["https://id.example.com".to_owned()];
    for (signer, kid) in &signers {
        for kid in [Some(*kid), None] {
            let verified = verify(
                &assertion(signer.as_ref(), kid, NOW + 60),
                &jwks,
                "c",
                &audiences,
                Timestamp::from_unix_seconds(NOW),
            );
            assert_eq!(verified.map(|v| v.jti), Ok("j-1".to_owned()), "{kid:?}");
        }
        let expired = verify(
            &assertion(signer.as_ref(), None, NOW),
            &jwks,
            "c",
            &audiences,
            Timestamp::from_unix_seconds(NOW),
        );
        assert!(expired.is_err());
        let other = verify(
            &assertion(signer.as_ref(), None, NOW + 60),
            &jwks,
            "d",
            &audiences,
            Timestamp::from_unix_seconds(NOW),
        );
        assert!(other.is_err(), "iss/sub of another client");
    }
}

#[test]
fn private_keys_and_garbage_are_not_registered() {
    let rsa = RS256.generate_key_pair(2048).unwrap();
    assert!(check_registered_jwks(&format!("{{\"keys\":[{}]}}", rsa.to_jwk_private_key())).is_err());
    assert!(check_registered_jwks("{\"keys\":[]}").is_err());
    assert!(check_registered_jwks("not json").is_err());
    assert!(check_registered_jwks(r#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#).is_err());
}

#[test]
fn huge_or_odd_times_are_refused_not_trusted() {
    let rsa = RS256.generate_key_pair(2048).unwrap();
    let jwks = format!("{{\"keys\":[{}]}}", rsa.to_jwk_public_key());
    let signer = RS256.signer_from_jwk(&rsa.to_jwk_private_key()).unwrap();
    let audiences = vec!["https://id.example.com".to_owned()];
    for (exp, nbf) in [
        (serde_json::json!(1e20), None),
        (serde_json::json!(u64::MAX), None),
        (serde_json::json!(NOW + 60), Some(serde_json::json!(1e20))),
        (serde_json::json!(NOW + 60), Some(serde_json::json!(NOW + 30))),
    ] {
        let mut payload = JwtPayload::new();
        payload.set_issuer("c");
        payload.set_subject("c");
        payload.set_audience(vec!["https://id.example.com"]);
        payload.set_jwt_id("j");
        payload.set_claim("exp", Some(exp.clone())).unwrap();
        if let Some(nbf) = &nbf {
            payload.set_claim("nbf", Some(nbf.clone())).unwrap();
        }
        let token = josekit::jwt::encode_with_signer(&payload, &JwsHeader::new(), &signer).unwrap();
        let verified = verify(&token, &jwks, "c", &audiences, Timestamp::from_unix_seconds(NOW));
        assert!(verified.is_err(), "exp {exp}, nbf {nbf:?}");
    }
}
