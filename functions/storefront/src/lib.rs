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
use sellvy_api::{ApiError, AppState, Params, Routes, Shopper};
use sellvy_models::wire::{
    PublicCategory, PublicCategoryList, PublicProductData, PublicProductList, PublicProductParams,
};
use sellvy_models::{PageRequest, SortOrder};
use utoipa_axum::routes;

pub fn routes() -> Routes {
    catalog_routes().merge(order_routes())
}

fn catalog_routes() -> Routes {
    let documented = Routes::new()
        .routes(routes!(list_products))
        .routes(routes!(show_product))
        .routes(routes!(list_categories));
    // Browsers' CORS preflights (OPTIONS, no key) on the same paths; answered by `cors`.
    let paths = ["/v1/storefront/products", "/v1/storefront/products/{id}", "/v1/storefront/categories"];
    paths
        .into_iter()
        .fold(documented, |r, path| {
            r.route(path, axum::routing::options(|| async { axum::http::StatusCode::NO_CONTENT }))
        })
        .layer(axum::middleware::from_fn(sellvy_api::storefront::cors))
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
    let search = params.get("search").map(str::to_lowercase).filter(|s| !s.trim().is_empty());
    let category = params.get("category_id");
    let mut listed = state.db.product_summaries(&shopper.tenant).await?;
    listed.retain(|s| {
        s.is_listed()
            && search.as_ref().is_none_or(|q| s.title.to_lowercase().contains(q.trim()))
            && category.is_none_or(|c| s.category_id.as_deref() == Some(c))
    });
    listed.reverse(); // newest first
    let total = listed.len() as u64;
    let ids: Vec<String> =
        listed.into_iter().skip(page.offset() as usize).take(page.per_page as usize).map(|s| s.id).collect();
    let products = state.db.get_products(&shopper.tenant, &ids).await?;
    Ok(sellvy_api::list(products.iter().map(|p| p.to_public()).collect(), page, total))
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
    let product =
        sellvy_api::lookup("prod_", &id, "Product", || state.db.get_product(&shopper.tenant, &id)).await?;
    match product.is_public() {
        true => Ok(sellvy_api::ok(product.to_public())),
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
        id: c.id,
        name: c.name,
        description: c.description,
    });
    Ok(sellvy_api::list(data.collect(), page, found.total))
}

// ---------------------------------------------------------------- checkout and orders

use axum::http::HeaderMap;
use sellvy_api::docs::{GatewayError, WriteErrors};
use sellvy_api::{JsonBody, until_committed};
use sellvy_models::order::{CheckoutRequest, Order, Payment, token_hash};
use sellvy_models::time::Timestamp;
use sellvy_models::wire::{
    CheckoutData, CheckoutInput, CheckoutObject, OrderData, PaymentInstructions, SandboxPaymentInput,
    StripePayment,
};
use sellvy_models::{Event, EventType, Mode};
use sellvy_payments::stripe::{self, StripeError};

mod stripe_callbacks;

pub fn order_routes() -> Routes {
    Routes::new()
        .routes(routes!(checkout))
        .routes(routes!(show_order))
        .routes(routes!(sandbox_payment))
        .routes(routes!(download))
        .routes(routes!(stripe_callbacks::stripe_webhook))
        .route(
            "/v1/storefront/checkout",
            axum::routing::options(|| async { axum::http::StatusCode::NO_CONTENT }),
        )
        .route(
            "/v1/storefront/orders/{id}",
            axum::routing::options(|| async { axum::http::StatusCode::NO_CONTENT }),
        )
        .route(
            "/v1/storefront/orders/{id}/sandbox_payment",
            axum::routing::options(|| async { axum::http::StatusCode::NO_CONTENT }),
        )
        .layer(axum::middleware::from_fn(sellvy_api::storefront::cors))
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
    let t = &shopper.tenant;
    let stripe = match t.mode {
        Mode::Test => None,
        Mode::Live => Some(state.config.stripe.as_ref().ok_or_else(|| {
            ApiError::invalid("gateway", "card payments (stripe) are not configured on this deployment yet")
        })?),
    };
    let store = shopper.store(&state).await?;
    let country = req.customer.as_ref().and_then(|c| c.get("country")).and_then(|c| c.as_str());
    if let Some(why) = store.refuses(&shopper.client, country) {
        return Err(ApiError::Forbidden(why));
    }
    let buyer = state.db.find_buyer(t, &req.email).await?;
    if buyer.as_ref().is_some_and(|b| b.blacklisted) {
        return Err(ApiError::Forbidden("This buyer cannot order from this store".into()));
    }
    let number = state.db.next_order_number(t).await?;
    let placed = until_committed(|| async {
        let product = match sellvy_models::id::looks_like("prod_", &req.product_id) {
            true => state.db.get_product(t, &req.product_id).await?,
            false => None,
        }
        .filter(|p| p.is_public())
        .ok_or_else(|| ApiError::invalid("product_id", "is not a product of this store"))?;
        let coupon = match &req.coupon {
            None => None,
            Some(code) => Some(
                state
                    .db
                    .find_coupon_by_code(t, code)
                    .await?
                    .ok_or_else(|| ApiError::invalid("coupon", "does not exist"))?,
            ),
        };
        let placed =
            Order::place(&req, &product, coupon.as_ref(), number, Timestamp::now(), buyer.is_none())?;
        if stripe.is_some()
            && let Some(why) = stripe::refuses_amount(placed.order.total_minor, &placed.order.currency)
        {
            return Err(ApiError::invalid("gateway", why).into());
        }
        if placed.order.too_risky_for(&product) {
            let score = placed.order.fraud_score;
            return Err(ApiError::Forbidden(format!(
                "This order was refused by the store's risk rules (score {score})"
            ))
            .into());
        }
        let event = Event::new(
            EventType::OrderCreated,
            serde_json::to_value(placed.order.to_object()).unwrap_or_default(),
        );
        match state.db.place_order(t, &placed.order, &product, coupon.as_ref(), &event).await {
            Ok(()) => Ok(placed),
            // A variant's stock is taken by its position, guarded by its id: if the seller
            // reordered the variants since the product was read, read it again.
            Err(e @ sellvy_store::StoreError::Rejected { .. }) => {
                let Some(v) = &placed.order.variant else { return Err(e.into()) };
                let fresh = state.db.get_product(t, &product.id).await?;
                match fresh.is_some_and(|p| p.variant_index(&v.id) != product.variant_index(&v.id)) {
                    true => Err(sellvy_api::Attempt::Conflict),
                    false => Err(e.into()),
                }
            }
            Err(e) => Err(e.into()),
        }
    })
    .await?;
    let stripe = match stripe {
        None => None,
        Some(settings) => Some(match stripe::create_payment_intent(settings, t, &placed.order).await {
            Ok(pi) => StripePayment {
                client_secret: pi.client_secret.unwrap_or_default(),
                payment_intent: pi.id,
                publishable_key: settings.publishable_key.clone(),
            },
            Err(e) => return Err(abandon(&state, t, &placed.order, e).await),
        }),
    };
    let payment =
        PaymentInstructions { gateway: placed.order.gateway.clone(), sandbox: t.mode == Mode::Test, stripe };
    Ok(sellvy_api::created(CheckoutObject {
        order: placed.order.to_object(),
        access_token: placed.access_token,
        payment,
    }))
}

