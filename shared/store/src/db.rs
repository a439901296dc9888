use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::AttributeValue;
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
    /// A condition did not hold: the item changed or exists already. Callers retry or report.
    #[error("conflicting concurrent change")]
    Conflict,
    /// DynamoDB failed or answered something unreadable. Never shown to clients.
    #[error("database error: {0}")]
    Backend(String),
}

impl<E: std::fmt::Debug, R: std::fmt::Debug> From<SdkError<E, R>> for StoreError {
    fn from(e: SdkError<E, R>) -> Self {
        StoreError::Backend(format!("{e:?}"))
    }
}

impl From<serde_dynamo::Error> for StoreError {
    fn from(e: serde_dynamo::Error) -> Self {
        StoreError::Backend(format!("item conversion: {e}"))
    }
}

impl Db {
    /// Connects with the standard AWS configuration chain. The table comes from
    /// `SELLVY_TABLE_NAME`; `AWS_ENDPOINT_URL_DYNAMODB` points the SDK at DynamoDB Local.
    pub async fn from_env() -> Db {
        let config = aws_config::load_from_env().await;
        let table = std::env::var("SELLVY_TABLE_NAME").unwrap_or_else(|_| "sellvy-local".into());
        Db::new(Client::new(&config), table)
    }

    pub fn new(client: Client, table: impl Into<String>) -> Db {
        Db {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// Whether a transaction failed only because a condition did not hold or another
/// transaction held one of its items: both mean "read again and retry".
pub(crate) fn is_condition_failure<R>(
    e: &SdkError<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError, R>,
) -> bool {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError as E;
    match e.as_service_error() {
        Some(E::TransactionCanceledException(t)) => t.cancellation_reasons().iter().any(|r| {
            matches!(
                r.code(),
                Some("ConditionalCheckFailed" | "TransactionConflict")
            )
        }),
        _ => false,
    }
}

pub(crate) fn tenant_pk(t: &sellvy_models::Tenant) -> String {
    format!("T#{}#{}", t.store_id, t.mode.as_str())
}
