//! The code store seam (`oxide_auth::primitives::authorizer::Authorizer`) over the token records: a code is
//! 256 random bits kept only as a hash on the record of its request (RFC 6749 §10.10), redeemed exactly
//! once even under concurrent redemption, and a second presentation revokes everything the first one
//! issued (RFC 6749 §4.1.2). oxide-auth's `AuthMap` forgets a code once extracted, so it cannot do the last.

use latchkey_core::oxide::{grant_of, FailureSlot, NonceAddon};
use latchkey_core::{OAuthError, Step};
use latchkey_model::{ClientId, PlainSecret, SecretKind, Timestamp, TokenRecord, User};
use latchkey_store::{Consumed, Repo};
use oxide_auth::code_grant::extensions::Pkce;
use oxide_auth::primitives::authorizer::Authorizer;
use oxide_auth::primitives::grant::{Grant, GrantExtension};
use rand::{CryptoRng, RngCore};

pub struct CodeAuthorizer<'a, 'r, R> {
    repo: &'a mut Repo<'r>,
    now: Timestamp,
    rng: R,
    failure: FailureSlot,
    /// `authorize`: the record the code is issued on. `extract`: the client redeeming.
    pending: Option<TokenRecord>,
    redeemer: Option<ClientId>,
    redeemed: Option<(TokenRecord, User)>,
}

impl<'a, 'r, R: RngCore + CryptoRng> CodeAuthorizer<'a, 'r, R> {
    /// Issues the code of `record`, whose request the user has just allowed.
    pub fn issuing(repo: &'a mut Repo<'r>, record: TokenRecord, now: Timestamp, rng: R) -> Self {
        Self {
            repo,
            now,
            rng,
            failure: FailureSlot::default(),
            pending: Some(record),
            redeemer: None,
            redeemed: None,
        }
    }

    /// Redeems codes for the authenticated `client`.
    pub fn redeeming(repo: &'a mut Repo<'r>, client: &ClientId, now: Timestamp, rng: R) -> Self {
        Self {
            repo,
            now,
            rng,
            failure: FailureSlot::default(),
            pending: None,
            redeemer: Some(client.clone()),
            redeemed: None,
        }
    }

    /// The record (as issued, code now set) and, after an extract, its user.
    pub fn into_parts(self) -> (Option<TokenRecord>, Option<(TokenRecord, User)>, FailureSlot) {
        (self.pending, self.redeemed, self.failure)
    }

    fn redeem(&mut self, code: &str) -> Step<(TokenRecord, User)> {
        let refuse = |why: &str| Ok(Err(OAuthError::invalid_grant(why)));
        let Some(client) = self.redeemer.clone() else { return Ok(Err(OAuthError::server_error())) };
        let hash = PlainSecret::from_presented(code).hash();
        // Another client's code is refused before it is taken, so presenting it cannot spend it for the
        // client it was issued to.
        if self.repo.find_token_by_code(&hash)?.is_some_and(|record| record.client_id != client) {
            return refuse("the code was issued to another client");
        }
        let record = match self.repo.redeem_code(&hash, self.now)? {
            Consumed::First(record) => record,
            Consumed::Unknown => return refuse("unknown authorization code"),
            Consumed::Replayed(record) => {
                self.repo.revoke_family(&record.family_id, self.now)?;
                return refuse("authorization code already used; its tokens are revoked");
            }
        };
        if record.code_expires.is_none_or(|expires| expires.has_passed(self.now)) {
            return refuse("authorization code expired");
        }
        let Some(username) = &record.username else { return refuse("authorization was not completed") };
        match self.repo.find_user(username)? {
            Some(user) if !user.disabled => Ok(Ok((record, user))),
            _ => refuse("the user no longer exists or is disabled"),
        }
    }
}

/// The grant a redeemed code stands for, with what the token request must match: the PKCE challenge in
/// oxide-auth's encoding (the challenge, then `S` for S256) and the nonce for the ID token.
fn code_grant(record: &TokenRecord) -> Result<Grant, OAuthError> {
    let mut grant = grant_of(record)?;
    if let Some(challenge) = &record.code_challenge {
        grant.extensions.set(&Pkce::required(), crate::pkce::encoded(challenge));
    }
    if let Some(nonce) = NonceAddon::value(record.nonce.as_deref()) {
        grant.extensions.set_raw(NonceAddon.identifier().to_owned(), nonce);
    }
    Ok(grant)
}

impl<R: RngCore + CryptoRng> Authorizer for CodeAuthorizer<'_, '_, R> {
    fn authorize(&mut self, grant: Grant) -> Result<String, ()> {
        let Some(record) = self.pending.as_mut() else {
            return self.failure.refuse(OAuthError::server_error());
        };
        let owner = record.username.as_ref().map(|name| name.as_str()).unwrap_or_default();
        if grant.client_id != record.client_id.as_str() || grant.owner_id != owner || owner.is_empty() {
            return self.failure.refuse(OAuthError::server_error());
        }
        let code = PlainSecret::generate(SecretKind::AuthorizationCode, &mut self.rng);
        record.code_hash = Some(code.hash());
        record.code_expires = Some(Timestamp::from_unix_seconds(grant.until.timestamp()));
        match self.repo.update_token(record) {
            Ok(()) => Ok(code.expose().to_owned()),
            Err(error) => self.failure.store(error),
        }
    }

    fn extract(&mut self, code: &str) -> Result<Option<Grant>, ()> {
        let redeemed = match self.redeem(code) {
            Ok(Ok(redeemed)) => redeemed,
            Ok(Err(refusal)) => return self.failure.refuse(refusal),
            Err(error) => return self.failure.store(error),
        };
        let grant = match code_grant(&redeemed.0) {
            Ok(grant) => grant,
            Err(error) => return self.failure.refuse(error),
        };
        self.redeemed = Some(redeemed);
        Ok(Some(grant))
    }
}
