//! The client registry seam (`oxide_auth::primitives::registrar::Registrar`) over one client read from the
//! store. It corrects what oxide-auth's `ClientMap` does differently from Latchkey's rules: redirect URIs
//! match exactly (RFC 9700 §4.1.3, loopback ports aside, RFC 8252 §7.3), a scope outside the client's is
//! refused with `invalid_scope` instead of being replaced by a default (RFC 6749 §3.3), and generated client
//! secrets are compared as SHA-256 hashes in constant time, not re-hashed with Argon2 on every request.

use super::oxide_scope;
use crate::OAuthError;
use latchkey_model::{Client, ClientCredentials, SecretHasher};
use oxide_auth::primitives::registrar::{
    BoundClient, ClientUrl, ExactUrl, PreGrant, RegisteredUrl, Registrar, RegistrarError,
};
use oxide_auth::primitives::scope::Scope as OxideScope;
use std::borrow::Cow;
use std::cell::RefCell;

pub struct ClientRegistrar<'c> {
    client: &'c Client,
    /// Needed only to check a secret: without it, a client with a secret does not authenticate.
    hasher: Option<&'c SecretHasher>,
    /// Why the last `negotiate` refused: the trait's error type cannot say which RFC error applies.
    refusal: RefCell<Option<OAuthError>>,
}

impl<'c> ClientRegistrar<'c> {
    /// For binding and negotiating an authorization request, where nothing is authenticated.
    pub fn new(client: &'c Client) -> Self {
        Self { client, hasher: None, refusal: RefCell::new(None) }
    }

    /// For authenticating the client too: its secret is compared as hashes under `hasher`.
    pub fn authenticating(client: &'c Client, hasher: &'c SecretHasher) -> Self {
        Self { hasher: Some(hasher), ..Self::new(client) }
    }

    /// The refusal the last `negotiate` recorded, if any.
    pub fn take_refusal(&self) -> Option<OAuthError> {
        self.refusal.borrow_mut().take()
    }

    fn refuse(&self, error: OAuthError) -> RegistrarError {
        *self.refusal.borrow_mut() = Some(error);
        RegistrarError::Unspecified
    }

    fn is_this_client(&self, client_id: &str) -> bool {
        client_id == self.client.id.as_str()
    }
}

