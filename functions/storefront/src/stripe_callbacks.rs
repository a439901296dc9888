//! Stripe's own callbacks (`POST /v1/gateways/stripe/webhook`). What each one means for an
//! order is the application's payment flow (`sellvy_app::payment::stripe_callback`); nothing
//! in a callback is believed before its `Stripe-Signature` verifies.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use sellvy_api::ApiError;
use sellvy_api::docs::{Errors, GatewayError, NotFound};
use sellvy_app::{AppState, payment};
use sellvy_models::wire::GatewayCallbackData;

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
    let signature = headers.get("stripe-signature").and_then(|v| v.to_str().ok());
    Ok(sellvy_api::ok(payment::stripe_callback(&state, &body, signature).await?))
}
