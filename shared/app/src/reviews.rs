//! Reviews: written by buyers with their order's access token, listed, replied to and hidden
//! by sellers, read by buyers on the storefront. The API's `/v1/reviews` and storefront routes
//! (and the dashboard) run these.

use crate::retry::until_committed;
use crate::{AppError, AppState, lookup};
use sellvy_models::review::{Review, ReviewListQuery};
use sellvy_models::wire::{PublicReview, ReviewObject};
use sellvy_models::{Event, EventType, PageRequest, Tenant};
use sellvy_store::Page;
use serde_json::Value;

/// The buyer's review of order `order_id` (proved by its access token); `review.created`.
pub async fn create(
    state: &AppState,
    t: &Tenant,
    order_id: &str,
    token: &str,
    body: Value,
) -> Result<Review, AppError> {
    until_committed(|| async {
        let order = crate::checkout::order_for_buyer(state, t, order_id, token).await?;
        let review = Review::create(&order, body.clone(), state.config.clock.now())?;
        let event = Event::new(EventType::ReviewCreated, &review.to_object())?;
        state.db.create_review(t, &review, &order, &event).await?;
        Ok(review)
    })
    .await
}

pub async fn find(state: &AppState, t: &Tenant, id: &str) -> Result<Review, AppError> {
    lookup(id, async |id: &sellvy_models::id::ReviewId| state.db.get_review(t, id).await).await
}

/// The seller's reviews, newest first, filtered as `query` asks.
pub async fn list(
    state: &AppState,
    t: &Tenant,
    page: PageRequest,
    query: &ReviewListQuery,
) -> Result<Page<ReviewObject>, AppError> {
    if query == &ReviewListQuery::default() {
        let found = state.db.review_page(t, page.offset(), page.per_page).await?;
        return Ok(Page { items: found.items.iter().map(Review::to_object).collect(), total: found.total });
    }
    let mut matching = state.db.review_summaries(t).await?;
    matching.retain(|r| query.matches(&r.product_id, r.rating()));
    matching.reverse();
    let (ids, total) = crate::listing::page_ids(matching, page, |r| r.id);
    let found = state.db.get_reviews(t, &ids).await?;
    Ok(Page { items: found.iter().map(Review::to_object).collect(), total })
}

/// A public product's visible reviews, newest first (404 for a product buyers cannot see).
pub async fn for_product(
    state: &AppState,
    t: &Tenant,
    product_id: &str,
    page: PageRequest,
) -> Result<Page<PublicReview>, AppError> {
    let product =
        lookup(product_id, async |id: &sellvy_models::id::ProductId| state.db.get_product(t, id).await)
            .await?;
    if !product.is_public() {
        return Err(AppError::not_found("Product"));
    }
    // The product's own partition, and its rating's count as the total: the cost follows the
    // page asked for, not the store's reviews.
    let (ids, rating) = tokio::try_join!(
        state.db.visible_review_ids(t, &product.id, page.offset(), page.per_page),
        state.db.product_rating(t, &product.id)
    )?;
    let found = state.db.get_reviews(t, &ids).await?;
    Ok(Page {
        items: found.iter().filter(|r| !r.hidden).map(Review::to_public).collect(),
        total: rating.count,
    })
}

async fn change(
    state: &AppState,
    t: &Tenant,
    id: &str,
    how: impl Fn(&Review) -> Result<Review, AppError>,
) -> Result<Review, AppError> {
    until_committed(|| async {
        let old = find(state, t, id).await?;
        let new = how(&old)?;
        state.db.update_review(t, &new, &old).await?;
        Ok(new)
    })
    .await
}

/// The seller's public reply (`Some(body)`), or none (`None`).
pub async fn reply(state: &AppState, t: &Tenant, id: &str, body: Option<Value>) -> Result<Review, AppError> {
    let now = state.config.clock.now();
    change(state, t, id, |r| Ok(r.replied(body.clone(), now)?)).await
}

/// Hides a review from buyers (and the product's rating), or shows it again.
pub async fn set_hidden(state: &AppState, t: &Tenant, id: &str, hidden: bool) -> Result<Review, AppError> {
    let now = state.config.clock.now();
    change(state, t, id, |r| Ok(r.with_hidden(hidden, now))).await
}
