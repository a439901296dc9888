//! Stores and API keys.

use crate::cost::{Kind, record};
use crate::db::{Db, Item, StoreError, Write, n, s};
use crate::layout::{
    API_KEY_PREFIX, API_KEY_SK, STORE_SK, api_key_counter_key, api_key_index_pk, api_key_key, store_key,
};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use sellvy_models::apikey::{ApiKey, Store};
use sellvy_models::time::Timestamp;
use sellvy_models::{Mode, Tenant};

fn key_pk(hash: &str) -> String {
    api_key_key(hash).0
}

fn store_pk(store_id: &str) -> String {
    store_key(store_id).0
}

fn key_item(key: &ApiKey) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(key)?;
    item.insert("PK".into(), s(key_pk(&key.hash)));
    item.insert("SK".into(), s(API_KEY_SK));
    item.insert("GSI1PK".into(), s(api_key_index_pk(&key.tenant())));
    item.insert("GSI1SK".into(), s(&key.id));
    Ok(item)
}

impl Db {
    /// Creates a store and its first keys in one transaction (operator command).
    pub async fn create_store(&self, store: &Store, keys: &[ApiKey]) -> Result<(), StoreError> {
        let mut item: Item = serde_dynamo::to_item(store)?;
        item.insert("PK".into(), s(store_pk(&store.id)));
        item.insert("SK".into(), s(STORE_SK));
        let mut writes = vec![Write::put(&self.table, item, Some("attribute_not_exists(PK)"), &[])?];
        for k in keys {
            writes.push(Write::put(&self.table, key_item(k)?, Some("attribute_not_exists(PK)"), &[])?);
            let count = api_key_counter_key(&k.tenant());
            writes.push(Write::update(&self.table, count, "ADD item_count :one", None, &[(":one", n(1))])?);
        }
        self.transact(writes).await
    }

    pub async fn get_store(&self, store_id: &str) -> Result<Option<Store>, StoreError> {
        match self.get(store_pk(store_id), STORE_SK, false).await? {
            Some(item) => Ok(Some(serde_dynamo::from_item(item)?)),
            None => Ok(None),
        }
    }

    /// The key whose secret hashes to `hash` (one strongly consistent GetItem, so a revoked
    /// key stops working at once).
    pub async fn find_key(&self, hash: &str) -> Result<Option<ApiKey>, StoreError> {
        match self.get(key_pk(hash), API_KEY_SK, true).await? {
            Some(item) => Ok(Some(serde_dynamo::from_item(item)?)),
            None => Ok(None),
        }
    }

