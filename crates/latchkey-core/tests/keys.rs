//! Signing keys end to end: generation, encryption at rest, JWKS, rotation, and ID tokens that a relying
//! party (openidconnect's verifier) accepts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use latchkey_core::id_token::{issue_id_token, IdTokenContent};
use latchkey_core::keys::{KeyAlgorithm, KeyEncryptionKey, KeyError, Keyring, RotationSchedule};
use latchkey_model::{PlainSecret, SecretKind, Timestamp};
use latchkey_store::testing::TestDatabase;
use latchkey_store::Store;
use openidconnect::core::{CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm};
use openidconnect::{AccessTokenHash, ClientId, IssuerUrl, Nonce};

latchkey_store::on_both_backends!(
    keys_are_created_once_and_encrypted_at_rest,
    rotation_keeps_old_keys_published,
    rotation_publishes_new_keys_before_they_sign,
    servers_starting_together_make_one_key_set,
    a_new_key_encryption_key_takes_over_once_the_keys_are_reencrypted
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

fn rotate(store: &Store, kek: &KeyEncryptionKey, now: i64, schedule: RotationSchedule) -> Keyring {
    store
        .write(|repo| {
            Ok(Keyring::rotate(
                repo,
                kek,
                Timestamp::from_unix_seconds(now),
                schedule,
                &mut rand::thread_rng(),
            ))
        })
        .unwrap()
        .unwrap()
}

fn signer(keys: &Keyring, at: i64) -> String {
    keys.signing_key(KeyAlgorithm::Rs256, Timestamp::from_unix_seconds(at)).unwrap().kid.clone()
}

const SCHEDULE: RotationSchedule =
    RotationSchedule { publish_ahead_seconds: 120, keep_old_for_seconds: 3600 };

fn rotation_keeps_old_keys_published(db: &TestDatabase) {
    let store = db.open().unwrap();
    let kek = KeyEncryptionKey::generate(&mut rand::thread_rng());
    let before = keyring(&store, &kek, NOW);
    let old_rs = signer(&before, NOW);
    let rotated = rotate(&store, &kek, NOW + 5, SCHEDULE);
    let new_rs = signer(&rotated, NOW + 5 + 120);
    assert_ne!(old_rs, new_rs, "new tokens are signed with the new key");
    let kids = rotated.kids();
    assert_eq!(kids.len(), 6);
    assert!(kids.contains(&old_rs.as_str()), "the old key stays published");
    let unique: std::collections::HashSet<_> = kids.iter().collect();
    assert_eq!(unique.len(), kids.len(), "every kid is unique");
    // Once everything the old key signed has expired (an hour after it stopped signing, and the leeway
    // relying parties allow on `exp`), it leaves the JWKS.
    let gone_at = NOW + 5 + 120 + 3600 + latchkey_core::keys::EXP_LEEWAY_SECONDS;
    let still = keyring(&store, &kek, gone_at - 1);
    assert!(still.kids().contains(&old_rs.as_str()));
    let later = keyring(&store, &kek, gone_at);
    assert!(!later.kids().contains(&old_rs.as_str()));
    assert_eq!(later.kids().len(), 3);
}

/// A rotation's keys are published at once and sign only after the publication delay, so every server (which
/// reloads within it) publishes them before any server signs with them; until then the old keys sign. Every
/// server that loaded the keys switches at the same instant, whenever it loaded them.
fn rotation_publishes_new_keys_before_they_sign(db: &TestDatabase) {
    let store = db.open().unwrap();
    let kek = KeyEncryptionKey::generate(&mut rand::thread_rng());
    let old = signer(&keyring(&store, &kek, NOW), NOW);
    let here = rotate(&store, &kek, NOW, SCHEDULE);
    let elsewhere = keyring(&store, &kek, NOW + 30);
    for keys in [&here, &elsewhere] {
        assert_eq!(keys.kids().len(), 6, "published at once");
        assert_eq!(signer(keys, NOW), old, "the old key still signs");
        assert_eq!(signer(keys, NOW + 119), old);
        assert_ne!(signer(keys, NOW + 120), old, "the new key signs from the announced instant");
    }
    assert_eq!(here.newest_signs_from(), Some(Timestamp::from_unix_seconds(NOW + 120)));
    let new = signer(&here, NOW + 120);
    assert!(here.kids().contains(&new.as_str()) && elsewhere.kids().contains(&new.as_str()));

    // A second rotation inside the delay: each key signs in turn, none is skipped, none signs twice.
    let again = rotate(&store, &kek, NOW + 60, SCHEDULE);
    assert_eq!(again.kids().len(), 9);
    assert_eq!(signer(&again, NOW + 100), old);
    assert_eq!(signer(&again, NOW + 150), new);
    let newest = signer(&again, NOW + 180);
    assert!(newest != old && newest != new);
}

/// Servers starting at the same instant on an empty database: one key set, the same for every server.
fn servers_starting_together_make_one_key_set(db: &TestDatabase) {
    let kek = KeyEncryptionKey::generate(&mut rand::thread_rng());
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(4));
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let (store, kek, barrier) = (db.open().unwrap(), kek.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let mut kids: Vec<String> =
                    keyring(&store, &kek, NOW).kids().into_iter().map(str::to_owned).collect();
                kids.sort();
                kids
            })
        })
        .collect();
    let sets: Vec<Vec<String>> = starts.into_iter().map(|start| start.join().unwrap()).collect();
    assert_eq!(sets[0].len(), 3, "{sets:?}");
    assert!(sets.iter().all(|set| *set == sets[0]), "every server loaded the same keys: {sets:?}");
    let stored =
        db.open().unwrap().read(|repo| repo.published_signing_keys(Timestamp::from_unix_seconds(NOW)));
    assert_eq!(stored.unwrap().len(), 3, "nothing else was stored");
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

