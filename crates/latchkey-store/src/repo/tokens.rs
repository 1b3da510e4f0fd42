use super::{fetch_limit, into_page, Repo};
use crate::rows::TokenRow;
use crate::schema::tokens::dsl;
use crate::StoreError;
use diesel::prelude::*;
use latchkey_model::{
    ClientId, Cursor, GrantType, Page, PageRequest, RecordId, SecretHash, Timestamp, TokenKind, TokenRecord,
    Username,
};

/// The `grant_type` letter of personal tokens and API keys, as SQL compares it.
fn personal_letter() -> String {
    GrantType::Personal.letter().to_string()
}

fn cursor_of(record: &TokenRecord) -> Cursor {
    Cursor::encode(&[&record.created_at.unix_seconds().to_string(), record.id.as_str()])
}

/// A cursor back to its (created_at, id) sort key; a foreign cursor is the caller's mistake, not ours.
fn decode_cursor(cursor: &Cursor) -> Result<(i64, String), StoreError> {
    let invalid = || StoreError::InvalidInput("invalid page cursor".to_owned());
    let mut parts = cursor.decode(2).ok_or_else(invalid)?.into_iter();
    let created = parts.next().and_then(|c| c.parse().ok()).ok_or_else(invalid)?;
    let id = parts.next().ok_or_else(invalid)?;
    Ok((created, id))
}

fn records(rows: Vec<TokenRow>) -> Result<Vec<TokenRecord>, StoreError> {
    rows.into_iter().map(TokenRecord::try_from).collect()
}

/// What an operator's token listing asks for; `None` matches anything.
#[derive(Debug, Clone)]
pub struct TokenQuery {
    pub username: Option<Username>,
    pub client_id: Option<ClientId>,
    pub kind: Option<TokenKind>,
    /// Whether the token can still be used at `now`: not revoked, and an access or refresh token that has
    /// not expired.
    pub active: Option<bool>,
    pub now: Timestamp,
}

