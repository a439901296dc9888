//! Events: what happened in a store, recorded with the change (the outbox) and delivered to
//! webhook endpoints as `{id, type, created_at, data}`.

use crate::id;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The seed's 16 event types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum EventType {
    #[serde(rename = "order.created")]
    OrderCreated,
    #[serde(rename = "order.completed")]
    OrderCompleted,
    #[serde(rename = "order.refunded")]
    OrderRefunded,
    #[serde(rename = "order.cancelled")]
    OrderCancelled,
    #[serde(rename = "order.disputed")]
    OrderDisputed,
    #[serde(rename = "payment.received")]
    PaymentReceived,
    #[serde(rename = "payment.failed")]
    PaymentFailed,
    #[serde(rename = "product.created")]
    ProductCreated,
    #[serde(rename = "product.updated")]
    ProductUpdated,
    #[serde(rename = "product.deleted")]
    ProductDeleted,
    #[serde(rename = "product.low_stock")]
    ProductLowStock,
    #[serde(rename = "customer.created")]
    CustomerCreated,
    #[serde(rename = "review.created")]
    ReviewCreated,
    #[serde(rename = "subscription.created")]
    SubscriptionCreated,
    #[serde(rename = "subscription.renewed")]
    SubscriptionRenewed,
    #[serde(rename = "subscription.cancelled")]
    SubscriptionCancelled,
}

impl EventType {
    pub const ALL: [EventType; 16] = [
        EventType::OrderCreated,
        EventType::OrderCompleted,
        EventType::OrderRefunded,
        EventType::OrderCancelled,
        EventType::OrderDisputed,
        EventType::PaymentReceived,
        EventType::PaymentFailed,
        EventType::ProductCreated,
        EventType::ProductUpdated,
        EventType::ProductDeleted,
        EventType::ProductLowStock,
        EventType::CustomerCreated,
        EventType::ReviewCreated,
        EventType::SubscriptionCreated,
        EventType::SubscriptionRenewed,
        EventType::SubscriptionCancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::OrderCreated => "order.created",
            EventType::OrderCompleted => "order.completed",
            EventType::OrderRefunded => "order.refunded",
            EventType::OrderCancelled => "order.cancelled",
            EventType::OrderDisputed => "order.disputed",
            EventType::PaymentReceived => "payment.received",
            EventType::PaymentFailed => "payment.failed",
            EventType::ProductCreated => "product.created",
            EventType::ProductUpdated => "product.updated",
            EventType::ProductDeleted => "product.deleted",
            EventType::ProductLowStock => "product.low_stock",
            EventType::CustomerCreated => "customer.created",
            EventType::ReviewCreated => "review.created",
            EventType::SubscriptionCreated => "subscription.created",
            EventType::SubscriptionRenewed => "subscription.renewed",
            EventType::SubscriptionCancelled => "subscription.cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// One event. `data` is the object as the API returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: String,
    pub event_type: EventType,
    pub created_at: Timestamp,
    pub data: Value,
}

impl Event {
    pub fn new(event_type: EventType, data: Value) -> Event {
        Event { id: id::new_id("evt_"), event_type, created_at: Timestamp::now(), data }
    }

    /// The webhook payload, exactly as receivers get it.
    pub fn payload(&self) -> Value {
        json!({
            "id": self.id,
            "type": self.event_type.as_str(),
            "created_at": self.created_at,
            "data": self.data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_sixteen_types_round_trip_their_names() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
            assert_eq!(serde_json::to_value(t).unwrap(), Value::from(t.as_str()));
        }
        let unique: std::collections::HashSet<_> = EventType::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(unique.len(), 16);
    }

    #[test]
    fn payload_has_the_seeds_shape() {
        let e = Event::new(EventType::ProductCreated, json!({"id": "prod_x"}));
        let p = e.payload();
        assert_eq!(p["type"], "product.created");
        assert!(p["id"].as_str().unwrap().starts_with("evt_"));
        assert!(p["created_at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(p["data"]["id"], "prod_x");
    }
}
