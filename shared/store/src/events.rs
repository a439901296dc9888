//! The outbox: events recorded in the same transaction as the change that caused them.

use crate::cost::{Kind, record};
use crate::db::{Db, StoreError, Write, n, s, tenant_pk};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use sellvy_models::{Event, Tenant};
use std::collections::HashMap;

/// Events are kept 30 days for the delivery log, then expire by TTL.
const EVENT_RETENTION_SECS: i64 = 30 * 24 * 3600;

impl Db {
    /// The outbox write that goes into the same transaction as the change it records.
    pub(crate) fn record_event(&self, t: &Tenant, e: &Event) -> Result<Write, StoreError> {
        let item = HashMap::from([
            ("PK".to_string(), s(tenant_pk(t))),
            ("SK".to_string(), s(format!("EVENT#{}", e.id))),
            ("id".to_string(), s(&e.id)),
            ("type".to_string(), s(e.event_type.as_str())),
            ("created_at".to_string(), s(e.created_at.to_rfc3339())),
            ("payload".to_string(), s(e.payload().to_string())),
            // Not yet handed to the delivery queue (the webhook forwarder clears it).
            ("dispatch".to_string(), s("pending")),
            ("expires_at".to_string(), n(e.created_at.seconds() + EVENT_RETENTION_SECS)),
        ]);
        Write::put(&self.table, item, None, &[])
    }

    /// The tenant's most recent events, newest first, as their webhook payloads.
    pub async fn recent_events(&self, t: &Tenant, limit: u32) -> Result<Vec<serde_json::Value>, StoreError> {
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
                Some(AttributeValue::S(p)) => {
                    serde_json::from_str(p).map_err(|e| StoreError::Backend(format!("event payload: {e}")))
                }
                _ => Err(StoreError::Backend("event without payload".into())),
            })
            .collect()
    }
}
