use super::{fetch_limit, into_page, key_after, Repo};
use crate::rows::ClientRow;
use crate::schema::clients::dsl;
use crate::StoreError;
use diesel::prelude::*;
use latchkey_model::{
    Client, ClientId, Cursor, GrantType, Page, PageRequest, RedirectUri, Scope, SecretHash, SigningAlgorithm,
    Timestamp, PERSONAL_CLIENT_ID,
};
use std::collections::BTreeSet;
use std::sync::Arc;

/// What to change of a client's registration; `None` leaves a field as it is.
#[derive(Debug, Clone)]
pub struct ClientChanges {
    pub name: Option<String>,
    pub redirect_uris: Option<Vec<RedirectUri>>,
    pub grant_types: Option<BTreeSet<GrantType>>,
    pub scope: Option<Scope>,
    pub access_token_ttl_seconds: Option<i64>,
    /// `Some(None)`: refresh tokens stop expiring on their own.
    pub refresh_token_ttl_seconds: Option<Option<i64>>,
    pub id_token_signing_alg: Option<SigningAlgorithm>,
    pub updated_at: Timestamp,
}

impl ClientChanges {
    /// No change but the time of the change.
    pub fn new(updated_at: Timestamp) -> Self {
        Self {
            name: None,
            redirect_uris: None,
            grant_types: None,
            scope: None,
            access_token_ttl_seconds: None,
            refresh_token_ttl_seconds: None,
            id_token_signing_alg: None,
            updated_at,
        }
    }

    /// `client` as it will be once changed, to check the rules that tie its fields together first.
    pub fn applied_to(&self, client: &Client) -> Client {
        let mut changed = client.clone();
        if let Some(name) = &self.name {
            changed.name.clone_from(name);
        }
        if let Some(uris) = &self.redirect_uris {
            changed.redirect_uris.clone_from(uris);
        }
        if let Some(grants) = &self.grant_types {
            changed.grant_types.clone_from(grants);
        }
        if let Some(scope) = &self.scope {
            changed.scope = scope.clone();
        }
        if let Some(ttl) = self.access_token_ttl_seconds {
            changed.access_token_ttl_seconds = ttl;
        }
        if let Some(ttl) = self.refresh_token_ttl_seconds {
            changed.refresh_token_ttl_seconds = ttl;
        }
        if let Some(alg) = self.id_token_signing_alg {
            changed.id_token_signing_alg = alg;
        }
        changed.updated_at = self.updated_at;
        changed
    }
}

#[derive(AsChangeset)]
#[diesel(table_name = crate::schema::clients)]
struct ClientChangeRow {
    name: Option<String>,
    redirect_uris: Option<String>,
    grant_types: Option<String>,
    scope: Option<String>,
    access_token_ttl: Option<i64>,
    refresh_token_ttl: Option<Option<i64>>,
    id_token_alg: Option<String>,
    updated_at: i64,
}

