//! Events: their types and bodies.

use crate::prelude::*;

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
        parse_word(s)
    }
}

/// A webhook delivery's body: `{id, type, created_at, data}`, `data` being the object as the
/// API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventObject {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub created_at: Timestamp,
    pub data: Value,
}

/// A product event's body (`product.created`, `.updated`, `.deleted`, `.low_stock`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProductEvent {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub created_at: Timestamp,
    pub data: ProductObject,
}
