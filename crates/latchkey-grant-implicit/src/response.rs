//! The implicit authorization response (RFC 6749 §4.2.2, OpenID Connect Core §3.2.2.5).

use latchkey_core::claims::user_claims;
use latchkey_core::id_token::{issue_id_token, IdTokenContent};
use latchkey_core::keys::Keyring;
use latchkey_core::tokens::{mint, BEARER};
use latchkey_core::{OAuthError, Outcome};
use latchkey_model::{Client, ResponseType, Timestamp, TokenRecord, User};
use latchkey_store::Repo;
use rand::{CryptoRng, RngCore};

/// Issues what the settled `record` asked for: an access token for `token`, an ID token (with `nonce`, and
/// `at_hash` when an access token goes with it) for `id_token`. Returns the response parameters, without
/// `state` and `iss`, which every authorization response carries and the caller adds.
pub fn issue(
    repo: &mut Repo<'_>,
    record: &mut TokenRecord,
    client: &Client,
    user: &User,
    keyring: &Keyring,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Outcome<Vec<(&'static str, String)>> {
    let Some(response_type) = record.response_type.filter(|kind| *kind != ResponseType::Code) else {
        return Err(OAuthError::server_error().logged("an implicit answer for a code request").into());
    };
    let mut params = Vec::new();
    let access_token = if response_type.issues_access_token() {
        let minted = mint(record, client, false, repo.hasher()?, now, rng);
        params.push(("access_token", minted.access_token.expose().to_owned()));
        params.push(("token_type", BEARER.to_owned()));
        params.push(("expires_in", client.access_token_ttl_seconds.to_string()));
        params.push(("scope", record.scope.to_string()));
        Some(minted.access_token)
    } else {
        None
    };
    if response_type.issues_id_token() {
        // Without an access token there is no UserInfo call, so the claims ride in the ID token.
        let claims = access_token.is_none().then(|| user_claims(user, &record.scope));
        let methods = record.auth_methods();
        let amr: Vec<&str> = methods.iter().map(|method| method.amr()).collect();
        let content = IdTokenContent {
            issuer: &record.issuer,
            client_id: client.id.as_str(),
            subject: &user.subject,
            nonce: record.nonce.as_deref(),
            auth_time: record.auth_time,
            user_claims: claims.as_ref(),
            authentication_methods: &amr,
            now,
            lifetime_seconds: client.access_token_ttl_seconds,
            access_token: access_token.as_ref(),
            code: None,
            alg: client.id_token_signing_alg,
        };
        let id_token = issue_id_token(keyring, &content)?;
        record.id_token_hash = Some(repo.hasher()?.hash(&id_token));
        params.push(("id_token", id_token));
    }
    repo.update_token(record)?;
    latchkey_core::grant_cap::keep_newest(repo, record, now)?;
    Ok(params)
}
