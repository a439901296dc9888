//! Webhooks: the endpoints a seller subscribes, the deliveries of events to them, the retry
//! ladder and how long waits hop through a queue whose delays are capped.

use crate::error::ValidationError;
use crate::event::EventType;
use crate::id;
use crate::page::{PageRequest, QueryParams, enum_param};
use crate::request::{self, Body, Errors, check_url};
use crate::time::Timestamp;
use crate::wire::{EndpointChanges, EndpointInput};
use crate::{Event, Mode};

pub use sellvy_wire::{AttemptRecord, WebhookDeliveryStatus};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Endpoints one store may have per mode.
pub const MAX_ENDPOINTS: u64 = 20;
/// What a delivery log keeps of a receiver's answer.
pub const KEPT_RESPONSE_BYTES: usize = 1024;

/// A seller's webhook endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    pub id: crate::id::EndpointId,
    pub url: String,
    /// Event types it receives; `["*"]` for all.
    pub events: Vec<String>,
    pub description: Option<String>,
    pub enabled: bool,
    /// Signs every delivery (`X-Sellvy-Signature`, `webhook-signature`). Shown at creation and
    /// rotation only.
    pub secret: String,
    /// The secret before the last rotation: `webhook-signature` carries a signature with it too
    /// until `previous_secret_until`, so a receiver that has not switched yet keeps verifying.
    #[serde(default)]
    pub previous_secret: Option<String>,
    #[serde(default)]
    pub previous_secret_until: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: u64,
}

/// How long the secret before a rotation still signs deliveries (in `webhook-signature` only).
pub const ROTATION_GRACE_SECS: i64 = 24 * 3600;

fn new_secret() -> String {
    format!("whsec_{}", id::random_base62(40))
}

fn read_events(e: &mut Errors, list: Option<Vec<String>>) -> Option<Vec<String>> {
    let list: Vec<String> = list?.into_iter().map(|s| s.trim().to_string()).collect();
    if list.is_empty() {
        e.add("events", "must name at least one event type, or [\"*\"] for all");
        return None;
    }
    let mut out: Vec<String> = Vec::new();
    for (n, ev) in list.iter().enumerate() {
        let known = ev == "*" || EventType::ALL.iter().any(|t| t.as_str() == ev);
        if !known {
            let all: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
            e.add(format!("events[{n}]"), format!("must be \"*\" or one of {}", all.join(", ")));
        } else if out.contains(ev) {
            e.add(format!("events[{n}]"), "is listed twice");
        } else {
            out.push(ev.clone());
        }
    }
    if out.len() > 1 && out.iter().any(|e| e == "*") {
        e.add("events", "\"*\" already means every event; send it alone");
    }
    (!e.has("events")).then_some(out)
}

fn read_url(e: &mut Errors, url: Option<String>, mode: Mode) -> Option<String> {
    let url = request::required_text(e, "url", url)?;
    if let Err(why) = check_url(&url, mode == Mode::Live) {
        e.add("url", why);
    }
    Some(url)
}