/// Which owner a listing is for.
enum Owner<'a> {
    User(&'a Username),
    Client(&'a ClientId),
}

impl Repo<'_> {
    pub fn insert_token(&mut self, record: &TokenRecord) -> Result<(), StoreError> {
        diesel::insert_into(dsl::tokens).values(TokenRow::from(record)).execute(self.conn)?;
        Ok(())
    }

    /// Replaces the fields of an existing record, except its id, creation time, family and revocation: those
    /// never change after insertion, and revocation goes only through the revoke methods.
    pub fn update_token(&mut self, record: &TokenRecord) -> Result<(), StoreError> {
        let changed = diesel::update(dsl::tokens.find(record.id.as_str()))
            .set(TokenRow::from(record))
            .execute(self.conn)?;
        match changed {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    pub fn get_token(&mut self, id: &RecordId) -> Result<TokenRecord, StoreError> {
        let row = dsl::tokens.find(id.as_str()).select(TokenRow::as_select()).get_result(self.conn)?;
        TokenRecord::try_from(row)
    }

    /// The record, held for the rest of the transaction so that a change made from it cannot interleave
    /// with another writer's (SQLite's write transactions hold the whole database already).
    pub fn get_token_for_update(&mut self, id: &RecordId) -> Result<TokenRecord, StoreError> {
        if let crate::connection::AnyConnection::Postgresql(conn) = &mut *self.conn {
            diesel::sql_query("SELECT 1 FROM tokens WHERE id = $1 FOR UPDATE")
                .bind::<diesel::sql_types::Text, _>(id.as_str())
                .execute(conn)?;
        }
        self.get_token(id)
    }

    pub fn find_token_by_code(&mut self, code: &SecretHash) -> Result<Option<TokenRecord>, StoreError> {
        let query = dsl::tokens.filter(dsl::code_hash.eq(code.to_hex()));
        query
            .select(TokenRow::as_select())
            .get_result(self.conn)
            .optional()?
            .map(TokenRecord::try_from)
            .transpose()
    }

    pub fn find_token_by_access_token(
        &mut self,
        token: &SecretHash,
    ) -> Result<Option<TokenRecord>, StoreError> {
        let query = dsl::tokens.filter(dsl::access_token_hash.eq(token.to_hex()));
        query
            .select(TokenRow::as_select())
            .get_result(self.conn)
            .optional()?
            .map(TokenRecord::try_from)
            .transpose()
    }

    pub fn find_token_by_refresh_token(
        &mut self,
        token: &SecretHash,
    ) -> Result<Option<TokenRecord>, StoreError> {
        let query = dsl::tokens.filter(dsl::refresh_token_hash.eq(token.to_hex()));
        query
            .select(TokenRow::as_select())
            .get_result(self.conn)
            .optional()?
            .map(TokenRecord::try_from)
            .transpose()
    }

    pub fn find_token_by_id_token(&mut self, token: &SecretHash) -> Result<Option<TokenRecord>, StoreError> {
        let query = dsl::tokens.filter(dsl::id_token_hash.eq(token.to_hex()));
        query
            .select(TokenRow::as_select())
            .get_result(self.conn)
            .optional()?
            .map(TokenRecord::try_from)
            .transpose()
    }

    /// A user's records, newest first.
    pub fn list_tokens_by_username(
        &mut self,
        username: &Username,
        page: &PageRequest,
    ) -> Result<Page<TokenRecord>, StoreError> {
        self.list_tokens(Owner::User(username), page)
    }

    /// A user's tokens still in force at `now`, newest first.
    pub fn list_live_tokens_by_username(
        &mut self,
        username: &Username,
        now: Timestamp,
        page: &PageRequest,
    ) -> Result<Page<TokenRecord>, StoreError> {
        let query = TokenQuery {
            username: Some(username.clone()),
            client_id: None,
            kind: None,
            active: Some(true),
            now,
        };
        self.query_tokens(&query, page)
    }

    /// A client's records, newest first.
    pub fn list_tokens_by_client(
        &mut self,
        client_id: &ClientId,
        page: &PageRequest,
    ) -> Result<Page<TokenRecord>, StoreError> {
        self.list_tokens(Owner::Client(client_id), page)
    }

    fn list_tokens(&mut self, owner: Owner<'_>, page: &PageRequest) -> Result<Page<TokenRecord>, StoreError> {
        let after = page.after.as_ref().map(decode_cursor).transpose()?;
        // Seek on (created_at, id) descending: the composite indexes make every page cost the same.
        let (created, id) = after.unwrap_or((i64::MAX, String::new()));
        let seek = dsl::created_at.lt(created).or(dsl::created_at.eq(created).and(dsl::id.lt(id)));
        let order = (dsl::created_at.desc(), dsl::id.desc());
        let limit = fetch_limit(page);
        let rows = match owner {
            Owner::User(username) => dsl::tokens
                .filter(dsl::username.eq(username.as_str()))
                .filter(seek)
                .order(order)
                .limit(limit)
                .select(TokenRow::as_select())
                .load(self.conn)?,
            Owner::Client(client_id) => dsl::tokens
                .filter(dsl::client_id.eq(client_id.as_str()))
                .filter(seek)
                .order(order)
                .limit(limit)
                .select(TokenRow::as_select())
                .load(self.conn)?,
        };
        Ok(into_page(records(rows)?, page, cursor_of))
    }

    /// Tokens matching `query`, newest first.
    pub fn query_tokens(
        &mut self,
        query: &TokenQuery,
        page: &PageRequest,
    ) -> Result<Page<TokenRecord>, StoreError> {
        use diesel::dsl::not;
        use diesel::expression::AsExpression;
        use diesel::sql_types::Bool;
        let flag = |value: bool| AsExpression::<Bool>::as_expression(value);
        let now = query.now.unix_seconds();

        let wants = |kind: TokenKind| flag(query.kind.is_none_or(|wanted| wanted == kind)).eq(true);
        let personal = personal_letter();
        let by_kind = wants(TokenKind::Personal)
            .and(dsl::grant_type.eq(personal.clone()).and(dsl::username.is_not_null()))
            .or(wants(TokenKind::ApiKey)
                .and(dsl::grant_type.eq(personal.clone()).and(dsl::username.is_null())))
            .or(wants(TokenKind::OAuth2Refresh)
                .and(dsl::grant_type.ne(personal.clone()).and(dsl::refresh_token_hash.is_not_null())))
            .or(wants(TokenKind::OAuth2Access).and(
                dsl::grant_type
                    .ne(personal)
                    .and(dsl::refresh_token_hash.is_null())
                    .and(dsl::access_token_hash.is_not_null()),
            ))
            .or(flag(query.kind.is_none()).eq(true));

        let access_live = dsl::access_token_hash
            .is_not_null()
            .and(dsl::access_token_expires.is_null().or(dsl::access_token_expires.gt(now)));
        let refresh_live = dsl::refresh_token_hash
            .is_not_null()
            .and(dsl::refresh_token_expires.is_null().or(dsl::refresh_token_expires.gt(now)));
        let live = dsl::revoked_at.is_null().and(access_live.or(refresh_live));
        let by_activity = flag(query.active.is_none())
            .eq(true)
            .or(flag(query.active == Some(true)).eq(true).and(live))
            .or(flag(query.active == Some(false)).eq(true).and(not(live)));

        let after = page.after.as_ref().map(decode_cursor).transpose()?;
        let (created, id) = after.unwrap_or((i64::MAX, String::new()));
        let seek = dsl::created_at.lt(created).or(dsl::created_at.eq(created).and(dsl::id.lt(id)));
        // Owner filters are added only when given, so that the (owner, created_at, id) indexes serve them.
        let mut rows =
            dsl::tokens.into_boxed::<<crate::connection::AnyConnection as diesel::Connection>::Backend>();
        if let Some(username) = &query.username {
            rows = rows.filter(dsl::username.eq(username.as_str().to_owned()));
        }
        if let Some(client_id) = &query.client_id {
            rows = rows.filter(dsl::client_id.eq(client_id.as_str().to_owned()));
        }
        let rows = rows
            .filter(by_kind)
            .filter(by_activity)
            .filter(seek)
            .order((dsl::created_at.desc(), dsl::id.desc()))
            .limit(fetch_limit(page))
            .select(TokenRow::as_select())
            .load(self.conn)?;
        Ok(into_page(records(rows)?, page, cursor_of))
    }

    /// Replaces a live token's name and properties, and nothing else, so that a rename racing with the
    /// token's own use (a code redeemed, a token rotated) cannot undo it. Returns whether the token was live.
    pub fn amend_token(
        &mut self,
        id: &RecordId,
        name: Option<&str>,
        properties: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<bool, StoreError> {
        let properties =
            serde_json::to_string(properties).map_err(|e| StoreError::InvalidInput(e.to_string()))?;
        let changed = diesel::update(dsl::tokens.find(id.as_str()).filter(dsl::revoked_at.is_null()))
            .set((dsl::name.eq(name), dsl::properties.eq(properties)))
            .execute(self.conn)?;
        Ok(changed == 1)
    }

    /// Notes that a token was used at `now`, unless that was already noted less than `resolution` seconds ago:
    /// last-use times cost a write per token per `resolution`, not one per request. Returns whether it wrote.
    pub fn touch_token(
        &mut self,
        id: &RecordId,
        now: Timestamp,
        resolution: i64,
    ) -> Result<bool, StoreError> {
        let stale = dsl::active_at.is_null().or(dsl::active_at.le(now.unix_seconds() - resolution));
        let touched = diesel::update(dsl::tokens.find(id.as_str()).filter(stale))
            .set(dsl::active_at.eq(now.unix_seconds()))
            .execute(self.conn)?;
        Ok(touched == 1)
    }

    /// How many personal tokens `username` holds that are neither revoked nor expired at `now`.
    pub fn count_live_personal_tokens(
        &mut self,
        username: &Username,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let live: i64 = dsl::tokens
            .filter(dsl::username.eq(username.as_str()))
            .filter(dsl::grant_type.eq(personal_letter()))
            .filter(dsl::revoked_at.is_null())
            .filter(dsl::access_token_expires.is_null().or(dsl::access_token_expires.gt(now.unix_seconds())))
            .count()
            .get_result(self.conn)?;
        Ok(u64::try_from(live).unwrap_or(0))
    }

    /// Revokes one record; returns whether it was live.
    pub fn revoke_token(&mut self, id: &RecordId, now: Timestamp) -> Result<bool, StoreError> {
        let live = dsl::tokens.find(id.as_str()).filter(dsl::revoked_at.is_null());
        let revoked = diesel::update(live).set(dsl::revoked_at.eq(now.unix_seconds())).execute(self.conn)?;
        Ok(revoked == 1)
    }

    /// Revokes every live record of a user; returns how many were revoked. Takes the user's row first, so
    /// that a token being made for the user at the same time (which holds it, [`Repo::hold_user`]) is either
    /// committed before this looks, and revoked, or made after, and sees the revocation.
    pub fn revoke_user(&mut self, username: &Username, now: Timestamp) -> Result<u64, StoreError> {
        super::users::lock_user_row(self, username, "FOR UPDATE")?;
        let live = dsl::tokens.filter(dsl::username.eq(username.as_str())).filter(dsl::revoked_at.is_null());
        let revoked = diesel::update(live).set(dsl::revoked_at.eq(now.unix_seconds())).execute(self.conn)?;
        Ok(revoked as u64)
    }

    /// Revokes every live record of a client, and every personal token made through one of its grants;
    /// returns how many were revoked. Takes the client's row first, as [`Repo::revoke_user`] takes the user's,
    /// against tokens being made for the client ([`Repo::hold_client`]).
    pub fn revoke_client(&mut self, client_id: &ClientId, now: Timestamp) -> Result<u64, StoreError> {
        self.find_client_for_update(client_id)?;
        let family = diesel::alias!(crate::schema::tokens as family);
        let made_through_client = dsl::grant_type.eq(personal_letter()).and(diesel::dsl::exists(
            family
                .filter(family.field(dsl::family_id).eq(dsl::family_id))
                .filter(family.field(dsl::client_id).eq(client_id.as_str())),
        ));
        let live = dsl::tokens
            .filter(dsl::client_id.eq(client_id.as_str()).or(made_through_client))
            .filter(dsl::revoked_at.is_null());
        let revoked = diesel::update(live).set(dsl::revoked_at.eq(now.unix_seconds())).execute(self.conn)?;
        Ok(revoked as u64)
    }
}

/// The outcome of presenting a single-use secret (an authorization code or a refresh token).
#[derive(Debug, Clone, PartialEq)]
pub enum Consumed {
    /// This request is the one use: the record, already marked used in this transaction.
    First(TokenRecord),
    /// Used before (or revoked): a replay. The caller refuses and revokes what the record's family issued.
    Replayed(TokenRecord),
    /// No record has this secret.
    Unknown,
}

impl Repo<'_> {
    /// Marks an authorization code redeemed, exactly once even under concurrent redemption: the conditional
    /// update lets one transaction through and shows every other the code already taken.
    pub fn redeem_code(&mut self, code: &SecretHash, now: Timestamp) -> Result<Consumed, StoreError> {
        let fresh = dsl::tokens
            .filter(dsl::code_hash.eq(code.to_hex()))
            .filter(dsl::code_redeemed_at.is_null())
            .filter(dsl::revoked_at.is_null());
        let won =
            diesel::update(fresh).set(dsl::code_redeemed_at.eq(now.unix_seconds())).execute(self.conn)?;
        let record = self.find_token_by_code(code)?;
        Ok(match (won, record) {
            (_, None) => Consumed::Unknown,
            (1, Some(record)) => Consumed::First(record),
            (_, Some(record)) => Consumed::Replayed(record),
        })
    }

    /// Takes a refresh token for rotation, exactly once: the record holding it is retired (revoked) by the
    /// same conditional update that proves this request is the first to present it.
    pub fn consume_refresh_token(
        &mut self,
        token: &SecretHash,
        now: Timestamp,
    ) -> Result<Consumed, StoreError> {
        let live =
            dsl::tokens.filter(dsl::refresh_token_hash.eq(token.to_hex())).filter(dsl::revoked_at.is_null());
        let won = diesel::update(live).set(dsl::revoked_at.eq(now.unix_seconds())).execute(self.conn)?;
        let record = self.find_token_by_refresh_token(token)?;
        Ok(match (won, record) {
            (_, None) => Consumed::Unknown,
            (1, Some(record)) => Consumed::First(record),
            (_, Some(record)) => Consumed::Replayed(record),
        })
    }

    /// Revokes the grants of `username` with `client_id` beyond the newest `keep` still live at `now`, each
    /// with all its rotations; returns how many records were revoked. Personal tokens are not grants here
    /// (they have a limit of their own).
    pub fn revoke_grants_beyond(
        &mut self,
        username: &Username,
        client_id: &ClientId,
        keep: usize,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        // The same "live" as every listing. Applied on every new grant, so this is at most `keep` families and
        // the one just made, each with a rotation or two whose access token still runs: a page or two.
        let query = TokenQuery {
            username: Some(username.clone()),
            client_id: Some(client_id.clone()),
            kind: None,
            active: Some(true),
            now,
        };
        let mut live = Vec::new();
        let mut page = PageRequest::first(1_000);
        loop {
            let found = self.query_tokens(&query, &page)?;
            live.extend(
                found.items.into_iter().filter(|r| r.grant_type != GrantType::Personal).map(|r| r.family_id),
            );
            match found.next {
                Some(cursor) => page = PageRequest::after(1_000, cursor),
                None => break,
            }
        }
        let mut families: Vec<RecordId> = Vec::with_capacity(live.len());
        for family in live {
            if !families.contains(&family) {
                families.push(family);
            }
        }
        let mut revoked = 0;
        for family in families.iter().skip(keep) {
            revoked += self.revoke_family(family, now)?;
        }
        Ok(revoked)
    }

    /// Revokes every live record of a refresh family (a grant and all its rotations); returns the count.
    pub fn revoke_family(&mut self, family: &RecordId, now: Timestamp) -> Result<u64, StoreError> {
        let live = dsl::tokens.filter(dsl::family_id.eq(family.as_str())).filter(dsl::revoked_at.is_null());
        let revoked = diesel::update(live).set(dsl::revoked_at.eq(now.unix_seconds())).execute(self.conn)?;
        Ok(revoked as u64)
    }
}
