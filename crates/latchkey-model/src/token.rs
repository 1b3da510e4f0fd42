//! The token record: one per authorization, mirroring the classic persistent `AccessToken` class.
//!
//! The record is created as soon as an authorization request is accepted and follows the grant through its
//! stages; the secrets it hands out (code, access token, refresh token) are kept only as hashes.

use crate::{
    AuthMethod, Client, ClientId, RecordId, RedirectUri, ResponseMode, ResponseType, Scope, SecretHash,
    State, Timestamp, Username,
};
use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown grant type {0:?}")]
pub struct GrantTypeError(pub String);

/// How a record came to be. The one-letter codes are the record's `grant_type` column (A/I/P/C, plus R and
/// T for records that exist only as a refresh continuation or as a personal token).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GrantType {
    AuthorizationCode,
    Implicit,
    Password,
    ClientCredentials,
    RefreshToken,
    Personal,
}

impl GrantType {
    pub const fn letter(self) -> char {
        match self {
            GrantType::AuthorizationCode => 'A',
            GrantType::Implicit => 'I',
            GrantType::Password => 'P',
            GrantType::ClientCredentials => 'C',
            GrantType::RefreshToken => 'R',
            GrantType::Personal => 'T',
        }
    }

    pub fn from_letter(letter: &str) -> Result<Self, GrantTypeError> {
        Ok(match letter {
            "A" => GrantType::AuthorizationCode,
            "I" => GrantType::Implicit,
            "P" => GrantType::Password,
            "C" => GrantType::ClientCredentials,
            "R" => GrantType::RefreshToken,
            "T" => GrantType::Personal,
            other => return Err(GrantTypeError(other.to_owned())),
        })
    }

    /// The name used on the wire (`grant_type` parameter, client registration, discovery).
    pub const fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::Implicit => "implicit",
            GrantType::Password => "password",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::RefreshToken => "refresh_token",
            GrantType::Personal => "personal",
        }
    }

    /// Parses a wire name. `personal` is not an OAuth grant a client can be allowed, so it is refused here.
    pub fn parse(name: &str) -> Result<Self, GrantTypeError> {
        Ok(match name {
            "authorization_code" => GrantType::AuthorizationCode,
            "implicit" => GrantType::Implicit,
            "password" => GrantType::Password,
            "client_credentials" => GrantType::ClientCredentials,
            "refresh_token" => GrantType::RefreshToken,
            other => return Err(GrantTypeError(other.to_owned())),
        })
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for GrantType {
    type Err = GrantTypeError;
    fn from_str(name: &str) -> Result<Self, GrantTypeError> {
        Self::parse(name)
    }
}

/// A token as people see it: an OAuth access token, a refresh token (with the access tokens of its grant),
/// a user's personal token, or a client's API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    OAuth2Access,
    OAuth2Refresh,
    Personal,
    ApiKey,
}

impl TokenKind {
    pub const ALL: [TokenKind; 4] =
        [TokenKind::OAuth2Access, TokenKind::OAuth2Refresh, TokenKind::Personal, TokenKind::ApiKey];

