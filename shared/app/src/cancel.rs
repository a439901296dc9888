//! An unpaid order ends, and gives back what it held (its stock and its coupon use): the seller
//! cancels it, it expires past `pay_by`, or its payment failed for good.

use crate::error::AppError;
use crate::payment::no_longer_payable;
use crate::retry::{FirstRead, Retry, until_committed};
use crate::state::AppState;
use sellvy_models::order::{Order, OrderStatus};
use sellvy_models::pool::INLINE_SERIALS;
use sellvy_models::time::Timestamp;
use sellvy_models::{Event, EventType, ProductType, Tenant};

/// Due orders one expiry run looks at, oldest first (the rest wait for the next run). Index
/// entries are keys only (~150 bytes), so this is one Query page.
const EXPIRY_BATCH: u32 = 1000;

/// The seller cancels a pending (unpaid) order: `order.cancelled`.
pub async fn cancel(state: &AppState, t: &Tenant, id: &str) -> Result<Order, AppError> {
    until_committed(|| async {
        let order =
            crate::lookup(id, async |id: &sellvy_models::id::OrderId| state.db.get_order(t, id).await)
                .await?;
        let cancelled = order.cancelled(Timestamp::now())?;
        let event = Event::new(EventType::OrderCancelled, &cancelled.to_object())?;
        release(state, t, &cancelled, &order, &[event], None).await?;
        Ok(cancelled)
    })
    .await
}

/// The payment of an unpaid order failed for good (the sandbox's `failed`, a gateway that
/// refused to start it): the order is cancelled, its stock and coupon use go back, and
/// `payment.failed` and `order.cancelled` are recorded.
pub async fn payment_failed(state: &AppState, t: &Tenant, order: Order) -> Result<Order, AppError> {
    let id = order.id.clone();
    let first = FirstRead::new(order);
    until_committed(|| async {
        let order = match first.take() {
            Some(o) => o,
            None => state.db.get_order(t, &id).await?.ok_or_else(|| AppError::not_found("Order"))?,
        };
        if !order.awaits_payment() {
            return Err(no_longer_payable(&order).into());
        }
        let failed = order.payment_failed(Timestamp::now());
        let data = failed.to_object();
        let events =
            [Event::new(EventType::PaymentFailed, &data)?, Event::new(EventType::OrderCancelled, &data)?];
        release(state, t, &failed, &order, &events, None).await?;
        Ok(failed)
    })
    .await
}

/// Expires the orders whose `pay_by` passed at `now`, in the tenants `keep` accepts (every
/// tenant for the scheduled sweeper; one store for an operator or a test): `order.cancelled`.
/// Returns how many expired; an order that could not be expired waits for the next run.
pub async fn expire_due(
    state: &AppState,
    now: Timestamp,
    keep: impl Fn(&Tenant) -> bool,
) -> Result<usize, AppError> {
    let due = state.db.due_orders(now, EXPIRY_BATCH).await?;
    let mut expired = 0;
    for (t, id) in due.into_iter().filter(|(t, _)| keep(t)) {
        match expire(state, &t, &id, now).await {
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

/// Expires one order if it is still pending past its `pay_by`; whether it did.
async fn expire(state: &AppState, t: &Tenant, id: &str, now: Timestamp) -> Result<bool, AppError> {
    until_committed(|| async {
        let Some(order) = state.db.get_order(t, id).await? else { return Ok(false) };
        if order.status != OrderStatus::Pending || order.pay_by > now {
            return Ok(false);
        }
        let ended = order.payment_failed(now);
        let event = Event::new(EventType::OrderCancelled, &ended.to_object())?;
        // Its buyer may not renew the hold at once (the reservation policy).
        release(state, t, &ended, &order, &[event], order.hold.cooldown_until(now)).await?;
        Ok(true)
    })
    .await
}

/// Ends an unpaid order (`ended`, computed from `old`): its stock and coupon use go back, if
/// the product and coupon still exist, with `events`.
async fn release(
    state: &AppState,
    t: &Tenant,
    ended: &Order,
    old: &Order,
    events: &[Event],
    cooldown_until: Option<Timestamp>,
) -> Result<(), Retry> {
    // Serials a large order's interrupted payment parked go back to the pool first.
    if old.product_type == ProductType::Serials && old.quantity as usize > INLINE_SERIALS {
        state.db.return_parked(t, &old.product_id, &old.id).await?;
    }
    let product = state.db.get_product(t, &old.product_id).await?;
    let coupon = match &old.coupon_id {
        Some(c) => state.db.get_coupon(t, c).await?,
        None => None,
    };
    state.db.release_order(t, ended, old, product.as_ref(), coupon.as_ref(), events, cooldown_until).await?;
    Ok(())
}
