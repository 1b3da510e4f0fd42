//! Token introspection (RFC 7662) for the clients a token concerns.
//!
//! A token is described only to the client it was issued to and to clients named in its audience; to anyone
//! else, and whenever it is expired, revoked, unknown or its user disabled, the answer is exactly
//! `{"active":false}` (§2.2), so the endpoint tells a prober nothing.

use crate::tokens::BEARER;
use latchkey_model::{Client, Timestamp, TokenRecord};
use latchkey_store::{Repo, StoreError};
use serde::Serialize;

/// Which of a record's credentials a presented token is (RFC 7009 §2.1, RFC 7662 §2.1 `token_type_hint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    AccessToken,
    RefreshToken,
}

impl Credential {
    /// `None` for a hint naming a kind Latchkey does not issue as a bearer credential.
    pub fn from_hint(hint: &str) -> Option<Self> {
        match hint {
            "access_token" => Some(Credential::AccessToken),
            "refresh_token" => Some(Credential::RefreshToken),
            _ => None,
        }
    }
}

/// A request about one token (RFC 7662 §2.1, RFC 7009 §2.1): the token and its hint, which only speeds the
/// look-up (an unknown hint is ignored; every kind is searched).
#[derive(Clone)]
pub struct TokenQuestion {
    pub token: String,
    pub hint: Option<Credential>,
}

impl TokenQuestion {
    pub fn from_form(form: &crate::form::Form) -> Result<Self, crate::OAuthError> {
        Ok(Self {
            token: form.required("token")?,
            hint: form.single("token_type_hint")?.as_deref().and_then(Credential::from_hint),
        })
    }
}

impl std::fmt::Debug for TokenQuestion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenQuestion").field("hint", &self.hint).finish_non_exhaustive()
    }
}

/// Finds the record holding `token`, trying the hinted kind first; the hint is a shortcut, never trusted.
pub fn find_token(
    repo: &mut Repo<'_>,
    token: &str,
    hint: Option<Credential>,
) -> Result<Option<(Credential, TokenRecord)>, StoreError> {
    let hash = repo.hasher()?.hash(token);
    let order = match hint {
        Some(Credential::RefreshToken) => [Credential::RefreshToken, Credential::AccessToken],
        _ => [Credential::AccessToken, Credential::RefreshToken],
    };
    for kind in order {
        let found = match kind {
            Credential::AccessToken => repo.find_token_by_access_token(&hash)?,
            Credential::RefreshToken => repo.find_token_by_refresh_token(&hash)?,
        };
        if let Some(record) = found {
            return Ok(Some((kind, record)));
        }
    }
    Ok(None)
}

/// The introspection response (RFC 7662 §2.2). Inactive serialises as exactly `{"active":false}`.
#[derive(Debug, Default, Serialize, PartialEq)]
pub struct Introspection {
    pub active: bool,
    /// The record that answered and when it was last noted in use: a resource server asking about a token is
    /// a use of it. Never serialised.
    #[serde(skip)]
    pub answered_by: Option<(latchkey_model::RecordId, Option<Timestamp>)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

impl Introspection {
    pub fn inactive() -> Self {
        Self::default()
    }
}

/// Whether `caller` may learn about `record`: it was issued to the caller, or names the caller as audience.
pub fn visible_to(record: &TokenRecord, caller: &Client) -> bool {
    // Personal tokens and API keys are made for any resource server: every authenticated client may ask.
    record.grant_type == latchkey_model::GrantType::Personal
        || record.client_id == caller.id
        || record.audience.iter().any(|aud| aud == caller.id.as_str())
}

/// Describes the token of `question` to the authenticated `caller`. The scope is what the token may do now:
/// a refresh token the whole grant, an access token what it was issued; either within its client's
/// current scope.
pub fn introspect(
    repo: &mut Repo<'_>,
    caller: &Client,
    question: &TokenQuestion,
    now: Timestamp,
) -> Result<Introspection, StoreError> {
    let Some((kind, mut record)) = find_token(repo, &question.token, question.hint)? else {
        return Ok(Introspection::inactive());
    };
    if !visible_to(&record, caller) {
        return Ok(Introspection::inactive());
    }
    let (live, expires) = match kind {
        Credential::AccessToken => (record.access_token_is_active(now), record.access_token_expires),
        Credential::RefreshToken => (record.refresh_token_is_active(now), record.refresh_token_expires),
    };
    if !live {
        return Ok(Introspection::inactive());
    }
    if kind == Credential::RefreshToken {
        record.scope = record.granted_scope();
    }
    let scope = crate::caller::scope_in_force(repo, &record)?;
    let subject = match &record.username {
        Some(username) => match repo.find_user(username)? {
            Some(user) if !user.disabled => user.subject,
            _ => return Ok(Introspection::inactive()),
        },
        // A client acting for itself is its own subject.
        None => record.client_id.to_string(),
    };
    // Code-flow tokens are minted when the code is redeemed; every other record when it is created.
    let issued_at = record.code_redeemed_at.unwrap_or(record.created_at).unix_seconds();
    Ok(Introspection {
        active: true,
        answered_by: Some((record.id.clone(), record.active_at)),
        scope: Some(scope.to_string()),
        client_id: Some(record.client_id.to_string()),
        username: record.username.as_ref().map(ToString::to_string),
        token_type: Some(match kind {
            Credential::AccessToken => BEARER,
            Credential::RefreshToken => "refresh_token",
        }),
        exp: expires.map(Timestamp::unix_seconds),
        iat: Some(issued_at),
        nbf: Some(issued_at),
        sub: Some(subject),
        aud: Some(if record.audience.is_empty() {
            vec![record.client_id.to_string()]
        } else {
            record.audience
        }),
        iss: Some(record.issuer),
        jti: Some(record.id.to_string()),
    })
}
