//! Subscriptions: started by paying a recurring product's order ([`crate::payment`] writes
//! the subscription with the payment), renewed by the sweeper from due times in the table, by
//! a test clock moved forward, or by the buyer paying a failed renewal; cancelled by the
//! seller or the buyer.
//!
//! A renewal is an order like any other (placed with its stock, paid, delivered, with its
//! events and the customer's totals), whose id is derived from the subscription, its period
//! and its try: however many sweeps, retries or callbacks run, one order is placed for a
//! period's try, and its payment renews the subscription in the payment's own transaction
//! only while that order is still the one due ([`Subscription::renewal_order_id`]).

use crate::retry::{FirstRead, Retry, until_committed};
use crate::{AppError, AppState, cancel, lookup, payment};
use sellvy_models::order::{Order, Payment, token_hash};
use sellvy_models::subscription::{Due, Status, Subscription, SubscriptionListQuery};
use sellvy_models::time::Timestamp;
use sellvy_models::wire::{
    CancelSubscriptionInput, PaymentInstructions, StripePayment, SubscriptionObject, TestClockInput,
};
use sellvy_models::{Event, EventType, Mode, PageRequest, Tenant};
use sellvy_payments::stripe::{self, StripeError};
use sellvy_store::{Page, StoreError};
use serde_json::Value;

/// Subscriptions one sweep looks at (the rest wait for the next run).
const SWEEP_BATCH: u32 = 500;
/// Due steps one subscription takes in one sweep (a sweeper that was down catches up a few
/// periods a run).
const STEPS_PER_SWEEP: usize = 3;
/// Due steps one move of a test clock runs; a move with more left runs the rest on the next.
pub const STEPS_PER_CLOCK_MOVE: usize = 100;

pub async fn find(state: &AppState, t: &Tenant, id: &str) -> Result<Subscription, AppError> {
    lookup(id, async |id: &sellvy_models::id::SubscriptionId| state.db.get_subscription(t, id).await).await
}

/// The subscription `id`, for a buyer holding its access token (its first order's); anyone
/// else finds nothing. Compared in constant time.
pub async fn for_buyer(
    state: &AppState,
    t: &Tenant,
    id: &str,
    token: &str,
) -> Result<Subscription, AppError> {
    let sub = match sellvy_models::id::SubscriptionId::parse(id) {
        Some(id) => state.db.get_subscription(t, &id).await?,
        None => None,
    };
    let expected = sub.as_ref().map(|s| s.token_hash.as_str()).unwrap_or_default();
    let matches = sellvy_models::signature::same(expected.as_bytes(), token_hash(token).as_bytes());
    match sub {
        Some(s) if matches => Ok(s),
        _ => Err(AppError::not_found("Subscription")),
    }
}

/// The seller's subscriptions, newest first, filtered as `query` asks.
pub async fn list(
    state: &AppState,
    t: &Tenant,
    page: PageRequest,
    query: &SubscriptionListQuery,
) -> Result<Page<SubscriptionObject>, AppError> {
    if query == &SubscriptionListQuery::default() {
        let found = state.db.subscription_page(t, page.offset(), page.per_page).await?;
        return Ok(Page {
            items: found.items.iter().map(Subscription::to_object).collect(),
            total: found.total,
        });
    }
    let mut matching = state.db.subscription_summaries(t).await?;
    matching.retain(|s| query.matches(&s.status, &s.product_id, &s.customer_email));
    matching.reverse();
    let (ids, total) = crate::listing::page_ids(matching, page, |s| s.id);
    let found = state.db.get_subscriptions(t, &ids).await?;
    Ok(Page { items: found.iter().map(Subscription::to_object).collect(), total })
}

/// Who cancels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Canceller {
    Seller,
    Buyer,
}

