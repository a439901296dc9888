//! The orders function: `/v1/orders` for the seller: list, get, refund (through Stripe in live
//! mode), cancel an unpaid order, redeliver dynamic goods. Orders are created by storefront
//! checkouts.

use axum::extract::{Path, State};
use axum::response::Response;
use sellvy_api::docs::{Errors, GatewayError, NotFound, WriteErrors};
use sellvy_api::{ApiError, AppState, Auth, JsonBody, Params, Routes, until_committed};
use sellvy_models::input::Input;
use sellvy_models::order::{Order, OrderStatus, PaymentStatus};
use sellvy_models::page::enum_param;
use sellvy_models::time::Timestamp;
use sellvy_models::wire::{OrderData, OrderList, OrderListParams, RefundInput};
use sellvy_models::{Event, EventType, Mode, Permission};
use sellvy_models::{FieldError, PageRequest, ValidationError};
use utoipa_axum::routes;

pub fn routes() -> Routes {
    Routes::new()
        .routes(routes!(list))
        .routes(routes!(show))
        .routes(routes!(refund))
        .routes(routes!(cancel))
        .routes(routes!(redeliver))
}

/// List orders
///
/// Newest first. Filters: `status`, `payment_status`, `customer_email`, `product_id`,
/// `date_from` and `date_to` (inclusive, on `created_at`: a date such as `2026-11-01` or an
/// RFC 3339 time).
#[utoipa::path(get, path = "/v1/orders", operation_id = "list_orders", tag = "Orders", params(OrderListParams),
    responses((status = 200, description = "OK", body = OrderList), Errors))]
async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let page = PageRequest::parse(&params).map_err(|e| errors.extend(e.errors)).unwrap_or_default();
    let status: Option<OrderStatus> = enum_param(
        "status",
        params.get("status"),
        "pending, processing, completed, cancelled, refunded",
        &mut errors,
    );
    let payment: Option<PaymentStatus> = enum_param(
        "payment_status",
        params.get("payment_status"),
        "pending, paid, failed, refunded",
        &mut errors,
    );
    let mut bound = |field: &str, upper: bool| {
        let raw = params.get(field)?;
        let t = Timestamp::parse_bound(raw, upper);
        if t.is_none() {
            errors.push(FieldError::new(field, "must be a date (2026-11-01) or an RFC 3339 time"));
        }
        t
    };
    let date_from = bound("date_from", false);
    let date_to = bound("date_to", true);
    if !errors.is_empty() {
        return Err(ValidationError { errors }.into());
    }
    let email = params.get("customer_email").map(str::to_lowercase);
    let product = params.get("product_id");
    let t = &auth.tenant;
    let unfiltered = status.is_none()
        && payment.is_none()
        && email.is_none()
        && product.is_none()
        && date_from.is_none()
        && date_to.is_none();
    if unfiltered {
        let found = state.db.order_page(t, page.offset(), page.per_page).await?;
        return Ok(sellvy_api::list(found.items.iter().map(Order::to_object).collect(), page, found.total));
    }
    let mut matching = state.db.order_summaries(t).await?;
    matching.retain(|o| {
        status.is_none_or(|s| o.status == s)
            && payment.is_none_or(|p| o.payment_status == p)
            && email.as_ref().is_none_or(|e| &o.customer_email == e)
            && product.is_none_or(|p| o.product_id == p)
            && date_from.is_none_or(|from| o.created_at >= from)
            && date_to.is_none_or(|to| o.created_at <= to)
    });
    matching.reverse();
    let total = matching.len() as u64;
    let ids: Vec<String> = matching
        .into_iter()
        .skip(page.offset() as usize)
        .take(page.per_page as usize)
        .map(|o| o.id)
        .collect();
    let orders = state.db.get_orders(t, &ids).await?;
    Ok(sellvy_api::list(orders.iter().map(Order::to_object).collect(), page, total))
}

/// Get an order
///
/// With its product, payment, delivery and fraud score.
#[utoipa::path(get, path = "/v1/orders/{id}", operation_id = "get_order", tag = "Orders",
    params(("id" = String, Path, description = "ord_…")),
    responses((status = 200, description = "OK", body = OrderData), NotFound, Errors))]
async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(sellvy_api::ok(find(&state, &auth, &id).await?.to_object()))
}

async fn find(state: &AppState, auth: &Auth, id: &str) -> Result<Order, ApiError> {
    sellvy_api::lookup("ord_", id, "Order", || state.db.get_order(&auth.tenant, id)).await
}

/// Refund an order
///
/// Omit `amount` for a full refund; a partial refund (Stripe payments only, as the seed says)
/// never exceeds what remains. In live mode the money goes back through Stripe first (a 502
/// `gateway_error` when Stripe fails: nothing was refunded). When nothing remains, `status` and
/// `payment_status` become `refunded`. The customer's lifetime spend goes down. Records
/// `order.refunded`. Full access only.
#[utoipa::path(post, path = "/v1/orders/{id}/refund", operation_id = "refund_order", tag = "Orders",
    request_body = RefundInput, params(("id" = String, Path, description = "ord_…"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 200, description = "OK", body = OrderData), NotFound, WriteErrors, GatewayError, Errors))]
