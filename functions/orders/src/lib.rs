//! The orders function: `/v1/orders` and `/v1/orders/{id}` for the seller. Orders are created
//! by storefront checkouts; refunds and cancellation come next.

use axum::extract::{Path, State};
use axum::response::Response;
use sellvy_api::docs::{Errors, NotFound, WriteErrors};
use sellvy_api::{ApiError, AppState, Auth, JsonBody, Params, Routes, until_committed};
use sellvy_models::input::Input;
use sellvy_models::order::{Order, OrderStatus, PaymentStatus};
use sellvy_models::time::Timestamp;
use sellvy_models::wire::{OrderData, OrderList, OrderListParams, RefundInput};
use sellvy_models::{Event, EventType, Permission};
use sellvy_models::{FieldError, PageRequest, ValidationError};
use utoipa_axum::routes;

pub fn routes() -> Routes {
    Routes::new().routes(routes!(list)).routes(routes!(show)).routes(routes!(refund)).routes(routes!(cancel))
}

fn parse_enum<T: serde::de::DeserializeOwned>(
    field: &str,
    raw: Option<&str>,
    allowed: &str,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    let raw = raw?;
    match serde_json::from_value(serde_json::Value::from(raw)) {
        Ok(v) => Some(v),
        Err(_) => {
            errors.push(FieldError::new(field, format!("must be one of {allowed}")));
            None
        }
    }
}

/// List orders
///
/// Newest first. Filters: `status`, `payment_status`, `customer_email`, `product_id`.
#[utoipa::path(get, path = "/v1/orders", operation_id = "list_orders", tag = "Orders", params(OrderListParams),
    responses((status = 200, description = "OK", body = OrderList), Errors))]
async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let page = PageRequest::parse(&params).map_err(|e| errors.extend(e.errors)).unwrap_or_default();
    let status: Option<OrderStatus> = parse_enum(
        "status",
        params.get("status"),
        "pending, processing, completed, cancelled, refunded",
        &mut errors,
    );
    let payment: Option<PaymentStatus> = parse_enum(
        "payment_status",
        params.get("payment_status"),
        "pending, paid, failed, refunded",
        &mut errors,
    );
    if !errors.is_empty() {
        return Err(ValidationError { errors }.into());
    }
    let email = params.get("customer_email").map(str::to_lowercase);
    let product = params.get("product_id");
    let t = &auth.tenant;
    if status.is_none() && payment.is_none() && email.is_none() && product.is_none() {
        let found = state.db.order_page(t, page.offset(), page.per_page).await?;
        return Ok(sellvy_api::list(found.items.iter().map(Order::to_object).collect(), page, found.total));
    }
    let mut matching = state.db.order_summaries(t).await?;
    matching.retain(|o| {
        status.is_none_or(|s| o.status == s)
            && payment.is_none_or(|p| o.payment_status == p)
            && email.as_ref().is_none_or(|e| &o.customer_email == e)
            && product.is_none_or(|p| o.product_id == p)
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
/// Omit `amount` for a full refund; a partial refund never exceeds what remains. When nothing
/// remains, `status` and `payment_status` become `refunded`. The customer's lifetime spend goes
/// down. Records `order.refunded`. Full access only.
#[utoipa::path(post, path = "/v1/orders/{id}/refund", operation_id = "refund_order", tag = "Orders",
    request_body = RefundInput, params(("id" = String, Path, description = "ord_…"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 200, description = "OK", body = OrderData), NotFound, WriteErrors, Errors))]
async fn refund(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    auth.require(Permission::Full)?;
    until_committed(|| async {
        let order = find(&state, &auth, &id).await?;
        let mut input = Input::object(body.clone())?;
        let amount = input.take("amount").and_then(|a| {
            sellvy_models::Money::parse("amount", &a, order.currency())
                .map_err(|e| input.error("amount", e.message))
                .ok()
        });
        let reason = input.text("reason", 0, 500).filter(|r| !r.is_empty());
        input.finish()?;
        let refunded = order.refund(amount.map(|m| m.minor), reason, Timestamp::now())?;
        let event = Event::new(
            EventType::OrderRefunded,
            serde_json::to_value(refunded.to_object()).unwrap_or_default(),
        );
        state.db.refund_order(&auth.tenant, &refunded, &order, &[event]).await?;
        Ok(sellvy_api::ok(refunded.to_object()))
    })
    .await
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
        let product = state.db.get_product(&auth.tenant, &order.product_id).await?;
        let coupon = match &order.coupon_id {
            Some(c) => state.db.get_coupon(&auth.tenant, c).await?,
            None => None,
        };
        let event = Event::new(
            EventType::OrderCancelled,
            serde_json::to_value(cancelled.to_object()).unwrap_or_default(),
        );
        state
            .db
            .release_order(&auth.tenant, &cancelled, &order, product.as_ref(), coupon.as_ref(), &[event])
            .await?;
        Ok(sellvy_api::ok(cancelled.to_object()))
    })
    .await
}
