//! Checkout: a buyer's order for one product. The store's rules are checked first (blocked
//! countries and networks, blacklisted buyers), then the order is priced and written with its
//! stock, coupon use and the reservation policy's counters ([`sellvy_models::hold`]) in one
//! transaction (`order.created`); in live mode a Stripe
//! PaymentIntent is created for it, and if Stripe cannot take it the order ends at once.

use crate::cancel;
use crate::error::AppError;
use crate::retry::{Retry, until_committed};
use crate::state::AppState;
use sellvy_models::apikey::Store;
use sellvy_models::hold;
use sellvy_models::id::{OrderId, ProductId};
use sellvy_models::order::{CheckoutRequest, Order, Placed, token_hash};
use sellvy_models::wire::{CheckoutObject, PaymentInstructions, StripePayment};
use sellvy_models::{Event, EventType, Mode, Tenant};
use sellvy_payments::stripe::{self, StripeError};
use sellvy_store::StoreError;

/// Who is buying: the storefront's store and mode, and the client's address.
pub struct Buyer<'a> {
    pub tenant: &'a Tenant,
    pub store: &'a Store,
    /// The client's address (for the store's blocked networks).
    pub client: &'a str,
}

/// Places the order `req` asks for and says how to pay it; the access token is in the answer
/// only.
pub async fn checkout(
    state: &AppState,
    buyer: &Buyer<'_>,
    req: CheckoutRequest,
) -> Result<CheckoutObject, AppError> {
    let t = buyer.tenant;
    let stripe = match t.mode {
        Mode::Test => None,
        Mode::Live => Some(state.stripe().ok_or_else(|| {
            AppError::invalid("gateway", "card payments (stripe) are not configured on this deployment yet")
        })?),
    };
    let country = req.customer.as_ref().and_then(|c| c.get("country")).and_then(|c| c.as_str());
    if let Some(why) = buyer.store.settings(t.mode).refuses(buyer.client, country) {
        return Err(AppError::Refused(why));
    }
    let known = state.db.find_buyer(t, &req.email).await?;
    if known.as_ref().is_some_and(|b| b.blacklisted) {
        return Err(AppError::Refused("This buyer cannot order from this store".into()));
    }
    let number = state.db.next_order_number(t).await?;
    let placed =
        until_committed(|| place(state, buyer, &req, number, known.is_none(), stripe.is_some())).await?;
    let stripe = match stripe {
        None => None,
        Some(settings) => Some(match live_payment(settings, t, &placed.order).await {
            Ok(payment) => payment,
            Err(e) => return Err(abandon(state, t, &placed.order, e).await),
        }),
    };
    let payment =
        PaymentInstructions { gateway: placed.order.gateway.clone(), sandbox: t.mode == Mode::Test, stripe };
    Ok(CheckoutObject { order: placed.order.to_object(), access_token: placed.access_token, payment })
}

/// How a live order is paid: a PaymentIntent; a recurring product's first order saves the
/// card on a Stripe customer of its own, for the renewals, and a free trial's (which charges
/// nothing) only saves it, with a SetupIntent.
async fn live_payment(
    settings: &stripe::StripeSettings,
    t: &Tenant,
    order: &Order,
) -> Result<StripePayment, StripeError> {
    let customer = match order.starts_subscription() {
        true => Some(stripe::create_customer(settings, t, order).await?.id),
        false => None,
    };
    if let (Some(customer), Some(_)) = (&customer, order.trial_days) {
        let setup = stripe::create_setup_intent(settings, t, order, customer).await?;
        return Ok(StripePayment {
            client_secret: setup.client_secret.unwrap_or_default(),
            payment_intent: setup.id,
            mode: "setup".into(),
            publishable_key: settings.publishable_key.clone(),
        });
    }
    let pi = stripe::create_payment_intent(settings, t, order, customer.as_deref()).await?;
    Ok(StripePayment {
        client_secret: pi.client_secret.unwrap_or_default(),
        payment_intent: pi.id,
        mode: "payment".into(),
        publishable_key: settings.publishable_key.clone(),
    })
}