async fn refund(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    auth.require(Permission::Full)?;
    let order = find(&state, &auth, &id).await?;
    let mut input = Input::object(body)?;
    let amount = input.take("amount").and_then(|a| {
        sellvy_models::Money::parse("amount", &a, order.currency())
            .map_err(|e| input.error("amount", e.message))
            .ok()
    });
    let reason = input.text("reason", 0, 500).filter(|r| !r.is_empty());
    input.finish()?;
    let amount = amount.map(|m| m.minor);
    // Checked against the order as read, then (live mode) made at Stripe once, outside the
    // retry loop: a conflicting write below re-applies this same refund, never makes another.
    let first = order.refund(amount, reason.clone(), Timestamp::now())?;
    let refund_amount = first.refunded_minor - order.refunded_minor;
    if auth.tenant.mode == Mode::Live
        && let Some(why) = sellvy_payments::stripe::refuses_amount(refund_amount, &order.currency)
    {
        return Err(ApiError::invalid("amount", why));
    }
    let stripe_refund = match auth.tenant.mode {
        Mode::Live => Some(give_back(&state, &order, refund_amount).await?),
        Mode::Test => None,
    };
    let first = sellvy_api::FirstRead::new(order);
    until_committed(|| async {
        let order = match first.take() {
            Some(o) => o,
            None => find(&state, &auth, &id).await?,
        };
        // Racing requests for the same refund of the same state share Stripe's refund (same
        // idempotency key): the first to write records it, the others find it recorded.
        if let Some(re) = &stripe_refund
            && order.stripe_refunds.contains(re)
        {
            return Ok(sellvy_api::ok(order.to_object()));
        }
        let mut refunded = order.refund(Some(refund_amount), reason.clone(), Timestamp::now())?;
        refunded.stripe_refunds.extend(stripe_refund.clone());
        let event = Event::new(
            EventType::OrderRefunded,
            serde_json::to_value(refunded.to_object()).unwrap_or_default(),
        );
        state.db.refund_order(&auth.tenant, &refunded, &order, &[event]).await?;
        Ok(sellvy_api::ok(refunded.to_object()))
    })
    .await
}

/// Returns money through the order's gateway (live mode); the Stripe refund's id. The
/// idempotency key names the order's version: two requests racing for the same refund of the
/// same state make one Stripe refund; a refund asked again after the order changed is a new one.
async fn give_back(state: &AppState, order: &Order, amount: i64) -> Result<String, ApiError> {
    let settings = state.config.stripe.as_ref().ok_or_else(|| {
        ApiError::Gateway("Stripe is not configured on this deployment; nothing was refunded".into())
    })?;
    let Some(pi) = order.payment_id.as_deref().filter(|p| p.starts_with("pi_")) else {
        return Err(ApiError::invalid("id", "this order has no Stripe payment to refund"));
    };
    let key = format!("sellvy-refund-{}-v{}", order.id, order.version);
    let amount = sellvy_payments::stripe::amount_for_stripe(amount, &order.currency);
    sellvy_payments::stripe::refund(settings, pi, amount, &key, &[("sellvy_order", &order.id)])
        .await
        .map(|r| r.id)
        .map_err(|e| ApiError::Gateway(format!("Stripe did not refund; nothing was refunded ({e})")))
}

/// Redeliver an order's dynamic goods
///
/// For a paid order of a dynamic product whose delivery failed (`status` `processing`,
/// `delivery.status` `failed`): calls the product's `dynamic_url` again; on success the goods
/// are delivered and the order is completed (`order.completed`); otherwise the answer says why
/// in `delivery.error`. Write access.
#[utoipa::path(post, path = "/v1/orders/{id}/redeliver", operation_id = "redeliver_order", tag = "Orders",
    params(("id" = String, Path, description = "ord_…"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 200, description = "OK", body = OrderData), NotFound, WriteErrors, Errors))]
async fn redeliver(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    auth.require(Permission::Write)?;
    let order = find(&state, &auth, &id).await?;
    Ok(sellvy_api::ok(sellvy_payments::deliver(&state, &auth.tenant, order).await?.to_object()))
}

/// Cancel an order
///
/// A pending (unpaid) order only; its stock and coupon use go back. Records `order.cancelled`.
#[utoipa::path(post, path = "/v1/orders/{id}/cancel", operation_id = "cancel_order", tag = "Orders",
    params(("id" = String, Path, description = "ord_…"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 200, description = "OK", body = OrderData), NotFound, WriteErrors, Errors))]
async fn cancel(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    auth.require(Permission::Full)?;
    until_committed(|| async {
        let order = find(&state, &auth, &id).await?;
        let cancelled = order.cancelled(Timestamp::now())?;
        let event = Event::new(
            EventType::OrderCancelled,
            serde_json::to_value(cancelled.to_object()).unwrap_or_default(),
        );
        sellvy_payments::release(&state, &auth.tenant, &cancelled, &order, &[event]).await?;
        Ok(sellvy_api::ok(cancelled.to_object()))
    })
    .await
}
