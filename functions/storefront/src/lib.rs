//! The storefront function: public routes for browsers and apps, under `/v1/storefront`.
//!
//! Callers hold a publishable key (`pk_live_…` / `pk_test_…`), safe to embed; it reaches only
//! these routes. Each client address has its own rate limit, and the store's allowed origins
//! (`PATCH /v1/store`) decide which browser origins may call. Buyers never see a product's
//! serials, file, dynamic URL or seller settings; `private` and hidden products do not exist
//! for them, `unlisted` ones only by id.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use sellvy_api::docs::{Errors, NotFound};
use sellvy_api::routes;
use sellvy_api::{ApiError, Params, Routes, Shopper};
use sellvy_app::{AppState, listing};
use sellvy_models::wire::{
    PageParams, PublicCategory, PublicCategoryList, PublicProductData, PublicProductList,
    PublicProductParams, PublicReviewData, PublicReviewList, ReviewInput,
};
use sellvy_models::{PageRequest, SortOrder};

pub fn routes() -> Routes {
    catalog_routes().merge(order_routes())
}

fn catalog_routes() -> Routes {
    Routes::new()
        .routes(routes!(list_products))
        .routes(routes!(show_product))
        .routes(routes!(list_categories))
        .routes(routes!(product_reviews))
}

/// List a product's reviews
///
/// Its visible reviews, newest first: rating, message, the name the buyer chose ("Verified
/// buyer" otherwise; never an email), the seller's reply, and whether the order was refunded
/// since. The product's `rating` sums them up. 404 for a product buyers cannot see.
#[utoipa::path(get, path = "/v1/storefront/products/{id}/reviews", operation_id = "storefront_list_reviews", tag = "Storefront",
    params(("id" = String, Path, description = "prod_…"), PageParams), security(("publishable_key" = [])),
    responses((status = 200, description = "OK", body = PublicReviewList), NotFound, Errors))]
async fn product_reviews(
    State(state): State<AppState>,
    shopper: Shopper,
    Path(id): Path<String>,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let page = PageRequest::parse(&params)?;
    let found = sellvy_app::reviews::for_product(&state, &shopper.tenant, &id, page).await?;
    Ok(sellvy_api::list(found.items, page, found.total))
}

/// List the store's products
///
/// Visible products that are neither private nor unlisted, newest first.
#[utoipa::path(get, path = "/v1/storefront/products", operation_id = "storefront_list_products", tag = "Storefront",
    params(PublicProductParams), security(("publishable_key" = [])),
    responses((status = 200, description = "OK", body = PublicProductList), Errors))]
async fn list_products(
    State(state): State<AppState>,
    shopper: Shopper,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let page = PageRequest::parse(&params)?;
    let (search, category) = (params.get("search"), params.get("category_id"));
    let found = listing::storefront_products(&state, &shopper.tenant, page, search, category).await?;
    Ok(sellvy_api::list(found.items, page, found.total))
}

/// Get a product
///
/// Unlisted products too (by their id); private or hidden ones answer 404.
#[utoipa::path(get, path = "/v1/storefront/products/{id}", operation_id = "storefront_get_product", tag = "Storefront",
    params(("id" = String, Path, description = "prod_…")), security(("publishable_key" = [])),
    responses((status = 200, description = "OK", body = PublicProductData), NotFound, Errors))]
async fn show_product(
    State(state): State<AppState>,
    shopper: Shopper,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let product = sellvy_app::lookup(&id, async |id: &sellvy_models::id::ProductId| {
        state.db.get_product(&shopper.tenant, id).await
    })
    .await?;
    match product.is_public() {
        true => {
            let rating = state.db.product_rating(&shopper.tenant, &product.id).await?;
            Ok(sellvy_api::ok(product.to_public(rating)))
        }
        false => Err(ApiError::not_found("Product")),
    }
}

