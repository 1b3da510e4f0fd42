//! Turning an operator's request for a new client or user into a valid record. Shared by the CLI and the
//! admin API so that both apply the same rules.

use crate::password::{hash_password, PasswordError};
use latchkey_model::{
    Client, ClientCredentials, ClientError, ClientId, GrantType, GrantTypeError, IdError, PlainSecret,
    RecordId, RedirectUri, RedirectUriError, Scope, ScopeError, SecretHasher, SecretKind, SigningAlgorithm,
    Timestamp, User, Username,
};
use rand::{CryptoRng, RngCore};
use std::collections::BTreeSet;

/// Operator-chosen client secrets are stored as SHA-256 like generated ones (no slow hash on the token
/// endpoint), so they must carry comparable entropy: at least 32 characters, of at least 12 different kinds
/// (which refuses `aaaa…` and `1212…` while any real random string passes).
pub const MIN_CLIENT_SECRET_CHARS: usize = 32;
const MIN_DISTINCT_SECRET_CHARS: usize = 12;

fn is_strong_secret(secret: &str) -> bool {
    let distinct: BTreeSet<char> = secret.chars().collect();
    secret.chars().count() >= MIN_CLIENT_SECRET_CHARS && distinct.len() >= MIN_DISTINCT_SECRET_CHARS
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationError {
    #[error(transparent)]
    Id(#[from] IdError),
    #[error(transparent)]
    RedirectUri(#[from] RedirectUriError),
    #[error(transparent)]
    GrantType(#[from] GrantTypeError),
    #[error(transparent)]
    Scope(#[from] ScopeError),
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error("a public client has no secret")]
    PublicWithSecret,
    #[error(
        "client secret must be at least {MIN_CLIENT_SECRET_CHARS} characters; omit it to have one generated"
    )]
    WeakSecret,
    #[error("{0} must not be empty")]
    Empty(&'static str),
    #[error("jwks: {0}")]
    Jwks(String),
    #[error("client id {0:?} is reserved")]
    ReservedId(String),
}

#[derive(Clone, PartialEq, Eq)]
pub enum SecretChoice {
    /// Confidential client; the server generates the secret and shows it once.
    Generate,
    /// Confidential client with a secret the operator chose.
    Given(String),
    /// Public client: no secret (native and browser apps).
    Public,
    /// Confidential client authenticating with `private_key_jwt`: its public keys, a JWK set in JSON.
    PrivateKeyJwt(String),
}

#[derive(Clone)]
pub struct NewClient {
    pub id: String,
    pub name: Option<String>,
    pub secret: SecretChoice,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub access_token_ttl_seconds: Option<i64>,
    pub refresh_token_ttl_seconds: Option<i64>,
    pub id_token_signing_alg: SigningAlgorithm,
}

/// A client ready to store, and the generated secret to show once (never stored in the clear).
pub fn register_client(
    new: NewClient,
    hasher: &SecretHasher,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<(Client, Option<PlainSecret>), RegistrationError> {
    let id = ClientId::parse(&new.id)?;
    if id.as_str() == latchkey_model::PERSONAL_CLIENT_ID {
        return Err(RegistrationError::ReservedId(new.id));
    }
    let (credentials, shown_once) = match new.secret {
        SecretChoice::Public => (ClientCredentials::Public, None),
        SecretChoice::Given(secret) if !is_strong_secret(&secret) => {
            return Err(RegistrationError::WeakSecret);
        }
        SecretChoice::Given(secret) => (ClientCredentials::Secret(hasher.hash(&secret)), None),
        SecretChoice::Generate => {
            let secret = PlainSecret::generate(SecretKind::ClientSecret, rng);
            (ClientCredentials::Secret(secret.hash(hasher)), Some(secret))
        }
        SecretChoice::PrivateKeyJwt(jwks) => {
            crate::client_assertion::check_registered_jwks(&jwks).map_err(RegistrationError::Jwks)?;
            (ClientCredentials::PrivateKeyJwt { jwks }, None)
        }
    };
    let redirect_uris =
        new.redirect_uris.iter().map(|uri| RedirectUri::parse(uri)).collect::<Result<Vec<_>, _>>()?;
    let grant_types =
        new.grant_types.iter().map(|grant| GrantType::parse(grant)).collect::<Result<BTreeSet<_>, _>>()?;
    let scope = Scope::from_tokens(&new.scopes)?;
    let client = Client {
        name: new.name.unwrap_or_else(|| id.to_string()),
        id,
        credentials,
        redirect_uris,
        grant_types,
        scope,
        access_token_ttl_seconds: new.access_token_ttl_seconds.unwrap_or(Client::DEFAULT_ACCESS_TOKEN_TTL),
        refresh_token_ttl_seconds: new.refresh_token_ttl_seconds.or(Some(Client::DEFAULT_REFRESH_TOKEN_TTL)),
        id_token_signing_alg: new.id_token_signing_alg,
        created_at: now,
        updated_at: now,
    };
    client.validate()?;
    Ok((client, shown_once))
}

#[derive(Clone)]
pub struct NewUser {
    pub username: String,
    pub password: String,
    pub email: Option<String>,
    pub name: Option<String>,
}

/// A user ready to store, with an Argon2id password hash and a fresh random `sub`.
pub fn register_user(
    new: NewUser,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<User, RegistrationError> {
    let username = Username::parse(&new.username)?;
    if new.email.as_deref() == Some("") {
        return Err(RegistrationError::Empty("email"));
    }
    if new.name.as_deref() == Some("") {
        return Err(RegistrationError::Empty("name"));
    }
    let password_hash = hash_password(&new.password, rng)?;
    Ok(User {
        username,
        subject: RecordId::generate(rng).to_string(),
        password_hash,
        email: new.email,
        email_verified: false,
        name: new.name,
        claims: serde_json::Map::new(),
        disabled: false,
        created_at: now,
        updated_at: now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::password::verify_password;

    fn new_client() -> NewClient {
        NewClient {
            id: "app".into(),
            name: None,
            secret: SecretChoice::Generate,
            redirect_uris: vec!["https://app.example.com/cb".into()],
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            scopes: vec!["openid".into(), "profile".into()],
            access_token_ttl_seconds: None,
            refresh_token_ttl_seconds: None,
            id_token_signing_alg: Default::default(),
        }
    }

    #[test]
    fn generated_secret_is_shown_once_and_stored_hashed() {
        let hasher = latchkey_store::testing::test_hasher();
        let (client, secret) =
            register_client(new_client(), &hasher, Timestamp::from_unix_seconds(1), &mut rand::thread_rng())
                .unwrap();
        let secret = secret.expect("generated");
        assert!(secret.expose().starts_with("lk_cs_"));
        assert_eq!(client.credentials, ClientCredentials::Secret(secret.hash(&hasher)));
        assert_eq!(client.name, "app");
        assert_eq!(client.scope.to_string(), "openid profile");
    }

    #[test]
    fn operator_secrets_must_be_long_and_public_clients_have_none() {
        let (mut rng, hasher) = (rand::thread_rng(), latchkey_store::testing::test_hasher());
        let now = Timestamp::from_unix_seconds(1);
        let weak = NewClient { secret: SecretChoice::Given("short".into()), ..new_client() };
        assert_eq!(register_client(weak, &hasher, now, &mut rng).unwrap_err(), RegistrationError::WeakSecret);
        let repeated = NewClient { secret: SecretChoice::Given("a".repeat(40)), ..new_client() };
        assert_eq!(
            register_client(repeated, &hasher, now, &mut rng).unwrap_err(),
            RegistrationError::WeakSecret
        );
        let given = "bench-secret-0123456789abcdef-0123".to_owned();
        let strong = NewClient { secret: SecretChoice::Given(given.clone()), ..new_client() };
        let (client, shown) = register_client(strong, &hasher, now, &mut rng).unwrap();
        assert!(shown.is_none());
        assert_eq!(client.credentials, ClientCredentials::Secret(hasher.hash(&given)));
        let public = NewClient { secret: SecretChoice::Public, ..new_client() };
        assert_eq!(
            register_client(public, &hasher, now, &mut rng).unwrap().0.credentials,
            ClientCredentials::Public
        );
    }

    #[test]
    fn bad_fields_are_refused_with_their_reason() {
        let mut rng = rand::thread_rng();
        let now = Timestamp::from_unix_seconds(1);
        let cases = [
            NewClient { id: "bad id".into(), ..new_client() },
            NewClient { redirect_uris: vec!["javascript:alert(1)".into()], ..new_client() },
            NewClient { grant_types: vec!["magic".into()], ..new_client() },
            NewClient { scopes: vec!["a\"b".into()], ..new_client() },
            NewClient { redirect_uris: vec![], ..new_client() },
        ];
        for case in cases {
            assert!(register_client(case, &latchkey_store::testing::test_hasher(), now, &mut rng).is_err());
        }
    }

    #[test]
    fn users_get_argon2id_and_a_random_subject() {
        let mut rng = rand::thread_rng();
        let new =
            NewUser { username: "alice".into(), password: "correct horse".into(), email: None, name: None };
        let a = register_user(new.clone(), Timestamp::from_unix_seconds(1), &mut rng).unwrap();
        let b = register_user(new, Timestamp::from_unix_seconds(1), &mut rng).unwrap();
        assert!(verify_password(Some(&a.password_hash), "correct horse"));
        assert_ne!(a.subject, b.subject);
        let short = NewUser { username: "bob".into(), password: "123".into(), email: None, name: None };
        assert!(matches!(
            register_user(short, Timestamp::from_unix_seconds(1), &mut rng),
            Err(RegistrationError::Password(PasswordError::TooShort))
        ));
    }
}
