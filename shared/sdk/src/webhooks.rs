//! Receiving Sellvy's webhooks: check the signature, then read the event.
//!
//! ```
//! # let (raw_body, secret) = (br#"{"id":"evt_1","type":"order.completed","created_at":"2026-03-20T15:30:00.000Z","data":{"id":"ord_1"}}"#, "whsec_…");
//! # let signature = sellvy_sdk::webhooks::sign(raw_body, secret);
//! if sellvy_sdk::webhooks::verify(raw_body, &signature, secret) {
//!     let event = sellvy_sdk::webhooks::parse(raw_body).unwrap();
//!     println!("{} {}", event.event_type.as_str(), event.id);
//! }
//! ```

use sellvy_wire::EventType;
pub use sellvy_wire::signature::{sign, verify};
use sellvy_wire::{EventObject, ProductObject};

/// A parsed event, with its `data` typed where Sellvy knows its shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: String,
    pub event_type: EventType,
    pub created_at: String,
    pub data: EventData,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EventData {
    /// `product.*` events: the product as the API returns it.
    Product(Box<ProductObject>),
    /// Other events (orders, payments, customers, …): the object as JSON.
    Other(serde_json::Value),
}

/// Reads a delivery's raw body (check [`verify`] first).
pub fn parse(payload: &[u8]) -> Result<Event, serde_json::Error> {
    let raw: EventObject = serde_json::from_slice(payload)?;
    let data = if raw.event_type.as_str().starts_with("product.") {
        EventData::Product(Box::new(serde_json::from_value(raw.data)?))
    } else {
        EventData::Other(raw.data)
    };
    Ok(Event { id: raw.id, event_type: raw.event_type, created_at: raw.created_at.to_rfc3339(), data })
}