impl Repo<'_> {
    pub fn insert_client(&mut self, client: &Client) -> Result<(), StoreError> {
        diesel::insert_into(dsl::clients).values(ClientRow::from(client)).execute(self.conn)?;
        Ok(())
    }

    /// The client, from the cache when nothing changed in the clients table since it was cached (see
    /// [`crate::client_cache`]).
    pub fn find_client(&mut self, id: &ClientId) -> Result<Option<Client>, StoreError> {
        let version = self.clients_version()?;
        if let Some(cached) = version.and_then(|version| self.clients.get(version, id.as_str())) {
            return Ok(Some(Client::clone(&cached)));
        }
        let row =
            dsl::clients.find(id.as_str()).select(ClientRow::as_select()).get_result(self.conn).optional()?;
        let client = row.map(Client::try_from).transpose()?;
        if let (Some(version), Some(client)) = (version, &client) {
            self.clients.put(version, Arc::new(client.clone()));
        }
        Ok(client)
    }

    /// The version the clients table is at in this transaction; `None` if its row is missing, and then
    /// nothing is cached.
    fn clients_version(&mut self) -> Result<Option<i64>, StoreError> {
        use crate::schema::change_versions::dsl as versions;
        let version = versions::change_versions
            .find("clients")
            .select(versions::version)
            .get_result(self.conn)
            .optional()?;
        Ok(version)
    }

    /// The client, held for the rest of the transaction so that changes checked against it cannot
    /// interleave with another writer's (SQLite's write transactions hold the whole database already).
    pub fn find_client_for_update(&mut self, id: &ClientId) -> Result<Option<Client>, StoreError> {
        if let crate::connection::AnyConnection::Postgresql(conn) = &mut *self.conn {
            diesel::sql_query("SELECT 1 FROM clients WHERE id = $1 FOR UPDATE")
                .bind::<diesel::sql_types::Text, _>(id.as_str())
                .execute(conn)?;
        }
        self.find_client(id)
    }

    /// Holds the client's row for the rest of the transaction against changes (PostgreSQL `FOR SHARE`: other
    /// readers and holders go on, an update or delete waits for this commit). SQLite's write transactions
    /// hold the whole database already.
    pub fn hold_client(&mut self, id: &ClientId) -> Result<(), StoreError> {
        if let crate::connection::AnyConnection::Postgresql(conn) = &mut *self.conn {
            diesel::sql_query("SELECT 1 FROM clients WHERE id = $1 FOR SHARE")
                .bind::<diesel::sql_types::Text, _>(id.as_str())
                .execute(conn)?;
        }
        Ok(())
    }

    /// Writes the given fields of one client, and only those: a rename racing with a secret rotation
    /// cannot bring the old secret back. `NotFound` when there is no such client.
    pub fn amend_client(&mut self, id: &ClientId, changes: &ClientChanges) -> Result<(), StoreError> {
        let row = ClientChangeRow {
            name: changes.name.clone(),
            redirect_uris: changes.redirect_uris.as_ref().map(crate::rows::json),
            grant_types: changes.grant_types.as_ref().map(crate::rows::grant_list),
            scope: changes.scope.as_ref().map(Scope::to_string),
            access_token_ttl: changes.access_token_ttl_seconds,
            refresh_token_ttl: changes.refresh_token_ttl_seconds,
            id_token_alg: changes.id_token_signing_alg.map(|alg| alg.as_str().to_owned()),
            updated_at: changes.updated_at.unix_seconds(),
        };
        match diesel::update(dsl::clients.find(id.as_str())).set(row).execute(self.conn)? {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    /// Replaces the secret of a client that authenticates with one; `false` when there is no such client
    /// (a public or `private_key_jwt` client has no secret to replace).
    pub fn replace_client_secret(
        &mut self,
        id: &ClientId,
        secret: &SecretHash,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let with_secret = dsl::clients.find(id.as_str()).filter(dsl::secret_hash.is_not_null());
        let changed = diesel::update(with_secret)
            .set((dsl::secret_hash.eq(secret.to_hex()), dsl::updated_at.eq(now.unix_seconds())))
            .execute(self.conn)?;
        Ok(changed == 1)
    }

    /// Deletes a client and, through the schema's cascade, every token record it holds.
    pub fn delete_client(&mut self, id: &ClientId) -> Result<(), StoreError> {
        match diesel::delete(dsl::clients.find(id.as_str())).execute(self.conn)? {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    /// Registered clients in id order (the reserved client of personal tokens is not one).
    pub fn list_clients(&mut self, page: &PageRequest) -> Result<Page<Client>, StoreError> {
        let after = key_after(page)?;
        let rows = dsl::clients
            .filter(dsl::id.gt(after))
            .filter(dsl::id.ne(PERSONAL_CLIENT_ID))
            .order(dsl::id.asc())
            .limit(fetch_limit(page))
            .select(ClientRow::as_select())
            .load(self.conn)?;
        let clients = rows.into_iter().map(Client::try_from).collect::<Result<Vec<_>, _>>()?;
        Ok(into_page(clients, page, |c| Cursor::encode(&[c.id.as_str()])))
    }

    /// The longest access-token lifetime of any client, in seconds: how long a retired signing key must stay
    /// published for what it signed to remain checkable.
    pub fn longest_access_token_ttl(&mut self) -> Result<Option<i64>, StoreError> {
        Ok(dsl::clients.select(diesel::dsl::max(dsl::access_token_ttl)).get_result(self.conn)?)
    }

    pub fn count_clients(&mut self) -> Result<u64, StoreError> {
        let count: i64 = dsl::clients.filter(dsl::id.ne(PERSONAL_CLIENT_ID)).count().get_result(self.conn)?;
        Ok(count.max(0) as u64)
    }
}

impl Repo<'_> {
    /// Records the one use of a client assertion's `jti` (RFC 7523 §3, item 7); `false` if it was used
    /// before. Exactly one of any number of concurrent presentations gets `true`: the primary key decides.
    /// Entries an hour past their `expires_at` are cleared on the way: an expired assertion is refused
    /// anyway, and the hour covers a replay that read its clock before waiting for this transaction.
    pub fn use_client_assertion(
        &mut self,
        client_id: &ClientId,
        jti: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        use crate::schema::client_assertions::dsl as used;
        diesel::delete(
            used::client_assertions
                .filter(used::client_id.eq(client_id.as_str()))
                .filter(used::expires_at.lt(now.plus_seconds(-3600).unix_seconds())),
        )
        .execute(self.conn)?;
        // In a savepoint: on PostgreSQL a failed insert would otherwise spoil the whole transaction.
        let inserted = self.conn.transaction(|conn| {
            diesel::insert_into(used::client_assertions)
                .values((
                    used::client_id.eq(client_id.as_str()),
                    used::jti.eq(jti),
                    used::expires_at.eq(expires_at.unix_seconds()),
                ))
                .execute(conn)
        });
        match inserted {
            Ok(_) => Ok(true),
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => Ok(false),
            Err(other) => Err(other.into()),
        }
    }
}
