//! A world for tests below HTTP (feature `test-support`): a real database of its own, a clock that moves
//! only when told, signing keys, and helpers to register clients and users and sign a user in.
#![allow(clippy::panic, clippy::expect_used)] // Test support: a failure to set the world up is a bug in the test.

use crate::keys::{KeyEncryptionKey, Keyring};
use crate::registration::{register_client, register_user, NewClient, NewUser, SecretChoice};
use crate::tokens::{mint, Minted};
use crate::{tx, FixedClock, Issuer, Outcome};
use latchkey_model::{
    AuthMethod, Client, Consent, GrantType, PlainSecret, RecordId, Scope, SecretKind, Session,
    SigningAlgorithm, Stage, Timestamp, TokenRecord, User, Username,
};
use latchkey_store::testing::TestDatabase;
use latchkey_store::{Repo, Store};
use std::sync::Arc;

/// When every world starts: 2027, well within the calendar and unlike the wall clock.
pub const START: i64 = 1_800_000_000;
pub const PASSWORD: &str = "correct horse battery staple";
pub const SECRET: &str = "client-secret-0123456789abcdefghijklmn";
pub const REDIRECT_URI: &str = "https://app.example.com/cb";
/// RFC 7636 Appendix B: a verifier and its S256 challenge.
pub const PKCE_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const PKCE_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

pub struct World {
    pub db: TestDatabase,
    pub store: Store,
    pub clock: Arc<FixedClock>,
    pub kek: KeyEncryptionKey,
    pub keys: Keyring,
    pub issuer: Issuer,
}

impl World {
    pub fn new(db: TestDatabase) -> Self {
        let store = db.open().expect("a test database");
        let now = Timestamp::from_unix_seconds(START);
        let kek = KeyEncryptionKey::generate(&mut rand::rngs::OsRng);
        crate::hash_key::unlock(&store, &kek, now, &mut rand::rngs::OsRng).expect("the hash key");
        let keys = store
            .write(|repo| Ok(Keyring::load_or_create(repo, &kek, now, &mut rand::rngs::OsRng)))
            .expect("keys stored")
            .expect("keys made");
        let issuer = Issuer::parse("https://id.example.com").expect("an issuer");
        Self { db, store, clock: Arc::new(FixedClock::at(now)), kek, keys, issuer }
    }

    pub fn sqlite() -> Self {
        Self::new(TestDatabase::sqlite())
    }

    pub fn now(&self) -> Timestamp {
        crate::Clock::now(&*self.clock)
    }

    /// The hash key the world's store was given.
    pub fn hasher(&self) -> &latchkey_model::SecretHasher {
        self.store.hasher().expect("the world's store has its hash key")
    }

    pub fn advance(&self, seconds: i64) {
        self.clock.advance(seconds);
    }

    /// Runs a step in one write transaction, as the endpoints do.
    pub fn step<T>(&self, step: impl FnOnce(&mut Repo<'_>) -> Outcome<T>) -> Outcome<T> {
        tx::write(&self.store, step)
    }

    /// Registers and stores a client.
    pub fn client(&self, new: NewClient) -> Client {
        let (client, _) =
            register_client(new, self.hasher(), self.now(), &mut rand::rngs::OsRng).expect("a valid client");
        let stored = client.clone();
        self.store.write(move |repo| repo.insert_client(&stored)).expect("client stored");
        client
    }

    /// Stores a user whose password is [`PASSWORD`].
    pub fn user(&self, name: &str) -> User {
        let new = NewUser {
            username: name.into(),
            password: PASSWORD.into(),
            email: Some(format!("{name}@example.com")),
            name: Some(format!("{name} example")),
        };
        let user = register_user(new, self.now(), &mut rand::rngs::OsRng).expect("a valid user");
        let stored = user.clone();
        self.store.write(move |repo| repo.insert_user(&stored)).expect("user stored");
        user
    }

    /// A browser session in which `username` signed in with a password now, and its secret.
    pub fn signed_in(&self, username: &str) -> (PlainSecret, Session) {
        let secret = PlainSecret::generate(SecretKind::Session, &mut rand::rngs::OsRng);
        let now = self.now();
        let session = Session {
            id_hash: secret.hash(self.hasher()),
            username: Some(Username::parse(username).expect("a username")),
            auth_time: Some(now),
            auth_methods: vec![AuthMethod::Password],
            created_at: now,
            last_seen_at: now,
            expires_at: now.plus_seconds(3600),
        };
        let stored = session.clone();
        self.store.write(move |repo| repo.insert_session(&stored)).expect("session stored");
        (secret, session)
    }

    /// A completed grant of `scope` to `client` (for `username`, signed in with a password now), with an
    /// access token and a refresh token: what a code exchange leaves behind.
    pub fn grant(&self, client: &Client, username: Option<&str>, scope: &str) -> (TokenRecord, Minted) {
        let now = self.now();
        let rng = &mut rand::rngs::OsRng;
        let mut record = TokenRecord::new(
            RecordId::generate(rng),
            client.id.clone(),
            GrantType::AuthorizationCode,
            self.issuer.as_str(),
            now,
        );
        record.username = username.map(|name| Username::parse(name).expect("a username"));
        record.scope = Scope::parse(scope).expect("a scope");
        record.auth_time = Some(now);
        record.set_auth_methods(&[AuthMethod::Password]);
        record.stage = Stage::Complete;
        let minted = mint(&mut record, client, true, self.hasher(), now, rng);
        let stored = record.clone();
        self.store.write(move |repo| repo.insert_token(&stored)).expect("grant stored");
        (record, minted)
    }

    /// Remembers that `username` allowed `client` `scope`.
    pub fn consent(&self, username: &str, client: &Client, scope: &str) {
        let consent = Consent {
            username: Username::parse(username).expect("a username"),
            client_id: client.id.clone(),
            scope: Scope::parse(scope).expect("a scope"),
            granted_at: self.now(),
        };
        self.store.write(move |repo| repo.save_consent(&consent)).expect("consent stored");
    }
}

/// A confidential client with secret [`SECRET`], redirect URI [`REDIRECT_URI`], these grants and scopes.
pub fn confidential(id: &str, grants: &[&str], scopes: &[&str]) -> NewClient {
    NewClient {
        id: id.into(),
        name: Some(format!("{id} application")),
        secret: SecretChoice::Given(SECRET.into()),
        redirect_uris: vec![REDIRECT_URI.into()],
        grant_types: grants.iter().map(|grant| (*grant).to_owned()).collect(),
        scopes: scopes.iter().map(|scope| (*scope).to_owned()).collect(),
        access_token_ttl_seconds: Some(600),
        refresh_token_ttl_seconds: Some(3600),
        id_token_signing_alg: SigningAlgorithm::Rs256,
    }
}

/// `db` opened the way a server without a configured key-encryption key opens it (the development key),
/// hash key unsealed: for tests that look at what a server or command of theirs stored.
pub fn open_like_a_server(db: &TestDatabase) -> Store {
    let store = db.open().expect("a test database");
    let kek = KeyEncryptionKey::insecure_development_key();
    let now = Timestamp::from_unix_seconds(START);
    crate::hash_key::unlock(&store, &kek, now, &mut rand::rngs::OsRng).expect("the hash key");
    store
}
