//! Keyset pagination: a page is "the next `limit` items after this cursor", so pages stay stable and cheap
//! however deep a listing goes.

use base64::Engine;
use serde::{Deserialize, Serialize};

pub const MAX_PAGE_SIZE: u32 = 1000;

/// An opaque position in a listing. Callers get it from one page and hand it back for the next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cursor(String);

impl Cursor {
    /// Encodes the sort key of the last item of a page.
    pub fn encode(parts: &[&str]) -> Self {
        let joined = parts.join("\n");
        Self(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(joined))
    }

    /// The sort key back, or `None` for a cursor this server did not make.
    pub fn decode(&self, expected_parts: usize) -> Option<Vec<String>> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&self.0).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let parts: Vec<String> = text.split('\n').map(str::to_owned).collect();
        (parts.len() == expected_parts).then_some(parts)
    }

    pub fn from_opaque(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    limit: u32,
    pub after: Option<Cursor>,
}

impl PageRequest {
    /// The first page of at most `limit` items (clamped to 1..=[`MAX_PAGE_SIZE`]).
    pub fn first(limit: u32) -> Self {
        Self { limit: limit.clamp(1, MAX_PAGE_SIZE), after: None }
    }

    pub fn after(limit: u32, cursor: Cursor) -> Self {
        Self { after: Some(cursor), ..Self::first(limit) }
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Cursor>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_refuses_foreign_values() {
        let cursor = Cursor::encode(&["1700000000", "abc"]);
        assert_eq!(cursor.decode(2), Some(vec!["1700000000".to_owned(), "abc".to_owned()]));
        assert_eq!(cursor.decode(3), None);
        assert_eq!(Cursor::from_opaque("!!!").decode(2), None);
    }

    #[test]
    fn limit_is_clamped() {
        assert_eq!(PageRequest::first(0).limit(), 1);
        assert_eq!(PageRequest::first(5).limit(), 5);
        assert_eq!(PageRequest::first(1_000_000).limit(), MAX_PAGE_SIZE);
    }
}
