//! Reviews (a collection: `REVIEW#<rev_id>`, with GSI1 summaries) and each product's rating
//! counters (`RATING#<prod_id>`: `count`, `sum` of its visible reviews), moved in the review's
//! own transactions and never on the product item that payments write.

use crate::collection::Page;
use crate::cost::{Kind, record};
use crate::db::{Db, Item, StoreError, Write, n, number, s};
use crate::layout::{ORDERS, REVIEWS, product_reviews_pk, rating_key};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use sellvy_models::event::Event;
use sellvy_models::order::Order;
use sellvy_models::review::{Review, rating};
use sellvy_models::wire::ProductRating;
use sellvy_models::{SortOrder, Tenant};
use serde::Deserialize;
use std::collections::HashMap;

/// A review's index entry. The index projects a fixed set of attribute names: a review's
/// visibility is stored as `status` (`visible`, `hidden`) and its rating as `kind` (`1`–`5`).
#[derive(Debug, Clone, Deserialize)]
pub struct ReviewSummary {
    pub id: String,
    pub product_id: String,
    pub status: String,
    pub kind: String,
}

impl ReviewSummary {
    pub fn rating(&self) -> u8 {
        self.kind.parse().unwrap_or(0)
    }
}

fn review_item(t: &Tenant, r: &Review) -> Result<Item, StoreError> {
    let mut item = REVIEWS.item(t, &r.id, r)?;
    item.insert("status".into(), s(if r.hidden { "hidden" } else { "visible" }));
    item.insert("kind".into(), s(r.rating.to_string()));
    Ok(item)
}

/// A review's entry in its product's partition.
fn product_entry(t: &Tenant, r: &Review) -> Item {
    HashMap::from([
        ("PK".to_string(), s(product_reviews_pk(t, &r.product_id))),
        ("SK".to_string(), s(r.id.as_str())),
        ("visible".to_string(), AttributeValue::Bool(!r.hidden)),
    ])
}

impl Db {
    fn rating_add(
        &self,
        t: &Tenant,
        product_id: &str,
        (count, sum): (i64, i64),
    ) -> Result<Write, StoreError> {
        Write::update_named(
            &self.table,
            rating_key(t, product_id),
            "ADD #count :c, #sum :s",
            None,
            &[("#count", "count"), ("#sum", "sum")],
            &[(":c", n(count)), (":s", n(sum))],
        )
    }

    /// Writes a new review of `order` (as read): the review, the order's `review_id` (only
    /// while the order is as read and has none: a second review of one order, raced or not,
    /// is a [`StoreError::Conflict`] whose retry finds the first), the product's rating, the
    /// count and the event, in one transaction.
    pub async fn create_review(
        &self,
        t: &Tenant,
        r: &Review,
        order: &Order,
        event: &Event,
    ) -> Result<(), StoreError> {
        self.transact(vec![
            Write::put(&self.table, review_item(t, r)?, Some("attribute_not_exists(PK)"), &[])?,
            Write::update(
                &self.table,
                ORDERS.key(t, &order.id),
                "SET review_id = :r, version = :next",
                Some("version = :v AND attribute_not_exists(review_id)"),
                &[(":r", s(r.id.as_str())), (":next", n(order.version + 1)), (":v", n(order.version))],
            )?,
            self.rating_add(t, &r.product_id, r.counts())?,
            Write::put(&self.table, product_entry(t, r), None, &[])?,
            REVIEWS.count_add(self, t, 1)?,
            self.record_event(t, event)?,
        ])
        .await
    }

    pub async fn get_review(&self, t: &Tenant, id: &str) -> Result<Option<Review>, StoreError> {
        self.get_object(REVIEWS, t, id).await
    }