    /// Records a key's use. Callers throttle this (it is a write).
    pub async fn touch_key(&self, hash: &str, at: Timestamp) -> Result<(), StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(key_pk(hash)))
            .key("SK", s(API_KEY_SK))
            .update_expression("SET last_used_at = :t")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":t", s(at.to_rfc3339()))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match out {
            Ok(o) => {
                record(Kind::Write, 0, o.consumed_capacity());
                Ok(())
            }
            // Revoked meanwhile: nothing to record.
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Writes a new key if its tenant has fewer than `max` (checked in the write).
    pub async fn create_key(&self, key: &ApiKey, max: u64) -> Result<(), StoreError> {
        let message = format!("a store has at most {max} API keys per mode: revoke one first");
        self.transact(vec![
            Write::put(&self.table, key_item(key)?, Some("attribute_not_exists(PK)"), &[])?,
            Write::count_up_to(&self.table, api_key_counter_key(&key.tenant()), max, "name", message)?,
        ])
        .await
    }

    /// Every key of a tenant, oldest first (one Query on GSI1, which projects the key fields).
    pub async fn list_keys(&self, tenant: &Tenant) -> Result<Vec<ApiKey>, StoreError> {
        let items = self.index_entries(api_key_index_pk(tenant), None).await?;
        items.iter().map(key_from_index).collect()
    }

    /// Revokes a key of this tenant. `Ok(false)` when the tenant has no such key.
    pub async fn delete_key(&self, tenant: &Tenant, key_id: &str) -> Result<bool, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("GSI1")
            .key_condition_expression("GSI1PK = :pk AND GSI1SK = :id")
            .expression_attribute_values(":pk", s(api_key_index_pk(tenant)))
            .expression_attribute_values(":id", s(key_id))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await?;
        record(Kind::Read, out.items().len(), out.consumed_capacity());
        let Some(AttributeValue::S(pk)) = out.items().first().and_then(|i| i.get("PK")).cloned() else {
            return Ok(false);
        };
        let del = Write::delete_named(
            &self.table,
            (pk, API_KEY_SK.to_string()),
            Some("store_id = :s AND #m = :m"),
            &[("#m", "mode")],
            &[(":s", s(&tenant.store_id)), (":m", s(tenant.mode.as_str()))],
        )?
        .or_reject("id", "is not a key of this store");
        let count = Write::update(
            &self.table,
            api_key_counter_key(tenant),
            "ADD item_count :d",
            None,
            &[(":d", n(-1))],
        )?;
        // Every process's memory of this tenant's keys is stale from now on.
        let stale = self.key_version_bump(tenant)?;
        match self.transact(vec![del, count, stale]).await {
            Ok(()) => Ok(true),
            // Revoked meanwhile, or (cannot happen: the index said so) another tenant's.
            Err(StoreError::Rejected { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// An index entry carries the projected key fields; the hash is in its table key.
fn key_from_index(item: &Item) -> Result<ApiKey, StoreError> {
    let mut item = item.clone();
    if let Some(AttributeValue::S(pk)) = item.get("PK") {
        let hash = pk.trim_start_matches(API_KEY_PREFIX).to_string();
        item.insert("hash".into(), s(hash));
    }
    item.entry("last_used_at".into()).or_insert(AttributeValue::Null(true));
    Ok(serde_dynamo::from_item(item)?)
}

impl Db {
    /// Moves a store to a plan and rate limit: the store item, then each of its keys (which
    /// carry the limit so that authentication needs one read). Returns how many keys changed.
    pub async fn set_store_plan(
        &self,
        store_id: &sellvy_models::id::StoreId,
        plan: sellvy_models::apikey::Plan,
        limit: sellvy_models::RateLimit,
    ) -> Result<usize, StoreError> {
        let limit_value: AttributeValue = serde_dynamo::to_attribute_value(limit)?;
        let plan_value: AttributeValue = serde_dynamo::to_attribute_value(plan)?;
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(store_pk(store_id)))
            .key("SK", s(STORE_SK))
            .update_expression("SET #plan = :plan, rate_limit = :limit")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#plan", "plan")
            .expression_attribute_values(":plan", plan_value)
            .expression_attribute_values(":limit", limit_value.clone())
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| match e.as_service_error() {
                Some(se) if se.is_conditional_check_failed_exception() => {
                    StoreError::Rejected { field: "store".into(), message: format!("no store {store_id}") }
                }
                _ => e.into(),
            })?;
        record(Kind::Write, 0, out.consumed_capacity());
        let mut updated = 0;
        for mode in [sellvy_models::Mode::Live, sellvy_models::Mode::Test] {
            let tenant = Tenant { store_id: store_id.clone(), mode };
            for entry in self.index_entries(api_key_index_pk(&tenant), Some("PK")).await? {
                let Some(pk) = entry.get("PK").cloned() else { continue };
                let out = self
                    .client
                    .update_item()
                    .table_name(&self.table)
                    .key("PK", pk)
                    .key("SK", s(API_KEY_SK))
                    .update_expression("SET rate_limit = :limit")
                    .condition_expression("attribute_exists(PK)")
                    .expression_attribute_values(":limit", limit_value.clone())
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
                    .await;
                match out {
                    Ok(o) => {
                        record(Kind::Write, 0, o.consumed_capacity());
                        updated += 1;
                    }
                    // Revoked meanwhile.
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|e| e.is_conditional_check_failed_exception()) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            // The keys carry the limit: what processes remember of them is stale now.
            self.transact(vec![self.key_version_bump(&tenant)?]).await?;
        }
        Ok(updated)
    }
}

impl Db {
    /// Saves the settings a store's keys may change (name, allowed origins); the plan and
    /// limits are left to the operator.
    /// Writes the store's name and the settings of one mode (the other mode's are left as they
    /// are, so a test key's change can never overwrite live settings).
    pub async fn update_store_settings(&self, store: &Store, mode: Mode) -> Result<(), StoreError> {
        let settings: AttributeValue = serde_dynamo::to_attribute_value(store.settings(mode))?;
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(store_pk(&store.id)))
            .key("SK", s(STORE_SK))
            .update_expression("SET #name = :name, time_zone = :zone, #mode = :settings")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#name", "name")
            .expression_attribute_names("#mode", mode.as_str())
            .expression_attribute_values(":name", s(&store.name))
            .expression_attribute_values(":zone", s(&store.time_zone))
            .expression_attribute_values(":settings", settings)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await?;
        record(Kind::Write, 0, out.consumed_capacity());
        Ok(())
    }
}

/// A key as read, and the key version it was read under.
type Remembered = (ApiKey, Option<i64>);

/// What this process last read of each secret key, with its tenant's key version then: a key
/// is taken from here only while the limiter's write (which every request makes) returns the
/// same version, so a revocation anywhere is seen by the very next request everywhere.
#[derive(Debug, Default, Clone)]
pub struct KeyCache(std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, Remembered>>>);

impl KeyCache {
    /// The key remembered under `hash`, and the key version it was read under.
    pub fn get(&self, hash: &str) -> Option<(ApiKey, Option<i64>)> {
        self.0.lock().ok().and_then(|m| m.get(hash).cloned())
    }

    pub fn put(&self, key: &ApiKey, version: Option<i64>) {
        if let Ok(mut m) = self.0.lock() {
            if m.len() >= 10_000 {
                m.clear();
            }
            m.insert(key.hash.clone(), (key.clone(), version));
        }
    }

    pub fn forget(&self, hash: &str) {
        if let Ok(mut m) = self.0.lock() {
            m.remove(hash);
        }
    }
}