/// One try at writing the order: the product (and coupon) read, the order priced and checked
/// against the risk rules, then written with its stock and coupon use.
async fn place(
    state: &AppState,
    buyer: &Buyer<'_>,
    req: &CheckoutRequest,
    number: u64,
    first_purchase: bool,
    live: bool,
) -> Result<Placed, Retry> {
    let t = buyer.tenant;
    let product = match ProductId::parse(&req.product_id) {
        Some(id) => state.db.get_product(t, &id).await?,
        None => None,
    }
    .filter(|p| p.is_public())
    .ok_or_else(|| AppError::invalid("product_id", "is not a product of this store"))?;
    let coupon = match &req.coupon {
        None => None,
        Some(code) => Some(
            state
                .db
                .find_coupon_by_code(t, code)
                .await?
                .ok_or_else(|| AppError::invalid("coupon", "does not exist"))?,
        ),
    };
    let now = state.config.clock.now();
    let mut placed = Order::place(req, &product, coupon.as_ref(), number, now, first_purchase)?;
    let settings = buyer.store.settings(t.mode);
    placed.order.hold = hold::Hold {
        holders: hold::holders(buyer.client, &req.email),
        cooldown_secs: settings.renewal_cooldown(),
    };
    if live && let Some(why) = stripe::refuses_amount(placed.order.total_minor, &placed.order.currency) {
        return Err(AppError::invalid("gateway", why).into());
    }
    if placed.order.too_risky_for(&product) {
        let score = placed.order.fraud_score;
        return Err(AppError::Refused(format!(
            "This order was refused by the store's risk rules (score {score})"
        ))
        .into());
    }
    let event = Event::new(EventType::OrderCreated, &placed.order.to_object())?;
    let max_open = settings.open_orders_per_buyer();
    match state.db.place_order(t, &placed.order, &product, coupon.as_ref(), &event, max_open).await {
        Err(StoreError::Refused) => {
            let counts = state.db.hold_counts(t, &product.id, &placed.order.hold.holders).await?;
            Err(AppError::Refused(hold::refusal(&counts, max_open, now)).into())
        }
        done => done.map(|()| placed).map_err(Retry::from),
    }
}

/// Stripe could not take the payment of a new order: the order ends at once (its stock and
/// coupon use go back, `payment.failed` and `order.cancelled`) and the buyer is told.
async fn abandon(state: &AppState, t: &Tenant, order: &Order, e: StripeError) -> AppError {
    if let Err(err) = cancel::payment_failed(state, t, order.clone()).await {
        tracing::error!(order = %order.id, error = ?err, "could not end an order Stripe refused; the sweeper will");
    }
    match e {
        StripeError::Refused { status, message, .. } if status == 400 || status == 402 => {
            AppError::invalid("gateway", format!("Stripe refused this payment: {message}"))
        }
        other => AppError::Gateway(format!(
            "The payment gateway failed; nothing was charged and the order was cancelled ({other})"
        )),
    }
}

/// The order `id`, for a buyer holding its access token; anyone else finds nothing (the same
/// answer as for an order that does not exist). The token is compared in constant time.
pub async fn order_for_buyer(state: &AppState, t: &Tenant, id: &str, token: &str) -> Result<Order, AppError> {
    let order = match OrderId::parse(id) {
        Some(id) => state.db.get_order(t, &id).await?,
        None => None,
    };
    let expected = order.as_ref().map(|o| o.token_hash.as_str()).unwrap_or_default();
    let matches = sellvy_models::signature::same(expected.as_bytes(), token_hash(token).as_bytes());
    match order {
        Some(o) if matches => Ok(o),
        _ => Err(AppError::not_found("Order")),
    }
}
