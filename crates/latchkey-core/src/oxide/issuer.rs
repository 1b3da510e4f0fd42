//! The token issuer seam (`oxide_auth::primitives::issuer::Issuer`) over the token records: opaque 256-bit
//! tokens stored only as SHA-256 (RFC 6749 §10.3), the ID token signed alongside (OpenID Connect Core
//! §3.1.3.3), refresh tokens rotated with reuse detection (RFC 9700 §4.14.2).

use super::{grant_of, FailureSlot, NonceAddon};
use crate::keys::Keyring;
use crate::rotation::{granted_scope, rotate};
use crate::tokens::{mint, respond, wants_refresh_token, TokenResponse};
use crate::{OAuthError, Step};
use chrono::{DateTime, Utc};
use latchkey_model::{Client, Scope, SecretHash, Timestamp, TokenRecord, User};
use latchkey_store::Repo;
use oxide_auth::primitives::grant::Grant;
use oxide_auth::primitives::issuer::{IssuedToken, Issuer, RefreshedToken, TokenType};
use rand::{CryptoRng, RngCore};
use std::cell::RefCell;

/// Issues for one authenticated client, at one instant, within one transaction.
pub struct TokenIssuer<'a, 'r, R> {
    repo: RefCell<&'a mut Repo<'r>>,
    client: &'a Client,
    keyring: &'a Keyring,
    now: Timestamp,
    rng: &'a mut R,
    failure: FailureSlot,
    pending: Option<(TokenRecord, Option<User>)>,
    response: Option<TokenResponse>,
}

fn expiry(time: Option<Timestamp>) -> DateTime<Utc> {
    time.and_then(|time| DateTime::from_timestamp(time.unix_seconds(), 0)).unwrap_or(super::DECIDED_EXPIRY)
}

impl<'a, 'r, R: RngCore + CryptoRng> TokenIssuer<'a, 'r, R> {
    pub fn new(
        repo: &'a mut Repo<'r>,
        client: &'a Client,
        keyring: &'a Keyring,
        now: Timestamp,
        rng: &'a mut R,
    ) -> Self {
        Self {
            repo: RefCell::new(repo),
            client,
            keyring,
            now,
            rng,
            failure: FailureSlot::default(),
            pending: None,
            response: None,
        }
    }

    /// The record the next [`Issuer::issue`] puts its tokens on. oxide-auth's grant names the owner, client
    /// and scope; the record holds the rest (authentication time, family, the user's claims).
    pub fn prepare(&mut self, record: TokenRecord, user: Option<User>) {
        self.pending = Some((record, user));
    }

    /// The full token response of the last issue or refresh, or why there is none.
    pub fn finish(self, otherwise: OAuthError) -> Step<TokenResponse> {
        match self.response {
            Some(response) if self.failure.is_empty() => Ok(Ok(response)),
            _ => self.failure.into_step(otherwise),
        }
    }

    fn issued(
        &mut self,
        response: TokenResponse,
        until: DateTime<Utc>,
    ) -> (String, Option<String>, DateTime<Utc>) {
        let answer = (response.access_token.clone(), response.refresh_token.clone(), until);
        self.response = Some(response);
        answer
    }

    /// The record `token` (an access or refresh token) belongs to, when its hash is on file.
    fn find(&self, token: &str, refresh: bool) -> Result<Option<TokenRecord>, ()> {
        let hash = SecretHash::of(token);
        let mut repo = self.repo.borrow_mut();
        let found = if refresh {
            repo.find_token_by_refresh_token(&hash)
        } else {
            repo.find_token_by_access_token(&hash)
        };
        found.or_else(|error| self.failure.store(error))
    }
}

