use crate::cost::{Kind, record};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, KeysAndAttributes, Put, ReturnConsumedCapacity,
    TransactWriteItem, Update,
};
use std::collections::HashMap;

pub(crate) type Item = HashMap<String, AttributeValue>;

/// Handle on the table. Cheap to clone; build one per process (Lambda cold start).
#[derive(Clone, Debug)]
pub struct Db {
    pub(crate) client: Client,
    pub(crate) table: String,
}

/// What can go wrong in the store, in domain terms.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another writer changed the item first: read again and retry.
    #[error("conflicting concurrent change")]
    Conflict,
    /// A condition tied to the request's input did not hold: a referenced object does not
    /// exist, a unique value is taken, a guarded delete is refused. Names the input field.
    #[error("{field}: {message}")]
    Rejected { field: String, message: String },
    /// A store's rule refused the request in its transaction (the reservation policy); the
    /// caller explains why.
    #[error("refused by the store's rules")]
    Refused,
    /// DynamoDB failed (a timeout, throttling, an outage): the same request may succeed later.
    /// Never shown to clients.
    #[error("database error: {0}")]
    Backend(String),
    /// The request can never succeed as it is: DynamoDB refused it (an item past 400 KB, an
    /// expression past its limits) or an item cannot be read back. Never shown to clients.
    #[error("unwritable: {0}")]
    Unwritable(String),
}

impl<E, R> From<SdkError<E, R>> for StoreError
where
    E: std::fmt::Debug + aws_sdk_dynamodb::error::ProvideErrorMetadata,
    R: std::fmt::Debug,
{
    fn from(e: SdkError<E, R>) -> Self {
        match e.as_service_error().filter(|s| s.code() == Some("ValidationException")) {
            Some(refused) => StoreError::Unwritable(format!(
                "ValidationException: {}",
                refused.message().unwrap_or("refused by DynamoDB")
            )),
            None => StoreError::Backend(format!("{e:?}")),
        }
    }
}

impl From<serde_dynamo::Error> for StoreError {
    fn from(e: serde_dynamo::Error) -> Self {
        StoreError::Unwritable(format!("item conversion: {e}"))
    }
}

/// What a failed condition on one write of a transaction means.
pub(crate) enum OnFail {
    /// The item changed since it was read.
    Conflict,
    /// The input was refused: `field: message`.
    Reject(String, String),
    /// A store's rule refused the request (the reservation policy).
    Refuse,
}

/// One write of a transaction, with the meaning of its condition failing.
pub(crate) struct Write {
    item: TransactWriteItem,
    on_fail: OnFail,
    /// The event this write records in the outbox, noted for the request's fan-out once the
    /// transaction commits.
    pub(crate) event: Option<(sellvy_models::Tenant, sellvy_models::Event)>,
}

fn built<T, E: std::fmt::Display>(r: Result<T, E>) -> Result<T, StoreError> {
    r.map_err(|e| StoreError::Backend(e.to_string()))
}

impl Write {
    /// Replaces an item only while it still has `version` (as read): another writer's change
    /// in between is a [`StoreError::Conflict`].
    pub(crate) fn put_versioned(table: &str, item: Item, version: u64) -> Result<Write, StoreError> {
        Write::put(table, item, Some("version = :v"), &[(":v", n(version))])
    }

    pub(crate) fn put(
        table: &str,
        item: Item,
        condition: Option<&str>,
        values: &[(&str, AttributeValue)],
    ) -> Result<Write, StoreError> {
        let mut b = Put::builder()
            .table_name(table)
            .set_item(Some(item))
            .set_condition_expression(condition.map(String::from));
        for (k, v) in values {
            b = b.expression_attribute_values(*k, v.clone());
        }
        Ok(Write {
            item: TransactWriteItem::builder().put(built(b.build())?).build(),
            on_fail: OnFail::Conflict,
            event: None,
        })
    }

    pub(crate) fn update(
        table: &str,
        key: (String, String),
        expression: &str,
        condition: Option<&str>,
        values: &[(&str, AttributeValue)],
    ) -> Result<Write, StoreError> {
        Write::update_named(table, key, expression, condition, &[], values)
    }

    /// An update whose expressions use `#names` for reserved words.
    pub(crate) fn update_named(
        table: &str,
        key: (String, String),
        expression: &str,
        condition: Option<&str>,
        names: &[(&str, &str)],
        values: &[(&str, AttributeValue)],
    ) -> Result<Write, StoreError> {
        let mut b = Update::builder()
            .table_name(table)
            .key("PK", s(key.0))
            .key("SK", s(key.1))
            .update_expression(expression)
            .set_condition_expression(condition.map(String::from));
        for (k, v) in values {
            b = b.expression_attribute_values(*k, v.clone());
        }
        for (k, v) in names {
            b = b.expression_attribute_names(*k, *v);
        }
        Ok(Write {
            item: TransactWriteItem::builder().update(built(b.build())?).build(),
            on_fail: OnFail::Conflict,
            event: None,
        })
    }