    pub const fn as_str(self) -> &'static str {
        match self {
            TokenKind::OAuth2Access => "oauth2-access",
            TokenKind::OAuth2Refresh => "oauth2-refresh",
            TokenKind::Personal => "personal",
            TokenKind::ApiKey => "api-key",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown stage {0:?}")]
pub struct StageError(pub String);

/// Where an authorization stands: `new` → `login:N` (N-th login attempt) → `permission` → complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    New,
    Login(u32),
    Permission,
    Complete,
}

impl Stage {
    pub fn parse(text: &str) -> Result<Self, StageError> {
        match text {
            "new" => Ok(Stage::New),
            "permission" => Ok(Stage::Permission),
            "" => Ok(Stage::Complete),
            other => other
                .strip_prefix("login:")
                .and_then(|n| n.parse().ok())
                .map(Stage::Login)
                .ok_or_else(|| StageError(other.to_owned())),
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stage::New => f.write_str("new"),
            Stage::Login(attempt) => write!(f, "login:{attempt}"),
            Stage::Permission => f.write_str("permission"),
            Stage::Complete => Ok(()),
        }
    }
}

/// One authorization and everything issued under it.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRecord {
    /// Random, non-secret key of the record.
    pub id: RecordId,
    pub code_hash: Option<SecretHash>,
    pub code_expires: Option<Timestamp>,
    /// When the code was exchanged; a second exchange finds this set and revokes the record.
    pub code_redeemed_at: Option<Timestamp>,
    pub access_token_hash: Option<SecretHash>,
    pub access_token_expires: Option<Timestamp>,
    pub refresh_token_hash: Option<SecretHash>,
    /// `None` with a refresh token means it does not expire on its own.
    pub refresh_token_expires: Option<Timestamp>,
    pub id_token_hash: Option<SecretHash>,
    pub client_id: ClientId,
    pub username: Option<Username>,
    pub issuer: String,
    pub audience: Vec<String>,
    pub scope: Scope,
    /// Human-readable text of each granted scope, as shown on the consent page.
    pub scope_descriptions: BTreeMap<String, String>,
    pub grant_type: GrantType,
    pub stage: Stage,
    pub state: Option<State>,
    /// The redirect URI the answer goes to: as presented, or the client's only one when the request left it
    /// out (RFC 6749 §3.1.2.3); see [`TokenRecord::redirect_uri_presented`].
    pub redirect_uri: Option<RedirectUri>,
    pub response_type: Option<ResponseType>,
    pub response_mode: Option<ResponseMode>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub auth_time: Option<Timestamp>,
    /// Extra claims and custom metadata (a JSON object).
    pub properties: serde_json::Map<String, serde_json::Value>,
    /// A label for tokens people manage themselves (personal tokens, API keys).
    pub name: Option<String>,
    pub created_at: Timestamp,
    pub active_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    /// Shared by every record in one chain of rotated refresh tokens, so reuse of an old one can revoke all.
    pub family_id: RecordId,
}

impl TokenRecord {
    /// A record at its very start: known client and grant, nothing issued yet. The family starts as the
    /// record itself.
    pub fn new(
        id: RecordId,
        client_id: ClientId,
        grant_type: GrantType,
        issuer: impl Into<String>,
        now: Timestamp,
    ) -> Self {
        Self {
            family_id: id.clone(),
            id,
            code_hash: None,
            code_expires: None,
            code_redeemed_at: None,
            access_token_hash: None,
            access_token_expires: None,
            refresh_token_hash: None,
            refresh_token_expires: None,
            id_token_hash: None,
            client_id,
            username: None,
            issuer: issuer.into(),
            audience: Vec::new(),
            scope: Scope::empty(),
            scope_descriptions: BTreeMap::new(),
            grant_type,
            stage: Stage::New,
            state: None,
            redirect_uri: None,
            response_type: None,
            response_mode: None,
            nonce: None,
            code_challenge: None,
            code_challenge_method: None,
            auth_time: None,
            properties: serde_json::Map::new(),
            name: None,
            created_at: now,
            active_at: None,
            revoked_at: None,
        }
    }

