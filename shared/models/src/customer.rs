//! Customers: a buyer, created by their first paid order.

use crate::money::Currency;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// A buyer, created by their first paid order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub id: crate::id::CustomerId,
    pub email: String,
    pub total_orders: u64,
    pub lifetime_spend_minor: i64,
    pub currency: String,
    #[serde(default)]
    pub blacklisted: bool,
    #[serde(default)]
    pub blacklist_reason: Option<String>,
    pub created_at: Timestamp,
}

impl Customer {
    pub fn to_object(&self) -> crate::wire::CustomerObject {
        let c = Currency::parse(&self.currency).unwrap_or(Currency::USD);
        crate::wire::CustomerObject {
            id: self.id.to_string(),
            email: self.email.clone(),
            total_orders: self.total_orders,
            lifetime_spend: crate::wire::Amount::from_minor(self.lifetime_spend_minor, c.exponent()),
            blacklisted: self.blacklisted,
            blacklist_reason: self.blacklist_reason.clone(),
            created_at: self.created_at,
        }
    }
}
