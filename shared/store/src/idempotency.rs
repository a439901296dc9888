//! Idempotency keys (Stripe's semantics): the first response to a key is kept 24 hours and
//! replayed for a retry of the same request; the same key with another request is refused;
//! two concurrent requests with one key do the work once.
//!
//! Item: `PK = <tenant>`, `SK = IDEM#<key reference>` (the HTTP layer passes a hash of the
//! key, never the key), with the request's fingerprint, its owner (the API key, or the
//! publishable key and client address, that sent it), a state (`running` under a lock that
//! expires, or `done` with the response, sealed by the HTTP layer) and a TTL.

use crate::cost::{Kind, record};
use crate::db::{Db, Item, StoreError, n, number, s};
use crate::layout::idempotency_key;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity, ReturnValuesOnConditionCheckFailure};
use sellvy_models::Tenant;
use std::collections::HashMap;

/// How long a stored response is replayed.
const RETENTION_SECS: i64 = 24 * 3600;
/// How long a request may hold a key before another may take it over (its process died).
const LOCK_SECS: i64 = 60;

/// A response as stored for replay.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: String,
}

/// What claiming a key found.
#[derive(Debug)]
pub enum Claim {
    /// The key is ours: do the work, then [`Db::finish_idempotent`] or [`Db::release_idempotent`].
    Fresh,
    /// Done before with this very request: replay this.
    Replay(StoredResponse),
    /// Another request with this key and this request is still running.
    InProgress,
    /// The key was used for a different request.
    Mismatch,
    /// The key was used by another owner (another API key, or another storefront client).
    OtherOwner,
}

fn read(item: &Item, owner: &str, fingerprint: &str) -> Claim {
    let field = |name: &str| match item.get(name) {
        Some(AttributeValue::S(v)) => Some(v.clone()),
        _ => None,
    };
    if field("owner").as_deref() != Some(owner) {
        return Claim::OtherOwner;
    }
    if field("fingerprint").as_deref() != Some(fingerprint) {
        return Claim::Mismatch;
    }
    if field("state").as_deref() == Some("done") {
        return Claim::Replay(StoredResponse {
            status: number(item, "status") as u16,
            content_type: field("content_type"),
            body: field("body").unwrap_or_default(),
        });
    }
    Claim::InProgress
}

impl Db {
    /// Claims `key` for `owner`'s request with this fingerprint at `now_secs`.
    pub async fn claim_idempotent(
        &self,
        t: &Tenant,
        key: &str,
        owner: &str,
        fingerprint: &str,
        now_secs: i64,
    ) -> Result<Claim, StoreError> {
        let item = HashMap::from([
            ("PK".to_string(), s(idempotency_key(t, key).0)),
            ("SK".to_string(), s(idempotency_key(t, key).1)),
            ("owner".to_string(), s(owner)),
            ("fingerprint".to_string(), s(fingerprint)),
            ("state".to_string(), s("running")),
            ("locked_until".to_string(), n(now_secs + LOCK_SECS)),
            ("expires_at".to_string(), n(now_secs + RETENTION_SECS)),
        ]);
        // Free, or expired but not yet swept by TTL, or locked by a request that died.
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(
                "attribute_not_exists(PK) OR expires_at < :now OR (#state = :running AND locked_until < :now AND fingerprint = :fp AND #owner = :owner)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":owner", s(owner))
            .expression_attribute_values(":now", n(now_secs))
            .expression_attribute_values(":running", s("running"))
            .expression_attribute_values(":fp", s(fingerprint))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match out {
            Ok(o) => {
                record(Kind::Write, 0, o.consumed_capacity());
                Ok(Claim::Fresh)
            }
            Err(e) => match e.as_service_error() {
                Some(
                    aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(c),
                ) => {
                    record(Kind::Write, 0, None);
                    match c.item() {
                        Some(item) => Ok(read(item, owner, fingerprint)),
                        None => self.peek_idempotent(t, key, owner, fingerprint).await,
                    }
                }
                _ => Err(e.into()),
            },
        }
    }

    /// Where a key stands now (for a request waiting on another with the same key).
    pub async fn peek_idempotent(
        &self,
        t: &Tenant,
        key: &str,
        owner: &str,
        fingerprint: &str,
    ) -> Result<Claim, StoreError> {
        let (pk, sk) = idempotency_key(t, key);
        Ok(match self.get(pk, sk, true).await? {
            Some(item) => read(&item, owner, fingerprint),
            None => Claim::Fresh,
        })
    }

    /// Stores the response of a claimed key for replay.
    pub async fn finish_idempotent(
        &self,
        t: &Tenant,
        key: &str,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(idempotency_key(t, key).0))
            .key("SK", s(idempotency_key(t, key).1))
            .update_expression("SET #state = :done, #status = :status, body = :body REMOVE locked_until")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":done", s("done"))
            .expression_attribute_values(":status", n(response.status))
            .expression_attribute_values(":body", s(&response.body))
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        if let Some(ct) = &response.content_type {
            req = req
                .update_expression("SET #state = :done, #status = :status, body = :body, content_type = :ct REMOVE locked_until")
                .expression_attribute_values(":ct", s(ct));
        }
        let out = req.send().await?;
        record(Kind::Write, 0, out.consumed_capacity());
        Ok(())
    }

    /// Gives a claimed key back without a stored response (the request failed on our side and
    /// may be retried with the same key).
    pub async fn release_idempotent(&self, t: &Tenant, key: &str) -> Result<(), StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("PK", s(idempotency_key(t, key).0))
            .key("SK", s(idempotency_key(t, key).1))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await?;
        record(Kind::Write, 0, out.consumed_capacity());
        Ok(())
    }
}
