//! Lists with filters or sorts the table's key order cannot serve: the small summaries of a
//! tenant's objects are read (one Query of the index), filtered and sorted, and only the page's
//! objects are read whole (one BatchGetItem). The plain newest-first lists read one page.
//! Lists carry objects without their heavy parts (a product's serials, an order's goods, a
//! delivery's payload), so a full page of the largest objects stays inside a Lambda response.

use crate::error::AppError;
use crate::state::AppState;
use sellvy_models::order::OrderListQuery;
use sellvy_models::webhook::DeliveryListQuery;
use sellvy_models::wire::{DeliveryObject, OrderObject, ProductObject, PublicProduct};
use sellvy_models::{PageRequest, Product, ProductListQuery, Tenant};
use sellvy_store::Page;

/// The ids of `page` among `matching` (already in the list's order), and how many match.
pub(crate) fn page_ids<S>(
    matching: Vec<S>,
    page: PageRequest,
    id: impl Fn(S) -> String,
) -> (Vec<String>, u64) {
    let total = matching.len() as u64;
    let ids =
        matching.into_iter().skip(page.offset() as usize).take(page.per_page as usize).map(id).collect();
    (ids, total)
}

/// The seller's products: newest first by default, or filtered and sorted as `query` asks.
pub async fn products(
    state: &AppState,
    t: &Tenant,
    page: PageRequest,
    query: &ProductListQuery,
) -> Result<Page<ProductObject>, AppError> {
    if query.is_key_ordered() {
        let found = state.db.product_page(t, page.offset(), page.per_page, query.order).await?;
        return Ok(Page { items: found.items.iter().map(Product::to_object).collect(), total: found.total });
    }
    let mut summaries = state.db.product_summaries(t).await?;
    summaries.retain(|s| query.matches(s));
    query.sort(&mut summaries);
    let (ids, total) = page_ids(summaries, page, |s| s.id.to_string());
    let products = state.db.get_products(t, &ids).await?;
    Ok(Page { items: products.iter().map(Product::to_object).collect(), total })
}

/// What a storefront lists: visible products, neither private nor unlisted, newest first;
/// optionally those whose title contains `search` (any case) or in `category_id`.
pub async fn storefront_products(
    state: &AppState,
    t: &Tenant,
    page: PageRequest,
    search: Option<&str>,
    category_id: Option<&str>,
) -> Result<Page<PublicProduct>, AppError> {
    let search = search.map(str::to_lowercase).filter(|s| !s.trim().is_empty());
    let mut listed = state.db.product_summaries(t).await?;
    listed.retain(|s| {
        s.is_listed()
            && search.as_ref().is_none_or(|q| s.title.to_lowercase().contains(q.trim()))
            && category_id.is_none_or(|c| s.category_id.as_deref() == Some(c))
    });
    listed.reverse(); // newest first
    let (ids, total) = page_ids(listed, page, |s| s.id.to_string());
    // The products and their ratings (kept apart from them), read at once.
    let (products, ratings) =
        tokio::try_join!(state.db.get_products(t, &ids), state.db.product_ratings(t, &ids))?;
    let rating_of =
        |p: &Product| ratings.get(p.id.as_str()).copied().unwrap_or(sellvy_models::review::rating(0, 0));
    Ok(Page { items: products.iter().map(|p| p.to_public(rating_of(p))).collect(), total })
}

/// The seller's orders, newest first, filtered as `query` asks.
pub async fn orders(
    state: &AppState,
    t: &Tenant,
    page: PageRequest,
    query: &OrderListQuery,
) -> Result<Page<OrderObject>, AppError> {
    if query.is_unfiltered() {
        let found = state.db.order_page(t, page.offset(), page.per_page).await?;
        return Ok(Page {
            items: found.items.iter().map(|o| o.to_list_object()).collect(),
            total: found.total,
        });
    }
    let mut matching = state.db.order_summaries(t).await?;
    matching.retain(|o| {
        query.matches(o.status, o.payment_status, &o.customer_email, &o.product_id, o.created_at)
    });
    matching.reverse();
    let (ids, total) = page_ids(matching, page, |o| o.id);
    let orders = state.db.get_orders(t, &ids).await?;
    Ok(Page { items: orders.iter().map(|o| o.to_list_object()).collect(), total })
}

/// The webhook delivery log, newest first, filtered as `query` asks; each with its attempts.
pub async fn deliveries(
    state: &AppState,
    t: &Tenant,
    page: PageRequest,
    query: &DeliveryListQuery,
) -> Result<Page<DeliveryObject>, AppError> {
    let mut matching = state.db.delivery_summaries(t).await?;
    matching.retain(|d| query.matches(&d.endpoint_id, d.event_type, d.status));
    matching.reverse();
    let (ids, total) = page_ids(matching, page, |d| d.id);
    let found = state.db.get_deliveries(t, &ids).await?;
    Ok(Page { items: found.iter().map(|d| d.to_list_object()).collect(), total })
}
