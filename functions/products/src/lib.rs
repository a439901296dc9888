//! The products function: `/v1/products` and `/v1/products/{id}`.
//!
//! Thin: parse the request with the models crate, call the store, wrap the result in the
//! seed's envelope. Every write records its event (product.created / updated / deleted) in the
//! same transaction. Each handler carries its OpenAPI operation; `routes()` serves and
//! documents them together.

use axum::extract::{Path, State};
use axum::response::Response;
use sellvy_api::docs::{Errors, NotFound, WriteErrors};
use sellvy_api::{ApiError, AppState, Auth, JsonBody, Params, Routes, until_committed};
use sellvy_models::wire::{
    CategoryRef, NewProduct, ProductChanges, ProductData, ProductList, ProductListParams,
};
use sellvy_models::{Event, EventType, PageRequest, Product, ProductListQuery, ValidationError};
use utoipa_axum::routes;

pub fn routes() -> Routes {
    Routes::new().routes(routes!(list, create)).routes(routes!(show, update, replace, remove))
}

/// List products
///
/// Newest first by default. The default order costs one read of the page whatever the store's
/// size; filters and other sorts read the store's small product summaries.
#[utoipa::path(get, path = "/v1/products", operation_id = "list_products", tag = "Products", params(ProductListParams),
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
    let t = &auth.tenant;
    if query.is_key_ordered() {
        let found = state.db.product_page(t, page.offset(), page.per_page, query.order).await?;
        let data = found.items.iter().map(Product::to_json).collect();
        return Ok(sellvy_api::list(data, page, found.total));
    }
    // Filtered or sorted by another field: filter and sort the small summaries, then read
    // only the page's products.
    let mut summaries = state.db.product_summaries(t).await?;
    summaries.retain(|s| query.matches(s));
    query.sort(&mut summaries);
    let total = summaries.len() as u64;
    let ids: Vec<String> = summaries
        .into_iter()
        .skip(page.offset() as usize)
        .take(page.per_page as usize)
        .map(|s| s.id)
        .collect();
    let products = state.db.get_products(t, &ids).await?;
    Ok(sellvy_api::list(products.iter().map(Product::to_json).collect(), page, total))
}

async fn find(state: &AppState, auth: &Auth, id: &str) -> Result<Product, ApiError> {
    sellvy_api::lookup("prod_", id, "Product", || state.db.get_product(&auth.tenant, id)).await
}

/// Get a product
///
/// With its category, stock count and variants.
#[utoipa::path(get, path = "/v1/products/{id}", operation_id = "get_product", tag = "Products", params(("id" = String, Path, description = "prod_…")),
    responses((status = 200, description = "OK", body = ProductData), NotFound, Errors))]
async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let product = find(&state, &auth, &id).await?;
    let mut object = product.to_object();
    // The single-product view names its category (one more read, only when it has one).
    if let Some(c) = &product.category_id {
        object.category =
            state.db.get_category(&auth.tenant, c).await?.map(|c| CategoryRef { id: c.id, name: c.name });
    }
    Ok(sellvy_api::ok(serde_json::to_value(object).map_err(|e| ApiError::Internal(e.to_string()))?))
}

/// Create a product
///
/// `title`, `type` and `price` are required. Records `product.created`.
#[utoipa::path(post, path = "/v1/products", operation_id = "create_product", tag = "Products", request_body = NewProduct,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 201, description = "Created", body = ProductData), WriteErrors, Errors))]
async fn create(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let product = Product::create(body, auth.tenant.mode)?;
    let json = product.to_json();
    let event = Event::new(EventType::ProductCreated, json.clone());
    state.db.create_product(&auth.tenant, &product, &event).await?;
    Ok(sellvy_api::created(json))
}

/// Update a product
///
/// Only the fields sent change; `null` clears an optional field. PUT is accepted too.
/// Records `product.updated`.
#[utoipa::path(patch, path = "/v1/products/{id}", operation_id = "update_product", tag = "Products", request_body = ProductChanges,
    params(("id" = String, Path, description = "prod_…")),
    responses((status = 200, description = "OK", body = ProductData), NotFound, WriteErrors, Errors))]
async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    until_committed(|| async {
        let current = find(&state, &auth, &id).await?;
        let updated = current.apply_update(body.clone(), auth.tenant.mode)?;
        let json = updated.to_json();
        let event = Event::new(EventType::ProductUpdated, json.clone());
        state.db.update_product(&auth.tenant, &updated, &current, &event).await?;
        Ok(sellvy_api::ok(json))
    })
    .await
}

/// Replace a product (PUT)
///
/// The same as PATCH: only the fields sent change.
#[utoipa::path(put, path = "/v1/products/{id}", operation_id = "replace_product", tag = "Products", request_body = ProductChanges,
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
#[utoipa::path(delete, path = "/v1/products/{id}", operation_id = "delete_product", tag = "Products", params(("id" = String, Path, description = "prod_…")),
    responses((status = 204, description = "Deleted"), NotFound, Errors))]
async fn remove(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    until_committed(|| async {
        let current = find(&state, &auth, &id).await?;
        let event = Event::new(EventType::ProductDeleted, current.to_json());
        state.db.delete_product(&auth.tenant, &current, &event).await?;
        Ok(sellvy_api::no_content())
    })
    .await
}
