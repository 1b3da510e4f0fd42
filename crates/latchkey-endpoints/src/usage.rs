//! A token's last use (`activeAt`): moved at most once a minute per token, so use costs no write per request.

use crate::Context;
use latchkey_core::personal::due_for_touch;
use latchkey_core::personal::ACTIVE_AT_RESOLUTION_SECONDS;
use latchkey_model::{RecordId, Timestamp};

/// Notes a use of the record `id`, last noted at `active_at`. Best effort: the request it belongs to has
/// succeeded whether or not this is written.
pub(crate) async fn note_use(ctx: &Context, id: RecordId, active_at: Option<Timestamp>, now: Timestamp) {
    if !due_for_touch(active_at, now) {
        return;
    }
    let touched =
        ctx.store.write_async(move |repo| repo.touch_token(&id, now, ACTIVE_AT_RESOLUTION_SECONDS)).await;
    if let Err(error) = touched {
        tracing::warn!(%error, "could not record a token's last use");
    }
}
