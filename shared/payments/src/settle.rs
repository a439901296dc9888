//! An order's life after checkout: paid (goods handed out in the payment's own transaction),
//! ended unpaid (stock and coupon use given back), and dynamic goods fetched from the seller.

use sellvy_api::{ApiError, AppState, Attempt, FirstRead, until_committed};
use sellvy_models::order::{
    Customer, DOWNLOAD_TTL_SECS, Goods, MAX_DOWNLOADS, Order, Payment, new_download_token,
};
use sellvy_models::product::Stock;
use sellvy_models::time::Timestamp;
use sellvy_models::{Event, EventType, ProductType, Tenant};
use sellvy_store::{Completion, CustomerUpdate, DownloadGrant};
use sellvy_webhooks::SignedPost;
use std::time::Duration;

/// How long the seller's `dynamic_url` has to answer, and the most goods it may answer.
pub const DYNAMIC_TIMEOUT: Duration = Duration::from_secs(10);
pub const DYNAMIC_MAX_BYTES: usize = 64 * 1024;

fn object(o: &Order) -> serde_json::Value {
    serde_json::to_value(o.to_object()).unwrap_or_default()
}

/// Reads the order again after a conflict (the first try uses the order the caller read).
async fn current(state: &AppState, t: &Tenant, first: &FirstRead<Order>, id: &str) -> Result<Order, Attempt> {
    match first.take() {
        Some(o) => Ok(o),
        None => Ok(state.db.get_order(t, id).await?.ok_or_else(|| ApiError::not_found("Order"))?),
    }
}

/// The 422 for an order that no longer awaits payment.
pub fn no_longer_payable(order: &Order) -> ApiError {
    let status = format!("{:?}", order.status).to_lowercase();
    ApiError::invalid("id", format!("this order is already {status}"))
}

/// Records a payment of `order` (as the caller read it): the goods are handed out in the
/// transaction that marks it paid (serials taken from the product or its variant, a download
/// link, the seller's note), with the customer's totals, `total_sold` and the events
/// `payment.received`, `order.completed`, `customer.created` (first purchase) and
/// `product.low_stock`. Dynamic goods are fetched from the seller's server right after
/// ([`deliver`]); until they arrive the order is `processing`.
///
/// A payment the order already recorded (Stripe repeating its callback) answers the order as
/// it is; an order that no longer awaits payment is a 422 naming `id`.
pub async fn pay(state: &AppState, t: &Tenant, order: Order, payment: &Payment) -> Result<Order, ApiError> {
    let id = order.id.clone();
    let first = FirstRead::new(order);
    let paid = until_committed(|| async {
        let order = current(state, t, &first, &id).await?;
        complete(state, t, order, payment).await
    })
    .await?;
    match paid.awaits_delivery() && paid.payment_id.as_deref() == Some(&payment.reference()) {
        true => deliver(state, t, paid).await,
        false => Ok(paid),
    }
}

async fn complete(state: &AppState, t: &Tenant, order: Order, payment: &Payment) -> Result<Order, Attempt> {
    if !order.awaits_payment() {
        if order.payment_id.as_deref() == Some(&payment.reference()) {
            return Ok(order);
        }
        return Err(no_longer_payable(&order).into());
    }
    let product = state
        .db
        .get_product(t, &order.product_id)
        .await?
        .ok_or_else(|| ApiError::invalid("id", "the product of this order no longer exists"))?;
    let now = Timestamp::now();
    let variant = order.variant.as_ref().and_then(|v| product.variants.iter().find(|x| x.id == v.id));
    let goods = match product.product_type {
        ProductType::Serials => {
            let from = match variant {
                Some(v) if product.stock_per_variant() => &v.serials,
                _ => &product.serials,
            };
            let q = order.quantity as usize;
            if from.len() < q {
                // Cannot happen while reservations hold; if it does, the payment is refused (a
                // Stripe payment is then refunded) rather than retried forever.
                tracing::error!(order = %order.id, "the product no longer has the serials this order holds");
                return Err(ApiError::invalid(
                    "id",
                    "this order can no longer be fulfilled: its serials are gone",
                )
                .into());
            }
            Goods::Serials(from[..q].to_vec())
        }
        ProductType::DigitalDownload => Goods::Download { token: new_download_token() },
        ProductType::Dynamic => Goods::Dynamic,
        ProductType::Service => Goods::Note(product.seller_note.clone()),
    };
    let taken = match &goods {
        Goods::Serials(s) => s.len(),
        _ => 0,
    };
    let download = match (&goods, &product.file_url) {
        (Goods::Download { token }, Some(file_url)) => Some((token.clone(), file_url.clone())),
        _ => None,
    };
    let buyer = state.db.find_buyer(t, &order.customer_email).await?;
    let new_customer = Customer {
        id: sellvy_models::id::new_id("cus_"),
        email: order.customer_email.clone(),
        total_orders: 1,
        lifetime_spend_minor: order.total_minor,
        currency: order.currency.clone(),
        blacklisted: false,
        blacklist_reason: None,
        created_at: now,
    };
    let (customer_id, customer) = match &buyer {
        Some(b) => (
            b.customer_id.clone(),
            CustomerUpdate::Existing { id: &b.customer_id, spent_minor: order.total_minor },
        ),
        None => (new_customer.id.clone(), CustomerUpdate::New(&new_customer)),
    };
    let paid = order.paid(goods, payment, &customer_id, now);
    let data = object(&paid);
    let mut events = vec![Event::new(EventType::PaymentReceived, data.clone())];
    if paid.status == sellvy_models::order::OrderStatus::Completed {
        events.push(Event::new(EventType::OrderCompleted, data));
    }
    if buyer.is_none() {
        events.push(Event::new(
            EventType::CustomerCreated,
            serde_json::to_value(new_customer.to_object()).unwrap_or_default(),
        ));
    }
    // Stock falling below the seller's threshold (serials leave the product now).
    if let (Some(threshold), Stock::Count(before)) = (product.low_stock_threshold, product.stock()) {
        let after = before.saturating_sub(taken as u64);
        if before >= threshold && after < threshold {
            let mut low = product.to_object();
            low.stock = sellvy_models::wire::StockLevel::Count(after);
            events
                .push(Event::new(EventType::ProductLowStock, serde_json::to_value(low).unwrap_or_default()));
        }
    }
    let stripe_payment_intent = match payment {
        Payment::Stripe { payment_intent } => Some(payment_intent.as_str()),
        Payment::Sandbox => None,
    };
    let completion = Completion {
        paid: &paid,
        old: &order,
        product: &product,
        serials: taken,
        customer,
        events: &events,
        download: download.as_ref().map(|(token, file_url)| DownloadGrant {
            token,
            file_url,
            expires_at: now.plus_seconds(DOWNLOAD_TTL_SECS),
            max_downloads: MAX_DOWNLOADS,
        }),
        stripe_payment_intent,
    };
    state.db.complete_order(t, &completion).await?;
    Ok(paid)
}

