//! Readiness probes in flight share one write. `/readyz` answers without credentials and probes with a
//! write (the only way to see a full disk), so callers arriving while a probe runs wait for it and take
//! its result instead of queueing writes of their own: however many ask at once, a node makes at most one
//! probe write at a time, and no answer is older than the probe that was running when it was asked.

use crate::StoreError;

#[derive(Debug, Default)]
pub(crate) struct SharedProbe {
    turn: tokio::sync::Mutex<()>,
    /// How many probes have finished, and the last one's result.
    finished: parking_lot::Mutex<(u64, Option<Result<(), StoreError>>)>,
}

impl SharedProbe {
    /// Runs `probe`, or waits for the one already running and returns its result.
    pub(crate) async fn run<F>(&self, probe: F) -> Result<(), StoreError>
    where
        F: std::future::Future<Output = Result<(), StoreError>>,
    {
        let seen = self.finished.lock().0;
        let _turn = self.turn.lock().await;
        if let (done, Some(result)) = &*self.finished.lock() {
            if *done > seen {
                return result.clone();
            }
        }
        let result = probe.await;
        let mut finished = self.finished.lock();
        *finished = (finished.0 + 1, Some(result.clone()));
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    #[tokio::test(flavor = "current_thread")]
    async fn callers_during_a_probe_share_it_and_later_callers_probe_again() {
        let shared = Arc::new(SharedProbe::default());
        let probes = Arc::new(AtomicU32::new(0));
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let first = {
            let (shared, probes) = (shared.clone(), probes.clone());
            tokio::spawn(async move {
                shared
                    .run(async move {
                        probes.fetch_add(1, Ordering::SeqCst);
                        let _ = released.await;
                        Err(StoreError::Unavailable("disk full".into()))
                    })
                    .await
            })
        };
        tokio::task::yield_now().await; // the first probe is now running, held until released
        let waiting: Vec<_> = (0..10)
            .map(|_| {
                let (shared, probes) = (shared.clone(), probes.clone());
                tokio::spawn(async move {
                    shared.run(async move { Ok(probes.fetch_add(1, Ordering::SeqCst)).map(|_| ()) }).await
                })
            })
            .collect();
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
        release.send(()).unwrap();
        assert!(first.await.unwrap().is_err());
        for caller in waiting {
            assert_eq!(caller.await.unwrap(), Err(StoreError::Unavailable("disk full".into())), "shared");
        }
        assert_eq!(probes.load(Ordering::SeqCst), 1, "eleven callers, one probe");

        let again = shared.run(async { Ok(()) }).await;
        assert_eq!(again, Ok(()), "a caller after the probe finished probes afresh");
    }
}
