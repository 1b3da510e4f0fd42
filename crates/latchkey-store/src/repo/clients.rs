use super::{fetch_limit, into_page, key_after, Repo};
use crate::rows::ClientRow;
use crate::schema::clients::dsl;
use crate::StoreError;
use diesel::prelude::*;
use latchkey_model::{Client, ClientId, Cursor, Page, PageRequest, Timestamp};

impl Repo<'_> {
    pub fn insert_client(&mut self, client: &Client) -> Result<(), StoreError> {
        diesel::insert_into(dsl::clients).values(ClientRow::from(client)).execute(self.conn)?;
        Ok(())
    }

    pub fn find_client(&mut self, id: &ClientId) -> Result<Option<Client>, StoreError> {
        let row =
            dsl::clients.find(id.as_str()).select(ClientRow::as_select()).first(self.conn).optional()?;
        row.map(Client::try_from).transpose()
    }

    pub fn update_client(&mut self, client: &Client) -> Result<(), StoreError> {
        let changed = diesel::update(dsl::clients.find(client.id.as_str()))
            .set(ClientRow::from(client))
            .execute(self.conn)?;
        match changed {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    /// Deletes a client and, through the schema's cascade, every token record it holds.
    pub fn delete_client(&mut self, id: &ClientId) -> Result<(), StoreError> {
        match diesel::delete(dsl::clients.find(id.as_str())).execute(self.conn)? {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    /// Clients in id order.
    pub fn list_clients(&mut self, page: &PageRequest) -> Result<Page<Client>, StoreError> {
        let after = key_after(page)?;
        let rows = dsl::clients
            .filter(dsl::id.gt(after))
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
        Ok(dsl::clients.select(diesel::dsl::max(dsl::access_token_ttl)).first(self.conn)?)
    }

    pub fn count_clients(&mut self) -> Result<u64, StoreError> {
        let count: i64 = dsl::clients.count().get_result(self.conn)?;
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