/// List the store's categories
///
/// Oldest first.
#[utoipa::path(get, path = "/v1/storefront/categories", operation_id = "storefront_list_categories", tag = "Storefront",
    params(sellvy_models::wire::PageParams), security(("publishable_key" = [])),
    responses((status = 200, description = "OK", body = PublicCategoryList), Errors))]
async fn list_categories(
    State(state): State<AppState>,
    shopper: Shopper,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let page = PageRequest::parse(&params)?;
    let found = state.db.category_page(&shopper.tenant, page.offset(), page.per_page, SortOrder::Asc).await?;
    let data = found.items.into_iter().map(|c| PublicCategory {
        id: c.id.to_string(),
        name: c.name,
        description: c.description,
    });
    Ok(sellvy_api::list(data.collect(), page, found.total))
}

// ---------------------------------------------------------------- checkout and orders

use axum::http::HeaderMap;
use sellvy_api::JsonBody;
use sellvy_api::docs::{GatewayError, WriteErrors};
use sellvy_app::checkout::{self, Buyer};
use sellvy_app::payment;
use sellvy_models::order::CheckoutRequest;
use sellvy_models::request::{self, Body};
use sellvy_models::time::Timestamp;
use sellvy_models::wire::{CheckoutData, CheckoutInput, OrderData, SandboxOutcome, SandboxPaymentInput};

mod stripe_callbacks;
use stripe_callbacks::{__path_stripe_webhook, stripe_webhook};

pub fn order_routes() -> Routes {
    Routes::new()
        .routes(routes!(checkout))
        .routes(routes!(show_order))
        .routes(routes!(sandbox_payment))
        .routes(routes!(review_order))
        .routes(routes!(download))
        .routes(routes!(stripe_webhook))
        .routes(routes!(show_subscription))
        .routes(routes!(cancel_subscription))
        .routes(routes!(pay_subscription))
}

// ---------------------------------------------------------------- the buyer's subscriptions

use sellvy_app::subscriptions;
use sellvy_models::wire::{
    CancelSubscriptionInput, PublicSubscriptionData, SubscriptionPayment, SubscriptionPaymentData,
};

/// A buyer's subscription
///
/// The buyer's own page of a subscription (`order.subscription_id`): its status, the current
/// period, the next charge, why the last renewal failed, and its orders (each opens with the
/// same token). Needs the access token of the order that started it.
#[utoipa::path(get, path = "/v1/storefront/subscriptions/{id}", operation_id = "storefront_get_subscription", tag = "Storefront",
    params(("id" = String, Path, description = "sub_…"), ("X-Order-Token" = Option<String>, Header, description = "The access token of the order that started it"),
        ("token" = Option<String>, Query, description = "The access token, if no header")),
    security(("publishable_key" = [])),
    responses((status = 200, description = "OK", body = PublicSubscriptionData), NotFound, Errors))]
async fn show_subscription(
    State(state): State<AppState>,
    shopper: Shopper,
    Path(id): Path<String>,
    headers: HeaderMap,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let sub = subscriptions::for_buyer(&state, &shopper.tenant, &id, order_token(&headers, &params)).await?;
    Ok(sellvy_api::ok(sub.to_public()))
}

/// Cancel a subscription (buyer)
///
/// The buyer ends it at the end of the paid period (`at_period_end`, the default) or at once.
/// `subscription.cancelled` with `cancellation.by` `buyer`. Needs the access token.
#[utoipa::path(post, path = "/v1/storefront/subscriptions/{id}/cancel", operation_id = "storefront_cancel_subscription", tag = "Storefront",
    request_body = CancelSubscriptionInput,
    params(("id" = String, Path, description = "sub_…"), ("X-Order-Token" = Option<String>, Header, description = "The access token of the order that started it"),
        ("token" = Option<String>, Query, description = "The access token, if no header")),
    security(("publishable_key" = [])),
    responses((status = 200, description = "OK", body = PublicSubscriptionData), NotFound, WriteErrors, Errors))]