/// Key-encryption key rotation: "new,old" decrypts what either encrypted and encrypts with the new one;
/// after `reencrypt`, the new key alone reads every key and the old one none.
fn a_new_key_encryption_key_takes_over_once_the_keys_are_reencrypted(db: &TestDatabase) {
    let store = db.open().unwrap();
    let old = KeyEncryptionKey::generate(&mut rand::thread_rng());
    let made = keyring(&store, &old, NOW);
    let new = KeyEncryptionKey::generate(&mut rand::thread_rng());
    let both = KeyEncryptionKey::parse(&format!("{},{}", new.to_base64url(), old.to_base64url())).unwrap();
    let now = Timestamp::from_unix_seconds(NOW);
    let load =
        |kek: &KeyEncryptionKey| store.write(|repo| Ok(Keyring::load_published(repo, kek, now))).unwrap();
    let reencrypt =
        |kek: &KeyEncryptionKey| store.write(|repo| Ok(Keyring::reencrypt(repo, kek, now))).unwrap();

    assert!(matches!(load(&new), Err(KeyError::Undecryptable(_))), "the new key alone reads nothing yet");
    let sorted =
        |ring: Keyring| ring.kids().into_iter().map(str::to_owned).collect::<std::collections::BTreeSet<_>>();
    let made = sorted(made);
    assert_eq!(sorted(load(&both).unwrap().unwrap()), made, "the list reads what the old key encrypted");
    assert_eq!(reencrypt(&both).unwrap(), 3);
    assert_eq!(sorted(load(&new).unwrap().unwrap()), made, "now the new key alone reads them");
    assert!(matches!(load(&old), Err(KeyError::Undecryptable(_))), "and the old one reads none");
    assert_eq!(reencrypt(&both).unwrap(), 0, "nothing left to re-encrypt");
    assert!(matches!(reencrypt(&old), Err(KeyError::Undecryptable(_))), "a key it cannot read is refused");
    assert!(KeyEncryptionKey::parse(&format!("{},", new.to_base64url())).is_err(), "an empty entry");
}
