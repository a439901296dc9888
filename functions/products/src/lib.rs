//! The products function: `/v1/products` and `/v1/products/{id}`.
//!
//! Thin: parse the request with the models crate, call the store, wrap the result in the
//! seed's envelope. Every write records its event (product.created / updated / deleted) in the
//! same transaction.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use sellvy_api::{ApiError, AppState, Auth, JsonBody, Params};
use sellvy_models::{Event, EventType, PageRequest, Product, ProductListQuery, ValidationError};
use sellvy_store::StoreError;

/// Times a read-modify-write is tried when other writers keep getting there first.
const WRITE_ATTEMPTS: u32 = 12;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/products", get(list).post(create))
        .route(
            "/v1/products/{id}",
            get(show).patch(update).put(update).delete(remove),
        )
}

async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let (page, query) = match (
        PageRequest::parse(&params),
        ProductListQuery::parse(&params),
    ) {
        (Ok(p), Ok(q)) => (p, q),
        (p, q) => {
            let errors = [p.err(), q.err()]
                .into_iter()
                .flatten()
                .flat_map(|e| e.errors)
                .collect();
            return Err(ValidationError { errors }.into());
        }
    };
    let t = &auth.tenant;
    if query.is_key_ordered() {
        let found = state
            .db
            .product_page(t, page.offset(), page.per_page, query.order)
            .await?;
        let data = found.products.iter().map(Product::to_json).collect();
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
    Ok(sellvy_api::list(
        products.iter().map(Product::to_json).collect(),
        page,
        total,
    ))
}

async fn find(state: &AppState, auth: &Auth, id: &str) -> Result<Product, ApiError> {
    if !sellvy_models::id::looks_like("prod_", id) {
        return Err(ApiError::not_found("Product"));
    }
    state
        .db
        .get_product(&auth.tenant, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Product"))
}

async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(sellvy_api::ok(find(&state, &auth, &id).await?.to_json()))
}

async fn create(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let product = Product::create(body, auth.tenant.mode)?;
    let json = product.to_json();
    let event = Event::new(EventType::ProductCreated, json.clone());
    state
        .db
        .create_product(&auth.tenant, &product, &event)
        .await?;
    Ok(sellvy_api::created(json))
}

async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    for attempt in 0..WRITE_ATTEMPTS {
        let current = find(&state, &auth, &id).await?;
        let updated = current.apply_update(body.clone(), auth.tenant.mode)?;
        let json = updated.to_json();
        let event = Event::new(EventType::ProductUpdated, json.clone());
        match state
            .db
            .update_product(&auth.tenant, &updated, current.version, &event)
            .await
        {
            Ok(()) => return Ok(sellvy_api::ok(json)),
            Err(StoreError::Conflict) => backoff(attempt).await,
            Err(e) => return Err(e.into()),
        }
    }
    Err(busy())
}

async fn remove(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    for attempt in 0..WRITE_ATTEMPTS {
        let current = find(&state, &auth, &id).await?;
        let event = Event::new(EventType::ProductDeleted, current.to_json());
        match state
            .db
            .delete_product(&auth.tenant, &current, current.version, &event)
            .await
        {
            Ok(()) => return Ok(sellvy_api::no_content()),
            Err(StoreError::Conflict) => backoff(attempt).await,
            Err(e) => return Err(e.into()),
        }
    }
    Err(busy())
}

/// A short random wait before retrying a conflicting write, growing with each attempt, so
/// writers that collided do not collide again in step.
async fn backoff(attempt: u32) {
    let cap_ms = 5u64 << attempt.min(6);
    let jitter = u64::from(u16::from_le_bytes(sellvy_models::id::random_bytes::<2>())) % cap_ms;
    tokio::time::sleep(std::time::Duration::from_millis(jitter + 1)).await;
}

fn busy() -> ApiError {
    ApiError::Internal("product kept changing under concurrent writes".into())
}
