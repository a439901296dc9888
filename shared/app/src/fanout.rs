//! After commit: the events a unit of work wrote to the outbox go to their webhook endpoints
//! before it returns. One implementation, used by every request and by the sweeper. If the
//! fan-out fails (or the process dies first), the events wait in the outbox for the forwarder.

use crate::state::AppState;

/// Runs `work`, then fans out the events its transactions committed.
pub async fn committing<F: Future>(state: &AppState, work: F) -> F::Output {
    let (out, events) = sellvy_store::collect_events(work).await;
    if !events.is_empty() {
        state.config.failpoint(crate::state::Failpoint::CrashBeforeFanOut);
        if let Err(e) = state.webhooks.fan_out(&events).await {
            tracing::warn!(error = %e, events = events.len(), "fan-out failed; the forwarder will deliver");
        }
    }
    out
}
