use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// What can go wrong in storage, in terms callers act on. Never a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for does not exist.
    #[error("not found")]
    NotFound,
    /// A unique value (key, code, token hash, username) is already taken.
    #[error("already exists: {0}")]
    Conflict(String),
    /// The caller passed something malformed (a forged page cursor, say): a 400, not a server fault.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The data breaks a rule of the schema other than uniqueness (for example a token for an unknown client).
    #[error("refused by the database: {0}")]
    Constraint(String),
    /// The database cannot be reached or cannot serve the request now (down, locked, out of connections).
    /// Callers answer 503 and issue nothing.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A stored row does not parse into the model: the database was changed behind the server's back.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Whether the database itself failed (as opposed to this piece of work being refused): a failure no
    /// transaction that saw it can commit past.
    pub fn is_storage_failure(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }

    pub(crate) fn corrupt(what: &str, error: impl std::fmt::Display) -> Self {
        StoreError::Corrupt(format!("{what}: {error}"))
    }
}

impl From<DieselError> for StoreError {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::NotFound => StoreError::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                StoreError::Conflict(info.message().to_owned())
            }
            DieselError::DatabaseError(
                DatabaseErrorKind::ForeignKeyViolation
                | DatabaseErrorKind::NotNullViolation
                | DatabaseErrorKind::CheckViolation,
                info,
            ) => StoreError::Constraint(info.message().to_owned()),
            DieselError::DeserializationError(e) => StoreError::corrupt("row", e),
            DieselError::SerializationError(e) => StoreError::corrupt("value", e),
            // Closed connections, locks, serialisation failures, a read-only or shutting-down server, broken
            // transactions: none of them is the caller's fault and all may pass.
            other => StoreError::Unavailable(other.to_string()),
        }
    }
}

impl From<diesel::ConnectionError> for StoreError {
    fn from(error: diesel::ConnectionError) -> Self {
        StoreError::Unavailable(error.to_string().trim_end().to_owned())
    }
}

impl From<diesel::r2d2::PoolError> for StoreError {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        StoreError::Unavailable(error.to_string())
    }
}
