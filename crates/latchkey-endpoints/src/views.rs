//! Users, clients and tokens as the JSON APIs and the command line show them. One casing rule: Latchkey's
//! own APIs name every field in camelCase (protocol documents keep their RFCs' snake_case). Times are
//! milliseconds since the Unix epoch. No view holds a secret or its hash.

use latchkey_core::personal::{origin, DATA_PROPERTY};
use latchkey_model::{Client, ClientCredentials, Page, PlainSecret, TokenKind, TokenRecord, User};
use serde::Serialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenView {
    pub id: String,
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The grant that issued it, or who created it (`cli`, `admin`, `api`).
    pub origin: String,
    pub scopes: Vec<String>,
    pub client_id: String,
    pub username: Option<String>,
    pub created_at: i64,
    pub active_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub data: Value,
}

impl TokenView {
    pub fn of(record: &TokenRecord) -> Self {
        let kind = record.kind();
        // The credential that lasts longest decides when the token as a whole is gone.
        let expires = match kind {
            TokenKind::OAuth2Refresh => record.refresh_token_expires,
            _ => record.access_token_expires,
        };
        Self {
            id: record.id.to_string(),
            name: record.name.clone(),
            kind: kind.as_str(),
            origin: origin(record),
            scopes: record.scope.iter().map(str::to_owned).collect(),
            client_id: record.client_id.to_string(),
            username: record.username.as_ref().map(ToString::to_string),
            created_at: record.created_at.unix_millis(),
            active_at: record.active_at.map(|at| at.unix_millis()),
            expires_at: expires.map(|at| at.unix_millis()),
            data: record.properties.get(DATA_PROPERTY).cloned().unwrap_or_else(|| Value::Object(Map::new())),
        }
    }
}

/// A token just made, with its secret: in this answer and never again.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub view: TokenView,
    #[serde(serialize_with = "expose")]
    pub token: PlainSecret,
}

fn expose<S: serde::Serializer>(secret: &PlainSecret, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose())
}

