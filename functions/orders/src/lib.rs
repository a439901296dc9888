//! The orders function: `/v1/orders` and `/v1/orders/{id}` for the seller. Orders are created
//! by storefront checkouts; refunds and cancellation come next.

use axum::extract::{Path, State};
use axum::response::Response;
use sellvy_api::docs::{Errors, NotFound};
use sellvy_api::{ApiError, AppState, Auth, Params, Routes};
use sellvy_models::order::{Order, OrderStatus, PaymentStatus};
use sellvy_models::wire::{OrderData, OrderList, OrderListParams};
use sellvy_models::{FieldError, PageRequest, ValidationError};
use utoipa_axum::routes;

pub fn routes() -> Routes {
    Routes::new().routes(routes!(list)).routes(routes!(show))
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
    let order = match sellvy_models::id::looks_like("ord_", &id) {
        true => state.db.get_order(&auth.tenant, &id).await?,
        false => None,
    };
    order.map(|o| sellvy_api::ok(o.to_object())).ok_or_else(|| ApiError::not_found("Order"))
}