impl Endpoint {
    /// A new endpoint from `POST /webhook_endpoints` (`url` required; `events` default `["*"]`).
    /// Live endpoints must be https; the address checks (SSRF guard) come after, with DNS.
    pub fn create(body: Value, mode: Mode, now: Timestamp) -> Result<Endpoint, ValidationError> {
        let Body { fields: f, mut errors } = request::read::<EndpointInput, EndpointInput>(body)?;
        let url = read_url(&mut errors, f.url, mode);
        let events = read_events(&mut errors, f.events);
        let description = request::trimmed(f.description);
        let enabled = f.enabled;
        errors.require("url", &url);
        errors.finish()?;
        Ok(Endpoint {
            id: crate::id::EndpointId::new(),
            url: url.unwrap_or_default(),
            events: events.unwrap_or_else(|| vec!["*".into()]),
            description,
            enabled: enabled.unwrap_or(true),
            secret: new_secret(),
            previous_secret: None,
            previous_secret_until: None,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }

    /// `PATCH /webhook_endpoints/{id}`: `url`, `events`, `description` (null clears), `enabled`.
    pub fn apply_update(&self, body: Value, mode: Mode, now: Timestamp) -> Result<Endpoint, ValidationError> {
        let clears_description = body.get("description").is_some_and(Value::is_null);
        let Body { fields: f, mut errors } = request::read::<EndpointChanges, EndpointChanges>(body)?;
        let url = read_url(&mut errors, f.url, mode);
        let events = read_events(&mut errors, f.events);
        let description = f.description.map(|d| d.trim().to_string());
        let enabled = f.enabled;
        errors.finish()?;
        let mut e = self.clone();
        if let Some(u) = url {
            e.url = u;
        }
        if let Some(ev) = events {
            e.events = ev;
        }
        if clears_description {
            e.description = None;
        } else if let Some(d) = description {
            e.description = Some(d).filter(|d| !d.is_empty());
        }
        if let Some(en) = enabled {
            e.enabled = en;
        }
        e.updated_at = now.max(self.updated_at);
        e.version = self.version + 1;
        Ok(e)
    }

    /// A new secret; the old one still signs `webhook-signature` for [`ROTATION_GRACE_SECS`].
    pub fn rotated(&self, now: Timestamp) -> Endpoint {
        Endpoint {
            secret: new_secret(),
            previous_secret: Some(self.secret.clone()),
            previous_secret_until: Some(now.plus_seconds(ROTATION_GRACE_SECS)),
            updated_at: now,
            version: self.version + 1,
            ..self.clone()
        }
    }

    /// The secret before the last rotation, while it still signs (at `now`).
    pub fn previous_secret(&self, now: Timestamp) -> Option<&str> {
        match (&self.previous_secret, self.previous_secret_until) {
            (Some(s), Some(until)) if now < until => Some(s),
            _ => None,
        }
    }

    pub fn subscribes(&self, t: EventType) -> bool {
        self.enabled && self.events.iter().any(|e| e == "*" || e == t.as_str())
    }

    pub fn to_object(&self, with_secret: bool) -> crate::wire::EndpointObject {
        crate::wire::EndpointObject {
            id: self.id.to_string(),
            url: self.url.clone(),
            events: self.events.clone(),
            description: self.description.clone(),
            enabled: self.enabled,
            created_at: self.created_at,
            updated_at: self.updated_at,
            secret: with_secret.then(|| self.secret.clone()),
            previous_secret_expires_at: self.previous_secret_until.filter(|u| *u > Timestamp::now()),
        }
    }
}

/// One event on its way to one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    pub id: crate::id::WebhookDeliveryId,
    pub endpoint_id: crate::id::EndpointId,
    pub event_id: crate::id::EventId,
    pub event_type: EventType,
    pub status: WebhookDeliveryStatus,
    /// The automatic attempt due next (1-based), while `scheduled`.
    pub next_attempt: u32,
    pub next_attempt_at: Option<Timestamp>,
    pub attempts: Vec<AttemptRecord>,
    /// The exact body every attempt sends (the event's payload, serialized once).
    pub payload: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Bumped by every write: attempts are claimed with a condition on it.
    pub version: u64,
    /// The attempt in flight is a retry by hand.
    #[serde(default)]
    pub sending_manual: bool,
}

impl WebhookDelivery {
    /// The delivery of `event` to `endpoint`: its id is derived from both, so fanning the same
    /// event out twice finds the same delivery.
    pub fn new(event: &Event, endpoint_id: &crate::id::EndpointId, now: Timestamp) -> WebhookDelivery {
        WebhookDelivery {
            id: crate::id::WebhookDeliveryId::of(&event.id, endpoint_id, event.created_at.millis()),
            endpoint_id: endpoint_id.clone(),
            event_id: event.id.clone(),
            event_type: event.event_type,
            status: WebhookDeliveryStatus::Scheduled,
            next_attempt: 1,
            next_attempt_at: Some(now),
            attempts: Vec::new(),
            payload: event.payload().to_string(),
            created_at: now,
            updated_at: now,
            version: 1,
            sending_manual: false,
        }
    }

    /// Whether automatic attempt `n` is the one due (a duplicate or stale message is not).
    pub fn awaits_attempt(&self, n: u32) -> bool {
        self.status == WebhookDeliveryStatus::Scheduled && self.next_attempt == n
    }

    /// Whether a seller may retry it by hand (not while the ladder still runs).
    pub fn retryable_by_hand(&self) -> bool {
        matches!(self.status, WebhookDeliveryStatus::Failed | WebhookDeliveryStatus::Delivered)
    }

    /// An attempt is in flight (`manual`: a retry by hand).
    pub fn claimed(&self, now: Timestamp, manual: bool) -> WebhookDelivery {
        WebhookDelivery {
            status: WebhookDeliveryStatus::Sending,
            sending_manual: manual,
            updated_at: now,
            version: self.version + 1,
            ..self.clone()
        }
    }

    /// Marks an attempt record as made by hand.
    pub fn as_manual(record: AttemptRecord) -> AttemptRecord {
        AttemptRecord { manual: true, ..record }
    }