/// Ends `sub` at once or at its period's end (`at_period_end`, the default):
/// `subscription.cancelled`, with who and why. Asking again for an end already asked for
/// changes nothing.
pub async fn cancel(
    state: &AppState,
    t: &Tenant,
    id: &str,
    by: Canceller,
    body: Value,
    token: Option<&str>,
) -> Result<Subscription, AppError> {
    let body = if body.is_null() { Value::Object(Default::default()) } else { body };
    let sellvy_models::request::Body { fields, mut errors } =
        sellvy_models::request::read::<CancelSubscriptionInput, CancelSubscriptionInput>(body)?;
    let reason = sellvy_models::request::trimmed(fields.reason);
    if by == Canceller::Buyer && reason.is_some() {
        errors.add("reason", "is the seller's to give");
    }
    errors.finish()?;
    let at_period_end = fields.at_period_end.unwrap_or(true);
    let reason = reason.unwrap_or_else(|| "requested".into());
    let who = match by {
        Canceller::Seller => "seller",
        Canceller::Buyer => "buyer",
    };
    until_committed(|| async {
        let old = match token {
            Some(token) => for_buyer(state, t, id, token).await?,
            None => find(state, t, id).await?,
        };
        let in_period = matches!(old.status(), Status::Active | Status::Trialing);
        if old.schedule.cancel_at_period_end && at_period_end && in_period {
            return Ok(old);
        }
        let new = old.cancelled(who, &reason, at_period_end, state.config.clock.now())?;
        let event = Event::new(EventType::SubscriptionCancelled, &new.to_object())?;
        state.db.update_subscription(t, &new, &old, &[event]).await?;
        Ok(new)
    })
    .await
}

/// What one step of a subscription did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stepped {
    /// Nothing was due.
    Nothing,
    Renewed,
    /// The renewal failed: `past_due`, or cancelled when dunning was spent.
    Failed,
    /// Its last period ended (expired, or its product is no longer sold).
    Ended,
}

/// Does what is due on subscription `id` at its clock (`now` unless a test clock drives it).
pub async fn step(state: &AppState, t: &Tenant, id: &str, now: Timestamp) -> Result<Stepped, AppError> {
    until_committed(|| async {
        let Some(sub) = state.db.get_subscription(t, id).await? else { return Ok(Stepped::Nothing) };
        let at = sub.clock(now);
        match sub.schedule.due(at) {
            Due::Nothing => Ok(Stepped::Nothing),
            Due::Expiry => {
                let ended = sub.expired(now);
                let event = Event::new(EventType::SubscriptionCancelled, &ended.to_object())?;
                state.db.update_subscription(t, &ended, &sub, &[event]).await?;
                Ok(Stepped::Ended)
            }
            // A failure counts from when the renewal was due (a test clock may be far past it).
            Due::Renewal => {
                let due = sub.schedule.next_due().filter(|d| *d <= at).unwrap_or(at);
                renew(state, t, &sub, due, now).await
            }
        }
    })
    .await
}

