use std::fmt;

/// Where the data lives. The URL's scheme picks the backend.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://path` (relative to the working directory) or `sqlite:///absolute/path`.
    SqliteFile(String),
    /// `sqlite::memory:`: gone when the process ends; for tests and trials.
    SqliteMemory,
    /// `postgres://…` or `postgresql://…`, handed to libpq as is.
    Postgres(String),
}

/// Never echoes the URL: a malformed one may still hold a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported database URL: expected sqlite://PATH, sqlite::memory: or postgres://USER@HOST/DB")]
pub struct DatabaseUrlError;

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, DatabaseUrlError> {
        if url == "sqlite::memory:" || url == "sqlite://:memory:" {
            return Ok(DatabaseUrl::SqliteMemory);
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_owned()));
        }
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"));
        match path {
            // A `file:` URI would let a URL smuggle SQLite open options; accept plain paths only.
            Some(path) if !path.is_empty() && !path.starts_with("file:") => {
                Ok(DatabaseUrl::SqliteFile(path.to_owned()))
            }
            _ => Err(DatabaseUrlError),
        }
    }

    pub fn is_sqlite(&self) -> bool {
        !matches!(self, DatabaseUrl::Postgres(_))
    }
}

/// The URL with any password replaced, in the user information or in a `password=` query parameter, fit
/// for logs and error messages.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "(unprintable database URL)".to_owned();
    };
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) => (rest, Some(query)),
        None => (rest, None),
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_owned(),
    };
    let query = query.map(|query| {
        let parts: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        format!("?{}", parts.join("&"))
    });
    format!("{scheme}://{authority}{path}{}", query.unwrap_or_default())
}

impl std::str::FromStr for DatabaseUrl {
    type Err = DatabaseUrlError;
    fn from_str(url: &str) -> Result<Self, DatabaseUrlError> {
        Self::parse(url)
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::SqliteFile(path) => write!(f, "sqlite://{path}"),
            DatabaseUrl::SqliteMemory => f.write_str("sqlite::memory:"),
            DatabaseUrl::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_picks_the_backend() {
        assert_eq!(DatabaseUrl::parse("sqlite::memory:"), Ok(DatabaseUrl::SqliteMemory));
        assert_eq!(
            DatabaseUrl::parse("sqlite://latchkey.db"),
            Ok(DatabaseUrl::SqliteFile("latchkey.db".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/lk.db"),
            Ok(DatabaseUrl::SqliteFile("/var/lib/lk.db".into()))
        );
        assert!(matches!(DatabaseUrl::parse("postgres://u@h/db"), Ok(DatabaseUrl::Postgres(_))));
        assert!(matches!(DatabaseUrl::parse("postgresql://u@h/db"), Ok(DatabaseUrl::Postgres(_))));
        for bad in ["", "latchkey.db", "mysql://x", "sqlite://", "sqlite://file:x?mode=memory"] {
            assert!(DatabaseUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_never_print() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db.internal:5432/lk").unwrap();
        assert_eq!(url.to_string(), "postgres://app:***@db.internal:5432/lk");
        assert!(!format!("{url:?}").contains("s3cret"));
        let error = DatabaseUrl::parse("mysql://app:s3cret@db/x").unwrap_err();
        assert!(!error.to_string().contains("s3cret"));
        let query = DatabaseUrl::parse("postgres://app@db/lk?sslmode=require&password=s3cret").unwrap();
        assert_eq!(query.to_string(), "postgres://app@db/lk?sslmode=require&password=***");
    }
}
