//! Customers, created by their first paid order. Each has an email claim item
//! (`CUSTOMEREMAIL#<email>`, with the blacklist flag) so checkout finds a buyer, and whether
//! they are blacklisted, in one read.

use crate::collection::{CUSTOMERS, Page};
use crate::db::{Db, Item, StoreError, Write, n, s};
use aws_sdk_dynamodb::types::AttributeValue;
use sellvy_models::order::Customer;
use sellvy_models::{SortOrder, Tenant};
use std::collections::HashMap;

use crate::layout::customer_email_key as claim_key;

/// A buyer as checkout sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownBuyer {
    pub customer_id: sellvy_models::id::CustomerId,
    pub blacklisted: bool,
}

/// How a paid order touches its buyer's record.
pub enum CustomerUpdate<'a> {
    /// First purchase: the record (with this order counted) is created.
    New(&'a Customer),
    /// Returning buyer: one more order, this much more spent.
    Existing { id: &'a str, spent_minor: i64 },
}

impl Db {
    /// The customer with this email, if they ever bought here (one strongly consistent read).
    pub async fn find_buyer(&self, t: &Tenant, email: &str) -> Result<Option<KnownBuyer>, StoreError> {
        let (pk, sk) = claim_key(t, email);
        let Some(item) = self.get(pk, sk, true).await? else { return Ok(None) };
        let id = match item.get("customer_id") {
            Some(AttributeValue::S(id)) => sellvy_models::id::CustomerId::parse(id)
                .ok_or_else(|| StoreError::Unwritable(format!("customer claim: {id}")))?,
            _ => return Ok(None),
        };
        let blacklisted = matches!(item.get("blacklisted"), Some(AttributeValue::Bool(true)));
        Ok(Some(KnownBuyer { customer_id: id, blacklisted }))
    }

    /// The writes a paid order makes to its buyer's record.
    pub(crate) fn customer_writes(
        &self,
        t: &Tenant,
        update: &CustomerUpdate,
    ) -> Result<Vec<Write>, StoreError> {
        Ok(match update {
            CustomerUpdate::New(c) => {
                let (pk, sk) = claim_key(t, &c.email);
                let claim: Item = HashMap::from([
                    ("PK".to_string(), s(pk)),
                    ("SK".to_string(), s(sk)),
                    ("customer_id".to_string(), s(&c.id)),
                    ("blacklisted".to_string(), AttributeValue::Bool(false)),
                ]);
                vec![
                    Write::put(&self.table, claim, Some("attribute_not_exists(PK)"), &[])?,
                    Write::put(
                        &self.table,
                        CUSTOMERS.item(t, &c.id, c)?,
                        Some("attribute_not_exists(PK)"),
                        &[],
                    )?,
                    CUSTOMERS.count_add(self, t, 1)?,
                ]
            }
            CustomerUpdate::Existing { id, spent_minor } => vec![Write::update(
                &self.table,
                CUSTOMERS.key(t, id),
                "ADD total_orders :one, lifetime_spend_minor :spent",
                Some("attribute_exists(PK)"),
                &[(":one", n(1)), (":spent", n(spent_minor))],
            )?],
        })
    }

    /// Takes a refund off a customer's lifetime spend (a transaction write).
    pub(crate) fn customer_refund(
        &self,
        t: &Tenant,
        id: &str,
        amount_minor: i64,
    ) -> Result<Write, StoreError> {
        Write::update(
            &self.table,
            CUSTOMERS.key(t, id),
            "ADD lifetime_spend_minor :minus",
            Some("attribute_exists(PK)"),
            &[(":minus", n(-amount_minor))],
        )
    }

    pub async fn get_customer(&self, t: &Tenant, id: &str) -> Result<Option<Customer>, StoreError> {
        self.get_object(CUSTOMERS, t, id).await
    }

    pub async fn customer_page(
        &self,
        t: &Tenant,
        offset: u64,
        per_page: u32,
    ) -> Result<Page<Customer>, StoreError> {
        self.page(CUSTOMERS, t, offset, per_page, SortOrder::Desc).await
    }

    /// Puts a customer on the blacklist (or takes them off), on the record and on the email
    /// claim checkout reads.
    pub async fn set_blacklisted(
        &self,
        t: &Tenant,
        c: &Customer,
        blacklisted: bool,
        reason: Option<&str>,
    ) -> Result<(), StoreError> {
        let reason = reason.map_or(AttributeValue::Null(true), s);
        self.transact(vec![
            Write::update(
                &self.table,
                CUSTOMERS.key(t, &c.id),
                "SET blacklisted = :b, blacklist_reason = :r",
                Some("attribute_exists(PK)"),
                &[(":b", AttributeValue::Bool(blacklisted)), (":r", reason)],
            )?,
            Write::update(
                &self.table,
                claim_key(t, &c.email),
                "SET blacklisted = :b",
                Some("attribute_exists(PK)"),
                &[(":b", AttributeValue::Bool(blacklisted))],
            )?,
        ])
        .await
    }
}
