//! Products, their counter and their events, written together.

use crate::cost::{Kind, record};
use crate::db::{Db, Item, StoreError, is_condition_failure, n, s, tenant_pk};
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, KeysAndAttributes, Put, ReturnConsumedCapacity, TransactWriteItem,
    Update,
};
use sellvy_models::product::ProductSummary;
use sellvy_models::{Event, Product, SortOrder, Tenant};
use std::collections::HashMap;

const PRODUCT_PREFIX: &str = "PRODUCT#";
/// Sorts after every `PRODUCT#prod_…` key, so a newest-first page reads it first, for free.
const PRODUCT_COUNTER_SK: &str = "PRODUCT#~COUNT";
/// Events are kept 30 days for the delivery log, then expire by TTL.
const EVENT_RETENTION_SECS: i64 = 30 * 24 * 3600;

fn product_sk(id: &str) -> String {
    format!("{PRODUCT_PREFIX}{id}")
}

fn product_index_pk(t: &Tenant) -> String {
    format!("{}#PRODUCT", tenant_pk(t))
}

fn product_item(t: &Tenant, p: &Product) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(p)?;
    item.insert("PK".into(), s(tenant_pk(t)));
    item.insert("SK".into(), s(product_sk(&p.id)));
    item.insert("GSI1PK".into(), s(product_index_pk(t)));
    item.insert("GSI1SK".into(), s(&p.id));
    Ok(item)
}

fn build<T, E: std::fmt::Display>(r: Result<T, E>) -> Result<T, StoreError> {
    r.map_err(|e| StoreError::Backend(e.to_string()))
}

