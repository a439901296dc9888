//! The seller's products: each write records its event (`product.created`, `.updated`,
//! `.deleted`) in the same transaction.

use crate::error::AppError;
use crate::retry::until_committed;
use crate::state::AppState;
use sellvy_models::wire::{CategoryRef, ProductObject};
use sellvy_models::{Event, EventType, Product, Tenant};
use serde_json::Value;

async fn find(state: &AppState, t: &Tenant, id: &str) -> Result<Product, AppError> {
    crate::lookup("prod_", id, "Product", || state.db.get_product(t, id)).await
}

/// One product as the seller sees it, naming its category (one more read, only when it has one).
pub async fn product(state: &AppState, t: &Tenant, id: &str) -> Result<ProductObject, AppError> {
    let product = find(state, t, id).await?;
    let mut object = product.to_object();
    if let Some(c) = &product.category_id {
        object.category = state.db.get_category(t, c).await?.map(|c| CategoryRef { id: c.id, name: c.name });
    }
    Ok(object)
}

/// A new product from `body`.
pub async fn create(state: &AppState, t: &Tenant, body: Value) -> Result<ProductObject, AppError> {
    let product = Product::create(body, t.mode)?;
    let object = product.to_object();
    let event = Event::new(EventType::ProductCreated, &object)?;
    state.db.create_product(t, &product, &event).await?;
    Ok(object)
}

/// The fields `body` sends change; `null` clears an optional one.
pub async fn update(state: &AppState, t: &Tenant, id: &str, body: &Value) -> Result<ProductObject, AppError> {
    until_committed(|| async {
        let current = find(state, t, id).await?;
        let updated = current.apply_update(body.clone(), t.mode)?;
        let object = updated.to_object();
        let event = Event::new(EventType::ProductUpdated, &object)?;
        state.db.update_product(t, &updated, &current, &event).await?;
        Ok(object)
    })
    .await
}

/// Deletes a product; `product.deleted` carries it as it was.
pub async fn delete(state: &AppState, t: &Tenant, id: &str) -> Result<(), AppError> {
    until_committed(|| async {
        let current = find(state, t, id).await?;
        let event = Event::new(EventType::ProductDeleted, &current.to_object())?;
        state.db.delete_product(t, &current, &event).await?;
        Ok(())
    })
    .await
}