impl Registrar for ClientRegistrar<'_> {
    fn bound_redirect<'a>(&self, bound: ClientUrl<'a>) -> Result<BoundClient<'a>, RegistrarError> {
        if !self.is_this_client(&bound.client_id) {
            return Err(RegistrarError::Unspecified);
        }
        let registered = match &bound.redirect_uri {
            // The URI as presented: it may differ from the registered one in a loopback port only.
            Some(presented) => match self.client.redirect_uri_matching(presented.as_str()) {
                Some(_) => RegisteredUrl::Exact(presented.clone().into_owned()),
                None => return Err(RegistrarError::Unspecified),
            },
            // Omitting it is allowed only when the choice is unambiguous (RFC 6749 §3.1.2.3).
            None => match self.client.redirect_uris.as_slice() {
                [only] => RegisteredUrl::Exact(
                    ExactUrl::new(only.as_str().to_owned()).map_err(|_| RegistrarError::Unspecified)?,
                ),
                _ => return Err(RegistrarError::Unspecified),
            },
        };
        Ok(BoundClient { client_id: bound.client_id, redirect_uri: Cow::Owned(registered) })
    }

    fn negotiate(&self, bound: BoundClient, scope: Option<OxideScope>) -> Result<PreGrant, RegistrarError> {
        let Some(scope) = scope else {
            return Err(self.refuse(OAuthError::invalid_scope("scope is required")));
        };
        let allowed = match oxide_scope(&self.client.scope) {
            Ok(allowed) => allowed,
            Err(_) => return Err(RegistrarError::PrimitiveError),
        };
        // oxide-auth's `a.priviledged_to(b)` reads "a covers b".
        if !allowed.priviledged_to(&scope) {
            let extra: Vec<String> =
                scope.iter().filter(|token| !self.client.scope.contains(token)).map(str::to_owned).collect();
            let why = format!("not allowed for this client: {}", extra.join(" "));
            return Err(self.refuse(OAuthError::invalid_scope(why)));
        }
        Ok(PreGrant {
            client_id: bound.client_id.into_owned(),
            redirect_uri: bound.redirect_uri.into_owned(),
            scope,
        })
    }

    fn check(&self, client_id: &str, passphrase: Option<&[u8]>) -> Result<(), RegistrarError> {
        // The reserved client of personal tokens is no one's to act as: with no secret it would otherwise
        // pass as a public client, and anyone could revoke personal tokens in its name.
        if !self.is_this_client(client_id) || self.client.is_reserved() {
            return Err(RegistrarError::Unspecified);
        }
        let authenticated = match (&self.client.credentials, passphrase) {
            (ClientCredentials::Public, None) => true,
            (ClientCredentials::Secret(hash), Some(secret)) => {
                let secret = std::str::from_utf8(secret);
                self.hasher.zip(secret.ok()).is_some_and(|(hasher, secret)| hasher.verify(hash, secret))
            }
            // A confidential client proves itself the way it registered; a public one has nothing to prove
            // with; an assertion client is verified by `client_assertion`, never with a secret.
            (ClientCredentials::Secret(_) | ClientCredentials::PrivateKeyJwt { .. }, _)
            | (ClientCredentials::Public, Some(_)) => false,
        };
        if authenticated {
            Ok(())
        } else {
            Err(RegistrarError::Unspecified)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_model::{ClientId, GrantType, RedirectUri, Scope, SigningAlgorithm, Timestamp};

    fn client(credentials: ClientCredentials) -> Client {
        Client {
            id: ClientId::parse("app").unwrap(),
            name: "App".into(),
            credentials,
            redirect_uris: vec![
                RedirectUri::parse("https://app.example.com/cb").unwrap(),
                RedirectUri::parse("http://127.0.0.1/cb").unwrap(),
            ],
            grant_types: [GrantType::AuthorizationCode].into(),
            scope: Scope::parse("openid profile").unwrap(),
            access_token_ttl_seconds: 3600,
            refresh_token_ttl_seconds: None,
            id_token_signing_alg: SigningAlgorithm::Rs256,
            created_at: Timestamp::from_unix_seconds(0),
            updated_at: Timestamp::from_unix_seconds(0),
        }
    }

    fn bind(registrar: &ClientRegistrar<'_>, id: &str, uri: Option<&str>) -> Option<String> {
        let redirect_uri = uri.map(|uri| Cow::Owned(ExactUrl::new(uri.to_owned()).unwrap()));
        let bound =
            registrar.bound_redirect(ClientUrl { client_id: Cow::Borrowed(id), redirect_uri }).ok()?;
        Some(bound.redirect_uri.as_str().to_owned())
    }

    #[test]
    fn redirect_uris_match_exactly_except_a_loopback_port() {
        let client = client(ClientCredentials::Public);
        let registrar = ClientRegistrar::new(&client);
        let registered = "https://app.example.com/cb";
        assert_eq!(bind(&registrar, "app", Some(registered)).as_deref(), Some(registered));
        assert_eq!(
            bind(&registrar, "app", Some("http://127.0.0.1:53219/cb")).as_deref(),
            Some("http://127.0.0.1:53219/cb")
        );
        for variant in [
            "https://app.example.com/cb/",
            "https://APP.example.com/cb",
            "https://app.example.com:443/cb",
            "https://app.example.com/cb?x=1",
            "https://app.example.com/c%62",
        ] {
            assert_eq!(bind(&registrar, "app", Some(variant)), None, "{variant}");
        }
        assert_eq!(bind(&registrar, "other", Some(registered)), None);
        assert_eq!(bind(&registrar, "app", None), None, "two registered URIs: the request must choose");
    }

    #[test]
    fn scope_outside_the_clients_is_refused_not_replaced() {
        let client = client(ClientCredentials::Public);
        let registrar = ClientRegistrar::new(&client);
        let bound = || BoundClient {
            client_id: Cow::Borrowed("app"),
            redirect_uri: Cow::Owned(RegisteredUrl::Exact(
                ExactUrl::new("https://app.example.com/cb".into()).unwrap(),
            )),
        };
        let granted = registrar.negotiate(bound(), Some("openid".parse().unwrap())).unwrap();
        assert_eq!(granted.scope.to_string(), "openid");
        assert!(registrar.negotiate(bound(), Some("openid admin".parse().unwrap())).is_err());
        let failure = registrar.take_refusal().unwrap();
        assert_eq!(failure.code, crate::ErrorCode::InvalidScope);
        assert!(failure.description.as_deref().unwrap_or_default().contains("admin"), "{failure:?}");
    }

    #[test]
    fn secrets_are_checked_and_public_clients_cannot_present_one() {
        let hasher = latchkey_store::testing::test_hasher();
        let confidential = client(ClientCredentials::Secret(hasher.hash("s3cret")));
        assert!(ClientRegistrar::new(&confidential).check("app", Some(b"s3cret")).is_err(), "no hasher");
        let registrar = ClientRegistrar::authenticating(&confidential, &hasher);
        assert!(registrar.check("app", Some(b"s3cret")).is_ok());
        assert!(registrar.check("app", Some(b"s3cres")).is_err());
        assert!(registrar.check("app", None).is_err());
        assert!(registrar.check("other", Some(b"s3cret")).is_err());
        let public = client(ClientCredentials::Public);
        let registrar = ClientRegistrar::new(&public);
        assert!(registrar.check("app", None).is_ok());
        assert!(registrar.check("app", Some(b"anything")).is_err());
        let mut reserved = client(ClientCredentials::Public);
        reserved.id = ClientId::parse(latchkey_model::PERSONAL_CLIENT_ID).unwrap();
        let registrar = ClientRegistrar::new(&reserved);
        assert!(registrar.check(latchkey_model::PERSONAL_CLIENT_ID, None).is_err(), "never authenticates");
    }
}