/// One try at charging what `sub` (as read) has due at `at`.
async fn renew(
    state: &AppState,
    t: &Tenant,
    sub: &Subscription,
    at: Timestamp,
    now: Timestamp,
) -> Result<Stepped, Retry> {
    let product = state.db.get_product(t, &sub.product_id).await?.filter(|p| p.is_public());
    let Some(product) = product else {
        let ended = sub.product_unavailable(now);
        let event = Event::new(EventType::SubscriptionCancelled, &ended.to_object())?;
        state.db.update_subscription(t, &ended, sub, &[event]).await?;
        return Ok(Stepped::Ended);
    };
    let id = sub.renewal_order_id();
    let order = match state.db.get_order(t, &id).await? {
        Some(order) => order,
        None => {
            let number = state.db.next_order_number(t).await?;
            let order = match Order::renewal(sub, id.clone(), &product, number, now) {
                Ok(order) => order,
                Err(why) => return failed(state, t, sub, at, now, &reason(&why)).await,
            };
            let event = Event::new(EventType::OrderCreated, &order.to_object())?;
            match state.db.place_order(t, &order, &product, None, &event, u32::MAX).await {
                Ok(()) => order,
                // The stock went between the read and the write.
                Err(StoreError::Rejected { field, message }) => {
                    return failed(state, t, sub, at, now, &format!("{field} {message}")).await;
                }
                // Another sweep placed it first: read it next try.
                Err(e) => return Err(e.into()),
            }
        }
    };
    if !order.awaits_payment() {
        return match order.subscription_id.is_some() && order.payment_id.is_some() {
            // Paid: the subscription moved on in the same transaction; read it again.
            true => Err(Retry::Conflict),
            false => {
                let why = order.payment_error.clone().unwrap_or_else(|| "the payment was declined".into());
                failed(state, t, sub, at, now, &why).await
            }
        };
    }
    let outcome = match t.mode {
        // Boxed: a payment's future is large, and a sweep nests it in loops.
        Mode::Test if !sub.sandbox_declines => {
            Box::pin(payment::pay(state, t, order.clone(), &Payment::Sandbox)).await
        }
        Mode::Test => Err(AppError::invalid("payment", "the sandbox declined the renewal")),
        Mode::Live => Box::pin(charge_saved_card(state, t, sub, &order)).await,
    };
    match outcome {
        Ok(_) => Ok(Stepped::Renewed),
        Err(AppError::Invalid(why)) => {
            // Declined, or no longer deliverable: the order ends and gives its stock back.
            if let Err(e) = cancel::payment_failed(state, t, order.clone()).await
                && !matches!(e, AppError::Invalid(_))
            {
                return Err(e.into());
            }
            failed(state, t, sub, at, now, &reason(&why)).await
        }
        Err(e) => Err(e.into()),
    }
}

fn reason(e: &sellvy_models::ValidationError) -> String {
    e.errors.first().map_or_else(|| "the renewal failed".into(), |f| format!("{}: {}", f.field, f.message))
}

/// Records a failed renewal: `past_due` until the next dunning retry, or cancelled
/// (`payment_failed`) when they are spent.
async fn failed(
    state: &AppState,
    t: &Tenant,
    sub: &Subscription,
    at: Timestamp,
    now: Timestamp,
    why: &str,
) -> Result<Stepped, Retry> {
    let new = sub.renewal_failed(at, why, now);
    let events = match new.status() {
        Status::Cancelled => vec![Event::new(EventType::SubscriptionCancelled, &new.to_object())?],
        _ => Vec::new(),
    };
    state.db.update_subscription(t, &new, sub, &events).await?;
    Ok(Stepped::Failed)
}

/// The sweeper's run at `now`: every subscription with something due (in the tenants `keep`
/// accepts) takes its steps. Returns how many renewed.
pub async fn renew_due(
    state: &AppState,
    now: Timestamp,
    keep: impl Fn(&Tenant) -> bool,
) -> Result<usize, AppError> {
    let due = state.db.due_subscriptions(now, SWEEP_BATCH).await?;
    let mut renewed = 0;
    for (t, id) in due.into_iter().filter(|(t, _)| keep(t)) {
        for _ in 0..STEPS_PER_SWEEP {
            match Box::pin(step(state, &t, &id, now)).await {
                Ok(Stepped::Nothing) => break,
                Ok(Stepped::Renewed) => renewed += 1,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(subscription = %id, error = ?e, "could not renew; the next run retries");
                    break;
                }
            }
        }
    }
    if renewed > 0 {
        tracing::info!(renewed, "renewed subscriptions");
    }
    Ok(renewed)
}

