//! Webhook endpoints and deliveries.
//!
//! Endpoints are a small collection (at most 20 per tenant) under `WEBHOOK#<we id>` with a
//! counter. Deliveries sit under `WHDELIVERY#<whd id>` (ids derived from event and endpoint,
//! so a repeated fan-out finds the same item), with a GSI1 entry for the filtered log, and,
//! while they wait (`scheduled`) or are in flight (`sending`), a key in the sparse `Pending`
//! index (`PENDINGPK = WEBHOOK`) by the time after which the forwarder must step in: an attempt
//! whose queue message was lost, or one interrupted by a crash.

use crate::collection::Page;
use crate::cost::{Kind, record};
use crate::db::{Db, Item, StoreError, Write, n, s};
use crate::layout::{DELIVERIES, ENDPOINTS, Watch, tenant_pk};
use aws_sdk_dynamodb::types::ReturnConsumedCapacity;
use sellvy_models::time::Timestamp;
use sellvy_models::webhook::{Endpoint, WebhookDelivery, WebhookDeliveryStatus};
use sellvy_models::{EventType, SortOrder, Tenant};
use serde::{Deserialize, Serialize};

/// Deliveries are kept 30 days, as events are.
const DELIVERY_RETENTION_SECS: i64 = 30 * 24 * 3600;

/// The fields the delivery log filters on (projected into GSI1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliverySummary {
    pub id: String,
    pub endpoint_id: String,
    pub event_type: EventType,
    pub status: WebhookDeliveryStatus,
    pub created_at: Timestamp,
}

/// A delivery's stored item, with its `Pending` key when the forwarder may need to act on it
/// after `watch_after`.
fn delivery_item(
    t: &Tenant,
    d: &WebhookDelivery,
    watch_after: Option<Timestamp>,
) -> Result<Item, StoreError> {
    let mut item = DELIVERIES.item(t, &d.id, d)?;
    item.insert("expires_at".into(), n(d.created_at.seconds() + DELIVERY_RETENTION_SECS));
    if let Some(at) = watch_after {
        crate::db::watch(&mut item, Watch::Deliveries, at, t, &d.id);
    }
    Ok(item)
}

impl Db {
    /// Creates an endpoint if the tenant has fewer than `max` (checked in the write).
    pub async fn create_endpoint(&self, t: &Tenant, e: &Endpoint, max: u64) -> Result<(), StoreError> {
        let message = format!("a store has at most {max} webhook endpoints per mode");
        self.transact(vec![
            Write::put(&self.table, ENDPOINTS.item(t, &e.id, e)?, Some("attribute_not_exists(PK)"), &[])?,
            Write::count_up_to(&self.table, ENDPOINTS.counter_key(t), max, "url", message)?,
        ])
        .await
    }

    pub async fn get_endpoint(&self, t: &Tenant, id: &str) -> Result<Option<Endpoint>, StoreError> {
        self.get_object(ENDPOINTS, t, id).await
    }

    pub async fn endpoint_page(
        &self,
        t: &Tenant,
        offset: u64,
        per_page: u32,
    ) -> Result<Page<Endpoint>, StoreError> {
        self.page(ENDPOINTS, t, offset, per_page, SortOrder::Asc).await
    }

