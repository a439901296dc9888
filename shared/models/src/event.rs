//! Events: what happened in a store, recorded with the change (the outbox) and delivered to
//! webhook endpoints as `{id, type, created_at, data}`.

use crate::time::Timestamp;
use serde::Serialize;
use serde_json::{Value, json};

pub use sellvy_wire::EventType;

/// One event. `data` is the object as the API returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: crate::id::EventId,
    pub event_type: EventType,
    pub created_at: Timestamp,
    pub data: Value,
}

/// An event's data did not serialise to a JSON object: the change that would record it is
/// refused rather than publishing `data: null` (or a bare value) to the seller's servers.
#[derive(Debug, thiserror::Error)]
#[error("the data of a {event_type} event {reason}")]
pub struct EventDataError {
    event_type: &'static str,
    reason: String,
}

impl Event {
    /// A new event whose `data` is `object` as the API returns it: it must serialise to a JSON
    /// object.
    pub fn new(event_type: EventType, object: &impl Serialize) -> Result<Event, EventDataError> {
        let fail = |reason: String| EventDataError { event_type: event_type.as_str(), reason };
        match serde_json::to_value(object) {
            Ok(data @ Value::Object(_)) => {
                Ok(Event { id: crate::id::EventId::new(), event_type, created_at: Timestamp::now(), data })
            }
            Ok(other) => Err(fail(format!("is not a JSON object but {other}"))),
            Err(e) => Err(fail(format!("could not be serialised: {e}"))),
        }
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
        let e = Event::new(EventType::ProductCreated, &json!({"id": "prod_x"})).unwrap();
        let p = e.payload();
        assert_eq!(p["type"], "product.created");
        assert!(p["id"].as_str().unwrap().starts_with("evt_"));
        assert!(p["created_at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(p["data"]["id"], "prod_x");
    }

    #[test]
    fn data_that_is_not_an_object_is_refused_not_published_as_null() {
        let none: Option<u8> = None;
        let e = Event::new(EventType::OrderCreated, &none).unwrap_err();
        assert_eq!(e.to_string(), "the data of a order.created event is not a JSON object but null");
        assert!(Event::new(EventType::OrderCreated, &"text").is_err());
        // A map with non-string keys cannot be JSON at all.
        let odd = std::collections::BTreeMap::from([((1, 2), 3)]);
        assert!(Event::new(EventType::OrderCreated, &odd).unwrap_err().to_string().contains("serialised"));
    }
}
