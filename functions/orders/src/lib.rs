//! The orders function: `/v1/orders` for the seller: list, get, refund (through Stripe in live
//! mode), cancel an unpaid order, redeliver dynamic goods; and `/v1/stats`, the daily figures
//! the payments and refunds keep; `/v1/reviews`, the buyers' reviews, replied to and
//! moderated; and `/v1/subscriptions`, listed, cancelled, and moved through time in test mode. Orders are created by storefront
//! checkouts; what each action does is the application's (`sellvy_app`).

use axum::extract::{Path, State};
use axum::response::Response;
use sellvy_api::docs::{Errors, GatewayError, NotFound, WriteErrors};
use sellvy_api::routes;
use sellvy_api::{ApiError, Auth, JsonBody, Params, Routes};
use sellvy_app::{AppState, cancel, delivery, listing, refund, reviews, subscriptions};
use sellvy_models::order::OrderListQuery;
use sellvy_models::review::ReviewListQuery;
use sellvy_models::subscription::SubscriptionListQuery;
use sellvy_models::wire::{
    CancelSubscriptionInput, OrderData, OrderList, OrderListParams, RefundInput, ReplyInput, ReviewData,
    ReviewList, ReviewListParams, StatsData, StatsParams, SubscriptionData, SubscriptionList,
    SubscriptionListParams, TestClockInput,
};

pub fn routes() -> Routes {
    Routes::new()
        .routes(routes!(list))
        .routes(routes!(show))
        .routes(routes!(refund))
        .routes(routes!(cancel))
        .routes(routes!(redeliver))
        .routes(routes!(stats))
        .routes(routes!(list_reviews))
        .routes(routes!(show_review))
        .routes(routes!(reply_to_review, remove_reply))
        .routes(routes!(hide_review))
        .routes(routes!(unhide_review))
        .routes(routes!(list_subscriptions))
        .routes(routes!(show_subscription))
        .routes(routes!(cancel_subscription))
        .routes(routes!(move_test_clock))
}

/// List subscriptions
///
/// Newest first; filters `status`, `product_id` and `customer_email`.
#[utoipa::path(get, path = "/v1/subscriptions", operation_id = "list_subscriptions", tag = "Subscriptions", security(("secret_key" = ["read"])),
    params(SubscriptionListParams), responses((status = 200, description = "OK", body = SubscriptionList), Errors))]
async fn list_subscriptions(
    State(state): State<AppState>,
    auth: Auth,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let (page, query) = SubscriptionListQuery::parse(&params)?;
    let found = subscriptions::list(&state, &auth.tenant, page, &query).await?;
    Ok(sellvy_api::list(found.items, page, found.total))
}

/// Get a subscription
#[utoipa::path(get, path = "/v1/subscriptions/{id}", operation_id = "get_subscription", tag = "Subscriptions", security(("secret_key" = ["read"])),
    params(("id" = String, Path, description = "sub_…")), responses((status = 200, description = "OK", body = SubscriptionData), NotFound, Errors))]
async fn show_subscription(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(sellvy_api::ok(subscriptions::find(&state, &auth.tenant, &id).await?.to_object()))
}

/// Cancel a subscription
///
/// At the end of the paid period (`at_period_end`, the default: it stays `active` until then,
/// then `expired`) or at once (`cancelled`); a `past_due` subscription ends at once either
/// way. `subscription.cancelled`, with `cancellation.by` `seller` and the `reason` given
/// (default `requested`); again when a cancellation at period end takes effect. Nothing is
/// refunded: refund its orders for that. Write access.
#[utoipa::path(post, path = "/v1/subscriptions/{id}/cancel", operation_id = "cancel_subscription", tag = "Subscriptions", security(("secret_key" = ["write"])),
    request_body = CancelSubscriptionInput, params(("id" = String, Path, description = "sub_…"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 200, description = "OK", body = SubscriptionData), NotFound, WriteErrors, Errors))]
async fn cancel_subscription(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let sub = subscriptions::cancel(&state, &auth.tenant, &id, subscriptions::Canceller::Seller, body, None)
        .await?;
    Ok(sellvy_api::ok(sub.to_object()))
}