fn expose_optional<S: serde::Serializer>(
    secret: &Option<PlainSecret>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(secret) => serializer.serialize_str(secret.expose()),
        None => serializer.serialize_none(),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub username: String,
    /// The OpenID Connect `sub`.
    pub sub: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl UserView {
    pub fn of(user: &User) -> Self {
        Self {
            username: user.username.to_string(),
            sub: user.subject.clone(),
            email: user.email.clone(),
            name: user.name.clone(),
            disabled: user.disabled,
            created_at: user.created_at.unix_millis(),
            updated_at: user.updated_at.unix_millis(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientView {
    pub id: String,
    pub name: String,
    /// How the client authenticates: `client_secret`, `private_key_jwt`, or `none` (a public client).
    pub authentication: &'static str,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<&'static str>,
    pub scopes: Vec<String>,
    pub access_token_ttl: i64,
    pub refresh_token_ttl: Option<i64>,
    pub id_token_alg: &'static str,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ClientView {
    pub fn of(client: &Client) -> Self {
        Self {
            id: client.id.to_string(),
            name: client.name.clone(),
            authentication: match client.credentials {
                ClientCredentials::Public => "none",
                ClientCredentials::Secret(_) => "client_secret",
                ClientCredentials::PrivateKeyJwt { .. } => "private_key_jwt",
            },
            redirect_uris: client.redirect_uris.iter().map(ToString::to_string).collect(),
            grant_types: client.grant_types.iter().map(|grant| grant.as_str()).collect(),
            scopes: client.scope.iter().map(str::to_owned).collect(),
            access_token_ttl: client.access_token_ttl_seconds,
            refresh_token_ttl: client.refresh_token_ttl_seconds,
            id_token_alg: client.id_token_signing_alg.as_str(),
            created_at: client.created_at.unix_millis(),
            updated_at: client.updated_at.unix_millis(),
        }
    }
}

/// A client with the secret it was just given (generated, or rotated): in this answer and never again.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientWithSecret {
    #[serde(flatten)]
    pub view: ClientView,
    #[serde(serialize_with = "expose_optional", skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<PlainSecret>,
}

/// One page of a listing: the items under their plural name, and the cursor of the next page (`null` on
/// the last).
#[derive(Debug, Clone, Serialize)]
pub struct Listing<T> {
    #[serde(flatten)]
    pub items: Items<T>,
    pub next: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub enum Items<T> {
    #[serde(rename = "tokens")]
    Tokens(Vec<T>),
    #[serde(rename = "users")]
    Users(Vec<T>),
    #[serde(rename = "clients")]
    Clients(Vec<T>),
}

impl<T> Listing<T> {
    pub fn of<R>(page: Page<R>, view: impl Fn(&R) -> T, items: fn(Vec<T>) -> Items<T>) -> Self {
        Self {
            items: items(page.items.iter().map(view).collect()),
            next: page.next.map(|c| c.as_str().to_owned()),
        }
    }

    pub fn items(&self) -> &[T] {
        match &self.items {
            Items::Tokens(items) | Items::Users(items) | Items::Clients(items) => items,
        }
    }
}

/// A view as a row of the command line's tables.
pub trait Row {
    const HEADER: &'static [&'static str];
    fn cells(&self) -> Vec<String>;
}

/// Views as a text table: the header, then a line per view, columns padded to their widest cell and two
/// spaces apart, nothing trailing.
pub fn table<T: Row>(views: &[T]) -> String {
    let header: Vec<String> = T::HEADER.iter().map(|cell| (*cell).to_owned()).collect();
    let rows: Vec<Vec<String>> = std::iter::once(header).chain(views.iter().map(Row::cells)).collect();
    let mut widths = vec![0; T::HEADER.len()];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |row: &Vec<String>| {
        let padded: Vec<String> = row.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        padded.join("  ").trim_end().to_owned() + "\n"
    };
    rows.iter().map(line).collect()
}

fn or_dash(text: &Option<String>) -> String {
    text.clone().unwrap_or_else(|| "-".to_owned())
}

/// Milliseconds as a date and time to the minute (UTC), or `-`.
fn minute(millis: Option<i64>) -> String {
    millis
        .and_then(|millis| chrono::DateTime::from_timestamp(millis.div_euclid(1000), 0))
        .map_or_else(|| "-".to_owned(), |at| at.format("%Y-%m-%d %H:%M").to_string())
}

impl Row for UserView {
    const HEADER: &'static [&'static str] = &["USERNAME", "NAME", "EMAIL", "STATUS"];

    fn cells(&self) -> Vec<String> {
        let status = if self.disabled { "disabled" } else { "active" };
        let (name, email) = (self.name.clone().unwrap_or_default(), self.email.clone().unwrap_or_default());
        vec![self.username.clone(), name, email, status.to_owned()]
    }
}

impl Row for ClientView {
    const HEADER: &'static [&'static str] = &["ID", "TYPE", "GRANT TYPES", "SCOPE", "REDIRECT URIS"];

    fn cells(&self) -> Vec<String> {
        let kind = if self.authentication == "none" { "public" } else { "confidential" };
        let (grants, scopes, uris) =
            (self.grant_types.join(","), self.scopes.join(" "), self.redirect_uris.join(" "));
        vec![self.id.clone(), kind.to_owned(), grants, scopes, uris]
    }
}

impl Row for TokenView {
    const HEADER: &'static [&'static str] =
        &["ID", "TYPE", "NAME", "USER", "CLIENT", "ORIGIN", "SCOPES", "CREATED", "LAST USED", "EXPIRES"];

    fn cells(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            self.kind.to_owned(),
            or_dash(&self.name),
            or_dash(&self.username),
            self.client_id.clone(),
            self.origin.clone(),
            self.scopes.join(" "),
            minute(Some(self.created_at)),
            minute(self.active_at),
            minute(self.expires_at),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::{table, Row};

    struct Pair(&'static str, &'static str);

    impl Row for Pair {
        const HEADER: &'static [&'static str] = &["ID", "NAME"];
        fn cells(&self) -> Vec<String> {
            vec![self.0.to_owned(), self.1.to_owned()]
        }
    }

    #[test]
    fn columns_line_up_on_the_widest_cell_and_nothing_trails() {
        let text = table(&[Pair("a", "laptop"), Pair("ümlaut", "")]);
        assert_eq!(text, "ID      NAME\na       laptop\nümlaut\n");
        assert_eq!(table::<Pair>(&[]), "ID  NAME\n");
    }
}
