//! The login step (OpenID Connect Core §3.1.2.3). Every way to sign in ends in [`finish_login`], which
//! replaces the browser's session (no fixation), records when and how the user authenticated, and moves
//! the flow on. The password method counts the attempt before checking (the throttle), and checks outside
//! any transaction.

use super::answer::{advance, client_name, owned_record, stale};
use super::{Answer, LoginError, LoginForm, Notice, Reply};
use crate::session::{self, SignedIn};
use crate::Context;
use latchkey_core::throttle::{self, Attempt, LoginSource};
use latchkey_core::{tx, OAuthError, Outcome};
use latchkey_grant_code::authorize;
use latchkey_model::{AuthMethod, PlainSecret, RecordId, SecretHash, SecretKind, Timestamp, User};
use latchkey_store::{Repo, StoreError};

/// The login form for the flow `request_id`, as this browser may see it.
fn form(
    repo: &mut Repo<'_>,
    presented: Option<PlainSecret>,
    request_id: &str,
    now: Timestamp,
) -> Result<Answer, StoreError> {
    let Some(current) = session::load(repo, presented, now)? else { return Ok(stale()) };
    let Some(record) = owned_record(repo, request_id, &current.session)? else { return Ok(stale()) };
    let username = match &current.session.username {
        Some(username) => username.to_string(),
        None => authorize::login_hint(&record).unwrap_or_default().to_owned(),
    };
    Ok(Answer::LoginForm(LoginForm {
        client_name: client_name(repo, &record)?,
        csrf: session::csrf_token(&current.secret),
        request_id: record.id.to_string(),
        username,
        redirect_uri: record.redirect_uri.as_ref().map(ToString::to_string),
        error: None,
    }))
}

/// `GET /login`.
pub async fn login_page(
    ctx: &Context,
    presented: Option<PlainSecret>,
    request_id: String,
) -> Outcome<Answer> {
    let now = ctx.now();
    tx::read_async(&ctx.store, move |repo| Ok(form(repo, presented, &request_id, now)?)).await
}

/// A submitted password login form.
pub struct LoginSubmission {
    pub session: Option<PlainSecret>,
    pub csrf: Option<String>,
    pub request_id: String,
    pub username: String,
    pub password: String,
    pub client_address: String,
    /// The browser's device cookie, if it has one.
    pub device: Option<PlainSecret>,
}

/// `POST /login` with a password.
pub async fn password_login(ctx: &Context, login: LoginSubmission) -> Outcome<Reply> {
    let Some(presented) = login.session.filter(|secret| session::csrf_matches(secret, login.csrf.as_deref()))
    else {
        return Ok(Answer::Notice(Notice::FormExpired).into());
    };
    let (now, hasher) = (ctx.now(), ctx.store.hasher()?);
    let source = LoginSource {
        address: login.client_address.clone(),
        browser: login.device.as_ref().map(|device| device.hash(hasher)),
    };
    // 1. Count the attempt, atomically, before any password is checked.
    let (secret, username, request_id, counted) =
        (presented.clone(), login.username.clone(), login.request_id.clone(), source.clone());
    let begun = tx::write_async(&ctx.store, move |repo| match form(repo, Some(secret), &request_id, now)? {
        Answer::LoginForm(form) => {
            Ok((Answer::LoginForm(form), Some(throttle::begin_attempt(repo, &username, &counted, now)?)))
        }
        other => Ok((other, None)),
    })
    .await?;
    let (Answer::LoginForm(mut form), Some(attempt)) = begun else { return Ok(begun.0.into()) };
    form.username.clone_from(&login.username);
    let user = match attempt {
        Attempt::Locked(until) => {
            let retry_after = until.unix_seconds().saturating_sub(now.unix_seconds()).max(1);
            form.error = Some(LoginError::LockedOut { retry_after });
            return Ok(Answer::LoginForm(form).into());
        }
        Attempt::Allowed(user) => user,
    };
    // 2. The slow hash, outside any transaction and off the request threads.
    let checked = user.clone();
    let password = login.password;
    let matches =
        tokio::task::spawn_blocking(move || throttle::password_matches(checked.as_deref(), &password))
            .await
            .map_err(|error| OAuthError::server_error().logged(format!("password check: {error}")))?;
    let user: Box<User> = match (user, matches) {
        (Some(user), true) => user,
        _ => {
            let record_id = form.request_id.clone();
            tx::write_async(&ctx.store, move |repo| {
                let id = RecordId::parse(&record_id).map_err(|e| StoreError::InvalidInput(e.to_string()))?;
                let mut record = repo.get_token(&id)?;
                Ok(authorize::login_failed(repo, &mut record)?)
            })
            .await?;
            form.error = Some(LoginError::Failed);
            return Ok(Answer::LoginForm(form).into());
        }
    };
    // 3. Signed in: the account's count starts again, the browser is known from now on, and the flow goes
    // on in a new session.
    let new_device = match login.device {
        Some(_) => None,
        None => Some(PlainSecret::generate(SecretKind::Device, &mut rand::rngs::OsRng)),
    };
    let source = LoginSource {
        browser: new_device.as_ref().map(|device| device.hash(hasher)).or(source.browser),
        ..source
    };
    let (issuer, keys) = (ctx.issuer.to_string(), ctx.keys.current());
    let mut reply = tx::write_async(&ctx.store, move |repo| {
        // Checked against the hash read in step 1: a reset or a disabling since then wins.
        let current = repo.find_user(&user.username)?;
        if current.is_none_or(|now| now.disabled || now.password_hash != user.password_hash) {
            form.error = Some(LoginError::Failed);
            return Ok(Answer::LoginForm(form).into());
        }
        throttle::succeeded(repo, &user.username, &source, now)?;
        let signed_in =
            SignedIn { username: user.username.clone(), auth_time: now, methods: vec![AuthMethod::Password] };
        Ok(finish_login(
            repo,
            &presented.hash(repo.hasher()?),
            &form.request_id,
            signed_in,
            &issuer,
            &keys,
            now,
        )?)
    })
    .await?;
    if reply.new_session.is_some() {
        reply.new_device = new_device;
    }
    Ok(reply)
}

/// The one step every login method ends with, in its transaction: the user of the browser whose session
/// was `old` authenticated (at `signed_in.auth_time`, by `signed_in.methods`) for the flow `request_id`.
pub fn finish_login(
    repo: &mut Repo<'_>,
    old: &SecretHash,
    request_id: &str,
    signed_in: SignedIn,
    issuer: &str,
    keyring: &latchkey_core::keys::Keyring,
    now: Timestamp,
) -> Result<Reply, StoreError> {
    let Ok(id) = RecordId::parse(request_id) else { return Ok(stale().into()) };
    // The request gains its user here: a revocation of the user racing the login must see it or be seen.
    repo.hold_user(&signed_in.username)?;
    let mut record = match repo.get_token(&id) {
        Ok(record) => record,
        Err(StoreError::NotFound) => return Ok(stale().into()),
        Err(other) => return Err(other),
    };
    // Checked again here: a second submission of the same form, finishing after the first, finds the
    // request already moved on and changes nothing.
    if !authorize::belongs_to(&record, old) {
        return Ok(stale().into());
    }
    let auth_time = signed_in.auth_time;
    let current = session::log_in(repo, old, signed_in, now, &mut rand::rngs::OsRng)?;
    authorize::logged_in(repo, &mut record, &current.session.id_hash, auth_time)?;
    let answer = advance(repo, &mut record, &current.session, issuer, keyring, now)?;
    Ok(Reply::with_session(answer, Some(current.secret)))
}