/// Move a test subscription's clock
///
/// Test mode only (as Stripe's test clocks): the subscription's own clock moves forward to
/// `advance_to`, and every renewal, dunning retry and expiry due by then runs now, charged
/// through the sandbox (`renewals`: `succeeded`, the default, or `failed` from now on), with
/// their orders and events. At most 100 steps a call: a call with more due runs the rest on
/// the next move. From then on only its clock moves it (the sweeper leaves it alone). Write
/// access.
#[utoipa::path(post, path = "/v1/subscriptions/{id}/test_clock", operation_id = "move_subscription_test_clock", tag = "Subscriptions", security(("secret_key" = ["write"])),
    request_body = TestClockInput, params(("id" = String, Path, description = "sub_…")),
    responses((status = 200, description = "OK", body = SubscriptionData), NotFound, WriteErrors, Errors))]
async fn move_test_clock(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    Ok(sellvy_api::ok(subscriptions::move_clock(&state, &auth.tenant, &id, body).await?.to_object()))
}

/// List reviews
///
/// Newest first; filters `product_id` and `rating` (1–5). Each with the buyer's email (the
/// seller's only), whether it is hidden, and whether its order was refunded since.
#[utoipa::path(get, path = "/v1/reviews", operation_id = "list_reviews", tag = "Reviews", security(("secret_key" = ["read"])),
    params(ReviewListParams), responses((status = 200, description = "OK", body = ReviewList), Errors))]
async fn list_reviews(
    State(state): State<AppState>,
    auth: Auth,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let (page, query) = ReviewListQuery::parse(&params)?;
    let found = reviews::list(&state, &auth.tenant, page, &query).await?;
    Ok(sellvy_api::list(found.items, page, found.total))
}

/// Get a review
#[utoipa::path(get, path = "/v1/reviews/{id}", operation_id = "get_review", tag = "Reviews", security(("secret_key" = ["read"])),
    params(("id" = String, Path, description = "rev_…")), responses((status = 200, description = "OK", body = ReviewData), NotFound, Errors))]
async fn show_review(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(sellvy_api::ok(reviews::find(&state, &auth.tenant, &id).await?.to_object()))
}

/// Reply to a review
///
/// The seller's public reply, shown with the review on the storefront (it replaces an earlier
/// one). Write access.
#[utoipa::path(post, path = "/v1/reviews/{id}/reply", operation_id = "reply_to_review", tag = "Reviews", security(("secret_key" = ["write"])),
    request_body = ReplyInput, params(("id" = String, Path, description = "rev_…"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 200, description = "OK", body = ReviewData), NotFound, WriteErrors, Errors))]
async fn reply_to_review(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    Ok(sellvy_api::ok(reviews::reply(&state, &auth.tenant, &id, Some(body)).await?.to_object()))
}

/// Remove the reply to a review
///
/// Write access.
#[utoipa::path(delete, path = "/v1/reviews/{id}/reply", operation_id = "remove_review_reply", tag = "Reviews", security(("secret_key" = ["write"])),
    params(("id" = String, Path, description = "rev_…")), responses((status = 200, description = "OK", body = ReviewData), NotFound, Errors))]
async fn remove_reply(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(sellvy_api::ok(reviews::reply(&state, &auth.tenant, &id, None).await?.to_object()))
}

/// Hide a review
///
/// Moderation: a hidden review leaves the storefront and its product's rating (it stays
/// listed here, `hidden: true`). Write access.
#[utoipa::path(post, path = "/v1/reviews/{id}/hide", operation_id = "hide_review", tag = "Reviews", security(("secret_key" = ["write"])),
    params(("id" = String, Path, description = "rev_…"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 200, description = "OK", body = ReviewData), NotFound, WriteErrors, Errors))]
async fn hide_review(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(sellvy_api::ok(reviews::set_hidden(&state, &auth.tenant, &id, true).await?.to_object()))
}

/// Show a hidden review again
///
/// Back on the storefront and in its product's rating. Write access.
#[utoipa::path(post, path = "/v1/reviews/{id}/unhide", operation_id = "unhide_review", tag = "Reviews", security(("secret_key" = ["write"])),
    params(("id" = String, Path, description = "rev_…"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 200, description = "OK", body = ReviewData), NotFound, WriteErrors, Errors))]
async fn unhide_review(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(sellvy_api::ok(reviews::set_hidden(&state, &auth.tenant, &id, false).await?.to_object()))
}