    /// The next attempt's number in the log.
    pub fn attempt_number(&self) -> u32 {
        self.attempts.len() as u32 + 1
    }

    /// An automatic attempt ended (`self` is the claimed delivery): delivered, scheduled for
    /// the ladder's next attempt, or failed after the last one.
    pub fn after_attempt(&self, record: AttemptRecord, ladder: &Ladder, now: Timestamp) -> WebhookDelivery {
        let succeeded = record.error_kind.is_none();
        let mut next = WebhookDelivery {
            updated_at: now,
            version: self.version + 1,
            sending_manual: false,
            ..self.clone()
        };
        next.attempts.push(record);
        if succeeded {
            next.status = WebhookDeliveryStatus::Delivered;
            next.next_attempt_at = None;
            return next;
        }
        match ladder.after_failure(self.next_attempt + 1, now) {
            Some(due) => {
                next.status = WebhookDeliveryStatus::Scheduled;
                next.next_attempt = self.next_attempt + 1;
                next.next_attempt_at = Some(due);
            }
            None => {
                next.status = WebhookDeliveryStatus::Failed;
                next.next_attempt_at = None;
            }
        }
        next
    }

    /// A retry by hand ended: delivered, or failed again (the ladder does not restart).
    pub fn after_manual_attempt(&self, record: AttemptRecord, now: Timestamp) -> WebhookDelivery {
        let status = if record.error_kind.is_none() {
            WebhookDeliveryStatus::Delivered
        } else {
            WebhookDeliveryStatus::Failed
        };
        let mut next = WebhookDelivery {
            status,
            next_attempt_at: None,
            sending_manual: false,
            updated_at: now,
            version: self.version + 1,
            ..self.clone()
        };
        next.attempts.push(record);
        next
    }

    pub fn to_object(&self) -> crate::wire::DeliveryObject {
        crate::wire::DeliveryObject {
            id: self.id.to_string(),
            endpoint_id: self.endpoint_id.to_string(),
            event_id: self.event_id.to_string(),
            event_type: self.event_type,
            status: self.status,
            attempt_count: self.attempts.len() as u32,
            next_attempt_at: if self.status == WebhookDeliveryStatus::Scheduled {
                self.next_attempt_at
            } else {
                None
            },
            created_at: self.created_at,
            updated_at: self.updated_at,
            attempts: self.attempts.clone(),
            payload: Some(serde_json::from_str(&self.payload).unwrap_or(Value::Null)),
        }
    }

    /// The delivery as lists carry it: without its payload (`GET /webhook_deliveries/{id}` has
    /// it), so a full page stays small whatever the events carried.
    pub fn to_list_object(&self) -> crate::wire::DeliveryObject {
        crate::wire::DeliveryObject { payload: None, ..self.to_object() }
    }

    /// Whether it has had as many attempts as one delivery keeps.
    pub fn attempts_exhausted(&self) -> bool {
        self.attempts.len() >= MAX_ATTEMPTS
    }
}

/// Attempts one delivery may have, retries by hand included (each keeps up to 1 KiB of the
/// receiver's answer): the delivery stays a bounded item.
pub const MAX_ATTEMPTS: usize = 15;

/// The waits of the automatic attempts: `waits[0]` before attempt 1 (0: at once), `waits[n]`
/// between the failure of attempt n and attempt n+1. The seed's: `0,60,300,1800,7200` seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ladder {
    waits_ms: Vec<i64>,
}

impl Default for Ladder {
    fn default() -> Ladder {
        Ladder::seconds(&[0, 60, 300, 1800, 7200])
    }
}

impl Ladder {
    pub fn seconds(waits: &[i64]) -> Ladder {
        Ladder { waits_ms: waits.iter().map(|s| s * 1000).collect() }
    }

    pub fn millis(waits: &[i64]) -> Ladder {
        Ladder { waits_ms: waits.to_vec() }
    }

    /// `"0,60,300,1800,7200"` (seconds; decimals allowed, e.g. `"0,0.5,1"` in tests).
    pub fn parse(s: &str) -> Option<Ladder> {
        let waits: Option<Vec<i64>> = s
            .split(',')
            .map(|w| {
                w.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|w| w.is_finite() && *w >= 0.0)
                    .map(|w| (w * 1000.0).round() as i64)
            })
            .collect();
        waits.filter(|w| !w.is_empty()).map(|waits_ms| Ladder { waits_ms })
    }

    /// How many automatic attempts a delivery gets.
    pub fn attempts(&self) -> u32 {
        self.waits_ms.len() as u32
    }

    /// When attempt `next` (2-based) is due after a failure at `failed_at`; `None` when the
    /// ladder is over.
    pub fn after_failure(&self, next: u32, failed_at: Timestamp) -> Option<Timestamp> {
        let wait = *self.waits_ms.get(next.checked_sub(1)? as usize)?;
        Some(Timestamp::from_millis(failed_at.millis() + wait))
    }
}

