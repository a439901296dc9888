//! Stripe's own callbacks (`POST /v1/gateways/stripe/webhook`): nothing in them is believed
//! before `Stripe-Signature` verifies (HMAC of `"{t}.{body}"` with the endpoint's secret, `t`
//! within 5 minutes). The PaymentIntent's metadata (written by Sellvy at checkout) names the
//! store, mode and order; disputes find the order through the PaymentIntent recorded when it
//! was paid. Every outcome is idempotent: Stripe repeats callbacks until it gets a 2xx.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use sellvy_api::docs::{Errors, GatewayError, NotFound};
use sellvy_api::{ApiError, AppState, StripeSettings, until_committed};
use sellvy_models::order::{Dispute, Order, Payment};
use sellvy_models::time::Timestamp;
use sellvy_models::wire::{GatewayCallback, GatewayCallbackData};
use sellvy_models::{Event, EventType, Mode, Tenant};
use sellvy_payments::stripe;
use serde_json::Value;

/// Receive a Stripe callback
///
/// For Stripe only (no Sellvy key): `payment_intent.succeeded` pays the order and delivers its
/// goods; `payment_intent.payment_failed` records `payment.failed` (the buyer may try again
/// until the order expires); `charge.dispute.created` records `order.disputed`. A payment that
/// arrives after its order expired is refunded at once. Other event types are acknowledged and
/// ignored. A missing, wrong or stale (over 5 minutes) `Stripe-Signature` is a 401.
#[utoipa::path(post, path = "/v1/gateways/stripe/webhook", operation_id = "stripe_webhook", tag = "Gateways",
    request_body(content = Object, description = "A Stripe event object, as Stripe sends it"),
    params(("Stripe-Signature" = String, Header, description = "`t=<unix seconds>,v1=<hex HMAC-SHA256>`")),
    security(()),
    responses((status = 200, description = "Received", body = GatewayCallbackData), NotFound, GatewayError, Errors))]
pub async fn stripe_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let settings =
        state.config.stripe.as_ref().ok_or_else(|| {
            ApiError::NotFound("Stripe payments are not configured on this deployment".into())
        })?;
    let signature = headers.get("stripe-signature").and_then(|v| v.to_str().ok());
    let event =
        stripe::verify_callback(&body, signature, &settings.webhook_secret, Timestamp::now().seconds())
            .map_err(|e| ApiError::Unauthorized(e.to_string()))?;
    let kind = event["type"].as_str().unwrap_or_default().to_string();
    let object = &event["data"]["object"];
    let outcome = match kind.as_str() {
        "payment_intent.succeeded" => succeeded(&state, settings, object).await?,
        "payment_intent.payment_failed" => attempt_failed(&state, object).await?,
        "charge.dispute.created" => disputed(&state, object).await?,
        _ => "ignored",
    };
    tracing::info!(stripe_event = %event["id"].as_str().unwrap_or("-"), %kind, outcome, "stripe callback");
    Ok(sellvy_api::ok(GatewayCallback { event: kind, outcome: outcome.to_string() }))
}

/// The order a PaymentIntent's metadata names (Sellvy wrote it at checkout).
async fn order_of(state: &AppState, intent: &Value) -> Result<Option<(Tenant, Order)>, ApiError> {
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
    let t = Tenant { store_id: store.to_string(), mode };
    if !sellvy_models::id::looks_like("ord_", id) {
        return Ok(None);
    }
    Ok(state.db.get_order(&t, id).await?.map(|o| (t, o)))
}

async fn succeeded(
    state: &AppState,
    settings: &StripeSettings,
    intent: &Value,
) -> Result<&'static str, ApiError> {
    let Some((t, order)) = order_of(state, intent).await? else { return Ok("unknown order") };
    let Some(pi) = intent["id"].as_str() else { return Ok("no payment intent id") };
    let amount = intent["amount_received"].as_i64().or(intent["amount"].as_i64()).unwrap_or(0);
    let currency = intent["currency"].as_str().unwrap_or_default();
    let payment = Payment::Stripe { payment_intent: pi.to_string() };
    if order.payment_id.as_deref() == Some(pi) {
        return Ok("already recorded");
    }
    let expected = stripe::amount_for_stripe(order.total_minor, &order.currency);
    let matches = amount == expected && currency.eq_ignore_ascii_case(&order.currency);
    if matches && order.awaits_payment() {
        match sellvy_payments::pay(state, &t, order.clone(), &payment).await {
            Ok(_) => return Ok("paid"),
            // The order ended (expired, cancelled) while this callback ran.
            Err(ApiError::Validation(_)) => {}
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
        .map_err(|e| ApiError::Gateway(format!("could not return a payment for order {}: {e}", order.id)))?;
    Ok("refunded: the order could not take this payment")
}

async fn attempt_failed(state: &AppState, intent: &Value) -> Result<&'static str, ApiError> {
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
        let event = Event::new(
            EventType::PaymentFailed,
            serde_json::to_value(failed.to_object()).unwrap_or_default(),
        );
        state.db.update_order(&t, &failed, &order, &[event]).await?;
        Ok("payment failure recorded")
    })
    .await
}

async fn disputed(state: &AppState, dispute: &Value) -> Result<&'static str, ApiError> {
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
        let event = Event::new(
            EventType::OrderDisputed,
            serde_json::to_value(disputed.to_object()).unwrap_or_default(),
        );
        state.db.update_order(&t, &disputed, &order, &[event]).await?;
        Ok("dispute recorded")
    })
    .await
}
