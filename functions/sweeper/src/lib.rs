//! The sweeper: orders left unpaid past `pay_by` (30 minutes after checkout) are cancelled and
//! give their stock and coupon use back, with an `order.cancelled` event; paid orders whose
//! dynamic goods are due (the paying request's process died, or a call failed and its backoff
//! passed) get their `dynamic_url` called again; subscriptions with a renewal, a dunning retry
//! or an expiry due take it; then, as the webhook forwarder, it delivers
//! what the outbox still holds and repairs lost or interrupted attempts.
//! On AWS a scheduled Lambda runs it every minute; locally the gateway runs it in the background.

use sellvy_app::{AppError, AppState, cancel, delivery, subscriptions};
use sellvy_models::time::Timestamp;

/// One run at `now`; returns how many orders expired.
pub async fn sweep(state: &AppState, now: Timestamp) -> Result<usize, AppError> {
    let expired = sellvy_app::committing(state, cancel::expire_due(state, now, |_| true)).await;
    if let Err(e) = delivery::retry_due(state, now, |_| true).await {
        tracing::warn!(error = ?e, "could not read the orders whose goods are due; the next run retries");
    }
    if let Err(e) = sellvy_app::committing(state, subscriptions::renew_due(state, now, |_| true)).await {
        tracing::warn!(error = ?e, "could not read the subscriptions due; the next run retries");
    }
    match state.webhooks.forward(now).await {
        Ok(f) if f.events + f.repaired + f.set_aside + f.skipped > 0 => tracing::info!(
            events = f.events,
            repaired = f.repaired,
            set_aside = f.set_aside,
            skipped = f.skipped,
            "forwarded the outbox and repaired deliveries"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "forwarding failed; the next run retries"),
    }
    expired
}
