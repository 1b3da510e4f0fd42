use super::{fetch_limit, into_page, key_after, Repo};
use crate::rows::UserRow;
use crate::schema::users::dsl;
use crate::StoreError;
use diesel::prelude::*;
use latchkey_model::{Cursor, Page, PageRequest, User, Username};

impl Repo<'_> {
    pub fn insert_user(&mut self, user: &User) -> Result<(), StoreError> {
        diesel::insert_into(dsl::users).values(UserRow::from(user)).execute(self.conn)?;
        Ok(())
    }

    pub fn find_user(&mut self, username: &Username) -> Result<Option<User>, StoreError> {
        let row =
            dsl::users.find(username.as_str()).select(UserRow::as_select()).first(self.conn).optional()?;
        row.map(User::try_from).transpose()
    }

    pub fn update_user(&mut self, user: &User) -> Result<(), StoreError> {
        let changed = diesel::update(dsl::users.find(user.username.as_str()))
            .set(UserRow::from(user))
            .execute(self.conn)?;
        match changed {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    /// Deletes a user and, through the schema's cascade, every token record they hold.
    pub fn delete_user(&mut self, username: &Username) -> Result<(), StoreError> {
        match diesel::delete(dsl::users.find(username.as_str())).execute(self.conn)? {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    /// Users in username order.
    pub fn list_users(&mut self, page: &PageRequest) -> Result<Page<User>, StoreError> {
        let after = key_after(page)?;
        let rows = dsl::users
            .filter(dsl::username.gt(after))
            .order(dsl::username.asc())
            .limit(fetch_limit(page))
            .select(UserRow::as_select())
            .load(self.conn)?;
        let users = rows.into_iter().map(User::try_from).collect::<Result<Vec<_>, _>>()?;
        Ok(into_page(users, page, |u| Cursor::encode(&[u.username.as_str()])))
    }

    pub fn count_users(&mut self) -> Result<u64, StoreError> {
        let count: i64 = dsl::users.count().get_result(self.conn)?;
        Ok(count.max(0) as u64)
    }
}