impl Db {
    /// The outbox write that goes into the same transaction as the change it records.
    fn event_put(&self, t: &Tenant, e: &Event) -> Result<TransactWriteItem, StoreError> {
        let mut item = HashMap::new();
        item.insert("PK".into(), s(tenant_pk(t)));
        item.insert("SK".into(), s(format!("EVENT#{}", e.id)));
        item.insert("id".into(), s(&e.id));
        item.insert("type".into(), s(e.event_type.as_str()));
        item.insert("created_at".into(), s(e.created_at.to_rfc3339()));
        item.insert("payload".into(), s(e.payload().to_string()));
        // Not yet handed to the delivery queue (see the webhooks issue: the forwarder clears it).
        item.insert("dispatch".into(), s("pending"));
        item.insert(
            "expires_at".into(),
            n(e.created_at.seconds() + EVENT_RETENTION_SECS),
        );
        let put = build(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .build(),
        )?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    fn counter_add(&self, t: &Tenant, delta: i64) -> Result<TransactWriteItem, StoreError> {
        let update = build(
            Update::builder()
                .table_name(&self.table)
                .key("PK", s(tenant_pk(t)))
                .key("SK", s(PRODUCT_COUNTER_SK))
                .update_expression("ADD products :d")
                .expression_attribute_values(":d", n(delta))
                .build(),
        )?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), StoreError> {
        let out = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match out {
            Ok(o) => {
                record(Kind::Write, 0, o.consumed_capacity());
                Ok(())
            }
            Err(e) if is_condition_failure(&e) => {
                record(Kind::Write, 0, None);
                Err(StoreError::Conflict)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Writes a new product, bumps the store's product count and records `event`, atomically.
    pub async fn create_product(
        &self,
        t: &Tenant,
        p: &Product,
        event: &Event,
    ) -> Result<(), StoreError> {
        let put = build(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(product_item(t, p)?))
                .condition_expression("attribute_not_exists(PK)")
                .build(),
        )?;
        self.transact(vec![
            TransactWriteItem::builder().put(put).build(),
            self.counter_add(t, 1)?,
            self.event_put(t, event)?,
        ])
        .await
    }

    /// Replaces a product if it is still at `expected_version`, recording `event` with it.
    /// [`StoreError::Conflict`] when it changed or vanished meanwhile.
    pub async fn update_product(
        &self,
        t: &Tenant,
        p: &Product,
        expected_version: u64,
        event: &Event,
    ) -> Result<(), StoreError> {
        let put = build(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(product_item(t, p)?))
                .condition_expression("version = :v")
                .expression_attribute_values(":v", n(expected_version))
                .build(),
        )?;
        self.transact(vec![
            TransactWriteItem::builder().put(put).build(),
            self.event_put(t, event)?,
        ])
        .await
    }

    /// Deletes a product still at `expected_version`, with its count and `event`.
    pub async fn delete_product(
        &self,
        t: &Tenant,
        p: &Product,
        expected_version: u64,
        event: &Event,
    ) -> Result<(), StoreError> {
        let delete = build(
            Delete::builder()
                .table_name(&self.table)
                .key("PK", s(tenant_pk(t)))
                .key("SK", s(product_sk(&p.id)))
                .condition_expression("version = :v")
                .expression_attribute_values(":v", n(expected_version))
                .build(),
        )?;
        self.transact(vec![
            TransactWriteItem::builder().delete(delete).build(),
            self.counter_add(t, -1)?,
            self.event_put(t, event)?,
        ])
        .await
    }

    /// One product of the tenant (a strongly consistent GetItem: a product read right after
    /// it was written is found).
    pub async fn get_product(&self, t: &Tenant, id: &str) -> Result<Option<Product>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("PK", s(tenant_pk(t)))
            .key("SK", s(product_sk(id)))
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await?;
        record(
            Kind::Read,
            out.item.is_some() as usize,
            out.consumed_capacity(),
        );
        Ok(match out.item {
            Some(item) => Some(serde_dynamo::from_item(item)?),
            None => None,
        })
    }

    /// A page of products in creation order, straight from the table's key order:
    /// one Query of `per_page` items (plus, newest first, the counter item that sorts first).
    /// Pages after the first find their start by skipping `offset` small index entries.
    pub async fn product_page(
        &self,
        t: &Tenant,
        offset: u64,
        per_page: u32,
        order: SortOrder,
    ) -> Result<ProductPage, StoreError> {
        let desc = order == SortOrder::Desc;
        let start = if offset == 0 {
            None
        } else {
            self.product_position(t, offset, desc).await?
        };
        if offset > 0 && start.is_none() {
            // Past the end.
            return Ok(ProductPage {
                products: Vec::new(),
                total: self.product_count(t).await?,
            });
        }
        let with_counter = offset == 0 && desc;
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :p)")
            .expression_attribute_values(":pk", s(tenant_pk(t)))
            .expression_attribute_values(":p", s(PRODUCT_PREFIX))
            .scan_index_forward(!desc)
            .limit(per_page as i32 + with_counter as i32)
            .set_exclusive_start_key(start)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await?;
        record(Kind::Read, out.items().len(), out.consumed_capacity());
        let mut total = None;
        let mut products = Vec::with_capacity(per_page as usize);
        for item in out.items.unwrap_or_default() {
            if item.get("SK") == Some(&s(PRODUCT_COUNTER_SK)) {
                total = Some(counter_value(&item));
            } else {
                products.push(serde_dynamo::from_item(item)?);
            }
        }
        let total = match total {
            Some(t) => t,
            None if with_counter => 0, // no counter yet: the store never had a product
            None => self.product_count(t).await?,
        };
        Ok(ProductPage { products, total })
    }

