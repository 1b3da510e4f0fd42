use super::{fetch_limit, into_page, key_after, Repo};
use crate::rows::ClientRow;
use crate::schema::clients::dsl;
use crate::StoreError;
use diesel::prelude::*;
use latchkey_model::{Client, ClientId, Cursor, Page, PageRequest};

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

    pub fn count_clients(&mut self) -> Result<u64, StoreError> {
        let count: i64 = dsl::clients.count().get_result(self.conn)?;
        Ok(count.max(0) as u64)
    }
}
