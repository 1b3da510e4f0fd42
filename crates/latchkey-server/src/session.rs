//! Browser sessions: a random secret in a `__Host-` cookie, its hash in the database, a fresh secret after
//! every login (no session fixation), and CSRF tokens derived from the secret.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::HttpRequest;
use base64::Engine;
use latchkey_model::{PlainSecret, SecretHash, SecretKind, Session, Timestamp, Username};
use latchkey_store::{Repo, StoreError};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// `__Host-`: only ever set by this origin, over https (browsers treat loopback http as secure too), for
/// the whole site, with no `Domain` (RFC 6265bis §4.1.3.2).
pub const COOKIE: &str = "__Host-latchkey-session";
/// Absolute session lifetime.
pub const SESSION_SECONDS: i64 = 8 * 3600;
/// A session not used for an authorization for this long is over (OWASP Session Management: 15–30 min).
pub const IDLE_SECONDS: i64 = 30 * 60;

/// Whether a session found in the store is still in use: not idle too long.
fn still_in_use(session: &Session, now: Timestamp) -> bool {
    now.unix_seconds().saturating_sub(session.last_seen_at.unix_seconds()) <= IDLE_SECONDS
}

/// The session secret the browser presented, if any.
pub fn presented(request: &HttpRequest) -> Option<PlainSecret> {
    request.cookie(COOKIE).map(|cookie| PlainSecret::from_presented(cookie.value()))
}

pub fn cookie(secret: &PlainSecret) -> Cookie<'static> {
    Cookie::build(COOKIE, secret.expose().to_owned())
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Lax)
        .finish()
}

pub fn removal_cookie() -> Cookie<'static> {
    let mut cookie = cookie(&PlainSecret::from_presented(""));
    cookie.make_removal();
    cookie
}

/// The CSRF token for forms shown to this session: a hash of the session secret, so nothing extra is
/// stored and a token is useless without the cookie it belongs to.
pub fn csrf_token(secret: &PlainSecret) -> String {
    let digest =
        Sha256::new().chain_update(b"latchkey-csrf\0").chain_update(secret.expose().as_bytes()).finalize();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

pub fn csrf_matches(secret: &PlainSecret, presented: &str) -> bool {
    csrf_token(secret).as_bytes().ct_eq(presented.as_bytes()).into()
}

/// The session a request belongs to, with its secret.
pub struct Current {
    pub secret: PlainSecret,
    pub session: Session,
    /// Set when the cookie must be (re)sent.
    pub fresh: bool,
}

/// Loads the browser's session (and notes it in use now), or starts an anonymous one when there is none or it
/// went idle.
pub fn load_or_start(
    repo: &mut Repo<'_>,
    presented: Option<PlainSecret>,
    now: Timestamp,
    rng: &mut (impl rand::RngCore + rand::CryptoRng),
) -> Result<Current, StoreError> {
    if let Some(secret) = presented {
        if let Some(mut session) = repo.find_session(&secret.hash(), now)? {
            if still_in_use(&session, now) {
                session.last_seen_at = now;
                repo.update_session(&session)?;
                return Ok(Current { secret, session, fresh: false });
            }
            repo.delete_session(&session.id_hash)?;
        }
    }
    start(repo, None, None, now, rng)
}

/// A session only if the browser has a live one.
pub fn load(
    repo: &mut Repo<'_>,
    presented: Option<PlainSecret>,
    now: Timestamp,
) -> Result<Option<Current>, StoreError> {
    let Some(secret) = presented else { return Ok(None) };
    let session = repo.find_session(&secret.hash(), now)?.filter(|session| still_in_use(session, now));
    Ok(session.map(|session| Current { secret, session, fresh: false }))
}

pub fn start(
    repo: &mut Repo<'_>,
    username: Option<Username>,
    auth_time: Option<Timestamp>,
    now: Timestamp,
    rng: &mut (impl rand::RngCore + rand::CryptoRng),
) -> Result<Current, StoreError> {
    let secret = PlainSecret::generate(SecretKind::Session, rng);
    let session = Session {
        id_hash: secret.hash(),
        username,
        auth_time,
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
    username: Username,
    now: Timestamp,
    rng: &mut (impl rand::RngCore + rand::CryptoRng),
) -> Result<Current, StoreError> {
    repo.delete_session(old)?;
    start(repo, Some(username), Some(now), now, rng)
}
