//! A payment recorded, and what it delivers. Every way an order gets paid ends in [`pay`]: the
//! test-mode sandbox ([`pay_in_sandbox`]) and Stripe's signed callbacks ([`stripe_callback`]).
//! The goods are handed out in the transaction that marks the order paid (serials taken from the
//! product, a download link, the seller's note), with the customer's totals, `total_sold` and
//! the events; dynamic goods are fetched right after ([`crate::delivery`]).
//!
//! Stripe's callbacks are believed only once `Stripe-Signature` verifies; each outcome is
//! idempotent, since Stripe repeats a callback until it gets an answer.

use crate::cancel;
use crate::delivery;
use crate::error::AppError;
use crate::retry::{FirstRead, Retry, until_committed};
use crate::state::AppState;
use sellvy_models::Product;
use sellvy_models::order::{
    Customer, DOWNLOAD_TTL_SECS, Dispute, Goods, MAX_DOWNLOADS, Order, OrderStatus, Payment, SavedCard,
    new_download_token,
};
use sellvy_models::pool::{CHUNK, INLINE_SERIALS};
use sellvy_models::product::Stock;
use sellvy_models::subscription::Subscription;
use sellvy_models::time::Timestamp;
use sellvy_models::wire::{GatewayCallback, StockLevel};
use sellvy_models::{Event, EventType, Mode, ProductType, Tenant};
use sellvy_payments::stripe::{self, StripeSettings};
use sellvy_store::{
    Claimed, Completion, CustomerUpdate, DownloadGrant, Parked, StoreError, SubscriptionWrite,
};
use serde_json::Value;

/// The refusal for an order that no longer awaits payment.
pub fn no_longer_payable(order: &Order) -> AppError {
    let status = format!("{:?}", order.status).to_lowercase();
    AppError::invalid("id", format!("this order is already {status}"))
}

/// Test mode's sandbox gateway: `succeeded` pays the order (and delivers), otherwise the payment
/// failed for good and the order is cancelled.
pub async fn pay_in_sandbox(
    state: &AppState,
    t: &Tenant,
    order: Order,
    succeeded: bool,
) -> Result<Order, AppError> {
    if t.mode != Mode::Test {
        return Err(AppError::Refused("Sandbox payments exist in test mode only (pk_test_… keys)".into()));
    }
    if !order.awaits_payment() {
        return Err(no_longer_payable(&order));
    }
    match succeeded {
        true => pay(state, t, order, &Payment::Sandbox).await,
        false => cancel::payment_failed(state, t, order).await,
    }
}

/// Records a payment of `order` (as the caller read it), with `payment.received`,
/// `order.completed`, `customer.created` (first purchase) and `product.low_stock`; dynamic goods
/// are then fetched, and until they arrive the order is `processing`.
///
/// A payment the order already recorded (Stripe repeating its callback) answers the order as
/// it is; an order that no longer awaits payment is refused, naming `id`.
pub async fn pay(state: &AppState, t: &Tenant, order: Order, payment: &Payment) -> Result<Order, AppError> {
    let id = order.id.clone();
    let first = FirstRead::new(order);
    let paid = until_committed(|| async {
        let order = current(state, t, &first, &id).await?;
        complete(state, t, order, payment).await
    })
    .await?;
    state.config.failpoint(crate::state::Failpoint::CrashAfterPayment);
    match paid.awaits_delivery() && paid.payment_id.as_deref() == Some(&payment.reference()) {
        true => delivery::deliver(state, t, paid).await,
        false => Ok(paid),
    }
}

/// The order as the caller read it on the first try, read again after a conflict.
pub(crate) async fn current(
    state: &AppState,
    t: &Tenant,
    first: &FirstRead<Order>,
    id: &str,
) -> Result<Order, Retry> {
    match first.take() {
        Some(o) => Ok(o),
        None => Ok(state.db.get_order(t, id).await?.ok_or_else(|| AppError::not_found("Order"))?),
    }
}

