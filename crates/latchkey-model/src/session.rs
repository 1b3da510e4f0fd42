//! Browser sessions, remembered consent and signing-key records.

use crate::{AuthMethod, ClientId, Scope, SecretHash, Timestamp, Username};

/// A browser session. The cookie holds a random secret; the store knows only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id_hash: SecretHash,
    /// `None` until someone logs in: the pre-login session that carries the login form's CSRF token.
    pub username: Option<Username>,
    pub auth_time: Option<Timestamp>,
    /// How the user signed in at `auth_time` (`amr`).
    pub auth_methods: Vec<AuthMethod>,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
}

/// The scopes a user has allowed a client, remembered so that the consent page is shown only for new ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub username: Username,
    pub client_id: ClientId,
    pub scope: Scope,
    pub granted_at: Timestamp,
}

/// A signing key as stored: the private half only encrypted (a JWE compact string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    pub kid: String,
    /// The JWS algorithm this key signs with: `RS256`, `ES256` or `EdDSA`.
    pub alg: String,
    pub encrypted_private_key: String,
    /// The public JWK as JSON text.
    pub public_jwk: String,
    pub created_at: Timestamp,
    /// Published from creation, it signs only from here: by then every server publishes it.
    pub signs_from: Timestamp,
    /// It stops signing here (a successor signs from this instant on).
    pub retired_at: Option<Timestamp>,
    /// After this the key leaves the JWKS: everything it signed has expired.
    pub expires_at: Option<Timestamp>,
}
