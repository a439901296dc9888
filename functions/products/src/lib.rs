//! The products function: `/v1/products` and `/v1/products/{id}`.
//!
//! Thin: parse the request with the models crate, call the application (`sellvy_app::catalog`,
//! `listing`), wrap the result in the seed's envelope. Every write records its event
//! (product.created / updated / deleted) in the same transaction. Each handler carries its
//! OpenAPI operation; `routes()` serves and documents them together.

use axum::extract::{Path, State};
use axum::response::Response;
use sellvy_api::docs::{Errors, NotFound, WriteErrors};
use sellvy_api::routes;
use sellvy_api::{ApiError, Auth, JsonBody, Params, Routes};
use sellvy_app::{AppState, catalog, listing};
use sellvy_models::wire::{
    NewProduct, ProductChanges, ProductData, ProductList, ProductListParams, SerialsInput,
};
use sellvy_models::{PageRequest, ProductListQuery, ValidationError};

pub fn routes() -> Routes {
    Routes::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update, replace, remove))
        .routes(routes!(add_serials))
}

/// List products
///
/// Newest first by default. The default order costs one read of the page whatever the store's
/// size; filters and other sorts read the store's small product summaries.
#[utoipa::path(get, path = "/v1/products", operation_id = "list_products", tag = "Products", security(("secret_key" = ["read"])), params(ProductListParams),
    responses((status = 200, description = "OK", body = ProductList), Errors))]
async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let (page, query) = match (PageRequest::parse(&params), ProductListQuery::parse(&params)) {
        (Ok(p), Ok(q)) => (p, q),
        (p, q) => {
            let errors = [p.err(), q.err()].into_iter().flatten().flat_map(|e| e.errors).collect();
            return Err(ValidationError { errors }.into());
        }
    };
    let found = listing::products(&state, &auth.tenant, page, &query).await?;
    Ok(sellvy_api::list(found.items, page, found.total))
}

/// Get a product
///
/// With its category, stock count and variants.
#[utoipa::path(get, path = "/v1/products/{id}", operation_id = "get_product", tag = "Products", security(("secret_key" = ["read"])), params(("id" = String, Path, description = "prod_…")),
    responses((status = 200, description = "OK", body = ProductData), NotFound, Errors))]
async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(sellvy_api::ok(catalog::product(&state, &auth.tenant, &id).await?))
}

/// Create a product
///
/// `title`, `type` and `price` are required. Records `product.created`.
#[utoipa::path(post, path = "/v1/products", operation_id = "create_product", tag = "Products", security(("secret_key" = ["write"])), request_body = NewProduct,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 201, description = "Created", body = ProductData), WriteErrors, Errors))]
async fn create(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    Ok(sellvy_api::created(catalog::create(&state, &auth.tenant, body).await?))
}

/// Update a product
///
/// Only the fields sent change; `null` clears an optional field. PUT is accepted too.
/// Records `product.updated`.
#[utoipa::path(patch, path = "/v1/products/{id}", operation_id = "update_product", tag = "Products", security(("secret_key" = ["write"])), request_body = ProductChanges,
    params(("id" = String, Path, description = "prod_…")),
    responses((status = 200, description = "OK", body = ProductData), NotFound, WriteErrors, Errors))]
async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    Ok(sellvy_api::ok(catalog::update(&state, &auth.tenant, &id, &body).await?))
}

/// Replace a product (PUT)
///
/// The same as PATCH: only the fields sent change.
#[utoipa::path(put, path = "/v1/products/{id}", operation_id = "replace_product", tag = "Products", security(("secret_key" = ["write"])), request_body = ProductChanges,
    params(("id" = String, Path, description = "prod_…")),
    responses((status = 200, description = "OK", body = ProductData), NotFound, WriteErrors, Errors))]
async fn replace(
    state: State<AppState>,
    auth: Auth,
    id: Path<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    update(state, auth, id, body).await
}

/// Delete a product
///
/// Records `product.deleted` with the product as it was.
#[utoipa::path(delete, path = "/v1/products/{id}", operation_id = "delete_product", tag = "Products", security(("secret_key" = ["write"])), params(("id" = String, Path, description = "prod_…")),
    responses((status = 204, description = "Deleted"), NotFound, Errors))]
async fn remove(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    catalog::delete(&state, &auth.tenant, &id).await?;
    Ok(sellvy_api::no_content())
}

/// Add serials to a product
///
/// Appends serials to the product's pool (or, with `variant_id`, to a variant's), without
/// rewriting it: buyers checking out meanwhile are never raced. `info` is split by the
/// product's `stock_delimiter`; serials the pool holds already are skipped (a retry of an
/// interrupted append completes it); a serial twice in one `info` is a 422. A product holds at
/// most 2 MiB of serials. Records `product.updated`. Answers the product with its serials.
#[utoipa::path(post, path = "/v1/products/{id}/serials", operation_id = "add_product_serials", tag = "Products",
    security(("secret_key" = ["write"])), request_body = SerialsInput,
    params(("id" = String, Path, description = "prod_…"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 200, description = "OK", body = ProductData), NotFound, WriteErrors, Errors))]
async fn add_serials(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    Ok(sellvy_api::ok(catalog::append_serials(&state, &auth.tenant, &id, body).await?))
}
