//! The browser side of the authorization code and implicit flows (RFC 6749 §4.1.2, §4.2.2; OpenID Connect
//! Core §3.1.2): authorize → login (by any method) → consent → the answer at the client's redirect URI.
//! Each step is a function of typed input that returns an [`Answer`]: where the browser goes next or what
//! it is shown. Storage failures are `Err`, so a page never pretends to have done what it did not.

mod answer;
mod authorize;
mod consent;
mod login;

pub use answer::AuthorizationResponse;
pub use authorize::authorize;
pub use consent::{consent_page, decide, Decision};
pub use login::{finish_login, login_page, password_login, LoginSubmission};

use latchkey_model::PlainSecret;

/// Where a step leaves the browser.
#[derive(Debug)]
pub enum Answer {
    /// Continue on the login page for this request.
    GoToLogin { request_id: String },
    /// Continue on the consent page for this request.
    GoToConsent { request_id: String },
    /// Show the login form.
    LoginForm(LoginForm),
    /// Show the consent form.
    ConsentForm(ConsentForm),
    /// Answer the client at its validated redirect URI.
    Respond(AuthorizationResponse),
    /// Show a page that ends this flow in the browser.
    Notice(Notice),
}

/// An answer, and the new session secret the browser must keep when the step started or replaced one.
#[derive(Debug)]
pub struct Reply {
    pub answer: Answer,
    pub new_session: Option<PlainSecret>,
    /// A device cookie for a browser that signed in without one (see `latchkey_core::throttle`).
    pub new_device: Option<PlainSecret>,
}

impl Reply {
    pub fn with_session(answer: Answer, new_session: Option<PlainSecret>) -> Self {
        Reply { answer, new_session, new_device: None }
    }
}

impl From<Answer> for Reply {
    fn from(answer: Answer) -> Self {
        Reply::with_session(answer, None)
    }
}

/// Why the flow ends on a page of ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The request cannot be answered at the client: its client or redirect URI cannot be trusted
    /// (RFC 6749 §4.1.2.1). `code` is the RFC error code, `description` says why.
    Refused { code: &'static str, description: String },
    /// The request is over, or belongs to another browser.
    Stale,
    /// A form without this browser's CSRF token.
    FormExpired,
}

/// What the login page shows. `Debug` leaves out the CSRF token.
#[derive(Clone)]
pub struct LoginForm {
    pub client_name: String,
    pub csrf: String,
    pub request_id: String,
    /// Prefilled: the signed-in user, the `login_hint`, or what was typed.
    pub username: String,
    /// The client being answered: a form on the page may lead there.
    pub redirect_uri: Option<String>,
    pub error: Option<LoginError>,
}

/// Why the login form is shown again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginError {
    /// One answer for every failure, whatever the reason (OWASP Authentication Cheat Sheet).
    Failed,
    /// Too many attempts; try again in this many seconds.
    LockedOut { retry_after: i64 },
}

/// What the consent page shows (RFC 6819 §5.2.4.2: the user sees the client and each scope in words).
/// `Debug` leaves out the CSRF token.
#[derive(Clone)]
pub struct ConsentForm {
    pub client_name: String,
    pub csrf: String,
    pub request_id: String,
    pub username: String,
    /// Each scope and what it allows, in words.
    pub scopes: Vec<(String, String)>,
    pub redirect_uri: Option<String>,
}

impl std::fmt::Debug for LoginForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginForm")
            .field("request_id", &self.request_id)
            .field("username", &self.username)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for ConsentForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsentForm")
            .field("request_id", &self.request_id)
            .field("username", &self.username)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}