    pub(crate) fn delete(
        table: &str,
        key: (String, String),
        condition: Option<&str>,
        values: &[(&str, AttributeValue)],
    ) -> Result<Write, StoreError> {
        Write::delete_named(table, key, condition, &[], values)
    }

    /// A delete whose condition uses `#names` for reserved words.
    pub(crate) fn delete_named(
        table: &str,
        key: (String, String),
        condition: Option<&str>,
        names: &[(&str, &str)],
        values: &[(&str, AttributeValue)],
    ) -> Result<Write, StoreError> {
        let mut b = Delete::builder()
            .table_name(table)
            .key("PK", s(key.0))
            .key("SK", s(key.1))
            .set_condition_expression(condition.map(String::from));
        for (k, v) in values {
            b = b.expression_attribute_values(*k, v.clone());
        }
        for (k, v) in names {
            b = b.expression_attribute_names(*k, *v);
        }
        Ok(Write {
            item: TransactWriteItem::builder().delete(built(b.build())?).build(),
            on_fail: OnFail::Conflict,
            event: None,
        })
    }

    /// Asserts that an item exists, without writing it.
    pub(crate) fn exists(table: &str, key: (String, String)) -> Result<Write, StoreError> {
        let b = ConditionCheck::builder()
            .table_name(table)
            .key("PK", s(key.0))
            .key("SK", s(key.1))
            .condition_expression("attribute_exists(PK)");
        Ok(Write {
            item: TransactWriteItem::builder().condition_check(built(b.build())?).build(),
            on_fail: OnFail::Conflict,
            event: None,
        })
    }

    /// Its condition failing means a store's rule refuses the request.
    pub(crate) fn or_refuse(mut self) -> Write {
        self.on_fail = OnFail::Refuse;
        self
    }

    /// Its condition failing means the input is refused for `field`.
    pub(crate) fn or_reject(mut self, field: impl Into<String>, message: impl Into<String>) -> Write {
        self.on_fail = OnFail::Reject(field.into(), message.into());
        self
    }
}

impl Db {
    /// Connects with Sellvy's AWS configuration ([`crate::aws::load`]). The table comes from
    /// `SELLVY_TABLE_NAME`; `AWS_ENDPOINT_URL_DYNAMODB` points the SDK at DynamoDB Local.
    pub async fn from_env() -> Db {
        Db::from_config(&crate::aws::load().await)
    }

    /// With an AWS configuration already loaded (one load per process), the table from
    /// `SELLVY_TABLE_NAME`.
    pub fn from_config(config: &aws_config::SdkConfig) -> Db {
        let table = std::env::var("SELLVY_TABLE_NAME").unwrap_or_else(|_| "sellvy-local".into());
        Db::new(Client::new(config), table)
    }

    pub fn new(client: Client, table: impl Into<String>) -> Db {
        Db { client, table: table.into() }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// One item by key.
    pub(crate) async fn get(
        &self,
        pk: String,
        sk: impl Into<String>,
        consistent: bool,
    ) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("PK", s(pk))
            .key("SK", s(sk))
            .consistent_read(consistent)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await?;
        record(Kind::Read, out.item.is_some() as usize, out.consumed_capacity());
        Ok(out.item)
    }