/// What to do with a queued attempt whose due time is `due_at`: send it now, or hop through
/// the queue again with a delay the queue accepts (`0..=max_delay_secs`: SQS caps it at 900).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hop {
    Now,
    Wait { delay_secs: u32 },
}

pub fn hop(due_at: Timestamp, now: Timestamp, max_delay_secs: u32) -> Hop {
    let remaining_ms = due_at.millis() - now.millis();
    if remaining_ms <= 0 {
        return Hop::Now;
    }
    // Round up: arriving a little late is fine, early would only mean one more hop.
    let secs = ((remaining_ms + 999) / 1000).min(max_delay_secs as i64).max(0) as u32;
    Hop::Wait { delay_secs: secs.max(1).min(max_delay_secs.max(1)) }
}

/// `GET /v1/webhook_deliveries`'s filters: `endpoint_id`, `type` (an event type), `status`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeliveryListQuery {
    pub endpoint_id: Option<String>,
    pub event_type: Option<EventType>,
    pub status: Option<WebhookDeliveryStatus>,
}

impl DeliveryListQuery {
    /// Reads the filters; every bad one is named, with the page's own errors.
    pub fn parse(params: &QueryParams) -> Result<(PageRequest, DeliveryListQuery), ValidationError> {
        let mut errors = Vec::new();
        let page = PageRequest::parse(params).map_err(|e| errors.extend(e.errors)).unwrap_or_default();
        let status = enum_param("status", params.get("status"), &mut errors);
        let event_type = enum_param("type", params.get("type"), &mut errors);
        if !errors.is_empty() {
            return Err(ValidationError { errors });
        }
        Ok((
            page,
            DeliveryListQuery {
                endpoint_id: params.get("endpoint_id").map(str::to_string),
                event_type,
                status,
            },
        ))
    }