    /// Every endpoint of the tenant (fan-out reads them once per request): one Query, the
    /// counter left out by the key condition (`WEBHOOK#we_…` only).
    pub async fn endpoints(&self, t: &Tenant) -> Result<Vec<Endpoint>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :p)")
            .expression_attribute_values(":pk", s(tenant_pk(t)))
            .expression_attribute_values(":p", s(format!("{}we_", ENDPOINTS.prefix)))
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await?;
        record(Kind::Read, out.items().len(), out.consumed_capacity());
        out.items().iter().map(|i| serde_dynamo::from_item(i.clone()).map_err(StoreError::from)).collect()
    }

    /// Replaces an endpoint still as read.
    pub async fn update_endpoint(
        &self,
        t: &Tenant,
        new: &Endpoint,
        old: &Endpoint,
    ) -> Result<(), StoreError> {
        self.transact(vec![Write::put_versioned(&self.table, ENDPOINTS.item(t, &new.id, new)?, old.version)?])
            .await
    }

    pub async fn delete_endpoint(&self, t: &Tenant, e: &Endpoint) -> Result<(), StoreError> {
        self.transact(vec![
            Write::delete(
                &self.table,
                ENDPOINTS.key(t, &e.id),
                Some("version = :v"),
                &[(":v", n(e.version))],
            )?,
            ENDPOINTS.count_add(self, t, -1)?,
        ])
        .await
    }

    /// Writes a new delivery unless it exists (a repeated fan-out): `true` when written.
    pub async fn put_new_delivery(
        &self,
        t: &Tenant,
        d: &WebhookDelivery,
        watch_after: Timestamp,
    ) -> Result<bool, StoreError> {
        self.put_if(delivery_item(t, d, Some(watch_after))?, "attribute_not_exists(PK)", &[]).await
    }

    pub async fn get_delivery(&self, t: &Tenant, id: &str) -> Result<Option<WebhookDelivery>, StoreError> {
        self.get_object(DELIVERIES, t, id).await
    }

    pub async fn get_deliveries(
        &self,
        t: &Tenant,
        ids: &[String],
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        self.get_many(DELIVERIES, t, ids, |d: &WebhookDelivery| d.id.to_string()).await
    }

    /// Every delivery's summary, oldest first (the log's filters).
    pub async fn delivery_summaries(&self, t: &Tenant) -> Result<Vec<DeliverySummary>, StoreError> {
        self.summaries(DELIVERIES, t).await
    }

    /// Claims an attempt: the delivery moves from `from` (its state as read, `version`) to
    /// `sending`, one conditional write. `false` when someone else claimed it first (a duplicate
    /// queue message, a concurrent manual retry).
    pub async fn claim_delivery(
        &self,
        t: &Tenant,
        read: &WebhookDelivery,
        claimed: &WebhookDelivery,
        interrupted_after: Timestamp,
    ) -> Result<bool, StoreError> {
        self.put_if(
            delivery_item(t, claimed, Some(interrupted_after))?,
            "version = :v",
            &[(":v", n(read.version))],
        )
        .await
    }

    /// Records an attempt's outcome over the claim (`claimed.version`); a scheduled delivery
    /// stays watched until `watch_after`.
    pub async fn record_delivery(
        &self,
        t: &Tenant,
        claimed: &WebhookDelivery,
        done: &WebhookDelivery,
        watch_after: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        self.transact(vec![Write::put_versioned(
            &self.table,
            delivery_item(t, done, watch_after)?,
            claimed.version,
        )?])
        .await
    }

    /// Takes a delivery the forwarder cannot handle out of its watch, so that it no longer
    /// holds up the others: it counts as failed, marked with the time it was set aside (the
    /// reason goes to the operator's log: the item may have no room for it). Dropping the watch
    /// keys shrinks the item more than the mark grows it, so this write succeeds where
    /// rewriting the whole delivery cannot.
    pub async fn set_aside_delivery(&self, t: &Tenant, id: &str, at: Timestamp) -> Result<(), StoreError> {
        self.transact(vec![Write::update_named(
            &self.table,
            DELIVERIES.key(t, id),
            "SET #status = :failed, set_aside = :at REMOVE PENDINGPK, PENDINGSK",
            Some("attribute_exists(PK)"),
            &[("#status", "status")],
            &[(":failed", s("failed")), (":at", n(at.millis()))],
        )?])
        .await
    }

    /// Deliveries the forwarder must look at (their watch time passed), oldest first.
    pub async fn overdue_deliveries(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<(Tenant, String)>, StoreError> {
        self.pending(Watch::Deliveries, now, limit).await
    }

    /// The tenant's failed deliveries of one endpoint created at or after `since`.
    pub async fn failed_deliveries(
        &self,
        t: &Tenant,
        endpoint_id: &str,
        since: Timestamp,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        let ids: Vec<String> = self
            .delivery_summaries(t)
            .await?
            .into_iter()
            .filter(|d| {
                d.endpoint_id == endpoint_id
                    && d.status == WebhookDeliveryStatus::Failed
                    && d.created_at >= since
            })
            .map(|d| d.id)
            .collect();
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(100) {
            out.extend(self.get_deliveries(t, chunk).await?);
        }
        Ok(out)
    }
}
