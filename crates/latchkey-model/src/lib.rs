//! Latchkey's domain model.
//!
//! Everything here is plain data plus the parsing rules that turn untrusted protocol input into typed
//! values: once a [`Scope`], [`RedirectUri`] or [`ClientId`] exists, it is valid. No I/O lives here.

mod authorization;
mod client;
mod ids;
mod page;
mod redirect_uri;
mod scope;
mod secret;
mod session;
mod time;
mod token;
mod user;

pub use authorization::{AuthMethod, Prompt, ResponseMode, ResponseType, State};
pub use client::{Client, ClientCredentials, ClientError, ClientKind, SigningAlgorithm, PERSONAL_CLIENT_ID};
pub use ids::{ClientId, IdError, RecordId, Username};
pub use page::{Cursor, Page, PageRequest, MAX_PAGE_SIZE};
pub use redirect_uri::{RedirectUri, RedirectUriError};
pub use scope::{Scope, ScopeError};
pub use secret::{
    PlainSecret, SecretDigest, SecretHash, SecretHashError, SecretHasher, SecretKind, UnkeyedHash,
    HASH_KEY_BYTES,
};
pub use session::{Consent, Session, SigningKeyRecord};
pub use time::Timestamp;
pub use token::{GrantType, GrantTypeError, Stage, StageError, TokenKind, TokenRecord};
pub use user::{PasswordHash, User};