/// One try at recording the payment: the goods, the customer, the events, one transaction.
async fn complete(state: &AppState, t: &Tenant, order: Order, payment: &Payment) -> Result<Order, Retry> {
    if !order.awaits_payment() {
        if order.payment_id.as_deref() == Some(&payment.reference()) {
            return Ok(order);
        }
        // A payment that parked serials before the order ended gives them back.
        if order.product_type == ProductType::Serials && order.quantity as usize > INLINE_SERIALS {
            state.db.return_parked(t, &order.product_id, &order.id).await?;
        }
        return Err(no_longer_payable(&order).into());
    }
    let product = state
        .db
        .get_product(t, &order.product_id)
        .await?
        .ok_or_else(|| AppError::invalid("id", "the product of this order no longer exists"))?;
    let now = Timestamp::now();
    let lane = product.lane_of(order.variant.as_ref().map(|v| v.id.as_str()));
    let q = order.quantity as usize;
    let (mut picked, mut parked) = (Vec::new(), Vec::new());
    let goods = match product.product_type {
        // A small order takes its serials in the payment's own transaction; a large one parks
        // them under the order first, a transaction's worth at a time.
        ProductType::Serials if q <= INLINE_SERIALS => {
            picked = state.db.pick_serials(t, &product.id, &lane, q).await?;
            Goods::Serials(picked.iter().map(|e| e.serial.clone()).collect())
        }
        ProductType::Serials => {
            parked = park(state, t, &order, &product, &lane).await?;
            Goods::Serials(parked.iter().flat_map(|p| p.entries.iter().map(|e| e.serial.clone())).collect())
        }
        ProductType::DigitalDownload => Goods::Download { token: new_download_token() },
        ProductType::Dynamic => Goods::Dynamic,
        ProductType::Service => Goods::Note(product.seller_note.clone()),
    };
    let taken = match &goods {
        Goods::Serials(s) => s.len(),
        _ => 0,
    };
    if product.product_type == ProductType::Serials && taken < q {
        // Cannot happen while reservations hold; if it does, the payment is refused (a Stripe
        // payment is then refunded) rather than retried forever.
        tracing::error!(order = %order.id, "the pool no longer has the serials this order holds");
        return Err(
            AppError::invalid("id", "this order can no longer be fulfilled: its serials are gone").into()
        );
    }
    let download = match (&goods, &product.file_url) {
        (Goods::Download { token }, Some(file_url)) => Some((token.clone(), file_url.clone())),
        _ => None,
    };
    let buyer = state.db.find_buyer(t, &order.customer_email).await?;
    let new_customer = Customer {
        id: sellvy_models::id::CustomerId::new(),
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
    // Dynamic goods are fetched right after this write; should this process die first, the
    // sweeper fetches them once the grace has passed.
    let mut paid = order
        .paid(goods, payment, &customer_id, now)
        .goods_due_by(now.plus_seconds(state.config.goods_grace_secs));
    // A recurring product's first order starts its subscription; a renewal's moves it on,
    // only while this order is the renewal due.
    let subscription = match (&order.recurring, &order.subscription_id) {
        (Some(recurring), None) => {
            let mut sub = Subscription::start(&paid, *recurring, now);
            sub.card = payment.saved_card();
            paid.subscription_id = Some(sub.id.clone());
            Some((sub, None))
        }
        (_, Some(id)) => {
            let sub = state.db.get_subscription(t, id).await?.ok_or_else(|| {
                AppError::invalid("id", "the subscription of this renewal no longer exists")
            })?;
            if !sub.renews_with(&order.id) {
                return Err(AppError::invalid("id", "this renewal is no longer due").into());
            }
            let mut renewed = sub.renewed(&order.id, now);
            // A card the buyer paid with now is the one later renewals charge.
            renewed.card = payment.saved_card().or(renewed.card);
            Some((renewed, Some(sub)))
        }
        _ => None,
    };
    let data = paid.to_object();
    let mut events = vec![Event::new(EventType::PaymentReceived, &data)?];
    if paid.status == OrderStatus::Completed {
        events.push(Event::new(EventType::OrderCompleted, &data)?);
    }
    if buyer.is_none() {
        events.push(Event::new(EventType::CustomerCreated, &new_customer.to_object())?);
    }
    match &subscription {
        Some((sub, None)) => events.push(Event::new(EventType::SubscriptionCreated, &sub.to_object())?),
        Some((sub, Some(_))) => events.push(Event::new(EventType::SubscriptionRenewed, &sub.to_object())?),
        None => {}
    }
    // Stock falling below the seller's threshold (serials leave the product now).
    if let (Some(threshold), Stock::Count(before)) = (product.low_stock_threshold, product.stock()) {
        let after = before.saturating_sub(taken as u64);
        if before >= threshold && after < threshold {
            let mut low = product.to_object();
            low.stock = StockLevel::Count(after);
            events.push(Event::new(EventType::ProductLowStock, &low)?);
        }
    }
    let stripe_payment_intent = match payment {
        Payment::Stripe { payment_intent, .. } => Some(payment_intent.as_str()),
        Payment::Sandbox => None,
    };
    let claimed = match (picked.is_empty(), parked.is_empty()) {
        (false, _) => Claimed::Pool(&picked),
        (_, false) => Claimed::Parked(&parked),
        _ => Claimed::Nothing,
    };
    let completion = Completion {
        paid: &paid,
        old: &order,
        product: &product,
        claimed,
        customer,
        events: &events,
        download: download.as_ref().map(|(token, file_url)| DownloadGrant {
            token,
            file_url,
            expires_at: now.plus_seconds(DOWNLOAD_TTL_SECS),
            max_downloads: MAX_DOWNLOADS,
        }),
        stripe_payment_intent,
        subscription: subscription.as_ref().map(|(new, old)| match old {
            None => SubscriptionWrite::Start(new),
            Some(old) => SubscriptionWrite::Renew { new, old },
        }),
    };
    state.db.complete_order(t, &completion).await?;
    Ok(paid)
}

/// Parks a large order's serials under it (what earlier tries parked counts): chunks leave the
/// pool one transaction at a time; a chunk whose serials another buyer took is picked again.
async fn park(
    state: &AppState,
    t: &Tenant,
    order: &Order,
    product: &Product,
    lane: &str,
) -> Result<Vec<Parked>, Retry> {
    let q = order.quantity as usize;
    let mut parked = state.db.parked(t, &order.id).await?;
    let mut collisions = 0;
    loop {
        let have: usize = parked.iter().map(|p| p.entries.len()).sum();
        if have >= q {
            return Ok(parked);
        }
        let want = (q - have).min(CHUNK);
        let picked = state.db.pick_serials(t, &product.id, lane, want).await?;
        if picked.len() < want {
            return Ok(parked); // the caller refuses: the serials are gone
        }
        match state.db.park_serials(t, &product.id, &order.id, parked.len(), &picked).await {
            Ok(chunk) => parked.push(chunk),
            // Another buyer took one of them, or another try of this payment parked this chunk.
            Err(StoreError::Conflict) if collisions < 50 => {
                collisions += 1;
                parked = state.db.parked(t, &order.id).await?;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// One of Stripe's signed callbacks (`POST /v1/gateways/stripe/webhook`, raw body and
/// `Stripe-Signature`): `payment_intent.succeeded` pays the order, `payment_intent.payment_failed`
/// records `payment.failed` (the buyer may try again until the order expires),
/// `charge.dispute.created` records `order.disputed`, `setup_intent.succeeded` starts a free
/// trial with the card it saved; other types are acknowledged and ignored.
pub async fn stripe_callback(
    state: &AppState,
    body: &[u8],
    signature: Option<&str>,
) -> Result<GatewayCallback, AppError> {
    let settings = state
        .stripe()
        .ok_or_else(|| AppError::NotFound("Stripe payments are not configured on this deployment".into()))?;
    let event =
        stripe::verify_callback(body, signature, &settings.webhook_secret, Timestamp::now().seconds())
            .map_err(|e| AppError::Unauthenticated(e.to_string()))?;
    let kind = event["type"].as_str().unwrap_or_default().to_string();
    let object = &event["data"]["object"];
    let outcome = match kind.as_str() {
        "payment_intent.succeeded" => stripe_succeeded(state, settings, object).await?,
        "setup_intent.succeeded" => stripe_setup_succeeded(state, object).await?,
        "payment_intent.payment_failed" => stripe_attempt_failed(state, object).await?,
        "charge.dispute.created" => stripe_disputed(state, object).await?,
        _ => "ignored",
    };
    tracing::info!(stripe_event = %event["id"].as_str().unwrap_or("-"), %kind, outcome, "stripe callback");
    Ok(GatewayCallback { event: kind, outcome: outcome.to_string() })
}

/// The order a PaymentIntent's metadata names (Sellvy wrote it at checkout).
async fn order_of(state: &AppState, intent: &Value) -> Result<Option<(Tenant, Order)>, AppError> {
    let meta = &intent["metadata"];
    let (Some(store), Some(mode), Some(id)) =
        (meta["sellvy_store"].as_str(), meta["sellvy_mode"].as_str(), meta["sellvy_order"].as_str())
    else {
        return Ok(None);
    };
    let mode = match mode {
        "live" => Mode::Live,
        "test" => Mode::Test,
        _ => return Ok(None),
    };
    let Some(store_id) = sellvy_models::id::StoreId::parse(store) else { return Ok(None) };
    let t = Tenant { store_id, mode };
    let Some(id) = sellvy_models::id::OrderId::parse(id) else { return Ok(None) };
    Ok(state.db.get_order(&t, &id).await?.map(|o| (t, o)))
}

async fn stripe_succeeded(
    state: &AppState,
    settings: &StripeSettings,
    intent: &Value,
) -> Result<&'static str, AppError> {
    let Some((t, order)) = order_of(state, intent).await? else { return Ok("unknown order") };
    let Some(pi) = intent["id"].as_str() else { return Ok("no payment intent id") };
    let amount = intent["amount_received"].as_i64().or(intent["amount"].as_i64()).unwrap_or(0);
    let currency = intent["currency"].as_str().unwrap_or_default();
    let card = match (intent["customer"].as_str(), intent["payment_method"].as_str()) {
        // A PaymentIntent that saved its card for later (a subscription's).
        (Some(customer), Some(pm)) if intent["setup_future_usage"].as_str() == Some("off_session") => {
            Some(SavedCard { customer: customer.into(), payment_method: pm.into() })
        }
        _ => None,
    };
    let payment = Payment::Stripe { payment_intent: pi.to_string(), card };
    if order.payment_id.as_deref() == Some(pi) {
        return Ok("already recorded");
    }
    let expected = stripe::amount_for_stripe(order.total_minor, &order.currency);
    let matches = amount == expected && currency.eq_ignore_ascii_case(&order.currency);
    if matches && order.awaits_payment() {
        match pay(state, &t, order.clone(), &payment).await {
            Ok(_) => return Ok("paid"),
            // The order ended (expired, cancelled) while this callback ran.
            Err(AppError::Invalid(_)) => {}
            Err(e) => return Err(e),
        }
        let now = state.db.get_order(&t, &order.id).await?;
        if now.as_ref().and_then(|o| o.payment_id.as_deref()) == Some(pi) {
            return Ok("already recorded");
        }
    }
    // Money Sellvy cannot honour (the order expired, was cancelled or paid otherwise, or the
    // amount differs from the order's): give it back at once.
    tracing::warn!(order = %order.id, %pi, amount, "refunding a payment its order cannot take");
    stripe::refund(settings, pi, amount, &format!("sellvy-return-{pi}"), &[("sellvy_order", &order.id)])
        .await
        .map_err(|e| AppError::Gateway(format!("could not return a payment for order {}: {e}", order.id)))?;
    Ok("refunded: the order could not take this payment")
}

/// A free trial's SetupIntent saved the buyer's card: its order (which charges nothing) is
/// paid, and the subscription starts its trial with the card saved for the renewals.
async fn stripe_setup_succeeded(state: &AppState, setup: &Value) -> Result<&'static str, AppError> {
    let Some((t, order)) = order_of(state, setup).await? else { return Ok("unknown order") };
    let (Some(seti), Some(customer), Some(pm)) =
        (setup["id"].as_str(), setup["customer"].as_str(), setup["payment_method"].as_str())
    else {
        return Ok("no card saved");
    };
    if order.payment_id.as_deref() == Some(seti) {
        return Ok("already recorded");
    }
    if order.total_minor != 0 || !order.awaits_payment() {
        return Ok("the order does not await a free trial's card");
    }
    let card = Some(SavedCard { customer: customer.into(), payment_method: pm.into() });
    match pay(state, &t, order, &Payment::Stripe { payment_intent: seti.to_string(), card }).await {
        Ok(_) => Ok("trial started"),
        Err(AppError::Invalid(_)) => Ok("the order no longer awaits payment"),
        Err(e) => Err(e),
    }
}

async fn stripe_attempt_failed(state: &AppState, intent: &Value) -> Result<&'static str, AppError> {
    let Some((t, order)) = order_of(state, intent).await? else { return Ok("unknown order") };
    let reason =
        intent["last_payment_error"]["message"].as_str().unwrap_or("the payment was declined").to_string();
    let id = order.id.clone();
    until_committed(|| async {
        let Some(order) = state.db.get_order(&t, &id).await? else { return Ok("unknown order") };
        if !order.awaits_payment() {
            return Ok("order no longer awaits payment");
        }
        let failed = order.payment_attempt_failed(reason.clone(), Timestamp::now());
        let event = Event::new(EventType::PaymentFailed, &failed.to_object())?;
        state.db.update_order(&t, &failed, &order, &[event]).await?;
        Ok("payment failure recorded")
    })
    .await
}

async fn stripe_disputed(state: &AppState, dispute: &Value) -> Result<&'static str, AppError> {
    let pi = match &dispute["payment_intent"] {
        Value::String(pi) => pi.clone(),
        Value::Object(o) => o.get("id").and_then(|v| v.as_str()).unwrap_or_default().to_string(),
        _ => String::new(),
    };
    let Some((t, id)) = state.db.find_stripe_payment(&pi).await? else { return Ok("unknown payment") };
    let record = Dispute {
        id: dispute["id"].as_str().unwrap_or_default().to_string(),
        reason: dispute["reason"].as_str().unwrap_or("general").to_string(),
        status: dispute["status"].as_str().unwrap_or("needs_response").to_string(),
        opened_at: dispute["created"]
            .as_i64()
            .map(|s| Timestamp::from_millis(s * 1000))
            .unwrap_or_else(Timestamp::now),
    };
    until_committed(|| async {
        let Some(order) = state.db.get_order(&t, &id).await? else { return Ok("unknown order") };
        if order.dispute.as_ref().is_some_and(|d| d.id == record.id) {
            return Ok("already recorded");
        }
        let disputed = order.disputed(record.clone(), Timestamp::now());
        let event = Event::new(EventType::OrderDisputed, &disputed.to_object())?;
        state.db.update_order(&t, &disputed, &order, &[event]).await?;
        Ok("dispute recorded")
    })
    .await
}
