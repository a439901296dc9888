//! The customers function: `/v1/customers`. A customer is created by their first paid order;
//! a blacklisted one cannot check out (403).

use axum::extract::{Path, State};
use axum::response::Response;
use sellvy_api::docs::{Errors, NotFound, WriteErrors};
use sellvy_api::routes;
use sellvy_api::{ApiError, Auth, JsonBody, Params, Routes};
use sellvy_app::AppState;
use sellvy_models::PageRequest;
use sellvy_models::order::Customer;
use sellvy_models::request::{self, Body};
use sellvy_models::wire::{BlacklistInput, CustomerData, CustomerList, PageParams};

pub fn routes() -> Routes {
    Routes::new().routes(routes!(list)).routes(routes!(show)).routes(routes!(blacklist, unblacklist))
}

/// List customers
///
/// Everyone who bought from the store, newest first, with their order count and lifetime
/// spend.
#[utoipa::path(get, path = "/v1/customers", operation_id = "list_customers", tag = "Customers", security(("secret_key" = ["read"])), params(PageParams),
    responses((status = 200, description = "OK", body = CustomerList), Errors))]
async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let page = PageRequest::parse(&params)?;
    let found = state.db.customer_page(&auth.tenant, page.offset(), page.per_page).await?;
    Ok(sellvy_api::list(found.items.iter().map(Customer::to_object).collect(), page, found.total))
}

async fn find(state: &AppState, auth: &Auth, id: &str) -> Result<Customer, sellvy_app::AppError> {
    sellvy_app::lookup(id, async |id: &sellvy_models::id::CustomerId| {
        state.db.get_customer(&auth.tenant, id).await
    })
    .await
}

/// Get a customer
#[utoipa::path(get, path = "/v1/customers/{id}", operation_id = "get_customer", tag = "Customers", security(("secret_key" = ["read"])),
    params(("id" = String, Path, description = "cus_…")),
    responses((status = 200, description = "OK", body = CustomerData), NotFound, Errors))]
async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(sellvy_api::ok(find(&state, &auth, &id).await?.to_object()))
}

/// Blacklist a customer
///
/// With an optional `reason`. Their next checkouts are refused (403). Full access only.
#[utoipa::path(post, path = "/v1/customers/{id}/blacklist", operation_id = "blacklist_customer", tag = "Customers", security(("secret_key" = ["full"])),
    request_body = BlacklistInput, params(("id" = String, Path, description = "cus_…"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 200, description = "OK", body = CustomerData), NotFound, WriteErrors, Errors))]
async fn blacklist(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let Body { fields, errors } = request::read::<BlacklistInput, BlacklistInput>(body)?;
    errors.finish()?;
    let reason = request::trimmed(fields.reason);
    let customer = find(&state, &auth, &id).await?;
    state.db.set_blacklisted(&auth.tenant, &customer, true, reason.as_deref()).await?;
    let updated = Customer { blacklisted: true, blacklist_reason: reason, ..customer };
    Ok(sellvy_api::ok(updated.to_object()))
}

/// Lift a blacklist
///
/// Full access only.
#[utoipa::path(delete, path = "/v1/customers/{id}/blacklist", operation_id = "unblacklist_customer", tag = "Customers", security(("secret_key" = ["full"])),
    params(("id" = String, Path, description = "cus_…")),
    responses((status = 200, description = "OK", body = CustomerData), NotFound, Errors))]
async fn unblacklist(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let customer = find(&state, &auth, &id).await?;
    state.db.set_blacklisted(&auth.tenant, &customer, false, None).await?;
    let updated = Customer { blacklisted: false, blacklist_reason: None, ..customer };
    Ok(sellvy_api::ok(updated.to_object()))
}
