//! The outbox: events recorded in the same transaction as the change that caused them.
//!
//! An event waits in the sparse `Pending` index (`PENDINGPK = OUTBOX`, by creation time) until
//! its deliveries are queued; then it leaves the index. A request's committed events are also
//! noted in a task-local list, so the HTTP layer can fan them out before it answers; whatever a
//! crash leaves behind, the forwarder finds in the index.

use crate::cost::{Kind, record};
use crate::db::{Db, StoreError, Write, n, s};
use crate::layout::{EVENT_PREFIX, Watch, event_key, tenant_pk};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use sellvy_models::{Event, Tenant};
use std::cell::RefCell;
use std::collections::HashMap;

tokio::task_local! {
    static COMMITTED: RefCell<Vec<(Tenant, Event)>>;
}

/// Runs `fut`, returning its output and the events its transactions committed.
pub async fn collect_events<F: Future>(fut: F) -> (F::Output, Vec<(Tenant, Event)>) {
    COMMITTED
        .scope(RefCell::new(Vec::new()), async move {
            let out = fut.await;
            let events = COMMITTED.with(|c| c.take());
            (out, events)
        })
        .await
}

pub(crate) fn committed(events: Vec<(Tenant, Event)>) {
    if !events.is_empty() {
        let _ = COMMITTED.try_with(|c| c.borrow_mut().extend(events));
    }
}

/// Events are kept 30 days for the delivery log, then expire by TTL.
const EVENT_RETENTION_SECS: i64 = 30 * 24 * 3600;

impl Db {
    /// The outbox write that goes into the same transaction as the change it records.
    pub(crate) fn record_event(&self, t: &Tenant, e: &Event) -> Result<Write, StoreError> {
        let (pk, sk) = event_key(t, &e.id);
        let mut item = HashMap::from([
            ("PK".to_string(), s(pk)),
            ("SK".to_string(), s(sk)),
            ("id".to_string(), s(&e.id)),
            ("type".to_string(), s(e.event_type.as_str())),
            ("created_at".to_string(), s(e.created_at.to_rfc3339())),
            ("payload".to_string(), s(e.payload().to_string())),
            // Not yet handed to the delivery queue (the webhook forwarder clears it).
            ("dispatch".to_string(), s("pending")),
            ("expires_at".to_string(), n(e.created_at.seconds() + EVENT_RETENTION_SECS)),
        ]);
        crate::db::watch(&mut item, Watch::Outbox, e.created_at, t, &e.id);
        let mut w = Write::put(&self.table, item, None, &[])?;
        w.event = Some((t.clone(), e.clone()));
        Ok(w)
    }

    /// Events not yet fanned out, created before `before`, oldest first (at most `limit`), as
    /// (tenant, event id): one Query of the sparse `Pending` index.
    pub async fn undispatched_events(
        &self,
        before: sellvy_models::time::Timestamp,
        limit: u32,
    ) -> Result<Vec<(Tenant, String)>, StoreError> {
        self.pending(Watch::Outbox, before, limit).await
    }

    /// One event of the outbox.
    pub async fn get_event(&self, t: &Tenant, id: &str) -> Result<Option<Event>, StoreError> {
        let (pk, sk) = event_key(t, id);
        let Some(item) = self.get(pk, sk, true).await? else {
            return Ok(None);
        };
        let Some(AttributeValue::S(p)) = item.get("payload") else { return Ok(None) };
        let v: serde_json::Value =
            serde_json::from_str(p).map_err(|e| StoreError::Unwritable(format!("event payload: {e}")))?;
        let event_type = serde_json::from_value(v["type"].clone())
            .map_err(|e| StoreError::Unwritable(format!("event type: {e}")))?;
        let created_at = v["created_at"]
            .as_str()
            .and_then(sellvy_models::time::Timestamp::parse)
            .ok_or_else(|| StoreError::Unwritable("event created_at".into()))?;
        let id =
            sellvy_models::id::EventId::parse(id).ok_or_else(|| StoreError::Unwritable("event id".into()))?;
        Ok(Some(Event { id, event_type, created_at, data: v["data"].clone() }))
    }

    /// These events' deliveries are queued: they leave the outbox index (one transaction per
    /// 100 events).
    pub async fn mark_dispatched(&self, events: &[(Tenant, String)]) -> Result<(), StoreError> {
        for chunk in events.chunks(100) {
            let writes = chunk
                .iter()
                .map(|(t, id)| {
                    Write::update(
                        &self.table,
                        event_key(t, id),
                        "SET dispatch = :done REMOVE PENDINGPK, PENDINGSK",
                        None,
                        &[(":done", s("done"))],
                    )
                })
                .collect::<Result<Vec<_>, _>>()?;
            self.transact(writes).await?;
        }
        Ok(())
    }

    /// Takes an event the forwarder cannot fan out (its deliveries cannot be written) out of the
    /// outbox, so that it no longer holds up the others, marked with the time it was set aside
    /// (the reason goes to the operator's log).
    pub async fn set_aside_event(
        &self,
        t: &Tenant,
        id: &str,
        at: sellvy_models::time::Timestamp,
    ) -> Result<(), StoreError> {
        self.transact(vec![Write::update(
            &self.table,
            event_key(t, id),
            "SET dispatch = :aside, set_aside = :at REMOVE PENDINGPK, PENDINGSK",
            Some("attribute_exists(PK)"),
            &[(":aside", s("set_aside")), (":at", n(at.millis()))],
        )?])
        .await
    }

    /// The tenant's most recent events, newest first, as their webhook payloads.
    pub async fn recent_events(&self, t: &Tenant, limit: u32) -> Result<Vec<serde_json::Value>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :p)")
            .expression_attribute_values(":pk", s(tenant_pk(t)))
            .expression_attribute_values(":p", s(EVENT_PREFIX))
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
                Some(AttributeValue::S(p)) => {
                    serde_json::from_str(p).map_err(|e| StoreError::Unwritable(format!("event payload: {e}")))
                }
                _ => Err(StoreError::Unwritable("event without payload".into())),
            })
            .collect()
    }
}
