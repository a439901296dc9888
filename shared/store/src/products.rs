//! Products: each write commits the product, the store's product count, the product count of
//! its category (which also proves the category exists) and its event, together.

use crate::collection::{CATEGORIES, PRODUCTS, Page};
use crate::db::{Db, StoreError, Write, n};
use aws_sdk_dynamodb::types::AttributeValue;
use sellvy_models::product::ProductSummary;
use sellvy_models::{Event, Product, SortOrder, Tenant};

impl Db {
    /// Adds `delta` to a category's product count; fails (naming `category_id`) when the
    /// category does not exist, so a product can never point at nothing.
    fn category_membership(&self, t: &Tenant, category_id: &str, delta: i64) -> Result<Write, StoreError> {
        Ok(Write::update(
            &self.table,
            CATEGORIES.key(t, category_id),
            "ADD product_count :d",
            Some("attribute_exists(PK)"),
            &[(":d", n(delta))],
        )?
        .or_reject("category_id", "is not a category of this store"))
    }

    /// Writes a new product with its count, category membership and `event`, atomically.
    pub async fn create_product(&self, t: &Tenant, p: &Product, event: &Event) -> Result<(), StoreError> {
        let mut writes = vec![
            Write::put(&self.table, PRODUCTS.item(t, &p.id, p)?, Some("attribute_not_exists(PK)"), &[])?,
            PRODUCTS.count_add(self, t, 1)?,
            self.record_event(t, event)?,
        ];
        if let Some(c) = &p.category_id {
            writes.push(self.category_membership(t, c, 1)?);
        }
        self.transact(writes).await
    }

    /// Replaces `old` by `new` if nobody changed it since it was read ([`StoreError::Conflict`]
    /// otherwise), moving it between categories and recording `event`.
    pub async fn update_product(
        &self,
        t: &Tenant,
        new: &Product,
        old: &Product,
        event: &Event,
    ) -> Result<(), StoreError> {
        // Checkouts move `available` without touching `version`: a change to it is a conflict too.
        // So do the variants' own counters (serials kept per variant).
        let (mut condition, mut values) = match old.available {
            Some(a) => (
                "version = :v AND available = :a".to_string(),
                vec![(":v".to_string(), n(old.version)), (":a".to_string(), n(a))],
            ),
            None => (
                "version = :v AND attribute_not_exists(available)".to_string(),
                vec![(":v".to_string(), n(old.version))],
            ),
        };
        for (i, v) in old.variants.iter().enumerate() {
            if let Some(a) = v.available {
                condition.push_str(&format!(" AND variants[{i}].available = :va{i}"));
                values.push((format!(":va{i}"), n(a)));
            }
        }
        let values: Vec<(&str, AttributeValue)> =
            values.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        let mut writes = vec![
            Write::put(&self.table, PRODUCTS.item(t, &new.id, new)?, Some(&condition), &values)?,
            self.record_event(t, event)?,
        ];
        if new.category_id != old.category_id {
            if let Some(c) = &old.category_id {
                writes.push(self.category_membership(t, c, -1)?);
            }
            if let Some(c) = &new.category_id {
                writes.push(self.category_membership(t, c, 1)?);
            }
        }
        self.transact(writes).await
    }

    /// Deletes a product still as read, with its count, category membership and `event`.
    pub async fn delete_product(&self, t: &Tenant, p: &Product, event: &Event) -> Result<(), StoreError> {
        let mut writes = vec![
            Write::delete(
                &self.table,
                PRODUCTS.key(t, &p.id),
                Some("version = :v"),
                &[(":v", n(p.version))],
            )?,
            PRODUCTS.count_add(self, t, -1)?,
            self.record_event(t, event)?,
        ];
        if let Some(c) = &p.category_id {
            writes.push(self.category_membership(t, c, -1)?);
        }
        self.transact(writes).await
    }

    pub async fn get_product(&self, t: &Tenant, id: &str) -> Result<Option<Product>, StoreError> {
        self.get_object(PRODUCTS, t, id).await
    }

    /// A page of products in creation order (see [`Db::page`] for its cost).
    pub async fn product_page(
        &self,
        t: &Tenant,
        offset: u64,
        per_page: u32,
        order: SortOrder,
    ) -> Result<Page<Product>, StoreError> {
        self.page(PRODUCTS, t, offset, per_page, order).await
    }

    /// Every product's summary (the few fields lists filter and sort on), from the index:
    /// O(store size), about 25 products per read unit.
    pub async fn product_summaries(&self, t: &Tenant) -> Result<Vec<ProductSummary>, StoreError> {
        self.summaries(PRODUCTS, t).await
    }

    /// Whole products by id, in the order asked (at most 100; ids not found are skipped).
    pub async fn get_products(&self, t: &Tenant, ids: &[String]) -> Result<Vec<Product>, StoreError> {
        self.get_many(PRODUCTS, t, ids, |p: &Product| p.id.clone()).await
    }

    /// Asserts, inside another object's transaction, that these products exist (each failure
    /// names `field[i]`).
    pub(crate) fn products_exist(
        &self,
        t: &Tenant,
        ids: &[String],
        field: &str,
    ) -> Result<Vec<Write>, StoreError> {
        ids.iter()
            .enumerate()
            .map(|(i, id)| {
                Ok(Write::exists(&self.table, PRODUCTS.key(t, id))?
                    .or_reject(format!("{field}[{i}]"), "is not a product of this store"))
            })
            .collect()
    }
}
