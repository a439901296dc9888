//! The sweeper: orders left unpaid past `pay_by` (30 minutes after checkout) are cancelled and
//! give their stock and coupon use back, with an `order.cancelled` event. On AWS a scheduled
//! Lambda runs it every minute; locally the gateway runs it in the background.

use sellvy_api::{ApiError, AppState, until_committed};
use sellvy_models::order::OrderStatus;
use sellvy_models::time::Timestamp;
use sellvy_models::{Event, EventType, Tenant};

/// Due orders one run looks at, oldest first (the rest wait for the next run). Index entries
/// are keys only (~150 bytes), so this is one Query page.
const BATCH: u32 = 1000;

/// Expires the orders due at `now` and fans their events out; then, as the webhook forwarder,
/// delivers what the outbox still holds and repairs lost or interrupted attempts. Returns how
/// many orders expired.
pub async fn sweep(state: &AppState, now: Timestamp) -> Result<usize, ApiError> {
    let (expired, events) = sellvy_store::collect_events(sweep_stores(state, now, |_| true)).await;
    if let Err(e) = state.webhooks.fan_out(&events).await {
        tracing::warn!(error = %e, "fan-out failed; the forwarder will deliver");
    }
    match state.webhooks.forward(now).await {
        Ok((events, repaired)) if events + repaired > 0 => {
            tracing::info!(events, repaired, "forwarded the outbox and repaired deliveries")
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "forwarding failed; the next run retries"),
    }
    expired
}

/// The same, for the tenants `keep` accepts (an operator sweeping one store, a test).
pub async fn sweep_stores(
    state: &AppState,
    now: Timestamp,
    keep: impl Fn(&Tenant) -> bool,
) -> Result<usize, ApiError> {
    let due = state.db.due_orders(now, BATCH).await?;
    let mut expired = 0;
    for (t, id) in due.into_iter().filter(|(t, _)| keep(t)) {
        let outcome = until_committed(|| async {
            let Some(order) = state.db.get_order(&t, &id).await? else { return Ok(false) };
            if order.status != OrderStatus::Pending || order.pay_by > now {
                return Ok(false);
            }
            let ended = order.payment_failed(now);
            let event = Event::new(
                EventType::OrderCancelled,
                serde_json::to_value(ended.to_object()).unwrap_or_default(),
            );
            sellvy_payments::release(state, &t, &ended, &order, &[event]).await?;
            Ok(true)
        })
        .await;
        match outcome {
            Ok(true) => expired += 1,
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(order = %id, error = ?e, "could not expire an order; the next run retries")
            }
        }
    }
    if expired > 0 {
        tracing::info!(expired, "expired unpaid orders");
    }
    Ok(expired)
}
