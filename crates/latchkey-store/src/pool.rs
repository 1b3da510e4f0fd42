use crate::connection::{connect, AnyConnection};
use crate::{DatabaseUrl, StoreError};
use diesel::r2d2::{ManageConnection, R2D2Connection};
use std::time::Duration;

pub(crate) type Pool = diesel::r2d2::Pool<Manager>;

/// Builds pooled connections with [`connect`], so a pool error carries libpq's or SQLite's own message.
#[derive(Debug)]
pub(crate) struct Manager {
    pub url: DatabaseUrl,
    pub sqlite_busy_timeout: Duration,
    pub sqlite_max_pages: Option<u32>,
}

impl ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = StoreError;

    fn connect(&self) -> Result<AnyConnection, StoreError> {
        connect(&self.url, self.sqlite_busy_timeout, self.sqlite_max_pages)
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        conn.ping().map_err(StoreError::from)
    }

    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        conn.is_broken()
    }
}