/// Test mode: moves the subscription's clock forward and runs what falls due by then (at most
/// [`STEPS_PER_CLOCK_MOVE`] steps).
pub async fn move_clock(
    state: &AppState,
    t: &Tenant,
    id: &str,
    body: Value,
) -> Result<Subscription, AppError> {
    find(state, t, id).await?;
    if t.mode != Mode::Test {
        return Err(AppError::Refused("Test clocks exist in test mode only (sk_test_… keys)".into()));
    }
    let sellvy_models::request::Body { fields, mut errors } =
        sellvy_models::request::read::<TestClockInput, TestClockInput>(body)?;
    errors.require("advance_to", &fields.advance_to);
    errors.finish()?;
    let to = fields.advance_to.unwrap_or_else(Timestamp::now);
    let declines = fields.renewals.map(|o| o == sellvy_models::wire::SandboxOutcome::Failed);
    until_committed(|| async {
        let old = find(state, t, id).await?;
        let moved = old.clock_moved(to, declines, state.config.clock.now())?;
        state.db.update_subscription(t, &moved, &old, &[]).await?;
        Ok(())
    })
    .await?;
    for _ in 0..STEPS_PER_CLOCK_MOVE {
        if Box::pin(step(state, t, id, state.config.clock.now())).await? == Stepped::Nothing {
            break;
        }
    }
    find(state, t, id).await
}

/// Live mode: charges a renewal to the subscription's saved card, without the buyer, then
/// records the payment. A decline (or a card Stripe no longer has) is [`AppError::Invalid`]:
/// the renewal failed. Anything else Stripe answers (an outage, a concurrent try of the same
/// charge, a key refused) is [`AppError::Gateway`]: the order stays open and the next sweep
/// tries again. Money taken for an order that can no longer be delivered goes back at once.
async fn charge_saved_card(
    state: &AppState,
    t: &Tenant,
    sub: &Subscription,
    order: &Order,
) -> Result<Order, AppError> {
    let Some(settings) = state.stripe() else {
        return Err(AppError::Gateway("card payments (stripe) are not configured on this deployment".into()));
    };
    let Some(card) = &sub.card else {
        return Err(AppError::invalid("payment", "no card is saved for this subscription"));
    };
    if let Some(why) = stripe::refuses_amount(order.total_minor, &order.currency) {
        return Err(AppError::invalid("payment", why));
    }
    let pi = match stripe::charge_saved_card(settings, t, order, &card.customer, &card.payment_method).await {
        Ok(pi) => pi,
        Err(e) if stripe::is_decline(&e) => return Err(AppError::invalid("payment", e.message())),
        Err(e) => return Err(AppError::Gateway(e.to_string())),
    };
    if pi.status != "succeeded" {
        return Err(AppError::invalid(
            "payment",
            format!("the card needs the buyer ({}): they can pay from their subscription's page", pi.status),
        ));
    }
    let paid =
        payment::pay(state, t, order.clone(), &Payment::Stripe { payment_intent: pi.id.clone(), card: None })
            .await;
    if let Err(AppError::Invalid(_)) = &paid {
        let key = format!("sellvy-return-{}", pi.id);
        if let Err(e) =
            stripe::refund(settings, &pi.id, pi.amount, &key, &[("sellvy_order", &order.id)]).await
        {
            tracing::error!(order = %order.id, error = %e, "could not return a renewal's payment; Stripe's callback will");
        }
    }
    paid
}

