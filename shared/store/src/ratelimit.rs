//! The rate limiter's bucket: one item per store and mode holding the GCRA `tat` (see
//! `sellvy_models::ratelimit`), shared by every Lambda instance.
//!
//! Each request is one conditional UpdateItem, with no read: either "the bucket is idle"
//! (`SET tat = now + T` if `tat < now`) or "the bucket is busy and admits one more"
//! (`SET tat = tat + T` if `now ≤ tat ≤ now + tau`). The process remembers the last `tat` it
//! saw to pick the likely branch. When the condition fails, DynamoDB returns the item as it
//! was (`ReturnValuesOnConditionCheckFailure`), which either refuses the request (no further
//! call) or names the other branch to try.

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
    Allowed(i64),
    /// The condition failed; the bucket's `tat` as it was (None: no bucket yet).
    Seen(Option<i64>),
}

impl Db {
    /// Takes one request from the tenant's bucket at `now` (microseconds since the epoch).
    pub async fn take_request(
        &self,
        t: &Tenant,
        limit: RateLimit,
        now: i64,
        hints: &BucketHints,
    ) -> Result<Decision, StoreError> {
        self.take_from(crate::layout::rate_bucket_pk(t), limit, now, hints).await
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
        self.take_from(crate::layout::client_bucket_pk(t, client), limit, now, hints).await
    }

    async fn take_from(
        &self,
        bucket: String,
        limit: RateLimit,
        now: i64,
        hints: &BucketHints,
    ) -> Result<Decision, StoreError> {
        let mut idle = hints.get(&bucket).is_none_or(|tat| tat < now);
        // Each failed try learns the bucket's state, so two tries settle it unless other
        // instances keep moving it; a few more cover heavy contention.
        for _ in 0..6 {
            let outcome = if idle {
                self.start_bucket(&bucket, limit, now).await?
            } else {
                self.advance_bucket(&bucket, limit, now).await?
            };
            match outcome {
                Outcome::Allowed(tat) => {
                    hints.set(&bucket, tat);
                    return Ok(limit.allowed(tat, now));
                }
                Outcome::Seen(Some(tat)) if !limit.admits(tat, now) => {
                    hints.set(&bucket, tat);
                    return Ok(limit.refused(tat, now));
                }
                Outcome::Seen(tat) => idle = tat.is_none_or(|tat| tat < now),
            }
        }
        Err(StoreError::Conflict)
    }

    /// The idle branch: the bucket is empty or drained, restart it at `now + T`.
    async fn start_bucket(&self, bucket: &str, limit: RateLimit, now: i64) -> Result<Outcome, StoreError> {
        let tat = now + limit.interval();
        self.update_bucket(
            bucket,
            "SET tat = :tat, expires_at = :exp",
            "attribute_not_exists(tat) OR tat < :now",
            vec![(":tat", n(tat)), (":now", n(now)), (":exp", n(now / 1_000_000 + BUCKET_TTL_SECS))],
        )
        .await
    }

    /// The busy branch: admit one more by adding `T` to the bucket, if it has room.
    async fn advance_bucket(&self, bucket: &str, limit: RateLimit, now: i64) -> Result<Outcome, StoreError> {
        self.update_bucket(
            bucket,
            "SET tat = tat + :t, expires_at = :exp",
            "tat >= :now AND tat <= :latest",
            vec![
                (":t", n(limit.interval())),
                (":now", n(now)),
                (":latest", n(now + limit.tolerance())),
                (":exp", n(now / 1_000_000 + BUCKET_TTL_SECS + limit.tolerance() / 1_000_000)),
            ],
        )
        .await
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
            .return_values(ReturnValue::UpdatedNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        for (k, v) in values {
            req = req.expression_attribute_values(k, v);
        }
        match req.send().await {
            Ok(out) => {
                record(Kind::Write, 0, out.consumed_capacity());
                let attrs = out.attributes.unwrap_or_default();
                Ok(Outcome::Allowed(number(&attrs, "tat")))
            }
            Err(e) => match e.as_service_error() {
                Some(aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(c)) => {
                    record(Kind::Write, 0, None);
                    Ok(Outcome::Seen(c.item().filter(|i| i.contains_key("tat")).map(|i| number(i, "tat"))))
                }
                _ => Err(e.into()),
            },
        }
    }
}
