//! `serve --demo`: on an empty database, a user and a client to try the server with at once.

use base64::Engine;
use latchkey_core::registration::{register_client, register_user, NewClient, NewUser, SecretChoice};
use latchkey_core::Issuer;
use latchkey_model::{PlainSecret, Timestamp};
use latchkey_store::{Store, StoreError};
use rand::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};

pub const DEMO_USER: &str = "demo";
pub const DEMO_CLIENT: &str = "demo";
/// A loopback redirect: nothing needs to listen there, the browser's address bar shows the code.
pub const DEMO_REDIRECT_URI: &str = "http://127.0.0.1:9000/callback";

pub enum Seeded {
    /// The database already had users or clients; nothing was added and no secret can be shown again.
    AlreadyPopulated,
    Created {
        password: String,
        client_secret: PlainSecret,
        authorize_url: String,
        code_verifier: String,
    },
}

fn random_text(rng: &mut (impl RngCore + CryptoRng), bytes: usize) -> String {
    let mut buffer = vec![0_u8; bytes];
    rng.fill_bytes(&mut buffer);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buffer)
}

pub fn seed(
    store: &Store,
    issuer: &Issuer,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<Seeded, StoreError> {
    let password = random_text(rng, 12);
    let user = NewUser {
        username: DEMO_USER.to_owned(),
        password: password.clone(),
        email: Some("demo@example.com".to_owned()),
        name: Some("Demo User".to_owned()),
    };
    let client = NewClient {
        id: DEMO_CLIENT.to_owned(),
        name: Some("Demo App".to_owned()),
        secret: SecretChoice::Generate,
        redirect_uris: vec![DEMO_REDIRECT_URI.to_owned()],
        grant_types: vec!["authorization_code".to_owned(), "refresh_token".to_owned()],
        scopes: ["openid", "profile", "email", "offline_access"].map(str::to_owned).to_vec(),
        access_token_ttl_seconds: None,
        refresh_token_ttl_seconds: None,
        id_token_signing_alg: Default::default(),
    };
    let invalid = |e: latchkey_core::registration::RegistrationError| StoreError::Constraint(e.to_string());
    let user = register_user(user, now, rng).map_err(invalid)?;
    let (client, secret) = register_client(client, store.hasher()?, now, rng).map_err(invalid)?;
    let Some(client_secret) = secret else {
        return Err(StoreError::Constraint("demo client got no secret".to_owned()));
    };
    let created = store.write(|repo| {
        if repo.count_users()? > 0 || repo.count_clients()? > 0 {
            return Ok(false);
        }
        repo.insert_user(&user)?;
        repo.insert_client(&client)?;
        Ok(true)
    })?;
    if !created {
        return Ok(Seeded::AlreadyPopulated);
    }
    // RFC 7636 §4.1-4.2: a 43-character verifier and its S256 challenge, ready to paste.
    let code_verifier = random_text(rng, 32);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(&code_verifier));
    let state = random_text(rng, 9);
    let authorize_url = format!(
        "{}?response_type=code&client_id={DEMO_CLIENT}&redirect_uri={}&scope=openid%20profile%20email&state={state}&code_challenge={challenge}&code_challenge_method=S256",
        issuer.endpoint("/authorize"),
        "http%3A%2F%2F127.0.0.1%3A9000%2Fcallback",
    );
    Ok(Seeded::Created { password, client_secret, authorize_url, code_verifier })
}
