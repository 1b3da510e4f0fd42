//! Clients kept in memory between requests, exact on every node.
//!
//! Each change to the clients table, by any process, gives the `clients` row of `change_versions` a new
//! version in the same transaction (triggers, migration 000005): a random number on SQLite, a sequence value
//! on PostgreSQL, so that a version seen inside a transaction that rolled back never appears again. A
//! look-up reads the version in its own transaction and uses a cached client only if it was cached under
//! that same version; otherwise it reads the row and caches it under the version it read. So a rotated
//! secret, a changed registration or a deleted client is seen by the next request on every server, at the
//! cost of one primary-key read of a one-row table.

use latchkey_model::Client;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;

/// The most clients kept; past it, look-ups of clients not cached go to the database. Unknown client ids
/// are never cached, so requests naming random ids cannot fill it.
const MAX_CLIENTS: usize = 10_000;

#[derive(Default)]
pub(crate) struct ClientCache {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    version: Option<i64>,
    clients: HashMap<String, Arc<Client>>,
}

impl ClientCache {
    /// The client as cached under `version`, if it was.
    pub(crate) fn get(&self, version: i64, id: &str) -> Option<Arc<Client>> {
        let state = self.state.lock();
        match state.version == Some(version) {
            true => state.clients.get(id).cloned(),
            false => None,
        }
    }

    /// Keeps `client` as read under `version`; a new version forgets every client cached under the old one.
    pub(crate) fn put(&self, version: i64, client: Arc<Client>) {
        let mut state = self.state.lock();
        if state.version != Some(version) {
            state.version = Some(version);
            state.clients.clear();
        }
        if state.clients.len() < MAX_CLIENTS {
            state.clients.insert(client.id.as_str().to_owned(), client);
        }
    }
}
