//! Browser sessions (OWASP Session Management): a random secret in the browser, only its hash in the
//! database, a new secret after every login (no session fixation), an idle and an absolute end, and CSRF
//! tokens derived from the secret, so nothing extra is stored and a token is useless without its cookie.

use base64::Engine;
use latchkey_model::{AuthMethod, PlainSecret, SecretHash, SecretKind, Session, Timestamp, Username};
use latchkey_store::{Repo, StoreError};
use rand::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Absolute session lifetime.
pub const SESSION_SECONDS: i64 = 8 * 3600;
/// A session not used for an authorization for this long is over (OWASP: 15–30 minutes).
pub const IDLE_SECONDS: i64 = 30 * 60;

/// Whether a session found in the store is still in use: not idle too long.
fn still_in_use(session: &Session, now: Timestamp) -> bool {
    now.unix_seconds().saturating_sub(session.last_seen_at.unix_seconds()) <= IDLE_SECONDS
}

/// The CSRF token for forms shown to the session with this secret.
pub fn csrf_token(secret: &PlainSecret) -> String {
    let digest =
        Sha256::new().chain_update(b"latchkey-csrf\0").chain_update(secret.expose().as_bytes()).finalize();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

/// Whether a form came from a page shown to this session, compared in constant time.
pub fn csrf_matches(secret: &PlainSecret, presented: Option<&str>) -> bool {
    presented.is_some_and(|presented| csrf_token(secret).as_bytes().ct_eq(presented.as_bytes()).into())
}

/// The session a request belongs to, with its secret.
pub struct Current {
    pub secret: PlainSecret,
    pub session: Session,
    /// Set when the browser must be given the secret (a new session).
    pub fresh: bool,
}

/// Loads the browser's session (and notes it in use now), or starts an anonymous one when there is none or
/// it went idle.
pub fn load_or_start(
    repo: &mut Repo<'_>,
    presented: Option<PlainSecret>,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<Current, StoreError> {
    if let Some(secret) = presented {
        let mut found = repo.find_session(&secret.hash(repo.hasher()?), now)?;
        if let Some(username) = found.as_ref().and_then(|session| session.username.clone()) {
            // Before this session touches anything: a revocation of its user racing this request either
            // sees what it makes or has already ended the session, which is then read again as gone.
            repo.hold_user(&username)?;
            found = repo.find_session(&secret.hash(repo.hasher()?), now)?;
        }
        if let Some(mut session) = found {
            if still_in_use(&session, now) {
                session.last_seen_at = now;
                repo.update_session(&session)?;
                return Ok(Current { secret, session, fresh: false });
            }
            repo.delete_session(&session.id_hash)?;
        }
    }
    start(repo, None, now, rng)
}

/// A session only if the browser has a live one.
pub fn load(
    repo: &mut Repo<'_>,
    presented: Option<PlainSecret>,
    now: Timestamp,
) -> Result<Option<Current>, StoreError> {
    let Some(secret) = presented else { return Ok(None) };
    let session =
        repo.find_session(&secret.hash(repo.hasher()?), now)?.filter(|session| still_in_use(session, now));
    Ok(session.map(|session| Current { secret, session, fresh: false }))
}

/// Who signed in, when and how.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub username: Username,
    pub auth_time: Timestamp,
    pub methods: Vec<AuthMethod>,
}

fn start(
    repo: &mut Repo<'_>,
    signed_in: Option<SignedIn>,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<Current, StoreError> {
    let secret = PlainSecret::generate(SecretKind::Session, rng);
    let (username, auth_time, auth_methods) = match signed_in {
        Some(who) => (Some(who.username), Some(who.auth_time), who.methods),
        None => (None, None, Vec::new()),
    };
    let session = Session {
        id_hash: secret.hash(repo.hasher()?),
        username,
        auth_time,
        auth_methods,
        created_at: now,
        last_seen_at: now,
        expires_at: now.plus_seconds(SESSION_SECONDS),
    };
    repo.insert_session(&session)?;
    Ok(Current { secret, session, fresh: true })
}

/// Replaces the session after a successful login: the pre-login secret stops working.
pub fn log_in(
    repo: &mut Repo<'_>,
    old: &SecretHash,
    signed_in: SignedIn,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<Current, StoreError> {
    repo.delete_session(old)?;
    start(repo, Some(signed_in), now, rng)
}
