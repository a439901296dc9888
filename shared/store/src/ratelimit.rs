//! The rate limiter's bucket: one item per store and mode holding the GCRA `tat` (see
//! `sellvy_models::ratelimit`), shared by every Lambda instance.
//!
//! Each request is one conditional UpdateItem, with no read: either "the bucket is idle"
//! (`SET tat = now + T` if `tat < now`) or "the bucket is busy and admits one more"
//! (`SET tat = tat + T` if `now ≤ tat ≤ now + tau`). The process remembers the last `tat` it
//! saw to pick the likely branch. When the condition fails, DynamoDB returns the item as it
//! was (`ReturnValuesOnConditionCheckFailure`), which either refuses the request (no further
//! call) or names the other branch to try.
//!
//! A tenant's bucket also holds its **key version** (`kv`): every revocation of one of its keys
//! (and every change of what its keys carry) adds one to it, in the same transaction. The
//! limiter's write returns it with every request, so a process may keep the keys it read and
//! trust one only while the version it read it under is still the bucket's. Tenant buckets
//! therefore never expire (one item per store and mode); storefront clients' buckets do.

use crate::cost::{Kind, record};
use crate::db::{Db, StoreError, n, number, s};
use aws_sdk_dynamodb::types::{ReturnConsumedCapacity, ReturnValue, ReturnValuesOnConditionCheckFailure};
use sellvy_models::ratelimit::Gcra;
use sellvy_models::{Decision, RateLimit, Tenant};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Idle buckets disappear by TTL an hour after their last request.
const BUCKET_TTL_SECS: i64 = 3600;

/// The last `tat` this process saw per bucket: only a hint for which branch to try first.
#[derive(Debug, Default, Clone)]
pub struct BucketHints(Arc<Mutex<HashMap<String, i64>>>);

impl BucketHints {
    fn get(&self, bucket: &str) -> Option<i64> {
        self.0.lock().ok().and_then(|m| m.get(bucket).copied())
    }
    fn set(&self, bucket: &str, tat: i64) {
        if let Ok(mut m) = self.0.lock() {
            if m.len() > 10_000 {
                m.clear();
            }
            m.insert(bucket.to_string(), tat);
        }
    }
}

enum Outcome {
    /// Admitted: the bucket's new `tat`, and its key version.
    Allowed(i64, Option<i64>),
    /// The condition failed; the bucket's `tat` as it was (None: no bucket yet), and its key
    /// version.
    Seen(Option<i64>, Option<i64>),
}

/// What the limiter decided for a tenant's request, and the tenant's key version then (`None`
/// while none of its keys was ever revoked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Taken {
    pub decision: Decision,
    pub key_version: Option<i64>,
}

/// Which bucket: a tenant's (kept, with its key version) or a storefront client's (expires).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Bucket {
    Tenant,
    Client,
}

fn key_version(item: &HashMap<String, aws_sdk_dynamodb::types::AttributeValue>) -> Option<i64> {
    item.contains_key("kv").then(|| number(item, "kv"))
}

impl Db {
    /// Takes one request from the tenant's bucket at `now` (microseconds since the epoch).
    pub async fn take_request(
        &self,
        t: &Tenant,
        limit: RateLimit,
        now: i64,
        hints: &BucketHints,
    ) -> Result<Taken, StoreError> {
        self.take_from(crate::layout::rate_bucket_pk(t), Bucket::Tenant, limit, now, hints).await
    }

    /// Whether this process's memory of a tenant's bucket expects the limiter to admit one more
    /// request now (nothing remembered: yes). A guess for planning a request, never a decision.
    pub fn likely_admits(&self, t: &Tenant, limit: RateLimit, now: i64, hints: &BucketHints) -> bool {
        hints.get(&crate::layout::rate_bucket_pk(t)).is_none_or(|tat| limit.admits(tat, now))
    }

    /// The write that moves a tenant's key version on (in the transaction that revokes one of
    /// its keys or changes them): every process's memory of its keys is then stale. It also
    /// keeps the bucket from expiring (a bucket written before buckets kept versions).
    pub(crate) fn key_version_bump(&self, t: &Tenant) -> Result<crate::db::Write, StoreError> {
        crate::db::Write::update(
            &self.table,
            (crate::layout::rate_bucket_pk(t), crate::layout::RATE_SK.to_string()),
            "ADD kv :one REMOVE expires_at",
            None,
            &[(":one", n(1))],
        )
    }

