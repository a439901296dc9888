//! The products function: `/v1/products` and `/v1/products/{id}`.
//!
//! Thin: parse the request with the models crate, call the store, wrap the result in the
//! seed's envelope. Every write records its event (product.created / updated / deleted) in the
//! same transaction.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use sellvy_api::{ApiError, AppState, Auth, JsonBody, Params, until_committed};
use sellvy_models::{Event, EventType, PageRequest, Product, ProductListQuery, ValidationError};
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/products", get(list).post(create))
        .route("/v1/products/{id}", get(show).patch(update).put(update).delete(remove))
}

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
    if !sellvy_models::id::looks_like("prod_", id) {
        return Err(ApiError::not_found("Product"));
    }
    state.db.get_product(&auth.tenant, id).await?.ok_or_else(|| ApiError::not_found("Product"))
}

async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let product = find(&state, &auth, &id).await?;
    let mut json = product.to_json();
    // The single-product view names its category (one more read, only when it has one).
    let category = match &product.category_id {
        Some(c) => state.db.get_category(&auth.tenant, c).await?.map(|c| json!({"id": c.id, "name": c.name})),
        None => None,
    };
    json["category"] = json!(category);
    Ok(sellvy_api::ok(json))
}

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
