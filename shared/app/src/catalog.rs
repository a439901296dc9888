//! The seller's products: each write records its event (`product.created`, `.updated`,
//! `.deleted`) in the same transaction. A serials product's serials live in its pools: a write
//! of `info` replaces what a pool holds, an append adds to it.

use crate::error::AppError;
use crate::retry::until_committed;
use crate::state::AppState;
use sellvy_models::wire::{CategoryRef, ProductObject};
use sellvy_models::{Event, EventType, Product, ProductType, SerialsAppend, Tenant};
use serde_json::Value;
use std::collections::BTreeMap;

async fn find(state: &AppState, t: &Tenant, id: &str) -> Result<Product, AppError> {
    crate::lookup(id, async |id: &sellvy_models::id::ProductId| state.db.get_product(t, id).await).await
}

/// A product with its serials, as `GET /products/{id}` answers it.
async fn with_pools(state: &AppState, t: &Tenant, product: &Product) -> Result<ProductObject, AppError> {
    let pools = match product.product_type {
        ProductType::Serials => state.db.pools(t, &product.id).await?,
        _ => BTreeMap::new(),
    };
    Ok(product.to_object_with(&pools))
}

/// One product as the seller sees it, with its serials and naming its category (one more
/// read, only when it has one).
pub async fn product(state: &AppState, t: &Tenant, id: &str) -> Result<ProductObject, AppError> {
    let product = find(state, t, id).await?;
    let mut object = with_pools(state, t, &product).await?;
    if let Some(c) = &product.category_id {
        object.category =
            state.db.get_category(t, c).await?.map(|c| CategoryRef { id: c.id.to_string(), name: c.name });
    }
    Ok(object)
}

/// A new product from `body`; its serials go to its pool.
pub async fn create(state: &AppState, t: &Tenant, body: Value) -> Result<ProductObject, AppError> {
    let (product, pools) = Product::create(body, t.mode)?;
    let created = product.expecting(&pools);
    let event = Event::new(EventType::ProductCreated, &created.to_object())?;
    state.db.create_product(t, &product, &event).await?;
    state.db.write_pools(t, &product, &pools).await?;
    Ok(created.to_object_with(&pools.lanes))
}

/// The fields `body` sends change; `null` clears an optional one; an `info` sent replaces what
/// that pool holds.
pub async fn update(state: &AppState, t: &Tenant, id: &str, body: &Value) -> Result<ProductObject, AppError> {
    let (updated, pools) = until_committed(|| async {
        let current = find(state, t, id).await?;
        let (updated, pools, change) = current.apply_update(body.clone(), t.mode)?;
        let event = Event::new(EventType::ProductUpdated, &updated.expecting(&pools).to_object())?;
        state.db.update_product(t, &updated, &current, &change, &event).await?;
        Ok((updated, pools))
    })
    .await?;
    if !pools.is_empty() {
        state.db.write_pools(t, &updated, &pools).await?;
    }
    let now = find(state, t, id).await?;
    with_pools(state, t, &now).await
}

/// Adds serials to a pool (`POST /products/{id}/serials`), without racing buyers; serials the
/// pool holds already are skipped, so a retry of an interrupted append completes it.
pub async fn append_serials(
    state: &AppState,
    t: &Tenant,
    id: &str,
    body: Value,
) -> Result<ProductObject, AppError> {
    let product = find(state, t, id).await?;
    let append = SerialsAppend::parse(body, &product)?;
    let mut after = product.clone();
    match after.vstock.get_mut(&append.lane) {
        Some(l) => l.available += append.serials.len() as u64,
        None => after.available = after.available.map(|a| a + append.serials.len() as u64),
    }
    let event = Event::new(EventType::ProductUpdated, &after.to_object())?;
    state.db.append_serials(t, &product, &append.lane, &append.serials, &event).await?;
    let now = find(state, t, id).await?;
    with_pools(state, t, &now).await
}

/// Deletes a product; `product.deleted` carries it as it was. Its pools go with it.
pub async fn delete(state: &AppState, t: &Tenant, id: &str) -> Result<(), AppError> {
    until_committed(|| async {
        let current = find(state, t, id).await?;
        let event = Event::new(EventType::ProductDeleted, &current.to_object())?;
        state.db.delete_product(t, &current, &event).await?;
        Ok(())
    })
    .await
}