    /// Writes a changed review over `old` (if still as read), moving its product's rating by
    /// what changed (a review hidden or shown again).
    pub async fn update_review(&self, t: &Tenant, new: &Review, old: &Review) -> Result<(), StoreError> {
        let mut writes = vec![Write::put_versioned(&self.table, review_item(t, new)?, old.version)?];
        let (before, after) = (old.counts(), new.counts());
        if before != after {
            writes.push(self.rating_add(t, &new.product_id, (after.0 - before.0, after.1 - before.1))?);
        }
        if new.hidden != old.hidden {
            writes.push(Write::put(&self.table, product_entry(t, new), None, &[])?);
        }
        self.transact(writes).await
    }

    /// The write that marks a review refunded (with the refund of its order).
    pub(crate) fn review_refunded(&self, t: &Tenant, review_id: &str) -> Result<Write, StoreError> {
        Write::update(
            &self.table,
            REVIEWS.key(t, review_id),
            "SET refunded = :yes ADD version :one",
            Some("attribute_exists(PK)"),
            &[(":yes", AttributeValue::Bool(true)), (":one", n(1))],
        )
    }

    pub async fn review_page(
        &self,
        t: &Tenant,
        offset: u64,
        per_page: u32,
    ) -> Result<Page<Review>, StoreError> {
        self.page(REVIEWS, t, offset, per_page, SortOrder::Desc).await
    }

    /// Every review's summary, oldest first (the filters).
    pub async fn review_summaries(&self, t: &Tenant) -> Result<Vec<ReviewSummary>, StoreError> {
        self.summaries(REVIEWS, t).await
    }

    pub async fn get_reviews(&self, t: &Tenant, ids: &[String]) -> Result<Vec<Review>, StoreError> {
        self.get_many(REVIEWS, t, ids, |r: &Review| r.id.to_string()).await
    }

    /// The ids of a product's visible reviews, newest first, from `offset`, at most `limit`:
    /// Queries of its own partition (tiny entries), reading `offset + limit` visible ones at
    /// most, whatever the store's other reviews.
    pub async fn visible_review_ids(
        &self,
        t: &Tenant,
        product_id: &str,
        offset: u64,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        let wanted = offset as usize + limit as usize;
        let mut ids = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk")
                .filter_expression("visible = :yes")
                .expression_attribute_values(":pk", s(product_reviews_pk(t, product_id)))
                .expression_attribute_values(":yes", AttributeValue::Bool(true))
                .scan_index_forward(false)
                .limit((wanted - ids.len()).clamp(1, 1000) as i32)
                .set_exclusive_start_key(start)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await?;
            record(Kind::Read, out.items().len(), out.consumed_capacity());
            ids.extend(out.items().iter().filter_map(|i| i.get("SK").and_then(|v| v.as_s().ok()).cloned()));
            start = out.last_evaluated_key;
            if start.is_none() || ids.len() >= wanted {
                return Ok(ids.into_iter().skip(offset as usize).take(limit as usize).collect());
            }
        }
    }

    /// A product's rating (one GetItem).
    pub async fn product_rating(&self, t: &Tenant, product_id: &str) -> Result<ProductRating, StoreError> {
        let (pk, sk) = rating_key(t, product_id);
        let item = self.get(pk, sk, false).await?.unwrap_or_default();
        Ok(rating(number(&item, "count"), number(&item, "sum")))
    }

    /// The ratings of up to 100 products (one BatchGetItem), by product id.
    pub async fn product_ratings(
        &self,
        t: &Tenant,
        product_ids: &[String],
    ) -> Result<HashMap<String, ProductRating>, StoreError> {
        let mut out: HashMap<String, ProductRating> =
            product_ids.iter().map(|id| (id.clone(), rating(0, 0))).collect();
        let mut keys: Vec<(String, String)> = product_ids.iter().map(|id| rating_key(t, id)).collect();
        keys.sort();
        keys.dedup();
        for item in self.batch_get(keys, false).await? {
            let Some(AttributeValue::S(sk)) = item.get("SK") else { continue };
            if let Some(id) = sk.strip_prefix("RATING#") {
                out.insert(id.to_string(), rating(number(&item, "count"), number(&item, "sum")));
            }
        }
        Ok(out)
    }
}