/// Stripe could not take the payment of a new order: the order ends at once (its stock and
/// coupon use go back, `payment.failed` and `order.cancelled`) and the buyer is told.
async fn abandon(state: &AppState, t: &sellvy_models::Tenant, order: &Order, e: StripeError) -> ApiError {
    let ended = sellvy_payments::fail(state, t, order.clone()).await;
    if let Err(err) = ended {
        tracing::error!(order = %order.id, error = ?err, "could not end an order Stripe refused; the sweeper will");
    }
    match e {
        StripeError::Refused { status, message, .. } if status == 400 || status == 402 => {
            ApiError::invalid("gateway", format!("Stripe refused this payment: {message}"))
        }
        other => ApiError::Gateway(format!(
            "The payment gateway failed; nothing was charged and the order was cancelled ({other})"
        )),
    }
}

/// The order, if the caller holds its access token (`X-Order-Token` or `?token=`).
async fn owned_order(
    state: &AppState,
    shopper: &Shopper,
    id: &str,
    headers: &HeaderMap,
    params: &sellvy_models::page::QueryParams,
) -> Result<Order, ApiError> {
    let token = headers
        .get("x-order-token")
        .and_then(|v| v.to_str().ok())
        .or_else(|| params.get("token"))
        .unwrap_or("");
    let order = match sellvy_models::id::looks_like("ord_", id) {
        true => state.db.get_order(&shopper.tenant, id).await?,
        false => None,
    };
    let expected = order.as_ref().map(|o| o.token_hash.as_bytes().to_vec()).unwrap_or_default();
    let given = token_hash(token).into_bytes();
    let matches =
        expected.len() == given.len() && expected.iter().zip(&given).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0;
    match order {
        Some(o) if matches => Ok(o),
        _ => Err(ApiError::not_found("Order")),
    }
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
    Ok(sellvy_api::ok(owned_order(&state, &shopper, &id, &headers, &params).await?.to_object()))
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
    if shopper.tenant.mode != Mode::Test {
        return Err(ApiError::Forbidden("Sandbox payments exist in test mode only (pk_test_… keys)".into()));
    }
    let succeeded = match body.get("outcome").and_then(|o| o.as_str()) {
        Some("succeeded") => true,
        Some("failed") => false,
        _ => return Err(ApiError::invalid("outcome", "must be succeeded or failed")),
    };
    if let Some(extra) = body.as_object().and_then(|o| o.keys().find(|k| *k != "outcome")) {
        return Err(ApiError::invalid(extra, "unknown field"));
    }
    let t = &shopper.tenant;
    let order = owned_order(&state, &shopper, &id, &headers, &params).await?;
    if !order.awaits_payment() {
        return Err(sellvy_payments::no_longer_payable(&order));
    }
    let done = match succeeded {
        true => sellvy_payments::pay(&state, t, order, &Payment::Sandbox).await?,
        false => sellvy_payments::fail(&state, t, order).await?,
    };
    Ok(sellvy_api::ok(done.to_object()))
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