/// Fetches a paid order's dynamic goods: POSTs the order (JSON, signed like a webhook with the
/// store's `delivery_secret`) to the product's `dynamic_url`, through the SSRF guard, with a
/// 10-second timeout, and delivers the answer's body (2xx, 1 byte to 64 KiB) as
/// `delivery.content`, completing the order (`order.completed`). Any failure leaves the order
/// `processing` with `delivery.status = failed` and its reason; the seller can
/// `POST /v1/orders/{id}/redeliver`. `X-Sellvy-Delivery` is the order id on every try, so the
/// seller's server can recognise a repeat.
pub async fn deliver(state: &AppState, t: &Tenant, order: Order) -> Result<Order, ApiError> {
    if !order.awaits_delivery() {
        return Err(ApiError::invalid(
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
        if !order.awaits_delivery() || order.delivery_in_flight(now) {
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
    let product = state.db.get_product(t, &order.product_id).await?;
    let url = product.as_ref().and_then(|p| p.dynamic_url.clone());
    let store = state.db.get_store(&t.store_id).await?;
    let outcome = match (url, store) {
        (None, _) => Err("the product no longer exists or has no dynamic_url".to_string()),
        (Some(_), None) => Err("the store no longer exists".to_string()),
        (Some(_), Some(store)) if store.delivery_secret.is_empty() => {
            Err("the store has no delivery secret yet: PATCH /v1/store {\"rotate_delivery_secret\": true}"
                .to_string())
        }
        (Some(url), Some(store)) => {
            let body = serde_json::to_vec(&order.to_object()).unwrap_or_default();
            let attempt = state
                .webhooks
                .outbound
                .post(&SignedPost {
                    url: &url,
                    body: &body,
                    secret: &store.delivery_secret,
                    event: "order.delivery",
                    delivery_id: &order.id,
                    timeout: DYNAMIC_TIMEOUT,
                    keep: DYNAMIC_MAX_BYTES,
                })
                .await;
            match attempt.failure {
                Some(f) => Err(f.to_string()),
                None if attempt.truncated => {
                    Err(format!("the dynamic_url answered more than {} KiB", DYNAMIC_MAX_BYTES / 1024))
                }
                None if attempt.body.trim().is_empty() => {
                    Err("the dynamic_url answered no goods (an empty body)".to_string())
                }
                None => Ok(attempt.body),
            }
        }
    };
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
                let event = Event::new(EventType::OrderCompleted, object(&done));
                (done, vec![event])
            }
            Err(why) => (order.delivery_failed(why.clone(), now), Vec::new()),
        };
        state.db.update_order(t, &next, &order, &events).await?;
        Ok(next)
    })
    .await
}

/// The payment of an unpaid order failed for good (the sandbox's `failed`, a gateway that
/// refused to start it): the order is cancelled, its stock and coupon use go back, and
/// `payment.failed` and `order.cancelled` are recorded.
pub async fn fail(state: &AppState, t: &Tenant, order: Order) -> Result<Order, ApiError> {
    let id = order.id.clone();
    let first = FirstRead::new(order);
    until_committed(|| async {
        let order = current(state, t, &first, &id).await?;
        if !order.awaits_payment() {
            return Err(no_longer_payable(&order).into());
        }
        let failed = order.payment_failed(Timestamp::now());
        let data = object(&failed);
        let events =
            [Event::new(EventType::PaymentFailed, data.clone()), Event::new(EventType::OrderCancelled, data)];
        release(state, t, &failed, &order, &events).await?;
        Ok(failed)
    })
    .await
}

/// Ends an unpaid order (`ended`, computed from `old`): its stock and coupon use go back, if
/// the product and coupon still exist, with `events`.
pub async fn release(
    state: &AppState,
    t: &Tenant,
    ended: &Order,
    old: &Order,
    events: &[Event],
) -> Result<(), Attempt> {
    let product = state.db.get_product(t, &old.product_id).await?;
    let coupon = match &old.coupon_id {
        Some(c) => state.db.get_coupon(t, c).await?,
        None => None,
    };
    state.db.release_order(t, ended, old, product.as_ref(), coupon.as_ref(), events).await?;
    Ok(())
}
