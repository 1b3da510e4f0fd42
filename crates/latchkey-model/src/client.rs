//! OAuth clients as registered (RFC 6749 §2).

use crate::{ClientId, GrantType, RedirectUri, Scope, SecretHash, Timestamp};
use std::collections::BTreeSet;

/// The reserved client a user's personal tokens belong to. It exists from the first migration, has no grant,
/// no scope and no credentials, cannot authenticate anywhere, and no one can register, change or delete it.
pub const PERSONAL_CLIENT_ID: &str = "latchkey";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    Confidential,
    Public,
}

impl ClientKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            ClientKind::Confidential => "confidential",
            ClientKind::Public => "public",
        }
    }
}

/// The JWS algorithm an ID token is signed with (OpenID Connect Registration §2,
/// `id_token_signed_response_alg`). RS256 is the default every relying party understands (Discovery §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SigningAlgorithm {
    #[default]
    Rs256,
    Es256,
    EdDsa,
}

impl SigningAlgorithm {
    pub const ALL: [SigningAlgorithm; 3] =
        [SigningAlgorithm::Rs256, SigningAlgorithm::Es256, SigningAlgorithm::EdDsa];

    pub const fn as_str(self) -> &'static str {
        match self {
            SigningAlgorithm::Rs256 => "RS256",
            SigningAlgorithm::Es256 => "ES256",
            SigningAlgorithm::EdDsa => "EdDSA",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.as_str() == name)
    }
}