impl<R: RngCore + CryptoRng> Issuer for TokenIssuer<'_, '_, R> {
    fn issue(&mut self, grant: Grant) -> Result<IssuedToken, ()> {
        let Some((mut record, user)) = self.pending.take() else {
            return self.failure.refuse(OAuthError::server_error());
        };
        let owner = record.username.as_ref().map(|name| name.as_str()).unwrap_or_default();
        if grant.client_id != record.client_id.as_str() || grant.owner_id != owner {
            return self
                .failure
                .refuse(OAuthError::invalid_grant("the grant does not belong to this record"));
        }
        let with_refresh = wants_refresh_token(self.client, &record);
        let minted = mint(&mut record, self.client, with_refresh, self.now, self.rng);
        let nonce = NonceAddon::of(&grant.extensions);
        let response = match respond(
            &mut record,
            self.client,
            user.as_ref(),
            minted,
            nonce.as_deref(),
            self.keyring,
            self.now,
        ) {
            Ok(response) => response,
            Err(error) => return self.failure.refuse(error),
        };
        if let Err(error) = self.repo.get_mut().update_token(&record) {
            return self.failure.store(error);
        }
        let (token, refresh, until) = self.issued(response, expiry(record.access_token_expires));
        Ok(IssuedToken { token, refresh, until, token_type: TokenType::Bearer })
    }

    fn refresh(&mut self, refresh: &str, grant: Grant) -> Result<RefreshedToken, ()> {
        let scope = match Scope::parse(&grant.scope.to_string()) {
            Ok(scope) => scope,
            Err(_) => return self.failure.refuse(OAuthError::invalid_scope("malformed scope")),
        };
        let step =
            rotate(self.repo.get_mut(), self.client, refresh, Some(&scope), self.keyring, self.now, self.rng);
        let response = match step {
            Ok(Ok(response)) => response,
            Ok(Err(refusal)) => return self.failure.refuse(refusal),
            Err(error) => return self.failure.store(error),
        };
        let until = expiry(Some(self.now.plus_seconds(response.expires_in)));
        let (token, refresh, until) = self.issued(response, until);
        Ok(RefreshedToken { token, refresh, until, token_type: TokenType::Bearer })
    }

