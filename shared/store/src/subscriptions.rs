//! Subscriptions (a collection: `SUBSCRIPTION#<sub_id>`, with GSI1 summaries). A subscription
//! that has something due (a renewal, a dunning retry, its expiry) carries the keys of the
//! sparse `Pending` index's `RENEWAL` partition, by that time: the sweeper's read of what is
//! due grows with the renewals due, never with the subscriptions that exist. Its start and
//! its renewals are written in the transaction that records their order's payment
//! ([`crate::Completion`]).

use crate::collection::Page;
use crate::db::{Db, Item, StoreError, Write, n, s};
use crate::layout::{SUBSCRIPTIONS, Watch};
use sellvy_models::event::Event;
use sellvy_models::subscription::Subscription;
use sellvy_models::time::Timestamp;
use sellvy_models::{SortOrder, Tenant};
use serde::Deserialize;

/// A subscription's index entry (what the list filters on).
#[derive(Debug, Clone, Deserialize)]
pub struct SubscriptionSummary {
    pub id: String,
    pub status: String,
    pub product_id: String,
    pub customer_email: String,
}

/// What a payment's transaction writes of a subscription.
pub enum SubscriptionWrite<'a> {
    /// The first order's payment starts it.
    Start(&'a Subscription),
    /// A renewal's payment moves it to its next period (if still as read).
    Renew { new: &'a Subscription, old: &'a Subscription },
}

pub(crate) fn subscription_item(t: &Tenant, sub: &Subscription) -> Result<Item, StoreError> {
    let mut item = SUBSCRIPTIONS.item(t, &sub.id, sub)?;
    item.insert("status".into(), s(sub.status().as_str()));
    if let Some(at) = sub.watch_at() {
        crate::db::watch(&mut item, Watch::Renewals, at, t, &sub.id);
    }
    Ok(item)
}

impl Db {
    /// The writes of a payment's transaction for its subscription.
    pub(crate) fn subscription_writes(
        &self,
        t: &Tenant,
        w: &SubscriptionWrite<'_>,
    ) -> Result<Vec<Write>, StoreError> {
        Ok(match w {
            SubscriptionWrite::Start(sub) => vec![
                Write::put(&self.table, subscription_item(t, sub)?, Some("attribute_not_exists(PK)"), &[])?,
                SUBSCRIPTIONS.count_add(self, t, 1)?,
            ],
            SubscriptionWrite::Renew { new, old } => vec![Write::put(
                &self.table,
                subscription_item(t, new)?,
                Some("version = :sv"),
                &[(":sv", n(old.version))],
            )?],
        })
    }

    pub async fn get_subscription(&self, t: &Tenant, id: &str) -> Result<Option<Subscription>, StoreError> {
        self.get_object(SUBSCRIPTIONS, t, id).await
    }

    /// Writes a subscription's new state if nobody changed it since `old` was read, with its
    /// events.
    pub async fn update_subscription(
        &self,
        t: &Tenant,
        new: &Subscription,
        old: &Subscription,
        events: &[Event],
    ) -> Result<(), StoreError> {
        let mut writes = vec![Write::put_versioned(&self.table, subscription_item(t, new)?, old.version)?];
        for e in events {
            writes.push(self.record_event(t, e)?);
        }
        self.transact(writes).await
    }

    /// Subscriptions with a renewal, retry or expiry due before `now`, oldest first (at most
    /// `limit`), as (tenant, id): one Query of the sparse `Pending` index.
    pub async fn due_subscriptions(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<(Tenant, String)>, StoreError> {
        self.pending(Watch::Renewals, now, limit).await
    }

    pub async fn subscription_page(
        &self,
        t: &Tenant,
        offset: u64,
        per_page: u32,
    ) -> Result<Page<Subscription>, StoreError> {
        self.page(SUBSCRIPTIONS, t, offset, per_page, SortOrder::Desc).await
    }

    /// Every subscription's summary, oldest first (the filters).
    pub async fn subscription_summaries(&self, t: &Tenant) -> Result<Vec<SubscriptionSummary>, StoreError> {
        self.summaries(SUBSCRIPTIONS, t).await
    }

    pub async fn get_subscriptions(
        &self,
        t: &Tenant,
        ids: &[String],
    ) -> Result<Vec<Subscription>, StoreError> {
        self.get_many(SUBSCRIPTIONS, t, ids, |s: &Subscription| s.id.to_string()).await
    }
}