async fn cancel_subscription(
    State(state): State<AppState>,
    shopper: Shopper,
    Path(id): Path<String>,
    headers: HeaderMap,
    Params(params): Params,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let token = order_token(&headers, &params);
    let by = subscriptions::Canceller::Buyer;
    let sub = subscriptions::cancel(&state, &shopper.tenant, &id, by, body, Some(token)).await?;
    Ok(sellvy_api::ok(sub.to_public()))
}

/// Pay a failed renewal
///
/// While `past_due`, the buyer pays the failed renewal now: a renewal order of its own, paid as
/// a checkout's is (test mode: `POST /storefront/orders/{order}/sandbox_payment` with the same
/// token; live mode: the PaymentIntent's `client_secret` with Stripe.js, and the card used is
/// the one later renewals charge). Paid, the subscription is `active` again from where its
/// period ended (`subscription.renewed`); not paid, the dunning schedule stays as it was. A 422
/// naming `id` when there is nothing to pay. Needs the access token.
#[utoipa::path(post, path = "/v1/storefront/subscriptions/{id}/payment", operation_id = "storefront_pay_subscription", tag = "Storefront",
    params(("id" = String, Path, description = "sub_…"), ("X-Order-Token" = Option<String>, Header, description = "The access token of the order that started it"),
        ("token" = Option<String>, Query, description = "The access token, if no header")),
    security(("publishable_key" = [])),
    responses((status = 201, description = "Created", body = SubscriptionPaymentData), NotFound, WriteErrors, GatewayError, Errors))]
async fn pay_subscription(
    State(state): State<AppState>,
    shopper: Shopper,
    Path(id): Path<String>,
    headers: HeaderMap,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let token = order_token(&headers, &params);
    let (sub, order, payment) = subscriptions::buyer_payment(&state, &shopper.tenant, &id, token).await?;
    Ok(sellvy_api::created(SubscriptionPayment {
        subscription: sub.to_public(),
        order: order.to_object(),
        payment,
    }))
}

/// Create a checkout
///
/// An order for one product: quantity within its limits and stock, a gateway it enables, its
/// custom fields and (if it asks) the customer's details, optionally a coupon. The stock and
/// the coupon use are taken atomically with the order. Answers the order, its access token
/// (shown only now) and how to pay: in test mode the sandbox, in live mode a Stripe
/// PaymentIntent to confirm with Stripe.js. Buyers the store blacklisted (by email, country or
/// network) get 403. Records `order.created`.
#[utoipa::path(post, path = "/v1/storefront/checkout", operation_id = "storefront_checkout", tag = "Storefront",
    request_body = CheckoutInput, security(("publishable_key" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 201, description = "Created", body = CheckoutData), WriteErrors, GatewayError, Errors))]
async fn checkout(
    State(state): State<AppState>,
    shopper: Shopper,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let req = CheckoutRequest::parse(body)?;
    let store = shopper.store(&state).await?;
    let buyer = Buyer { tenant: &shopper.tenant, store: &store, client: &shopper.client };
    Ok(sellvy_api::created(checkout::checkout(&state, &buyer, req).await?))
}

/// The order's access token, from `X-Order-Token` or `?token=`.
fn order_token<'a>(headers: &'a HeaderMap, params: &'a sellvy_models::page::QueryParams) -> &'a str {
    headers.get("x-order-token").and_then(|v| v.to_str().ok()).or_else(|| params.get("token")).unwrap_or("")
}

/// Get an order
///
/// Its status, and the delivered goods once paid. Needs the order's access token.
#[utoipa::path(get, path = "/v1/storefront/orders/{id}", operation_id = "storefront_get_order", tag = "Storefront",
    params(("id" = String, Path, description = "ord_…"), ("X-Order-Token" = Option<String>, Header, description = "The order's access token"),
        ("token" = Option<String>, Query, description = "The order's access token, if no header")),
    security(("publishable_key" = [])),
    responses((status = 200, description = "OK", body = OrderData), NotFound, Errors))]