/// Daily figures
///
/// The key's mode's orders paid, revenue and refunds per currency, day by day over the last
/// `days` days (1–90, default 30; today included), days cut at midnight in the store's
/// `time_zone` (`PATCH /store`). Kept as payments and refunds happen (a refund counts on the
/// day it is made), so asking costs the same whatever the store sells. Any secret key.
#[utoipa::path(get, path = "/v1/stats", operation_id = "get_stats", tag = "Orders", security(("secret_key" = ["read"])),
    params(StatsParams), responses((status = 200, description = "OK", body = StatsData), Errors))]
async fn stats(
    State(state): State<AppState>,
    auth: Auth,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let days = sellvy_models::stats::days_param(&params)?;
    let store = sellvy_app::tenant_store(&state, &auth.tenant).await?;
    Ok(sellvy_api::ok(sellvy_app::stats::last_days(&state, &auth.tenant, &store.time_zone, days).await?))
}

/// List orders
///
/// Newest first. Filters: `status`, `payment_status`, `customer_email`, `product_id`,
/// `date_from` and `date_to` (inclusive, on `created_at`: a date such as `2026-11-01` or an
/// RFC 3339 time).
#[utoipa::path(get, path = "/v1/orders", operation_id = "list_orders", tag = "Orders", security(("secret_key" = ["read"])), params(OrderListParams),
    responses((status = 200, description = "OK", body = OrderList), Errors))]
async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let (page, query) = OrderListQuery::parse(&params)?;
    let found = listing::orders(&state, &auth.tenant, page, &query).await?;
    Ok(sellvy_api::list(found.items, page, found.total))
}

/// Get an order
///
/// With its product, payment, delivery and fraud score.
#[utoipa::path(get, path = "/v1/orders/{id}", operation_id = "get_order", tag = "Orders", security(("secret_key" = ["read"])),
    params(("id" = String, Path, description = "ord_…")),
    responses((status = 200, description = "OK", body = OrderData), NotFound, Errors))]
async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let order = sellvy_app::lookup(&id, async |id: &sellvy_models::id::OrderId| {
        state.db.get_order(&auth.tenant, id).await
    })
    .await?;
    Ok(sellvy_api::ok(order.to_object()))
}

/// Refund an order
///
/// Omit `amount` for a full refund; a partial refund (Stripe payments only, as the seed says)
/// never exceeds what remains. In live mode the money goes back through Stripe first (a 502
/// `gateway_error` when Stripe fails: nothing was refunded). When nothing remains, `status` and
/// `payment_status` become `refunded`. The customer's lifetime spend goes down. Records
/// `order.refunded`. Full access only.
#[utoipa::path(post, path = "/v1/orders/{id}/refund", operation_id = "refund_order", tag = "Orders", security(("secret_key" = ["full"])),
    request_body = RefundInput, params(("id" = String, Path, description = "ord_…"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 200, description = "OK", body = OrderData), NotFound, WriteErrors, GatewayError, Errors))]
async fn refund(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    Ok(sellvy_api::ok(refund::refund(&state, &auth.tenant, &id, body).await?.to_object()))
}

/// Redeliver an order's dynamic goods
///
/// For a paid order of a dynamic product whose delivery failed (`status` `processing`,
/// `delivery.status` `failed`): calls the product's `dynamic_url` again; on success the goods
/// are delivered and the order is completed (`order.completed`); otherwise the answer says why
/// in `delivery.error`. Write access.
#[utoipa::path(post, path = "/v1/orders/{id}/redeliver", operation_id = "redeliver_order", tag = "Orders", security(("secret_key" = ["write"])),
    params(("id" = String, Path, description = "ord_…"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 200, description = "OK", body = OrderData), NotFound, WriteErrors, Errors))]
async fn redeliver(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(sellvy_api::ok(delivery::redeliver(&state, &auth.tenant, &id).await?.to_object()))
}

/// Cancel an order
///
/// A pending (unpaid) order only; its stock and coupon use go back. Records `order.cancelled`.
#[utoipa::path(post, path = "/v1/orders/{id}/cancel", operation_id = "cancel_order", tag = "Orders", security(("secret_key" = ["full"])),
    params(("id" = String, Path, description = "ord_…"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 200, description = "OK", body = OrderData), NotFound, WriteErrors, Errors))]
async fn cancel(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(sellvy_api::ok(cancel::cancel(&state, &auth.tenant, &id).await?.to_object()))
}
