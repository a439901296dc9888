//! Refunds: money back to the buyer, never more than was paid. In live mode the money goes
//! back through Stripe first (once per request, recorded by the refund's id); the order, the
//! customer's lifetime spend and `order.refunded` follow in one transaction.

use crate::error::AppError;
use crate::retry::{FirstRead, until_committed};
use crate::state::AppState;
use sellvy_models::order::{Order, RefundRequest};
use sellvy_models::time::Timestamp;
use sellvy_models::{Event, EventType, Mode, Tenant};
use sellvy_payments::stripe;
use serde_json::Value;

/// Refunds order `id` as `body` asks (`amount` in the order's currency, omitted for all that
/// remains; `reason`).
pub async fn refund(state: &AppState, t: &Tenant, id: &str, body: Value) -> Result<Order, AppError> {
    let order =
        crate::lookup(id, async |id: &sellvy_models::id::OrderId| state.db.get_order(t, id).await).await?;
    let req = RefundRequest::parse(body, order.currency())?;
    // Checked against the order as read, then (live mode) made at Stripe once, outside the
    // retry loop: a conflicting write below re-applies this same refund, never makes another.
    let first = order.refund(req.amount_minor, req.reason.clone(), Timestamp::now())?;
    let amount = first.refunded_minor - order.refunded_minor;
    if t.mode == Mode::Live
        && let Some(why) = stripe::refuses_amount(amount, &order.currency)
    {
        return Err(AppError::invalid("amount", why));
    }
    let stripe_refund = match t.mode {
        Mode::Live => Some(give_back(state, &order, amount).await?),
        Mode::Test => None,
    };
    let first = FirstRead::new(order);
    until_committed(|| async {
        let order = match first.take() {
            Some(o) => o,
            None => {
                crate::lookup(id, async |id: &sellvy_models::id::OrderId| state.db.get_order(t, id).await)
                    .await?
            }
        };
        // Racing requests for the same refund of the same state share Stripe's refund (same
        // idempotency key): the first to write records it, the others find it recorded.
        if let Some(re) = &stripe_refund
            && order.stripe_refunds.contains(re)
        {
            return Ok(order);
        }
        let mut refunded = order.refund(Some(amount), req.reason.clone(), Timestamp::now())?;
        refunded.stripe_refunds.extend(stripe_refund.clone());
        let event = Event::new(EventType::OrderRefunded, &refunded.to_object())?;
        state.db.refund_order(t, &refunded, &order, &[event]).await?;
        Ok(refunded)
    })
    .await
}

/// Returns money through the order's gateway (live mode); the Stripe refund's id. The
/// idempotency key names the order's version: two requests racing for the same refund of the
/// same state make one Stripe refund; a refund asked again after the order changed is a new one.
async fn give_back(state: &AppState, order: &Order, amount: i64) -> Result<String, AppError> {
    let settings = state.stripe().ok_or_else(|| {
        AppError::Gateway("Stripe is not configured on this deployment; nothing was refunded".into())
    })?;
    let Some(pi) = order.payment_id.as_deref().filter(|p| p.starts_with("pi_")) else {
        return Err(AppError::invalid("id", "this order has no Stripe payment to refund"));
    };
    let key = format!("sellvy-refund-{}-v{}", order.id, order.version);
    let amount = stripe::amount_for_stripe(amount, &order.currency);
    stripe::refund(settings, pi, amount, &key, &[("sellvy_order", &order.id)])
        .await
        .map(|r| r.id)
        .map_err(|e| AppError::Gateway(format!("Stripe did not refund; nothing was refunded ({e})")))
}