    /// Whether a delivery (as its summary tells) passes every filter.
    pub fn matches(&self, endpoint_id: &str, event_type: EventType, status: WebhookDeliveryStatus) -> bool {
        self.status.is_none_or(|s| status == s)
            && self.event_type.is_none_or(|t| event_type == t)
            && self.endpoint_id.as_ref().is_none_or(|e| endpoint_id == e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_seeds_ladder_hops_through_a_900_second_queue() {
        let ladder = Ladder::default();
        assert_eq!(ladder.attempts(), 5);
        let t0 = Timestamp::from_millis(1_000_000);
        let waits: Vec<i64> =
            (2..=5).map(|n| ladder.after_failure(n, t0).unwrap().millis() - t0.millis()).collect();
        assert_eq!(waits, [60_000, 300_000, 1_800_000, 7_200_000]);
        assert_eq!(ladder.after_failure(6, t0), None, "after the 5th failure the delivery is failed");
        // Simulate the queue: each hop waits what it was given; count the hops until due.
        for (wait_secs, hops_expected) in [(60, 1), (300, 1), (1800, 2), (7200, 8)] {
            let due = Timestamp::from_millis(t0.millis() + wait_secs * 1000);
            let (mut now, mut hops) = (t0, 0);
            while let Hop::Wait { delay_secs } = hop(due, now, 900) {
                assert!((1..=900).contains(&delay_secs));
                now = Timestamp::from_millis(now.millis() + delay_secs as i64 * 1000);
                hops += 1;
            }
            assert_eq!(hops, hops_expected, "{wait_secs} s");
            assert_eq!(now, due, "arrives on time, not early and not late");
        }
    }

    #[test]
    fn a_scaled_wait_above_the_cap_arrives_on_time() {
        // Scaled: a 3.5 s wait through a queue capped at 1 s hops 4 times and is not early.
        let t0 = Timestamp::from_millis(5_000);
        let due = Timestamp::from_millis(8_500);
        let (mut now, mut hops) = (t0, 0);
        while let Hop::Wait { delay_secs } = hop(due, now, 1) {
            assert_eq!(delay_secs, 1);
            now = Timestamp::from_millis(now.millis() + 1000);
            hops += 1;
        }
        assert_eq!(hops, 4);
        assert!(now >= due && now.millis() - due.millis() < 1000);
        assert_eq!(Ladder::parse("0, 0.5,1,1.5,2").unwrap(), Ladder::millis(&[0, 500, 1000, 1500, 2000]));
        assert_eq!(Ladder::parse("0,-1"), None);
    }

    #[test]
    fn endpoints_validate_and_subscribe() {
        let now = Timestamp::now();
        let e = Endpoint::create(
            json!({"url": "https://hooks.example.com/x", "events": ["order.created"]}),
            Mode::Live,
            now,
        )
        .unwrap();
        assert!(e.secret.starts_with("whsec_") && e.enabled);
        assert!(e.subscribes(EventType::OrderCreated));
        assert!(!e.subscribes(EventType::ProductCreated));
        let all = Endpoint::create(json!({"url": "http://127.0.0.1:9/x"}), Mode::Test, now).unwrap();
        assert_eq!(all.events, ["*"]);
        assert!(all.subscribes(EventType::SubscriptionRenewed));
        let bad = Endpoint::create(
            json!({"url": "http://hooks.example.com", "events": ["order.made", "*", "*"]}),
            Mode::Live,
            now,
        )
        .unwrap_err();
        let fields: Vec<_> = bad.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["url", "events[0]", "events[2]"]);
        let off = all.apply_update(json!({"enabled": false, "description": "CRM"}), Mode::Test, now).unwrap();
        assert!(!off.subscribes(EventType::OrderCreated));
        assert_eq!(off.description.as_deref(), Some("CRM"));
        assert_ne!(all.rotated(now).secret, all.secret);
    }

    fn attempt(n: u32, ok: bool) -> AttemptRecord {
        AttemptRecord {
            number: n,
            at: Timestamp::from_millis(0),
            status_code: Some(if ok { 200 } else { 500 }),
            duration_ms: 1,
            error_kind: (!ok).then(|| "http_status".to_string()),
            error: None,
            response_body: String::new(),
            manual: false,
        }
    }

    #[test]
    fn five_failures_fail_a_delivery_and_a_manual_retry_does_not_restart_the_ladder() {
        let ladder = Ladder::default();
        let ev = Event::new(EventType::OrderCreated, &json!({})).unwrap();
        let mut d = WebhookDelivery::new(&ev, &crate::id::EndpointId::new(), Timestamp::from_millis(0));
        let mut now = Timestamp::from_millis(0);
        for n in 1..=5 {
            assert!(d.awaits_attempt(n) && !d.awaits_attempt(n + 1), "attempt {n} is the one due");
            let claimed = d.claimed(now, false);
            assert!(!claimed.awaits_attempt(n), "a duplicate message finds it claimed");
            d = claimed.after_attempt(attempt(n, false), &ladder, now);
            if n < 5 {
                assert_eq!(d.status, WebhookDeliveryStatus::Scheduled);
                now = d.next_attempt_at.unwrap();
            }
        }
        assert_eq!(
            now.millis(),
            (60 + 300 + 1800 + 7200) * 1000,
            "each wait counted from the previous failure"
        );
        assert_eq!((d.status, d.attempts.len()), (WebhookDeliveryStatus::Failed, 5));
        assert!(d.retryable_by_hand());
        let by_hand = d.claimed(now, false).after_manual_attempt(attempt(6, true), now);
        assert_eq!(
            (by_hand.status, by_hand.attempts.len(), by_hand.next_attempt_at),
            (WebhookDeliveryStatus::Delivered, 6, None)
        );
        let ok_second = WebhookDelivery::new(&ev, &crate::id::EndpointId::new(), now)
            .claimed(now, false)
            .after_attempt(attempt(1, false), &ladder, now);
        let delivered = ok_second.claimed(now, false).after_attempt(attempt(2, true), &ladder, now);
        assert_eq!(delivered.status, WebhookDeliveryStatus::Delivered);
    }

    #[test]
    fn a_delivery_id_is_the_same_for_the_same_event_and_endpoint() {
        let ev = Event::new(EventType::OrderCreated, &json!({})).unwrap();
        let now = Timestamp::now();
        let (we_1, we_2) = (crate::id::EndpointId::new(), crate::id::EndpointId::new());
        let a = WebhookDelivery::new(&ev, &we_1, now);
        assert_eq!(a.id, WebhookDelivery::new(&ev, &we_1, now).id);
        assert_ne!(a.id, WebhookDelivery::new(&ev, &we_2, now).id);
        assert!(id::WebhookDeliveryId::parse(&a.id).is_some());
        assert_eq!(serde_json::from_str::<Value>(&a.payload).unwrap()["type"], "order.created");
    }
}