    /// What kind of token the record stands for, as listings show it.
    pub fn kind(&self) -> TokenKind {
        match (self.grant_type, &self.username) {
            (GrantType::Personal, Some(_)) => TokenKind::Personal,
            (GrantType::Personal, None) => TokenKind::ApiKey,
            _ if self.refresh_token_hash.is_some() => TokenKind::OAuth2Refresh,
            _ => TokenKind::OAuth2Access,
        }
    }

    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }

    /// Whether the refresh token of this record may be used at `now`.
    pub fn refresh_token_is_active(&self, now: Timestamp) -> bool {
        !self.is_revoked()
            && self.refresh_token_hash.is_some()
            && self.refresh_token_expires.is_none_or(|expires| !expires.has_passed(now))
    }

    /// Whether anything of this record still works at `now`: its access token or its refresh token.
    pub fn in_force(&self, now: Timestamp) -> bool {
        self.access_token_is_active(now) || self.refresh_token_is_active(now)
    }

    /// Whether the access token of this record may be used at `now`.
    pub fn access_token_is_active(&self, now: Timestamp) -> bool {
        !self.is_revoked()
            && self.access_token_hash.is_some()
            && self.access_token_expires.is_none_or(|expires| !expires.has_passed(now))
    }

    /// The scope the resource owner granted to this record's grant. A refresh that asked for less
    /// (RFC 6749 §6) issued [`TokenRecord::scope`] and keeps the rest here, for the next refresh.
    pub fn granted_scope(&self) -> Scope {
        self.properties
            .get(GRANTED_SCOPE_PROPERTY)
            .and_then(serde_json::Value::as_str)
            .and_then(|text| Scope::parse(text).ok())
            .unwrap_or_else(|| self.scope.clone())
    }

    /// Issues `issued` from a grant of `granted`.
    pub fn narrow_scope(&mut self, granted: &Scope, issued: Scope) {
        if issued == *granted {
            self.properties.remove(GRANTED_SCOPE_PROPERTY);
        } else {
            self.properties.insert(GRANTED_SCOPE_PROPERTY.into(), granted.to_string().into());
        }
        self.scope = issued;
    }

    /// What the token may do now: what was granted, within what its client may still have. Taking a scope
    /// away from a client reaches every grant it already holds. A user's personal token belongs to no
    /// client of its own (the reserved one has no scope), so its scope stands as its owner made it.
    pub fn scope_in_force(&self, client: &Client) -> Scope {
        if self.grant_type == GrantType::Personal && self.username.is_some() {
            return self.scope.clone();
        }
        self.scope.intersection(&client.scope)
    }

    /// How the user authenticated (`amr`); empty for a grant without a user. A record from before the
    /// methods were recorded was signed in with a password: there was no other way.
    pub fn auth_methods(&self) -> Vec<AuthMethod> {
        let Some(values) = self.properties.get(AUTH_METHODS_PROPERTY).and_then(serde_json::Value::as_array)
        else {
            return self.auth_time.map(|_| vec![AuthMethod::Password]).unwrap_or_default();
        };
        values.iter().filter_map(serde_json::Value::as_str).filter_map(AuthMethod::parse).collect()
    }

    pub fn set_auth_methods(&mut self, methods: &[AuthMethod]) {
        let values: Vec<serde_json::Value> = methods.iter().map(|m| m.amr().into()).collect();
        self.properties.insert(AUTH_METHODS_PROPERTY.into(), values.into());
    }
}