    /// Items by key (at most 100), in no particular order; keys not found are left out. Keys
    /// DynamoDB leaves unprocessed are asked again after a short growing wait.
    pub(crate) async fn batch_get(
        &self,
        keys: Vec<(String, String)>,
        consistent: bool,
    ) -> Result<Vec<Item>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<Item> = keys
            .into_iter()
            .map(|(pk, sk)| HashMap::from([("PK".to_string(), s(pk)), ("SK".to_string(), s(sk))]))
            .collect();
        let mut pending = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(consistent)
                .build()
                .map_err(|e| StoreError::Backend(e.to_string()))?,
        );
        let mut found = Vec::new();
        let mut attempt = 0;
        while let Some(request) = pending.take() {
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await?;
            let items = out.responses.as_ref().and_then(|r| r.get(&self.table)).cloned().unwrap_or_default();
            record(Kind::Read, items.len(), out.consumed_capacity());
            found.extend(items);
            pending =
                out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)).filter(|k| !k.keys().is_empty());
            if pending.is_some() {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(20 << attempt.min(5))).await;
            }
        }
        Ok(found)
    }

    /// Every entry of GSI1 under `gsi1pk`, in key order (all pages).
    pub(crate) async fn index_entries(
        &self,
        gsi1pk: String,
        projection: Option<&str>,
    ) -> Result<Vec<Item>, StoreError> {
        self.query_all(Some("GSI1"), "GSI1PK = :pk", &[(":pk", s(gsi1pk))], projection).await
    }

    /// Every item a key condition matches, in key order (all pages), from the table or an index.
    pub(crate) async fn query_all(
        &self,
        index: Option<&str>,
        key_condition: &str,
        values: &[(&str, AttributeValue)],
        projection: Option<&str>,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let mut q = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(index.map(String::from))
                .key_condition_expression(key_condition)
                .set_projection_expression(projection.map(String::from))
                .set_exclusive_start_key(start)
                .return_consumed_capacity(ReturnConsumedCapacity::Total);
            for (k, v) in values {
                q = q.expression_attribute_values(*k, v.clone());
            }
            let out = q.send().await?;
            record(Kind::Read, out.items().len(), out.consumed_capacity());
            start = out.last_evaluated_key;
            items.extend(out.items.unwrap_or_default());
            if start.is_none() {
                return Ok(items);
            }
        }
    }

    /// Commits the writes together or not at all. A failed condition becomes the meaning its
    /// write carries; a clash with another transaction is a [`StoreError::Conflict`].
    pub(crate) async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let mut events = Vec::new();
        let (items, meanings): (Vec<_>, Vec<_>) = writes
            .into_iter()
            .map(|w| {
                events.extend(w.event);
                (w.item, w.on_fail)
            })
            .unzip();
        let out = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        let e = match out {
            Ok(o) => {
                record(Kind::Write, 0, o.consumed_capacity());
                crate::events::committed(events);
                return Ok(());
            }
            Err(e) => e,
        };
        use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError as E;
        let Some(E::TransactionCanceledException(t)) = e.as_service_error() else {
            return Err(e.into());
        };
        record(Kind::Write, 0, None);
        let reasons = t.cancellation_reasons();
        for (reason, meaning) in reasons.iter().zip(meanings) {
            if reason.code() == Some("ConditionalCheckFailed") {
                return Err(match meaning {
                    OnFail::Conflict => StoreError::Conflict,
                    OnFail::Reject(field, message) => StoreError::Rejected { field, message },
                    OnFail::Refuse => StoreError::Refused,
                });
            }
        }
        if reasons.iter().any(|r| r.code() == Some("TransactionConflict")) {
            return Err(StoreError::Conflict);
        }
        if reasons.iter().any(|r| r.code() == Some("ValidationError")) {
            return Err(StoreError::Unwritable(format!("{reasons:?}")));
        }
        Err(e.into())
    }
}

/// Puts an item's keys in the sparse `Pending` index: found under `partition` once `at` has
/// passed (`PENDINGSK = <at ms>#<tenant>#<id>`, read back by [`Db::pending`]).
pub(crate) fn watch(
    item: &mut Item,
    watch: crate::layout::Watch,
    at: sellvy_models::time::Timestamp,
    t: &sellvy_models::Tenant,
    id: &str,
) {
    item.insert("PENDINGPK".into(), s(watch.partition()));
    item.insert("PENDINGSK".into(), s(crate::layout::pending_sk(at, t, id)));
}

impl Db {
    /// Puts an item if `condition` holds: `false` when it does not (no error).
    pub(crate) async fn put_if(
        &self,
        item: Item,
        condition: &str,
        values: &[(&str, AttributeValue)],
    ) -> Result<bool, StoreError> {
        let mut req = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        for (k, v) in values {
            req = req.expression_attribute_values(*k, v.clone());
        }
        match req.send().await {
            Ok(o) => {
                record(Kind::Write, 0, o.consumed_capacity());
                Ok(true)
            }
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                record(Kind::Write, 0, None);
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The (tenant, id) of items [`watch`]ed under `partition` whose time is before `before`,
    /// oldest first, at most `limit`: a Query of the keys-only index (one page unless a page
    /// ends early, as DynamoDB Local's do when it counts the base items' size).
    pub(crate) async fn pending(
        &self,
        watch: crate::layout::Watch,
        before: sellvy_models::time::Timestamp,
        limit: u32,
    ) -> Result<Vec<(sellvy_models::Tenant, String)>, StoreError> {
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name("Pending")
                .key_condition_expression("PENDINGPK = :p AND PENDINGSK < :before")
                .expression_attribute_values(":p", s(watch.partition()))
                .expression_attribute_values(":before", s(crate::layout::pending_time(before)))
                .limit((limit as usize - found.len()) as i32)
                .set_exclusive_start_key(start)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await?;
            record(Kind::Read, out.items().len(), out.consumed_capacity());
            found.extend(out.items().iter().filter_map(|item| match item.get("PENDINGSK") {
                Some(AttributeValue::S(k)) => crate::layout::parse_pending_sk(k),
                _ => None,
            }));
            start = out.last_evaluated_key().cloned();
            if start.is_none() || found.len() >= limit as usize {
                return Ok(found);
            }
        }
    }
}

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// A number attribute, or 0.
pub(crate) fn number(item: &Item, name: &str) -> i64 {
    match item.get(name) {
        Some(AttributeValue::N(v)) => v.parse().unwrap_or(0),
        _ => 0,
    }
}
