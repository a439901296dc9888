//! A tenant's collection of objects (products, categories, coupons, …; keys in
//! [`crate::layout::Collection`]): pages, counts, summaries and batch reads. The counter's sort
//! key sorts after every id, so a newest-first page reads it in the same Query.

use crate::cost::{Kind, record};
use crate::db::{Db, Item, StoreError, Write, n, number, s};
use crate::layout::tenant_pk;
pub(crate) use crate::layout::{CATEGORIES, COUPONS, CUSTOMERS, Collection, ORDERS, PRODUCTS};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use sellvy_models::{SortOrder, Tenant};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;

/// A page of a collection and the collection's total.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
}

impl Collection {
    /// The stored item of an object: its fields plus the table and index keys.
    pub fn item<T: Serialize>(&self, t: &Tenant, id: &str, object: &T) -> Result<Item, StoreError> {
        let mut item: Item = serde_dynamo::to_item(object)?;
        let (pk, sk) = self.key(t, id);
        item.insert("PK".into(), s(pk));
        item.insert("SK".into(), s(sk));
        item.insert("GSI1PK".into(), s(self.index_pk(t)));
        item.insert("GSI1SK".into(), s(id));
        Ok(item)
    }

    /// Adds `delta` to the tenant's count of this collection (a transaction write), on a shard
    /// picked at random when the counter is sharded.
    pub fn count_add(&self, db: &Db, t: &Tenant, delta: i64) -> Result<Write, StoreError> {
        let shard = sellvy_models::id::random_bytes::<1>()[0] % self.shards;
        Write::update(
            &db.table,
            self.counter_shard_key(t, shard),
            "ADD item_count :d",
            None,
            &[(":d", n(delta))],
        )
    }
}

impl Write {
    /// One more in the count at `counter`, only while it is below `max`: the cap is checked in
    /// the very transaction that would break it, so concurrent creates can never pass it.
    /// Breaking it refuses the input for `field` with `message`.
    pub(crate) fn count_up_to(
        table: &str,
        counter: (String, String),
        max: u64,
        field: &str,
        message: String,
    ) -> Result<Write, StoreError> {
        let condition = "attribute_not_exists(item_count) OR item_count < :max";
        Ok(Write::update(
            table,
            counter,
            "ADD item_count :one",
            Some(condition),
            &[(":one", n(1)), (":max", n(max))],
        )?
        .or_reject(field, message))
    }
}

impl Db {
    /// One object of a collection (strongly consistent: found right after it was written).
    pub(crate) async fn get_object<T: DeserializeOwned>(
        &self,
        c: Collection,
        t: &Tenant,
        id: &str,
    ) -> Result<Option<T>, StoreError> {
        let (pk, sk) = c.key(t, id);
        match self.get(pk, sk, true).await? {
            Some(item) => Ok(Some(serde_dynamo::from_item(item)?)),
            None => Ok(None),
        }
    }

    /// The maintained count of a collection (the sum of its shards).
    pub(crate) async fn count(&self, c: Collection, t: &Tenant) -> Result<u64, StoreError> {
        if c.shards == 1 {
            let (pk, sk) = c.counter_key(t);
            let item = self.get(pk, sk, false).await?;
            return Ok(item.map_or(0, |i| number(&i, "item_count").max(0) as u64));
        }
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :c)")
            .expression_attribute_values(":pk", s(tenant_pk(t)))
            .expression_attribute_values(":c", s(c.counter))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await?;
        record(Kind::Read, out.items().len(), out.consumed_capacity());
        Ok(out.items().iter().map(|i| number(i, "item_count")).sum::<i64>().max(0) as u64)
    }

    /// A page in creation order: one Query of `per_page` items (newest first, the counter comes
    /// with it). Pages after the first find their start by skipping `offset` small index
    /// entries (keys only), never whole objects.
    pub(crate) async fn page<T: DeserializeOwned>(
        &self,
        c: Collection,
        t: &Tenant,
        offset: u64,
        per_page: u32,
        order: SortOrder,
    ) -> Result<Page<T>, StoreError> {
        let desc = order == SortOrder::Desc;
        let start = if offset == 0 { None } else { self.position(c, t, offset, desc).await? };
        if offset > 0 && start.is_none() {
            return Ok(Page { items: Vec::new(), total: self.count(c, t).await? });
        }
        // Newest first from the start, the counter's items (they sort after every id) come
        // first in the same Query. A Query stops at 1 MB: it goes on until the page is full.
        let with_counter = offset == 0 && desc;
        let mut total = None;
        let mut counters = 0u32;
        let mut items = Vec::with_capacity(per_page as usize);
        let mut from = start;
        loop {
            let wanted = per_page as usize - items.len() + if with_counter { c.shards as usize } else { 0 };
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND begins_with(SK, :p)")
                .expression_attribute_values(":pk", s(tenant_pk(t)))
                .expression_attribute_values(":p", s(c.prefix))
                .scan_index_forward(!desc)
                .limit(wanted as i32)
                .set_exclusive_start_key(from)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await?;
            record(Kind::Read, out.items().len(), out.consumed_capacity());
            let next = out.last_evaluated_key.clone();
            for item in out.items.unwrap_or_default() {
                let is_counter =
                    matches!(item.get("SK"), Some(AttributeValue::S(k)) if k.starts_with(c.counter));
                if is_counter {
                    counters += 1;
                    *total.get_or_insert(0) += number(&item, "item_count");
                } else if items.len() < per_page as usize {
                    items.push(serde_dynamo::from_item(item)?);
                }
            }
            match next {
                Some(k) if items.len() < per_page as usize => from = Some(k),
                _ => break,
            }
        }
        let total = match total {
            Some(n) if counters >= c.shards as u32 || with_counter => n.max(0) as u64,
            None if with_counter => 0, // no counter yet: the collection never had an item
            _ => self.count(c, t).await?,
        };
        Ok(Page { items, total })
    }

    /// The table key of the object at position `offset` (1-based), found by reading only keys
    /// from the index; `None` when there are fewer.
    async fn position(
        &self,
        c: Collection,
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
                .expression_attribute_values(":pk", s(c.index_pk(t)))
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
                let key = HashMap::from([
                    ("PK".to_string(), last["PK"].clone()),
                    ("SK".to_string(), last["SK"].clone()),
                ]);
                return Ok(Some(key));
            }
            remaining -= got;
            match out.last_evaluated_key {
                Some(k) => start = Some(k),
                None => return Ok(None),
            }
        }
    }

    /// Every index entry of a collection (the projected summary fields), oldest first.
    pub(crate) async fn summaries<T: DeserializeOwned>(
        &self,
        c: Collection,
        t: &Tenant,
    ) -> Result<Vec<T>, StoreError> {
        let items = self.index_entries(c.index_pk(t), None).await?;
        items.into_iter().map(|i| serde_dynamo::from_item(i).map_err(StoreError::from)).collect()
    }

    /// Whole objects by id, in the order asked (ids not found are skipped). At most 100.
    pub(crate) async fn get_many<T: DeserializeOwned>(
        &self,
        c: Collection,
        t: &Tenant,
        ids: &[String],
        id_of: impl Fn(&T) -> String,
    ) -> Result<Vec<T>, StoreError> {
        let keys = ids.iter().map(|id| c.key(t, id)).collect();
        let mut found: HashMap<String, T> = HashMap::new();
        for item in self.batch_get(keys, false).await? {
            let object: T = serde_dynamo::from_item(item)?;
            found.insert(id_of(&object), object);
        }
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }
}
