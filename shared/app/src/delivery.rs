//! Dynamic goods: after payment, Sellvy POSTs the order (with its `mode`) to the product's
//! `dynamic_url` (signed like a webhook with the mode's own `delivery_secret`, Standard Webhooks
//! headers included, through the SSRF guard, 10-second timeout) and delivers the answer's body
//! as `delivery.content`.
//!
//! Nothing paid is left undelivered: the paying request makes the first call, and a paid order
//! whose goods still wait is watched (`delivery.retry_at`) so that the sweeper calls again when
//! that request's process died before or during its call, or after a failed call on a bounded
//! backoff ([`sellvy_models::order::GOODS_RETRY_WAITS_SECS`]); after the last, the order waits for the seller's
//! redeliver.

use crate::error::AppError;
use crate::payment::current;
use crate::retry::{FirstRead, until_committed};
use crate::state::AppState;
use sellvy_models::order::Order;
use sellvy_models::time::Timestamp;
use sellvy_models::{Event, EventType, Tenant};
use sellvy_webhooks::SignedPost;
use std::time::Duration;

/// How long the seller's `dynamic_url` has to answer, and the most goods it may answer.
pub const DYNAMIC_TIMEOUT: Duration = Duration::from_secs(10);
pub const DYNAMIC_MAX_BYTES: usize = 64 * 1024;

/// The seller asks for an order's dynamic goods again (`POST /v1/orders/{id}/redeliver`).
pub async fn redeliver(state: &AppState, t: &Tenant, id: &str) -> Result<Order, AppError> {
    let order =
        crate::lookup(id, async |id: &sellvy_models::id::OrderId| state.db.get_order(t, id).await).await?;
    deliver(state, t, order).await
}

/// Fetches a paid order's dynamic goods (2xx, 1 byte to 64 KiB), completing the order
/// (`order.completed`). Any failure leaves the order `processing` with `delivery.status =
/// failed` and its reason. `X-Sellvy-Delivery` is the order id on every try, so the seller's
/// server can recognise a repeat.
pub async fn deliver(state: &AppState, t: &Tenant, order: Order) -> Result<Order, AppError> {
    call(state, t, order, None).await
}

/// How many orders' goods one sweeper run fetches at most, and how many at once.
const GOODS_BATCH: u32 = 64;
const GOODS_AT_ONCE: usize = 16;

/// The sweeper's part: calls the `dynamic_url` for the paid orders whose `delivery.retry_at`
/// passed at `now`, in the tenants `keep` accepts (every tenant for the scheduled sweeper; one
/// store for a test), up to 16 calls at once. Returns how many were delivered.
pub async fn retry_due(
    state: &AppState,
    now: Timestamp,
    keep: impl Fn(&Tenant) -> bool,
) -> Result<usize, AppError> {
    let due = state.db.orders_awaiting_goods(now, GOODS_BATCH).await?;
    let mut calls = tokio::task::JoinSet::new();
    let mut delivered = 0;
    for (t, id) in due.into_iter().filter(|(t, _)| keep(t)) {
        if calls.len() >= GOODS_AT_ONCE {
            delivered += usize::from(calls.join_next().await.is_some_and(|r| r.unwrap_or(false)));
        }
        let state = state.clone();
        calls.spawn(async move {
            let done = async {
                let Some(order) = state.db.get_order(&t, &id).await? else { return Ok(false) };
                let order = call(&state, &t, order, Some(now)).await?;
                Ok::<_, AppError>(!order.awaits_delivery())
            };
            match crate::committing(&state, done).await {
                Ok(delivered) => delivered,
                Err(e) => {
                    tracing::warn!(order = %id, error = ?e, "could not retry an order's goods; the next run does");
                    false
                }
            }
        });
    }
    while let Some(r) = calls.join_next().await {
        delivered += usize::from(r.unwrap_or(false));
    }
    if delivered > 0 {
        tracing::info!(delivered, "delivered dynamic goods on retry");
    }
    Ok(delivered)
}

