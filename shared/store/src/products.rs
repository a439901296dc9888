//! Products: each write commits the product, the store's product count, the product count of
//! its category (which also proves the category exists) and its event, together.

use crate::collection::{CATEGORIES, PRODUCTS, Page};
use crate::db::{Db, StoreError, Write, n};
use aws_sdk_dynamodb::types::AttributeValue;
use sellvy_models::product::{LaneStock, ProductSummary, StockChange};
use sellvy_models::{Event, Product, SortOrder, Tenant};

/// The product's attributes that checkouts and payments move: a seller's write never
/// overwrites them.
const COUNTERS: [&str; 6] = ["available", "held", "vstock", "pool_bytes", "serial_len_max", "total_sold"];

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

    /// Writes the seller's fields of `new` if nobody changed them since `old` was read
    /// ([`StoreError::Conflict`] otherwise), moving it between categories and recording
    /// `event`. The stock counters are not the seller's: checkouts and payments move them
    /// atomically meanwhile, so they are left alone, but for what `change` sets anew (each under
    /// the condition that no unit was reserved or released since).
    pub async fn update_product(
        &self,
        t: &Tenant,
        new: &Product,
        old: &Product,
        change: &StockChange,
        event: &Event,
    ) -> Result<(), StoreError> {
        let item = PRODUCTS.item(t, &new.id, new)?;
        let mut sets = Vec::new();
        let mut removes = Vec::new();
        let mut names: Vec<(String, String)> = Vec::new();
        let mut values: Vec<(String, AttributeValue)> = vec![(":v".into(), n(old.version))];
        let mut conditions = vec!["version = :v".to_string()];
        for (k, v) in
            item.iter().filter(|(k, _)| !COUNTERS.contains(&k.as_str()) && !matches!(k.as_str(), "PK" | "SK"))
        {
            let i = names.len();
            names.push((format!("#a{i}"), k.clone()));
            values.push((format!(":a{i}"), v.clone()));
            sets.push(format!("#a{i} = :a{i}"));
        }
        match change.available {
            Some(Some(a)) => {
                sets.push("available = :avail".into());
                values.push((":avail".into(), n(a)));
            }
            Some(None) => removes.push("available".to_string()),
            None => {}
        }
        if change.available.is_some() {
            conditions.push("(attribute_not_exists(held) OR held = :held)".into());
            values.push((":held".into(), n(old.held)));
        }
        for (i, lane) in change.lanes_added.iter().enumerate() {
            names.push((format!("#la{i}"), lane.clone()));
            sets.push(format!("vstock.#la{i} = if_not_exists(vstock.#la{i}, :zero_lane)"));
        }
        if !change.lanes_added.is_empty() {
            values.push((":zero_lane".into(), serde_dynamo::to_attribute_value(LaneStock::default())?));
        }
        for (i, lane) in change.lanes_removed.iter().enumerate() {
            names.push((format!("#lr{i}"), lane.clone()));
            removes.push(format!("vstock.#lr{i}"));
            conditions.push(format!("(attribute_not_exists(vstock.#lr{i}) OR vstock.#lr{i}.held = :none)"));
        }
        if !change.lanes_removed.is_empty() {
            values.push((":none".into(), n(0)));
        }
        let mut expression = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        let names: Vec<(&str, &str)> = names.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let values: Vec<(&str, AttributeValue)> =
            values.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        let mut writes = vec![
            Write::update_named(
                &self.table,
                PRODUCTS.key(t, &new.id),
                &expression,
                Some(&conditions.join(" AND ")),
                &names,
                &values,
            )?,
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

    /// Deletes a product still as read, with its count, category membership and `event`; then
    /// its pools.
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
        self.transact(writes).await?;
        if p.product_type == sellvy_models::ProductType::Serials {
            self.delete_pools(t, &p.id).await?;
        }
        Ok(())
    }

    /// A product (strongly consistent). One written before serials had pools has its serials
    /// moved to them first.
    pub async fn get_product(&self, t: &Tenant, id: &str) -> Result<Option<Product>, StoreError> {
        let Some(p) = self.get_object::<Product>(PRODUCTS, t, id).await? else { return Ok(None) };
        if !p.is_legacy() {
            return Ok(Some(p));
        }
        match self.move_inline_serials(t, &p).await {
            Ok(()) | Err(StoreError::Conflict) => {}
            Err(e) => return Err(e),
        }
        self.get_object(PRODUCTS, t, id).await
    }

    /// A product written before pools (serials inline, no `held`): its serials become pool
    /// items, then the product trades its lists for counters (`held` is what its counts said
    /// open orders held), under its version. Safe to repeat: the items' keys are the serials'.
    async fn move_inline_serials(&self, t: &Tenant, p: &Product) -> Result<(), StoreError> {
        let lanes = std::iter::once((sellvy_models::pool::PRODUCT_LANE.to_string(), &p.serials))
            .chain(p.variants.iter().map(|v| (v.id.to_string(), &v.serials)));
        let mut bytes = 0u64;
        let mut longest = p.serial_len_max;
        for (lane, serials) in lanes {
            for chunk in serials.chunks(sellvy_models::pool::CHUNK) {
                let mut writes = Vec::with_capacity(chunk.len());
                for (i, v) in chunk.iter().enumerate() {
                    bytes += v.len() as u64;
                    longest = longest.max(v.len() as u64);
                    writes.push(self.pool_put(t, &p.id, &lane, v, i as i64)?);
                }
                self.transact(writes).await?;
            }
        }
        // What the old counts said open orders held: the stock less what checkouts could take.
        let old_stock = match p.product_type {
            sellvy_models::ProductType::Serials => p.serials.len() as u64,
            _ => p.stock_amount.unwrap_or(0),
        };
        let held = match p.available {
            Some(a) => old_stock.saturating_sub(a),
            None => 0,
        };
        let vstock: std::collections::BTreeMap<String, LaneStock> = p
            .variants
            .iter()
            .filter(|v| p.stock_per_variant() && v.available.is_some())
            .map(|v| {
                let available = v.available.unwrap_or(0);
                (
                    v.id.to_string(),
                    LaneStock { available, held: (v.serials.len() as u64).saturating_sub(available) },
                )
            })
            .collect();
        let mut removes = vec!["serials".to_string()];
        for i in 0..p.variants.len() {
            removes.push(format!("variants[{i}].serials"));
            removes.push(format!("variants[{i}].available"));
        }
        Write::update(
            &self.table,
            PRODUCTS.key(t, &p.id),
            &format!(
                "SET held = :held, pool_bytes = :bytes, serial_len_max = :longest, vstock = :vstock REMOVE {}",
                removes.join(", ")
            ),
            Some("version = :v"),
            &[
                (":held", n(held)),
                (":bytes", n(bytes)),
                (":longest", n(longest)),
                (":vstock", serde_dynamo::to_attribute_value(vstock)?),
                (":v", n(p.version)),
            ],
        )
        .map(|w| vec![w])
        .map(|w| self.transact(w))?
        .await
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
        self.get_many(PRODUCTS, t, ids, |p: &Product| p.id.to_string()).await
    }

    /// Asserts, inside another object's transaction, that these products exist (each failure
    /// names `field[i]`).
    pub(crate) fn products_exist(
        &self,
        t: &Tenant,
        ids: &[sellvy_models::id::ProductId],
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
