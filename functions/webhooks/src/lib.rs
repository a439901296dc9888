//! The webhooks function: a seller's endpoint subscriptions (`/v1/webhook_endpoints`) and the
//! delivery log with manual retries (`/v1/webhook_deliveries`). Full-access keys only: an
//! endpoint's secret signs what Sellvy sends, and the log shows every event's data.

use axum::extract::{Path, State};
use axum::response::Response;
use sellvy_api::docs::{Errors, NotFound, WriteErrors};
use sellvy_api::routes;
use sellvy_api::{ApiError, Auth, JsonBody, Params, Routes};
use sellvy_app::{AppState, deliveries, endpoints, listing};
use sellvy_models::PageRequest;
use sellvy_models::request::{self, Body};
use sellvy_models::time::Timestamp;
use sellvy_models::webhook::{DeliveryListQuery, Endpoint};
use sellvy_models::wire::{
    DeliveryData, DeliveryList, DeliveryListParams, EndpointChanges, EndpointData, EndpointInput,
    EndpointList, PageParams, RetryFailedData, RetryFailedInput, RetryFailedObject,
};

pub fn routes() -> Routes {
    Routes::new()
        .routes(routes!(list_endpoints, create_endpoint))
        .routes(routes!(show_endpoint, update_endpoint, delete_endpoint))
        .routes(routes!(rotate_secret))
        .routes(routes!(retry_failed))
        .routes(routes!(list_deliveries))
        .routes(routes!(show_delivery))
        .routes(routes!(retry_delivery))
}

/// List webhook endpoints
///
/// Oldest first, without their secrets. Full access.
#[utoipa::path(get, path = "/v1/webhook_endpoints", operation_id = "list_webhook_endpoints", tag = "Webhooks", security(("secret_key" = ["full"])),
    params(PageParams), responses((status = 200, description = "OK", body = EndpointList), Errors))]
async fn list_endpoints(
    State(state): State<AppState>,
    auth: Auth,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let page = PageRequest::parse(&params)?;
    let found = state.db.endpoint_page(&auth.tenant, page.offset(), page.per_page).await?;
    Ok(sellvy_api::list(found.items.iter().map(|e| e.to_object(false)).collect(), page, found.total))
}

/// Create a webhook endpoint
///
/// `url` (https in live mode; its host must resolve to public addresses), `events` (event
/// types, or `["*"]`, the default), `description`, `enabled` (default true). The answer holds
/// the signing `secret`, shown only now and on rotation. Test-mode endpoints receive test-mode
/// events only, live ones live events. At most 20 per store and mode. Full access.
#[utoipa::path(post, path = "/v1/webhook_endpoints", operation_id = "create_webhook_endpoint", tag = "Webhooks", security(("secret_key" = ["full"])),
    request_body = EndpointInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 201, description = "Created", body = EndpointData), WriteErrors, Errors))]
async fn create_endpoint(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let endpoint = endpoints::create(&state, &auth.tenant, body).await?;
    Ok(sellvy_api::created(endpoint.to_object(true)))
}

async fn find(state: &AppState, auth: &Auth, id: &str) -> Result<Endpoint, sellvy_app::AppError> {
    endpoints::find(state, &auth.tenant, id).await
}

/// Get a webhook endpoint
#[utoipa::path(get, path = "/v1/webhook_endpoints/{id}", operation_id = "get_webhook_endpoint", tag = "Webhooks", security(("secret_key" = ["full"])),
    params(("id" = String, Path, description = "we_…")),
    responses((status = 200, description = "OK", body = EndpointData), NotFound, Errors))]
async fn show_endpoint(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(sellvy_api::ok(find(&state, &auth, &id).await?.to_object(false)))
}

/// Update a webhook endpoint
///
/// Only the fields sent change: `url`, `events`, `description` (`null` clears it), `enabled`
/// (a disabled endpoint receives nothing; its pending attempts end as failed). Full access.
#[utoipa::path(patch, path = "/v1/webhook_endpoints/{id}", operation_id = "update_webhook_endpoint", tag = "Webhooks", security(("secret_key" = ["full"])),
    request_body = EndpointChanges, params(("id" = String, Path, description = "we_…")),
    responses((status = 200, description = "OK", body = EndpointData), NotFound, WriteErrors, Errors))]
async fn update_endpoint(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    Ok(sellvy_api::ok(endpoints::update(&state, &auth.tenant, &id, body).await?.to_object(false)))
}