/// One call for an order's goods; `due`: the sweeper's run time, when only an order whose
/// retry time came is called for.
async fn call(state: &AppState, t: &Tenant, order: Order, due: Option<Timestamp>) -> Result<Order, AppError> {
    if due.is_some_and(|now| !order.goods_due(now)) {
        return Ok(order);
    }
    if !order.awaits_delivery() {
        return Err(AppError::invalid(
            "id",
            "only a paid order whose dynamic goods were not delivered can be redelivered",
        ));
    }
    // Claim the fetch (`delivery.status = sending`, one conditional write), so two payments'
    // callbacks or a redelivery racing the first fetch never make the seller generate twice.
    let id = order.id.clone();
    let first = FirstRead::new(order);
    let claim = until_committed(|| async {
        let order = current(state, t, &first, &id).await?;
        let now = Timestamp::now();
        let not_due = due.is_some_and(|at| !order.goods_due(at));
        if !order.awaits_delivery() || order.delivery_in_flight(now) || not_due {
            return Ok(Err(order));
        }
        let claimed = order.delivering(now);
        state.db.update_order(t, &claimed, &order, &[]).await?;
        Ok(Ok(claimed))
    })
    .await?;
    let order = match claim {
        Ok(claimed) => claimed,
        // Delivered meanwhile, or another process is fetching right now.
        Err(current) => return Ok(current),
    };
    let outcome = fetch(state, t, &order).await?;
    if let Err(why) = &outcome {
        tracing::warn!(order = %order.id, reason = %why, "dynamic delivery failed");
    }
    let id = order.id.clone();
    let first = FirstRead::new(order);
    until_committed(|| async {
        let order = current(state, t, &first, &id).await?;
        if !order.awaits_delivery() {
            return Ok(order);
        }
        let now = Timestamp::now();
        let (next, events) = match &outcome {
            Ok(content) => {
                let done = order.delivered(content.clone(), now);
                let event = Event::new(EventType::OrderCompleted, &done.to_object())?;
                (done, vec![event])
            }
            Err(why) => (order.delivery_failed(why.clone(), now), Vec::new()),
        };
        state.db.update_order(t, &next, &order, &events).await?;
        Ok(next)
    })
    .await
}

/// One call to the seller's `dynamic_url`: the goods, or why there are none.
async fn fetch(state: &AppState, t: &Tenant, order: &Order) -> Result<Result<String, String>, AppError> {
    let product = state.db.get_product(t, &order.product_id).await?;
    let url = product.as_ref().and_then(|p| p.dynamic_url.clone());
    let store = state.db.get_store(&t.store_id).await?;
    let (url, store) = match (url, store) {
        (None, _) => return Ok(Err("the product no longer exists or has no dynamic_url".to_string())),
        (Some(_), None) => return Ok(Err("the store no longer exists".to_string())),
        (Some(_), Some(store)) if store.settings(t.mode).delivery_secret.is_empty() => {
            return Ok(Err(format!(
                "the store has no {} delivery secret yet: PATCH /v1/store {{\"rotate_delivery_secret\": true}}",
                t.mode.as_str()
            )));
        }
        (Some(url), Some(store)) => (url, store),
    };
    // The order as the API returns it, and the mode it was bought in (also `X-Sellvy-Mode`), so
    // the seller's server never generates live goods for a test order.
    let body = serde_json::to_value(order.to_object())
        .map(|mut v| {
            v["mode"] = t.mode.as_str().into();
            v
        })
        .and_then(|v| serde_json::to_vec(&v))
        .map_err(|e| AppError::Internal(format!("order body: {e}")))?;
    let attempt = state
        .webhooks
        .outbound
        .post(&SignedPost {
            url: &url,
            body: &body,
            secret: &store.settings(t.mode).delivery_secret,
            previous_secret: None,
            mode: t.mode,
            event: "order.delivery",
            delivery_id: &order.id,
            timeout: DYNAMIC_TIMEOUT,
            keep: DYNAMIC_MAX_BYTES,
        })
        .await;
    Ok(match attempt.failure {
        Some(f) => Err(f.to_string()),
        None if attempt.truncated => {
            Err(format!("the dynamic_url answered more than {} KiB", DYNAMIC_MAX_BYTES / 1024))
        }
        None if attempt.body.trim().is_empty() => {
            Err("the dynamic_url answered no goods (an empty body)".to_string())
        }
        None => Ok(attempt.body),
    })
}
