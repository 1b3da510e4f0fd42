//! A token's last use (`activeAt`): moved at most once a minute per token, so use costs no write per request.

use crate::Context;
use latchkey_core::personal::due_for_touch;
use latchkey_core::personal::ACTIVE_AT_RESOLUTION_SECONDS;
use latchkey_model::{RecordId, Timestamp};

/// Notes a use of the record `id`, last noted at `active_at`, off the request's path: the request it
/// belongs to has succeeded whether or not this is written, so it does not wait for the write, which joins
/// the next group commit with the other writers (on SQLite) instead of costing a transaction of its own.
pub(crate) fn note_use(ctx: &Context, id: RecordId, active_at: Option<Timestamp>, now: Timestamp) {
    if due_for_touch(active_at, now) {
        ctx.store.write_behind("a token's last use", move |repo| {
            repo.touch_token(&id, now, ACTIVE_AT_RESOLUTION_SECONDS).map(drop)
        });
    }
}