/// Delete a webhook endpoint
///
/// Its deliveries stay in the log; attempts still queued end as failed. Full access.
#[utoipa::path(delete, path = "/v1/webhook_endpoints/{id}", operation_id = "delete_webhook_endpoint", tag = "Webhooks", security(("secret_key" = ["full"])),
    params(("id" = String, Path, description = "we_…")),
    responses((status = 204, description = "Deleted"), NotFound, Errors))]
async fn delete_endpoint(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    endpoints::delete(&state, &auth.tenant, &id).await?;
    Ok(sellvy_api::no_content())
}

/// Rotate an endpoint's signing secret
///
/// A new `secret` signs every delivery from now on (the old one stops at once); the answer
/// holds it. Full access.
#[utoipa::path(post, path = "/v1/webhook_endpoints/{id}/rotate_secret", operation_id = "rotate_webhook_secret",
    tag = "Webhooks", security(("secret_key" = ["full"])), params(("id" = String, Path, description = "we_…"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 200, description = "OK", body = EndpointData), NotFound, WriteErrors, Errors))]
async fn rotate_secret(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(sellvy_api::ok(endpoints::rotate(&state, &auth.tenant, &id).await?.to_object(true)))
}

/// Retry an endpoint's failed deliveries
///
/// Every `failed` delivery to this endpoint created at or after `since` gets one more attempt,
/// queued now (they go out concurrently; the answer says how many); deliveries that had 15
/// attempts are left out. Full access.
#[utoipa::path(post, path = "/v1/webhook_endpoints/{id}/retry_failed", operation_id = "retry_failed_webhooks",
    tag = "Webhooks", security(("secret_key" = ["full"])), request_body = RetryFailedInput,
    params(("id" = String, Path, description = "we_…"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 200, description = "OK", body = RetryFailedData), NotFound, WriteErrors, Errors))]
async fn retry_failed(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    // An unknown endpoint is a 404 before the body is looked at.
    endpoints::find(&state, &auth.tenant, &id).await?;
    let Body { fields, mut errors } = request::read::<RetryFailedInput, RetryFailedInput>(body)?;
    let since = fields.since;
    errors.require("since", &since);
    errors.finish()?;
    let since = since.unwrap_or_else(Timestamp::now);
    let queued = deliveries::retry_failed(&state, &auth.tenant, &id, since).await?;
    Ok(sellvy_api::ok(RetryFailedObject { queued: queued as u64 }))
}

/// List webhook deliveries
///
/// Newest first. Filters: `endpoint_id`, `type` (an event type), `status` (`scheduled`,
/// `sending`, `delivered`, `failed`). Each delivery carries its attempts. Full access.
#[utoipa::path(get, path = "/v1/webhook_deliveries", operation_id = "list_webhook_deliveries", tag = "Webhooks", security(("secret_key" = ["full"])),
    params(DeliveryListParams), responses((status = 200, description = "OK", body = DeliveryList), Errors))]
async fn list_deliveries(
    State(state): State<AppState>,
    auth: Auth,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let (page, query) = DeliveryListQuery::parse(&params)?;
    let found = listing::deliveries(&state, &auth.tenant, page, &query).await?;
    Ok(sellvy_api::list(found.items, page, found.total))
}

/// Get a webhook delivery
///
/// With every attempt: time, status code, duration, error kind, the first KiB of the answer.
#[utoipa::path(get, path = "/v1/webhook_deliveries/{id}", operation_id = "get_webhook_delivery", tag = "Webhooks", security(("secret_key" = ["full"])),
    params(("id" = String, Path, description = "whd_…")),
    responses((status = 200, description = "OK", body = DeliveryData), NotFound, Errors))]
async fn show_delivery(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(sellvy_api::ok(deliveries::find(&state, &auth.tenant, &id).await?.to_object()))
}

/// Retry a webhook delivery by hand
///
/// One attempt now, while the request waits; the answer is the delivery with that attempt
/// (`manual: true`). The automatic ladder does not restart. Only a `failed` or `delivered`
/// delivery (422 while the ladder still runs), and at most 15 attempts per delivery (422
/// beyond). Full access.
#[utoipa::path(post, path = "/v1/webhook_deliveries/{id}/retry", operation_id = "retry_webhook_delivery",
    tag = "Webhooks", security(("secret_key" = ["full"])), params(("id" = String, Path, description = "whd_…"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 200, description = "OK", body = DeliveryData), NotFound, WriteErrors, Errors))]
async fn retry_delivery(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(sellvy_api::ok(deliveries::retry(&state, &auth.tenant, &id).await?.to_object()))
}
