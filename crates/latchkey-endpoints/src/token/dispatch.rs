//! The token endpoint's dispatcher (RFC 6749 §3.2, §4.1.3, §4.3.2, §4.4.2, §6): one `grant_type`, one grant
//! crate, the client authenticated in the grant's own transaction.

use super::{auth_context, ClientRequest, Endpoint};
use crate::Context;
use latchkey_core::client_auth::authenticate_client;
use latchkey_core::tokens::TokenResponse;
use latchkey_core::{tx, ErrorCode, Form, OAuthError, Outcome};
use latchkey_grant_client_credentials::ClientCredentialsRequest;
use latchkey_grant_code::exchange::CodeExchange;
use latchkey_grant_refresh::RefreshRequest;

/// A token request, typed by its `grant_type`.
pub enum GrantRequest {
    Code(CodeExchange),
    Refresh(RefreshRequest),
    ClientCredentials(ClientCredentialsRequest),
    #[cfg(feature = "password")]
    Password(latchkey_grant_password::PasswordRequest),
}

impl GrantRequest {
    /// Parses the form by its `grant_type`; a grant this build lacks is `unsupported_grant_type`.
    pub fn from_form(form: &Form) -> Result<Self, OAuthError> {
        let grant_type = form.required("grant_type")?;
        Ok(match grant_type.as_str() {
            "authorization_code" => GrantRequest::Code(CodeExchange::from_form(form)?),
            "refresh_token" => GrantRequest::Refresh(RefreshRequest::from_form(form)?),
            "client_credentials" => {
                GrantRequest::ClientCredentials(ClientCredentialsRequest::from_form(form)?)
            }
            #[cfg(feature = "password")]
            "password" => GrantRequest::Password(latchkey_grant_password::PasswordRequest::from_form(form)?),
            _ => return Err(OAuthError::new(ErrorCode::UnsupportedGrantType, "unsupported grant_type")),
        })
    }
}

/// Answers a token request.
pub async fn token(ctx: &Context, request: ClientRequest) -> Outcome<TokenResponse> {
    let grant = GrantRequest::from_form(&request.form)?;
    let (now, keys, issuer) = (ctx.now(), ctx.keys.current(), ctx.issuer.to_string());
    let auth = auth_context(ctx, Endpoint::Token, &request.client_address);
    let presented = request.credentials;
    let grant = match grant {
        #[cfg(feature = "password")]
        GrantRequest::Password(password) => {
            return password_grant(ctx, presented, password, request.client_address, auth).await
        }
        // A client assertion is recorded as used, a write: it stays in the one transaction below.
        GrantRequest::ClientCredentials(asked) if presented.client_assertion.is_none() => {
            return client_credentials(ctx, presented, asked, auth).await
        }
        other => other,
    };
    tx::write_async(&ctx.store, move |repo| {
        let client = authenticate_client(repo, &presented, &auth)?;
        let rng = &mut rand::rngs::OsRng;
        match &grant {
            GrantRequest::Code(code) => {
                latchkey_grant_code::exchange::exchange(repo, &client, code, &keys, now, rng)
            }
            GrantRequest::Refresh(refresh) => {
                latchkey_grant_refresh::refresh(repo, &client, refresh, &keys, now, rng)
            }
            GrantRequest::ClientCredentials(asked) => {
                latchkey_grant_client_credentials::issue(repo, &client, asked, &issuer, now, rng)
            }
            #[cfg(feature = "password")]
            GrantRequest::Password(_) => {
                Err(OAuthError::server_error().logged("password grant in one transaction").into())
            }
        }
    })
    .await
}

/// The client credentials grant with only its insert in the write: the client is authenticated on a read
/// and the token made outside any transaction, so the one writer (SQLite's group commit) does no more than
/// store the record. The answer still waits for that commit.
async fn client_credentials(
    ctx: &Context,
    presented: latchkey_core::client_auth::PresentedCredentials,
    asked: ClientCredentialsRequest,
    auth: latchkey_core::client_auth::AuthContext,
) -> Outcome<TokenResponse> {
    let (now, issuer) = (ctx.now(), ctx.issuer.to_string());
    let presented_basic = presented.basic.is_some();
    let client = tx::read_async(&ctx.store, move |repo| authenticate_client(repo, &presented, &auth)).await?;
    let hasher = ctx.store.hasher()?;
    let prepared = latchkey_grant_client_credentials::prepare(
        &client,
        &asked,
        &issuer,
        hasher,
        now,
        &mut rand::rngs::OsRng,
    )?;
    let record = prepared.record;
    tx::write_async(&ctx.store, move |repo| {
        // The client as authenticated must still be the client as stored, or a secret rotated, a grant
        // withdrawn or a client revoked between the read and this write would let a token through that no
        // revocation saw. Held so that such a change waits for this commit (PostgreSQL; SQLite's writes are
        // serial already).
        repo.hold_client(&client.id)?;
        if repo.find_client(&client.id)?.as_ref() != Some(&client) {
            return Err(OAuthError::invalid_client(presented_basic)
                .logged("the client changed meanwhile")
                .into());
        }
        Ok(repo.insert_token(&record)?)
    })
    .await?;
    Ok(prepared.response)
}

/// The password grant in its three steps: count the attempt (one transaction), check the password
/// (Argon2id, on the blocking pool, no transaction open), then issue (one transaction).
#[cfg(feature = "password")]
async fn password_grant(
    ctx: &Context,
    presented: latchkey_core::client_auth::PresentedCredentials,
    request: latchkey_grant_password::PasswordRequest,
    address: String,
    auth: latchkey_core::client_auth::AuthContext,
) -> Outcome<TokenResponse> {
    use latchkey_grant_password as password;
    let now = ctx.now();
    let counted_from = address.clone();
    let check = tx::write_async(&ctx.store, move |repo| {
        let client = authenticate_client(repo, &presented, &auth)?;
        password::begin(repo, client, request, &counted_from, now)
    })
    .await?;
    let verified = match tokio::task::spawn_blocking(move || check.run()).await {
        Ok(verified) => verified?,
        Err(error) => {
            return Err(OAuthError::server_error().logged(format!("password check: {error}")).into())
        }
    };
    let (keys, issuer) = (ctx.keys.current(), ctx.issuer.to_string());
    tx::write_async(&ctx.store, move |repo| {
        password::issue(repo, verified, &address, &issuer, &keys, now, &mut rand::rngs::OsRng)
    })
    .await
}