    /// The table key of the product just before position `offset`, found by reading only keys
    /// from the index (`None` when the store has `offset` products or fewer).
    async fn product_position(
        &self,
        t: &Tenant,
        offset: u64,
        desc: bool,
    ) -> Result<Option<Item>, StoreError> {
        let mut remaining = offset;
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name("GSI1")
                .key_condition_expression("GSI1PK = :pk")
                .expression_attribute_values(":pk", s(product_index_pk(t)))
                .projection_expression("PK, SK, GSI1PK, GSI1SK")
                .scan_index_forward(!desc)
                .limit(remaining.min(1000) as i32)
                .set_exclusive_start_key(start)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await?;
            record(Kind::Read, out.items().len(), out.consumed_capacity());
            let got = out.items().len() as u64;
            if got == remaining {
                let last = out.items().last().expect("got > 0");
                let mut key = HashMap::new();
                key.insert("PK".to_string(), last["PK"].clone());
                key.insert("SK".to_string(), last["SK"].clone());
                return Ok(Some(key));
            }
            remaining -= got;
            match out.last_evaluated_key {
                Some(k) => start = Some(k),
                None => return Ok(None),
            }
        }
    }

    /// The maintained count of the tenant's products.
    pub async fn product_count(&self, t: &Tenant) -> Result<u64, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("PK", s(tenant_pk(t)))
            .key("SK", s(PRODUCT_COUNTER_SK))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await?;
        record(
            Kind::Read,
            out.item.is_some() as usize,
            out.consumed_capacity(),
        );
        Ok(out.item.as_ref().map_or(0, counter_value))
    }

    /// Every product's summary (the few fields lists filter and sort on), read from the index
    /// whose entries are small: O(store size), but about 30 products per read unit.
    pub async fn product_summaries(&self, t: &Tenant) -> Result<Vec<ProductSummary>, StoreError> {
        let mut out_items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name("GSI1")
                .key_condition_expression("GSI1PK = :pk")
                .expression_attribute_values(":pk", s(product_index_pk(t)))
                .set_exclusive_start_key(start)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await?;
            record(Kind::Read, out.items().len(), out.consumed_capacity());
            for item in out.items() {
                let mut item = item.clone();
                item.entry("category_id".into())
                    .or_insert(AttributeValue::Null(true));
                out_items.push(serde_dynamo::from_item(item)?);
            }
            match out.last_evaluated_key {
                Some(k) => start = Some(k),
                None => break,
            }
        }
        Ok(out_items)
    }

    /// Whole products by id, in the order asked (at most 100; ids not found are skipped).
    pub async fn get_products(
        &self,
        t: &Tenant,
        ids: &[String],
    ) -> Result<Vec<Product>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<Item> = ids
            .iter()
            .map(|id| {
                HashMap::from([
                    ("PK".to_string(), s(tenant_pk(t))),
                    ("SK".to_string(), s(product_sk(id))),
                ])
            })
            .collect();
        let mut pending = Some(build(
            KeysAndAttributes::builder().set_keys(Some(keys)).build(),
        )?);
        let mut found: HashMap<String, Product> = HashMap::new();
        let mut attempt = 0;
        while let Some(request) = pending.take() {
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await?;
            let items = out
                .responses
                .as_ref()
                .and_then(|r| r.get(&self.table))
                .cloned()
                .unwrap_or_default();
            record(Kind::Read, items.len(), out.consumed_capacity());
            for item in items {
                let p: Product = serde_dynamo::from_item(item)?;
                found.insert(p.id.clone(), p);
            }
            pending = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
                .filter(|k| !k.keys().is_empty());
            if pending.is_some() {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(20 << attempt.min(5))).await;
            }
        }
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }
}

/// One page of products and the store's total.
#[derive(Debug)]
pub struct ProductPage {
    pub products: Vec<Product>,
    pub total: u64,
}

fn counter_value(item: &Item) -> u64 {
    match item.get("products") {
        Some(AttributeValue::N(v)) => v.parse::<i64>().unwrap_or(0).max(0) as u64,
        _ => 0,
    }
}

impl Db {
    /// The tenant's most recent events, newest first (the outbox as recorded).
    pub async fn recent_events(
        &self,
        t: &Tenant,
        limit: u32,
    ) -> Result<Vec<serde_json::Value>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :p)")
            .expression_attribute_values(":pk", s(tenant_pk(t)))
            .expression_attribute_values(":p", s("EVENT#"))
            .scan_index_forward(false)
            .limit(limit as i32)
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await?;
        record(Kind::Read, out.items().len(), out.consumed_capacity());
        out.items()
            .iter()
            .map(|item| match item.get("payload") {
                Some(AttributeValue::S(p)) => serde_json::from_str(p)
                    .map_err(|e| StoreError::Backend(format!("event payload: {e}"))),
                _ => Err(StoreError::Backend("event without payload".into())),
            })
            .collect()
    }
}
