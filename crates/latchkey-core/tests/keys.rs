//! Signing keys end to end: generation, encryption at rest, JWKS, rotation, and ID tokens that a relying
//! party (openidconnect's verifier) accepts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use latchkey_core::id_token::{issue_id_token, IdTokenContent};
use latchkey_core::keys::{KeyAlgorithm, KeyEncryptionKey, KeyError, Keyring};
use latchkey_model::{PlainSecret, SecretKind, Timestamp};
use latchkey_store::testing::TestDatabase;
use latchkey_store::Store;
use openidconnect::core::{CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm};
use openidconnect::{AccessTokenHash, ClientId, IssuerUrl, Nonce};

latchkey_store::on_both_backends!(
    keys_are_created_once_and_encrypted_at_rest,
    rotation_keeps_old_keys_published
);

const NOW: i64 = 1_800_000_000;

fn keyring(store: &Store, kek: &KeyEncryptionKey, now: i64) -> Keyring {
    store
        .write(|repo| {
            Ok(Keyring::load_or_create(repo, kek, Timestamp::from_unix_seconds(now), &mut rand::thread_rng()))
        })
        .unwrap()
        .unwrap()
}

fn keys_are_created_once_and_encrypted_at_rest(db: &TestDatabase) {
    let store = db.open().unwrap();
    let kek = KeyEncryptionKey::generate(&mut rand::thread_rng());
    let first = keyring(&store, &kek, NOW);
    assert_eq!(first.kids().len(), 3, "RS256, ES256 and EdDSA");
    let second = keyring(&store, &kek, NOW + 10);
    let sorted = |ring: &Keyring| {
        let mut kids: Vec<String> = ring.kids().into_iter().map(str::to_owned).collect();
        kids.sort();
        kids
    };
    assert_eq!(sorted(&first), sorted(&second), "a restart loads the same keys");
    let stored = store.read(|repo| repo.published_signing_keys(Timestamp::from_unix_seconds(NOW))).unwrap();
    for key in &stored {
        assert!(!key.encrypted_private_key.contains("PRIVATE KEY"));
        assert_eq!(key.encrypted_private_key.split('.').count(), 5, "a compact JWE");
        assert!(!key.public_jwk.contains("\"d\""), "no private parameters in the public JWK");
    }
    let wrong = KeyEncryptionKey::generate(&mut rand::thread_rng());
    let refused = store
        .write(|repo| {
            Ok(Keyring::load_or_create(
                repo,
                &wrong,
                Timestamp::from_unix_seconds(NOW),
                &mut rand::thread_rng(),
            ))
        })
        .unwrap();
    assert!(matches!(refused, Err(KeyError::Undecryptable(_))), "{refused:?}");
}

fn rotation_keeps_old_keys_published(db: &TestDatabase) {
    let store = db.open().unwrap();
    let kek = KeyEncryptionKey::generate(&mut rand::thread_rng());
    let before = keyring(&store, &kek, NOW);
    let old_rs = before.signing_key(KeyAlgorithm::Rs256).unwrap().kid.clone();
    let rotated = store
        .write(|repo| {
            Ok(Keyring::rotate(
                repo,
                &kek,
                Timestamp::from_unix_seconds(NOW + 5),
                3600,
                &mut rand::thread_rng(),
            ))
        })
        .unwrap()
        .unwrap();
    let new_rs = rotated.signing_key(KeyAlgorithm::Rs256).unwrap().kid.clone();
    assert_ne!(old_rs, new_rs, "new tokens are signed with the new key");
    let kids = rotated.kids();
    assert_eq!(kids.len(), 6);
    assert!(kids.contains(&old_rs.as_str()), "the old key stays published");
    let unique: std::collections::HashSet<_> = kids.iter().collect();
    assert_eq!(unique.len(), kids.len(), "every kid is unique");
    // Once everything the old key signed has expired, it leaves the JWKS.
    let later = keyring(&store, &kek, NOW + 5 + 3600);
    assert!(!later.kids().contains(&old_rs.as_str()));
    assert_eq!(later.kids().len(), 3);
}

#[test]
fn id_tokens_verify_against_the_published_jwks() {
    let store = TestDatabase::sqlite();
    let store = store.open().unwrap();
    let kek = KeyEncryptionKey::generate(&mut rand::thread_rng());
    let keys = keyring(&store, &kek, NOW);
    let jwks: CoreJsonWebKeySet = serde_json::from_value(keys.jwks()).unwrap();
    let access_token = PlainSecret::generate(SecretKind::AccessToken, &mut rand::thread_rng());
    for alg in KeyAlgorithm::ALL {
        let content = IdTokenContent {
            issuer: "https://id.example.com",
            client_id: "app",
            subject: "sub-1",
            nonce: Some("n-123"),
            auth_time: Some(Timestamp::from_unix_seconds(NOW - 60)),
            user_claims: None,
            authentication_methods: &["pwd"],
            now: Timestamp::from_unix_seconds(NOW),
            lifetime_seconds: 300,
            access_token: Some(&access_token),
            code: None,
            alg,
        };
        let token: CoreIdToken = issue_id_token(&keys, &content).unwrap().parse().unwrap();
        let verifier = CoreIdTokenVerifier::new_confidential_client(
            ClientId::new("app".into()),
            openidconnect::ClientSecret::new("unused".into()),
            IssuerUrl::new("https://id.example.com".into()).unwrap(),
            jwks.clone(),
        )
        .set_allowed_algs(vec![
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            CoreJwsSigningAlgorithm::EcdsaP256Sha256,
            CoreJwsSigningAlgorithm::EdDsa,
        ])
        .set_time_fn(|| chrono::DateTime::from_timestamp(NOW + 10, 0).unwrap());
        let claims = token.claims(&verifier, &Nonce::new("n-123".into())).unwrap();
        assert_eq!(claims.subject().as_str(), "sub-1");
        assert_eq!(claims.auth_time().unwrap().timestamp(), NOW - 60);
        let amr: Vec<&str> = claims.auth_method_refs().unwrap().iter().map(|m| m.as_str()).collect();
        assert_eq!(amr, ["pwd"]);
        let expected = AccessTokenHash::from_token(
            &openidconnect::AccessToken::new(access_token.expose().into()),
            token.signing_alg().unwrap(),
            token.signing_key(&verifier).unwrap(),
        )
        .unwrap();
        assert_eq!(claims.access_token_hash(), Some(&expected));
        assert!(token.claims(&verifier, &Nonce::new("other".into())).is_err(), "nonce is checked");
    }
}