async fn show_order(
    State(state): State<AppState>,
    shopper: Shopper,
    Path(id): Path<String>,
    headers: HeaderMap,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let order =
        checkout::order_for_buyer(&state, &shopper.tenant, &id, order_token(&headers, &params)).await?;
    Ok(sellvy_api::ok(order.to_object()))
}

/// Pay a test order
///
/// Test mode only: `{"outcome": "succeeded"}` pays the order and delivers its goods (serials
/// handed out atomically; records `payment.received` and `order.completed`); `"failed"`
/// cancels it and gives its stock back (`payment.failed`). Needs the order's access token.
#[utoipa::path(post, path = "/v1/storefront/orders/{id}/sandbox_payment", operation_id = "storefront_sandbox_payment",
    tag = "Storefront", request_body = SandboxPaymentInput,
    params(("id" = String, Path, description = "ord_…"), ("X-Order-Token" = Option<String>, Header, description = "The order's access token")),
    security(("publishable_key" = [])),
    responses((status = 200, description = "OK", body = OrderData), NotFound, WriteErrors, Errors))]
async fn sandbox_payment(
    State(state): State<AppState>,
    shopper: Shopper,
    Path(id): Path<String>,
    headers: HeaderMap,
    Params(params): Params,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let Body { fields, mut errors } = request::read::<SandboxPaymentInput, SandboxPaymentInput>(body)?;
    errors.require("outcome", &fields.outcome);
    errors.finish()?;
    let succeeded = fields.outcome == Some(SandboxOutcome::Succeeded);
    let t = &shopper.tenant;
    let order = checkout::order_for_buyer(&state, t, &id, order_token(&headers, &params)).await?;
    Ok(sellvy_api::ok(payment::pay_in_sandbox(&state, t, order, succeeded).await?.to_object()))
}

/// Review an order
///
/// The buyer rates a completed order once, within 90 days of ordering: `rating` 1–5, an
/// optional `message` (up to 2,000 characters) and the `name` to show (up to 50; "Verified
/// buyer" if none; never an email). Needs the order's access token. `review.created`.
#[utoipa::path(post, path = "/v1/storefront/orders/{id}/review", operation_id = "storefront_review_order",
    tag = "Storefront", request_body = ReviewInput,
    params(("id" = String, Path, description = "ord_…"), ("X-Order-Token" = Option<String>, Header, description = "The order's access token"),
        ("token" = Option<String>, Query, description = "The order's access token, if no header")),
    security(("publishable_key" = [])),
    responses((status = 201, description = "Created", body = PublicReviewData), NotFound, WriteErrors, Errors))]
async fn review_order(
    State(state): State<AppState>,
    shopper: Shopper,
    Path(id): Path<String>,
    headers: HeaderMap,
    Params(params): Params,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let token = order_token(&headers, &params);
    let review = sellvy_app::reviews::create(&state, &shopper.tenant, &id, token, body).await?;
    Ok(sellvy_api::created(review.to_public()))
}

/// Download a purchased file
///
/// The link a paid digital-download order delivers (`delivery.download_url`): no key needed; it
/// works for 7 days and 5 downloads, each answered with a redirect to the file.
#[utoipa::path(get, path = "/v1/storefront/downloads/{token}", operation_id = "storefront_download", tag = "Storefront",
    params(("token" = String, Path, description = "dl_…")), security(()),
    responses((status = 302, description = "Redirect to the file"), NotFound, Errors))]
async fn download(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, ApiError> {
    let valid = token
        .strip_prefix("dl_")
        .is_some_and(|t| t.len() == 40 && t.bytes().all(|b| b.is_ascii_alphanumeric()));
    let file = match valid {
        true => state.db.take_download(&token, Timestamp::now()).await?,
        false => None,
    };
    let file = file.ok_or_else(|| {
        ApiError::NotFound("This download link does not exist, has expired or was used up".into())
    })?;
    let location = axum::http::HeaderValue::from_str(&file).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((axum::http::StatusCode::FOUND, [(axum::http::header::LOCATION, location)]).into_response())
}
