//! The sweeper: orders left unpaid past `pay_by` (30 minutes after checkout) are cancelled and
//! give their stock and coupon use back, with an `order.cancelled` event; then, as the webhook
//! forwarder, it delivers what the outbox still holds and repairs lost or interrupted attempts.
//! On AWS a scheduled Lambda runs it every minute; locally the gateway runs it in the background.

use sellvy_app::{AppError, AppState, cancel};
use sellvy_models::time::Timestamp;

/// One run at `now`; returns how many orders expired.
pub async fn sweep(state: &AppState, now: Timestamp) -> Result<usize, AppError> {
    let expired = sellvy_app::committing(state, cancel::expire_due(state, now, |_| true)).await;
    match state.webhooks.forward(now).await {
        Ok((events, repaired)) if events + repaired > 0 => {
            tracing::info!(events, repaired, "forwarded the outbox and repaired deliveries")
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "forwarding failed; the next run retries"),
    }
    expired
}
