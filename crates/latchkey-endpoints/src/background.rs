//! Work every server process does beside its requests: reload the signing keys (a rotation made elsewhere
//! is picked up) and delete what nothing can use any more (`latchkey_core::janitor`).

use crate::{session, Context};
use latchkey_core::janitor::{self, Swept};
use std::time::Duration;

/// Reloads the signing keys every `interval`, for as long as the runtime lives. A failure keeps the keys in
/// force; the next tick tries again.
pub async fn reload_keys(ctx: Context, interval: Duration) {
    let mut ticks = tokio::time::interval(interval);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        if let Err(error) = ctx.keys.reload_async(&ctx.store, ctx.now()).await {
            tracing::warn!(%error, "could not reload signing keys");
        }
    }
}

/// Sweeps every `interval`, beside the traffic, 500 rows a transaction. The first sweep waits one interval:
/// starting up is busy enough.
pub async fn sweep(ctx: Context, interval: Duration) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let (store, now) = (ctx.store.clone(), ctx.now());
        let idle_before = now.plus_seconds(-session::IDLE_SECONDS);
        match tokio::task::spawn_blocking(move || janitor::sweep(&store, now, idle_before, janitor::BATCH))
            .await
        {
            Ok(Ok(swept)) if swept != Swept::default() => tracing::info!(
                tokens = swept.tokens,
                sessions = swept.sessions,
                login_failures = swept.login_failures,
                known_sign_ins = swept.known_sign_ins,
                left_to_another_server = swept.left_to_another_server,
                "expired data deleted"
            ),
            Ok(Ok(_)) => {}
            // Nothing is lost by waiting for the next tick.
            Ok(Err(error)) => tracing::warn!(%error, "janitor: storage unavailable"),
            Err(error) => tracing::warn!(%error, "janitor: task failed"),
        }
    }
}
