//! Webhook endpoints and deliveries.

use crate::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum WebhookDeliveryStatus {
    /// Waiting for its next attempt (the first one included).
    Scheduled,
    /// An attempt is in flight.
    Sending,
    Delivered,
    /// Every automatic attempt failed (or the endpoint was deleted or disabled); retry by hand.
    Failed,
}

impl WebhookDeliveryStatus {
    /// Failed first: what a seller looks for in the log.
    pub const ALL: [WebhookDeliveryStatus; 4] = [
        WebhookDeliveryStatus::Failed,
        WebhookDeliveryStatus::Scheduled,
        WebhookDeliveryStatus::Sending,
        WebhookDeliveryStatus::Delivered,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookDeliveryStatus::Scheduled => "scheduled",
            WebhookDeliveryStatus::Sending => "sending",
            WebhookDeliveryStatus::Delivered => "delivered",
            WebhookDeliveryStatus::Failed => "failed",
        }
    }
}

/// One attempt at a delivery, as the log shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AttemptRecord {
    /// 1 to 5 for the automatic ladder; manual retries continue the count.
    pub number: u32,
    pub at: Timestamp,
    pub status_code: Option<u16>,
    pub duration_ms: u64,
    /// `timeout`, `connection`, `http_status`, `refused` (SSRF guard), `body`, `interrupted`.
    pub error_kind: Option<String>,
    pub error: Option<String>,
    /// The first KiB of the receiver's answer.
    pub response_body: String,
    /// Made by hand (`POST /webhook_deliveries/{id}/retry` or `retry_failed`).
    pub manual: bool,
}

/// A webhook endpoint. `secret` only in the answers that create or rotate it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EndpointObject {
    pub id: String,
    pub url: String,
    /// Event types it receives; `["*"]` for all.
    pub events: Vec<String>,
    pub description: Option<String>,
    pub enabled: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// `whsec_…`: verify `X-Sellvy-Signature` (or, with a Standard Webhooks library,
    /// `webhook-signature`) with it. Shown only when created or rotated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// After a rotation: until then, `webhook-signature` also carries a signature made with the
    /// previous secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret_expires_at: Option<Timestamp>,
}

envelopes!(EndpointData, EndpointList, EndpointObject);

/// `POST /webhook_endpoints`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointInput {
    /// https (live mode); public addresses only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(required = true, nullable = false, min_length = 1, max_length = 2048)]
    pub url: Option<String>,
    /// Event types, or `["*"]` (the default) for all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 17)]
    pub events: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// Default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// `PATCH /webhook_endpoints/{id}`: only the fields sent change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 2048)]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 17)]
    pub events: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 500)]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// `POST /webhook_endpoints/{id}/retry_failed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryFailedInput {
    /// Failed deliveries created at or after this time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(required = true, nullable = false)]
    pub since: Option<Timestamp>,
}

/// What `retry_failed` queued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RetryFailedObject {
    /// Failed deliveries queued for one more attempt each, now.
    pub queued: u64,
}

/// `{"data": RetryFailedObject}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RetryFailedData {
    pub data: RetryFailedObject,
}

/// One event's delivery to one endpoint, with every attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeliveryObject {
    /// `whd_…`, also sent as `X-Sellvy-Delivery`.
    pub id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: crate::EventType,
    pub status: crate::WebhookDeliveryStatus,
    pub attempt_count: u32,
    /// When the next automatic attempt is due, while `scheduled`.
    pub next_attempt_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub attempts: Vec<crate::AttemptRecord>,
    /// The body every attempt sends: `{id, type, created_at, data}` (absent in lists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
}

envelopes!(DeliveryData, DeliveryList, DeliveryObject);

/// Query of `GET /webhook_deliveries`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryListParams {
    #[param(minimum = 1)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
    /// `we_…`
    pub endpoint_id: Option<String>,
    /// An event type (`order.created`, …).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub event_type: Option<String>,
    /// scheduled, sending, delivered, failed
    pub status: Option<crate::WebhookDeliveryStatus>,
}