/// Where a record whose access token was issued for a narrower scope keeps the scope of its grant.
const GRANTED_SCOPE_PROPERTY: &str = "granted_scope";
/// Where a record keeps how its user authenticated.
const AUTH_METHODS_PROPERTY: &str = "amr";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_in_force_while_either_token_is() {
        let now = Timestamp::from_unix_seconds(1_000);
        let mut record = TokenRecord::new(
            RecordId::parse("0123456789abcdef0123456789abcdef").unwrap(),
            ClientId::parse("app").unwrap(),
            GrantType::AuthorizationCode,
            "https://issuer.example",
            now,
        );
        assert!(!record.in_force(now), "nothing issued yet");
        record.access_token_hash = Some(crate::SecretHasher::new(&[0; 32]).hash("at"));
        record.access_token_expires = Some(now.plus_seconds(60));
        record.refresh_token_hash = Some(crate::SecretHasher::new(&[0; 32]).hash("rt"));
        record.refresh_token_expires = Some(now.plus_seconds(120));
        assert!(record.in_force(now.plus_seconds(59)) && record.access_token_is_active(now.plus_seconds(59)));
        assert!(!record.access_token_is_active(now.plus_seconds(60)));
        assert!(record.in_force(now.plus_seconds(60)), "the refresh token still works");
        assert!(!record.in_force(now.plus_seconds(120)));
        record.refresh_token_expires = None;
        assert!(record.refresh_token_is_active(now.plus_seconds(1_000_000)), "no expiry: until revoked");
        record.revoked_at = Some(now);
        assert!(!record.in_force(now));
    }

    #[test]
    fn scope_in_force_is_bounded_by_the_clients_scope_except_for_personal_tokens() {
        let now = Timestamp::from_unix_seconds(1_000);
        let mut client = crate::Client {
            id: ClientId::parse("app").unwrap(),
            name: "App".into(),
            credentials: crate::ClientCredentials::Public,
            redirect_uris: Vec::new(),
            grant_types: Default::default(),
            scope: Scope::parse("openid profile").unwrap(),
            access_token_ttl_seconds: 60,
            refresh_token_ttl_seconds: None,
            id_token_signing_alg: Default::default(),
            created_at: now,
            updated_at: now,
        };
        let mut record = TokenRecord::new(
            RecordId::parse("r1").unwrap(),
            client.id.clone(),
            GrantType::AuthorizationCode,
            "https://issuer.example",
            now,
        );
        record.username = Some(Username::parse("alice").unwrap());
        record.scope = Scope::parse("openid profile email").unwrap();
        assert_eq!(record.scope_in_force(&client).to_string(), "openid profile");
        client.scope = Scope::parse("openid").unwrap();
        assert_eq!(record.scope_in_force(&client).to_string(), "openid", "taken away from the client");
        record.grant_type = GrantType::Personal;
        assert_eq!(record.scope_in_force(&client), record.scope, "a user's personal token");
        record.username = None;
        assert_eq!(record.scope_in_force(&client).to_string(), "openid", "an API key follows its client");
    }

    #[test]
    fn a_narrowed_record_remembers_what_was_granted() {
        let now = Timestamp::from_unix_seconds(1_000);
        let mut record = TokenRecord::new(
            RecordId::parse("r1").unwrap(),
            ClientId::parse("app").unwrap(),
            GrantType::AuthorizationCode,
            "https://issuer.example",
            now,
        );
        let granted = Scope::parse("a b c").unwrap();
        record.scope = granted.clone();
        record.narrow_scope(&granted, Scope::parse("a").unwrap());
        assert_eq!((record.scope.to_string(), record.granted_scope()), ("a".to_owned(), granted.clone()));
        record.narrow_scope(&granted, granted.clone());
        assert!(!record.properties.contains_key("granted_scope"));
        assert_eq!(record.granted_scope(), granted);
        assert!(record.auth_methods().is_empty(), "no user signed in");
        record.auth_time = Some(now);
        assert_eq!(record.auth_methods(), vec![AuthMethod::Password], "recorded before methods were");
        record.set_auth_methods(&[]);
        assert!(record.auth_methods().is_empty());
        record.set_auth_methods(&[AuthMethod::Password]);
        assert_eq!(record.auth_methods(), vec![AuthMethod::Password]);
    }

    #[test]
    fn grant_type_letters_and_names_round_trip() {
        for grant in [
            GrantType::AuthorizationCode,
            GrantType::Implicit,
            GrantType::Password,
            GrantType::ClientCredentials,
            GrantType::RefreshToken,
            GrantType::Personal,
        ] {
            assert_eq!(GrantType::from_letter(&grant.letter().to_string()), Ok(grant));
        }
        assert_eq!(GrantType::parse("client_credentials"), Ok(GrantType::ClientCredentials));
        assert!(GrantType::parse("personal").is_err());
        assert!(GrantType::parse("urn:ietf:params:oauth:grant-type:device_code").is_err());
        assert!(GrantType::from_letter("Z").is_err());
    }

    #[test]
    fn stage_text_form() {
        for stage in [Stage::New, Stage::Login(3), Stage::Permission, Stage::Complete] {
            assert_eq!(Stage::parse(&stage.to_string()), Ok(stage));
        }
        assert_eq!(Stage::Login(2).to_string(), "login:2");
        assert_eq!(Stage::Complete.to_string(), "");
        assert!(Stage::parse("login:").is_err());
        assert!(Stage::parse("login:-1").is_err());
        assert!(Stage::parse("done").is_err());
    }

    #[test]
    fn access_token_activity() {
        let now = Timestamp::from_unix_seconds(1_000);
        let mut record = TokenRecord::new(
            RecordId::parse("r1").unwrap(),
            ClientId::parse("c").unwrap(),
            GrantType::ClientCredentials,
            "https://issuer.example",
            now,
        );
        assert!(!record.access_token_is_active(now), "nothing issued yet");
        record.access_token_hash = Some(crate::SecretHasher::new(&[0; 32]).hash("t"));
        record.access_token_expires = Some(now.plus_seconds(60));
        assert!(record.access_token_is_active(now));
        assert!(!record.access_token_is_active(now.plus_seconds(60)));
        record.revoked_at = Some(now);
        assert!(!record.access_token_is_active(now));
    }
}