/// The buyer pays a `past_due` subscription's failed renewal now, from their own page: a
/// renewal order of its own (the dunning schedule stays as it is should it fail), paid like a
/// checkout's (the sandbox in test mode; in live mode a PaymentIntent whose card, once it
/// succeeds, is the one later renewals charge). Its payment renews the subscription from where
/// its period ended.
pub async fn buyer_payment(
    state: &AppState,
    t: &Tenant,
    id: &str,
    token: &str,
) -> Result<(Subscription, Order, PaymentInstructions), AppError> {
    let first = FirstRead::new(for_buyer(state, t, id, token).await?);
    let stripe_settings = match t.mode {
        Mode::Test => None,
        Mode::Live => Some(state.stripe().ok_or_else(|| {
            AppError::invalid("id", "card payments (stripe) are not configured on this deployment")
        })?),
    };
    let now = state.config.clock.now();
    let (paying, order) = until_committed(|| async {
        let sub = match first.take() {
            Some(s) => s,
            None => for_buyer(state, t, id, token).await?,
        };
        sub.awaits_buyer_payment()?;
        let n = sub.payment_attempts;
        // The buyer's latest order, still open, is answered again: asking twice (or at once)
        // holds the stock once.
        if n > 0
            && let Some(open) =
                state.db.get_order(t, &sub.buyer_order_id(n)).await?.filter(Order::awaits_payment)
        {
            return Ok((sub, open));
        }
        let next = sub.buyer_order_id(n + 1);
        let order = match state.db.get_order(t, &next).await? {
            // Placed by a request that has not counted it yet.
            Some(placed) => placed,
            None => {
                let product = state
                    .db
                    .get_product(t, &sub.product_id)
                    .await?
                    .filter(|p| p.is_public())
                    .ok_or_else(|| AppError::invalid("id", "its product is no longer sold"))?;
                let number = state.db.next_order_number(t).await?;
                let order = Order::renewal(&sub, next, &product, number, now).map_err(|e| {
                    AppError::invalid("id", format!("the renewal cannot be sold now: {}", reason(&e)))
                })?;
                let event = Event::new(EventType::OrderCreated, &order.to_object())?;
                match state.db.place_order(t, &order, &product, None, &event, u32::MAX).await {
                    Ok(()) => order,
                    Err(StoreError::Rejected { field, message }) => {
                        return Err(AppError::invalid(
                            "id",
                            format!("the renewal cannot be sold now: {field} {message}"),
                        )
                        .into());
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        };
        let paying = sub.buyer_pays(now)?;
        state.db.update_subscription(t, &paying, &sub, &[]).await?;
        Ok((paying, order))
    })
    .await?;
    let stripe = match stripe_settings {
        None => None,
        Some(settings) => match card_payment(settings, t, &order, paying.card.as_ref()).await {
            Ok(pi) => Some(StripePayment {
                client_secret: pi.client_secret.unwrap_or_default(),
                payment_intent: pi.id,
                mode: "payment".into(),
                publishable_key: settings.publishable_key.clone(),
            }),
            Err(e) => return Err(abandon(state, t, &order, e).await),
        },
    };
    let payment =
        PaymentInstructions { gateway: order.gateway.clone(), sandbox: t.mode == Mode::Test, stripe };
    Ok((paying, order, payment))
}

/// The PaymentIntent the buyer confirms, on the subscription's Stripe customer so the card is
/// saved for later renewals; a customer Stripe no longer has (deleted in its dashboard) is made
/// anew.
async fn card_payment(
    settings: &stripe::StripeSettings,
    t: &Tenant,
    order: &Order,
    card: Option<&sellvy_models::order::SavedCard>,
) -> Result<stripe::PaymentIntent, StripeError> {
    if let Some(card) = card {
        match stripe::create_payment_intent(settings, t, order, Some(&card.customer)).await {
            Err(e) if stripe::is_missing(&e) => {}
            done => return done,
        }
    }
    let customer = stripe::create_customer(settings, t, order).await?;
    // Another key than the refused call's: Stripe keeps the answer to a key.
    stripe::create_payment_intent_with_key(settings, t, order, Some(&customer.id), "new-customer").await
}

/// Stripe could not take the buyer's payment: its order ends at once.
async fn abandon(state: &AppState, t: &Tenant, order: &Order, e: StripeError) -> AppError {
    if let Err(err) = cancel::payment_failed(state, t, order.clone()).await {
        tracing::error!(order = %order.id, error = ?err, "could not end an order Stripe refused; the sweeper will");
    }
    AppError::Gateway(format!("The payment gateway failed; nothing was charged ({e})"))
}
