use super::{fetch_limit, into_page, key_after, Repo};
use crate::rows::UserRow;
use crate::schema::users::dsl;
use crate::StoreError;
use diesel::prelude::*;
use latchkey_model::{Cursor, Page, PageRequest, Timestamp, User, Username};

/// What to change of a user; `None` leaves a field as it is (`Some(None)` clears an optional one).
#[derive(Debug, Clone)]
pub struct UserChanges {
    pub password_hash: Option<latchkey_model::PasswordHash>,
    pub email: Option<Option<String>>,
    pub name: Option<Option<String>>,
    pub disabled: Option<bool>,
    pub updated_at: Timestamp,
}

impl UserChanges {
    /// No change but the time of the change.
    pub fn new(updated_at: Timestamp) -> Self {
        Self { password_hash: None, email: None, name: None, disabled: None, updated_at }
    }
}

#[derive(AsChangeset)]
#[diesel(table_name = crate::schema::users)]
struct UserChangeRow {
    password_hash: Option<String>,
    email: Option<Option<String>>,
    name: Option<Option<String>>,
    disabled: Option<bool>,
    updated_at: i64,
}

/// Row locks on PostgreSQL; SQLite's write transactions hold the whole database already.
pub(crate) fn lock_user_row(
    repo: &mut Repo<'_>,
    username: &Username,
    mode: &'static str,
) -> Result<(), StoreError> {
    if let crate::connection::AnyConnection::Postgresql(conn) = &mut *repo.conn {
        diesel::sql_query(format!("SELECT 1 FROM users WHERE username = $1 {mode}"))
            .bind::<diesel::sql_types::Text, _>(username.as_str())
            .execute(conn)?;
    }
    Ok(())
}

impl Repo<'_> {
    /// Holds the user's row for the rest of the transaction (`FOR SHARE`): a revocation of everything the
    /// user holds ([`Repo::revoke_user`], which takes it `FOR UPDATE`) waits for this transaction's commit
    /// and then sees what it wrote, or this transaction waits for the revocation and then sees it. Take it
    /// before reading anything a new token is made from.
    pub fn hold_user(&mut self, username: &Username) -> Result<(), StoreError> {
        lock_user_row(self, username, "FOR SHARE")
    }

    /// Takes the user's row for the rest of the transaction (`FOR UPDATE`): other transactions that hold or
    /// take it wait, so that something counted per user stays counted until this commits.
    pub fn lock_user(&mut self, username: &Username) -> Result<(), StoreError> {
        lock_user_row(self, username, "FOR UPDATE")
    }

    /// Forgets every source `username` signed in from (the login throttle's known sources).
    pub fn forget_sign_ins(&mut self, username: &Username) -> Result<u64, StoreError> {
        use crate::schema::known_sign_ins::dsl as known;
        let forgotten = diesel::delete(known::known_sign_ins.filter(known::username.eq(username.as_str())))
            .execute(self.conn)?;
        Ok(forgotten as u64)
    }

    pub fn insert_user(&mut self, user: &User) -> Result<(), StoreError> {
        diesel::insert_into(dsl::users).values(UserRow::from(user)).execute(self.conn)?;
        Ok(())
    }

    pub fn find_user(&mut self, username: &Username) -> Result<Option<User>, StoreError> {
        let row = dsl::users
            .find(username.as_str())
            .select(UserRow::as_select())
            .get_result(self.conn)
            .optional()?;
        row.map(User::try_from).transpose()
    }

    /// Writes the given fields of one user, and only those, so that two operators changing different
    /// fields at once (a password reset and a disabling, say) cannot undo each other. `NotFound` when there
    /// is no such user.
    pub fn amend_user(&mut self, username: &Username, changes: &UserChanges) -> Result<(), StoreError> {
        let row = UserChangeRow {
            password_hash: changes.password_hash.as_ref().map(|hash| hash.as_phc().to_owned()),
            email: changes.email.clone(),
            name: changes.name.clone(),
            disabled: changes.disabled,
            updated_at: changes.updated_at.unix_seconds(),
        };
        match diesel::update(dsl::users.find(username.as_str())).set(row).execute(self.conn)? {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    /// Deletes a user and, through the schema's cascade, every token record they hold.
    /// Deletes the user, and where the user signed in from: a new user of the same name starts a stranger.
    pub fn delete_user(&mut self, username: &Username) -> Result<(), StoreError> {
        self.forget_sign_ins(username)?;
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