    /// The grant of a live access token.
    fn recover_token<'t>(&'t self, token: &'t str) -> Result<Option<Grant>, ()> {
        let Some(record) = self.find(token, false)? else { return Ok(None) };
        if !record.access_token_is_active(self.now) {
            return Ok(None);
        }
        grant_of(&record).map(Some).or_else(|error| self.failure.refuse(error))
    }

    /// The grant of a refresh token, with the whole scope its owner granted. A retired token is still
    /// recovered: [`Issuer::refresh`] must see it to recognise reuse and revoke its family.
    fn recover_refresh<'t>(&'t self, token: &'t str) -> Result<Option<Grant>, ()> {
        let Some(mut record) = self.find(token, true)? else { return Ok(None) };
        record.scope = granted_scope(&record);
        grant_of(&record).map(Some).or_else(|error| self.failure.refuse(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyEncryptionKey;
    use latchkey_model::{ClientCredentials, ClientId, GrantType, RecordId, SigningAlgorithm, Username};
    use latchkey_store::testing::TestDatabase;

    const NOW: Timestamp = Timestamp::from_unix_seconds(1_000_000_000);

    fn client() -> Client {
        Client {
            id: ClientId::parse("service").unwrap(),
            name: "Service".into(),
            credentials: ClientCredentials::Public,
            redirect_uris: Vec::new(),
            grant_types: [GrantType::ClientCredentials, GrantType::RefreshToken].into(),
            scope: Scope::parse("read write").unwrap(),
            access_token_ttl_seconds: 60,
            refresh_token_ttl_seconds: None,
            id_token_signing_alg: SigningAlgorithm::Rs256,
            created_at: NOW,
            updated_at: NOW,
        }
    }

    /// A record holding `lk_at_live` (60 s to live) and `lk_rt_live`, issued for `read` of a `read write` grant.
    fn record(client: &Client) -> TokenRecord {
        let mut record = TokenRecord::new(
            RecordId::generate(&mut rand::rngs::OsRng),
            client.id.clone(),
            GrantType::AuthorizationCode,
            "https://id.example.com",
            NOW,
        );
        record.username = Some(Username::parse("alice").unwrap());
        record.scope = Scope::parse("read").unwrap();
        record.properties.insert("granted_scope".into(), "read write".into());
        record.access_token_hash = Some(SecretHash::of("lk_at_live"));
        record.access_token_expires = Some(NOW.plus_seconds(60));
        record.refresh_token_hash = Some(SecretHash::of("lk_rt_live"));
        record
    }

    #[test]
    fn tokens_and_refresh_tokens_are_recovered_by_hash_against_the_injected_clock() {
        let db = TestDatabase::sqlite();
        let store = db.open().unwrap();
        let client = client();
        let kek = KeyEncryptionKey::generate(&mut rand::rngs::OsRng);
        let record = record(&client);
        store
            .write(|repo| {
                repo.insert_client(&client)?;
                repo.insert_user(&latchkey_store::testing::bare_user("alice", NOW))?;
                repo.insert_token(&record)?;
                let keyring = Keyring::load_or_create(repo, &kek, NOW, &mut rand::rngs::OsRng).unwrap();
                let mut rng = rand::rngs::OsRng;
                let at = |repo: &mut Repo<'_>, now: Timestamp, token: &str, refresh: bool| {
                    let mut rng = rand::rngs::OsRng;
                    let issuer = TokenIssuer::new(repo, &client, &keyring, now, &mut rng);
                    let grant =
                        if refresh { issuer.recover_refresh(token) } else { issuer.recover_token(token) };
                    grant.unwrap().map(|grant| (grant.owner_id, grant.client_id, grant.scope.to_string()))
                };
                let expected = Some(("alice".to_owned(), "service".to_owned(), "read".to_owned()));
                assert_eq!(at(repo, NOW.plus_seconds(59), "lk_at_live", false), expected);
                assert_eq!(
                    at(repo, NOW.plus_seconds(60), "lk_at_live", false),
                    None,
                    "expired by the injected clock"
                );
                assert_eq!(at(repo, NOW, "lk_at_unknown", false), None);
                let whole = at(repo, NOW, "lk_rt_live", true).unwrap();
                let mut granted: Vec<&str> = whole.2.split(' ').collect();
                granted.sort_unstable();
                assert_eq!(granted, ["read", "write"], "a refresh token recovers the whole grant");
                repo.revoke_token(&record.id, NOW)?;
                assert_eq!(at(repo, NOW, "lk_at_live", false), None, "revoked");
                let issuer = TokenIssuer::new(repo, &client, &keyring, NOW, &mut rng);
                assert!(
                    issuer.recover_refresh("lk_rt_live").unwrap().is_some(),
                    "kept so that reuse is seen"
                );
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn a_storage_failure_is_told_apart_from_a_refusal() {
        let db = TestDatabase::sqlite();
        let store = db.open().unwrap();
        let client = client();
        let kek = KeyEncryptionKey::generate(&mut rand::rngs::OsRng);
        let keyring = store
            .write(|repo| Ok(Keyring::load_or_create(repo, &kek, NOW, &mut rand::rngs::OsRng)))
            .unwrap()
            .unwrap();
        db.execute_sql("ALTER TABLE tokens RENAME TO tokens_gone").unwrap();
        let step = store
            .write(|repo| {
                let mut rng = rand::rngs::OsRng;
                let issuer = TokenIssuer::new(repo, &client, &keyring, NOW, &mut rng);
                assert!(issuer.recover_token("lk_at_live").is_err());
                Ok(issuer.finish(OAuthError::invalid_grant("unknown")))
            })
            .unwrap();
        assert!(step.is_err(), "a storage failure, not a refusal: {step:?}");
    }
}