impl std::fmt::Display for SigningAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a client proves who it is. A public client has nothing to prove with (RFC 6749 §2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientCredentials {
    Public,
    Secret(SecretHash),
    /// `private_key_jwt` (OpenID Connect Core §9): assertions signed with a key of this JWK set (JSON).
    PrivateKeyJwt {
        jwks: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error("a client needs at least one grant type")]
    NoGrantTypes,
    #[error("grant type {0} is not something a client can be allowed")]
    NotAClientGrant(GrantType),
    #[error("grant type {0} needs at least one redirect URI")]
    RedirectUriRequired(GrantType),
    #[error("a public client cannot use client_credentials: it has no credentials")]
    PublicClientCredentials,
    #[error("client name must be 1 to 200 characters")]
    Name,
    #[error("access_token_ttl must be 1 to {max} seconds", max = Client::MAX_ACCESS_TOKEN_TTL)]
    AccessTokenLifetime,
    #[error("refresh_token_ttl must be 1 to {max} seconds, or none", max = Client::MAX_REFRESH_TOKEN_TTL)]
    RefreshTokenLifetime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub id: ClientId,
    pub name: String,
    pub credentials: ClientCredentials,
    pub redirect_uris: Vec<RedirectUri>,
    pub grant_types: BTreeSet<GrantType>,
    /// The most a client may ever be granted.
    pub scope: Scope,
    pub access_token_ttl_seconds: i64,
    /// `None`: refresh tokens do not expire on their own (they still rotate).
    pub refresh_token_ttl_seconds: Option<i64>,
    pub id_token_signing_alg: SigningAlgorithm,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Client {
    pub const DEFAULT_ACCESS_TOKEN_TTL: i64 = 3600;
    pub const DEFAULT_REFRESH_TOKEN_TTL: i64 = 14 * 24 * 3600;
    /// A week: an access token cannot be recalled from a resource server that does not introspect, so its
    /// life is kept short; and every time computed from it stays within the calendar.
    pub const MAX_ACCESS_TOKEN_TTL: i64 = 7 * 24 * 3600;
    /// Ten years, like the longest personal token.
    pub const MAX_REFRESH_TOKEN_TTL: i64 = 10 * 366 * 24 * 3600;

    /// Checks the rules that tie a client's fields together.
    pub fn validate(&self) -> Result<(), ClientError> {
        if self.name.is_empty() || self.name.chars().count() > 200 {
            return Err(ClientError::Name);
        }
        if self.grant_types.is_empty() {
            return Err(ClientError::NoGrantTypes);
        }
        if self.grant_types.contains(&GrantType::Personal) {
            return Err(ClientError::NotAClientGrant(GrantType::Personal));
        }
        for grant in [GrantType::AuthorizationCode, GrantType::Implicit] {
            if self.grant_types.contains(&grant) && self.redirect_uris.is_empty() {
                return Err(ClientError::RedirectUriRequired(grant));
            }
        }
        if self.kind() == ClientKind::Public && self.grant_types.contains(&GrantType::ClientCredentials) {
            return Err(ClientError::PublicClientCredentials);
        }
        if !(1..=Self::MAX_ACCESS_TOKEN_TTL).contains(&self.access_token_ttl_seconds) {
            return Err(ClientError::AccessTokenLifetime);
        }
        if self.refresh_token_ttl_seconds.is_some_and(|ttl| !(1..=Self::MAX_REFRESH_TOKEN_TTL).contains(&ttl))
        {
            return Err(ClientError::RefreshTokenLifetime);
        }
        Ok(())
    }

    pub fn kind(&self) -> ClientKind {
        match self.credentials {
            ClientCredentials::Public => ClientKind::Public,
            ClientCredentials::Secret(_) | ClientCredentials::PrivateKeyJwt { .. } => {
                ClientKind::Confidential
            }
        }
    }

    /// Whether this is the reserved client of personal tokens ([`PERSONAL_CLIENT_ID`]).
    pub fn is_reserved(&self) -> bool {
        self.id.as_str() == PERSONAL_CLIENT_ID
    }

    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// The registered redirect URI that `presented` matches, if any (exact match, RFC 9700 §4.1.3).
    pub fn redirect_uri_matching(&self, presented: &str) -> Option<&RedirectUri> {
        self.redirect_uris.iter().find(|uri| uri.matches(presented))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Client {
        Client {
            id: ClientId::parse("app").unwrap(),
            name: "App".into(),
            credentials: ClientCredentials::Secret(crate::SecretHasher::new(&[0; 32]).hash("s")),
            redirect_uris: vec![RedirectUri::parse("https://app.example.com/cb").unwrap()],
            grant_types: [GrantType::AuthorizationCode, GrantType::RefreshToken].into(),
            scope: Scope::parse("openid profile").unwrap(),
            access_token_ttl_seconds: 3600,
            refresh_token_ttl_seconds: None,
            id_token_signing_alg: SigningAlgorithm::Rs256,
            created_at: Timestamp::from_unix_seconds(0),
            updated_at: Timestamp::from_unix_seconds(0),
        }
    }

    #[test]
    fn valid_client_passes() {
        assert_eq!(client().validate(), Ok(()));
        assert_eq!(client().kind(), ClientKind::Confidential);
    }

    #[test]
    fn inconsistent_clients_are_refused() {
        let mut c = client();
        c.redirect_uris.clear();
        assert_eq!(c.validate(), Err(ClientError::RedirectUriRequired(GrantType::AuthorizationCode)));

        let mut c = client();
        c.credentials = ClientCredentials::Public;
        c.grant_types.insert(GrantType::ClientCredentials);
        assert_eq!(c.validate(), Err(ClientError::PublicClientCredentials));

        let mut c = client();
        c.grant_types.clear();
        assert_eq!(c.validate(), Err(ClientError::NoGrantTypes));

        for ttl in [0, -1, Client::MAX_ACCESS_TOKEN_TTL + 1, i64::MAX] {
            let mut c = client();
            c.access_token_ttl_seconds = ttl;
            assert_eq!(c.validate(), Err(ClientError::AccessTokenLifetime), "{ttl}");
        }
        for ttl in [0, Client::MAX_REFRESH_TOKEN_TTL + 1, i64::MAX] {
            let mut c = client();
            c.refresh_token_ttl_seconds = Some(ttl);
            assert_eq!(c.validate(), Err(ClientError::RefreshTokenLifetime), "{ttl}");
        }
        let mut c = client();
        c.access_token_ttl_seconds = Client::MAX_ACCESS_TOKEN_TTL;
        c.refresh_token_ttl_seconds = Some(Client::MAX_REFRESH_TOKEN_TTL);
        assert_eq!(c.validate(), Ok(()), "the bounds themselves are allowed");

        let mut c = client();
        c.name.clear();
        assert_eq!(c.validate(), Err(ClientError::Name));
    }

    #[test]
    fn redirect_uri_lookup_is_exact() {
        let c = client();
        assert!(c.redirect_uri_matching("https://app.example.com/cb").is_some());
        assert!(c.redirect_uri_matching("https://app.example.com/cb/").is_none());
    }
}