    /// Takes one request from a storefront client's bucket (per store, mode and client
    /// address), so one visitor cannot starve a store.
    pub async fn take_client_request(
        &self,
        t: &Tenant,
        client: &str,
        limit: RateLimit,
        now: i64,
        hints: &BucketHints,
    ) -> Result<Decision, StoreError> {
        let taken = self
            .take_from(crate::layout::client_bucket_pk(t, client), Bucket::Client, limit, now, hints)
            .await?;
        Ok(taken.decision)
    }

    async fn take_from(
        &self,
        bucket: String,
        kind: Bucket,
        limit: RateLimit,
        now: i64,
        hints: &BucketHints,
    ) -> Result<Taken, StoreError> {
        let mut idle = hints.get(&bucket).is_none_or(|tat| tat < now);
        // Each failed try learns the bucket's state, so two tries settle it unless other
        // instances keep moving it; a few more cover heavy contention.
        for _ in 0..6 {
            let outcome = if idle {
                self.start_bucket(&bucket, kind, limit, now).await?
            } else {
                self.advance_bucket(&bucket, kind, limit, now).await?
            };
            match outcome {
                Outcome::Allowed(tat, key_version) => {
                    hints.set(&bucket, tat);
                    return Ok(Taken { decision: limit.allowed(tat, now), key_version });
                }
                Outcome::Seen(Some(tat), key_version) if !limit.admits(tat, now) => {
                    hints.set(&bucket, tat);
                    return Ok(Taken { decision: limit.refused(tat, now), key_version });
                }
                Outcome::Seen(tat, _) => idle = tat.is_none_or(|tat| tat < now),
            }
        }
        Err(StoreError::Conflict)
    }

    /// The idle branch: the bucket is empty or drained, restart it at `now + T`.
    async fn start_bucket(
        &self,
        bucket: &str,
        kind: Bucket,
        limit: RateLimit,
        now: i64,
    ) -> Result<Outcome, StoreError> {
        let tat = now + limit.interval();
        let mut values = vec![(":tat", n(tat)), (":now", n(now))];
        let update = match kind {
            Bucket::Tenant => "SET tat = :tat REMOVE expires_at",
            Bucket::Client => {
                values.push((":exp", n(now / 1_000_000 + BUCKET_TTL_SECS)));
                "SET tat = :tat, expires_at = :exp"
            }
        };
        self.update_bucket(bucket, update, "attribute_not_exists(tat) OR tat < :now", values).await
    }

    /// The busy branch: admit one more by adding `T` to the bucket, if it has room.
    async fn advance_bucket(
        &self,
        bucket: &str,
        kind: Bucket,
        limit: RateLimit,
        now: i64,
    ) -> Result<Outcome, StoreError> {
        let mut values =
            vec![(":t", n(limit.interval())), (":now", n(now)), (":latest", n(now + limit.tolerance()))];
        let update = match kind {
            Bucket::Tenant => "SET tat = tat + :t REMOVE expires_at",
            Bucket::Client => {
                values.push((":exp", n(now / 1_000_000 + BUCKET_TTL_SECS + limit.tolerance() / 1_000_000)));
                "SET tat = tat + :t, expires_at = :exp"
            }
        };
        self.update_bucket(bucket, update, "tat >= :now AND tat <= :latest", values).await
    }

    async fn update_bucket(
        &self,
        bucket: &str,
        update: &str,
        condition: &str,
        values: Vec<(&str, aws_sdk_dynamodb::types::AttributeValue)>,
    ) -> Result<Outcome, StoreError> {
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(bucket))
            .key("SK", s(crate::layout::RATE_SK))
            .update_expression(update)
            .condition_expression(condition)
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        for (k, v) in values {
            req = req.expression_attribute_values(k, v);
        }
        match req.send().await {
            Ok(out) => {
                record(Kind::Write, 0, out.consumed_capacity());
                let attrs = out.attributes.unwrap_or_default();
                Ok(Outcome::Allowed(number(&attrs, "tat"), key_version(&attrs)))
            }
            Err(e) => match e.as_service_error() {
                Some(aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(c)) => {
                    record(Kind::Write, 0, None);
                    let tat = c.item().filter(|i| i.contains_key("tat")).map(|i| number(i, "tat"));
                    Ok(Outcome::Seen(tat, c.item().and_then(key_version)))
                }
                _ => Err(e.into()),
            },
        }
    }
}
