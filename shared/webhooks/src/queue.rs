//! The delivery queue (SQS). A message names one attempt of one delivery and when it is due;
//! SQS delays a message at most 900 seconds, so a longer wait hops: the dispatcher sends the
//! message again with `min(remaining, 900)` until it is due.

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use sellvy_models::Tenant;
use sellvy_models::id::{StoreId, WebhookDeliveryId};
use sellvy_models::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, LazyLock};

/// SQS refuses delays above this.
pub const SQS_MAX_DELAY_SECS: u32 = 900;

/// One attempt to make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptMessage {
    pub delivery_id: WebhookDeliveryId,
    pub store_id: StoreId,
    pub mode: sellvy_models::Mode,
    /// The automatic attempt (1-based); 0 for a retry by hand.
    pub attempt: u32,
    /// Not before this time (ms since the epoch).
    pub due_at: i64,
    /// A retry by hand: the number of attempts the delivery had when it was queued, so a
    /// duplicate of the message finds one more and does nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_attempts: Option<u32>,
}

impl AttemptMessage {
    pub fn new(
        t: &Tenant,
        delivery_id: &WebhookDeliveryId,
        attempt: u32,
        due_at: Timestamp,
    ) -> AttemptMessage {
        AttemptMessage {
            delivery_id: delivery_id.clone(),
            store_id: t.store_id.clone(),
            mode: t.mode,
            attempt,
            due_at: due_at.millis(),
            after_attempts: None,
        }
    }

    /// A retry by hand of a delivery that has had `attempts` attempts.
    pub fn by_hand(
        t: &Tenant,
        delivery_id: &WebhookDeliveryId,
        attempts: u32,
        now: Timestamp,
    ) -> AttemptMessage {
        AttemptMessage { after_attempts: Some(attempts), ..AttemptMessage::new(t, delivery_id, 0, now) }
    }

    pub fn tenant(&self) -> Tenant {
        Tenant { store_id: self.store_id.clone(), mode: self.mode }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("queue: {0}")]
pub struct QueueError(pub String);

/// Builds the SQS client the first time the queue is used: reads never use it, and building
/// a client parses the SDK's endpoint tables during the cold start.
type MakeClient = Box<dyn FnOnce() -> Client + Send>;

/// The delivery queue: a client and its URL.
#[derive(Clone)]
pub struct Queue {
    client: Arc<LazyLock<Client, MakeClient>>,
    url: String,
    /// The longest delay one hop may ask for (900 on SQS; tests lower it to exercise hops).
    pub max_delay_secs: u32,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue").field("url", &self.url).field("max_delay_secs", &self.max_delay_secs).finish()
    }
}

impl Queue {
    pub fn new(client: Client, url: impl Into<String>, max_delay_secs: u32) -> Queue {
        Queue::with(Box::new(move || client), url, max_delay_secs)
    }

    fn with(make: MakeClient, url: impl Into<String>, max_delay_secs: u32) -> Queue {
        Queue {
            client: Arc::new(LazyLock::new(make)),
            url: url.into(),
            max_delay_secs: max_delay_secs.min(SQS_MAX_DELAY_SECS),
        }
    }

    /// From `SELLVY_DELIVERY_QUEUE_URL` (deployed) or `SELLVY_DELIVERY_QUEUE_NAME` (local),
    /// with `SELLVY_QUEUE_MAX_DELAY` (default 900). `None` when neither is set.
    pub async fn from_env(config: &aws_config::SdkConfig) -> Option<Queue> {
        let max = std::env::var("SELLVY_QUEUE_MAX_DELAY")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(SQS_MAX_DELAY_SECS);
        if let Ok(url) = std::env::var("SELLVY_DELIVERY_QUEUE_URL") {
            let config = config.clone();
            return Some(Queue::with(Box::new(move || Client::new(&config)), url, max));
        }
        let name = std::env::var("SELLVY_DELIVERY_QUEUE_NAME").ok()?;
        let client = Client::new(config);
        match client.get_queue_url().queue_name(&name).send().await {
            Ok(out) => out.queue_url().map(|url| Queue::new(client, url, max)),
            Err(e) => {
                tracing::error!(queue = %name, error = ?e, "the delivery queue is unreachable; events wait in the outbox");
                None
            }
        }
    }

    /// Creates (or finds) a queue by name with the environment's AWS configuration: local
    /// development and tests, one queue per test app.
    pub async fn create(name: &str, max_delay_secs: u32) -> Result<Queue, QueueError> {
        let config = sellvy_store::aws::load().await;
        let client = Client::new(&config);
        let out =
            client.create_queue().queue_name(name).send().await.map_err(|e| QueueError(format!("{e:?}")))?;
        let url = out.queue_url().ok_or_else(|| QueueError("no queue url".into()))?.to_string();
        Ok(Queue::new(client, url, max_delay_secs))
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends messages (10 per SendMessageBatch call), each delayed until due or by at most
    /// `max_delay_secs` (never negative: SQS's own limits are enforced here, as moto does not).
    pub async fn send(&self, messages: &[AttemptMessage], now: Timestamp) -> Result<(), QueueError> {
        for chunk in messages.chunks(10) {
            let entries: Vec<SendMessageBatchRequestEntry> = chunk
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    let delay = match sellvy_models::webhook::hop(
                        Timestamp::from_millis(m.due_at),
                        now,
                        self.max_delay_secs,
                    ) {
                        sellvy_models::webhook::Hop::Now => 0,
                        sellvy_models::webhook::Hop::Wait { delay_secs } => {
                            delay_secs.min(SQS_MAX_DELAY_SECS)
                        }
                    };
                    SendMessageBatchRequestEntry::builder()
                        .id(format!("m{i}"))
                        .message_body(serde_json::to_string(m).unwrap_or_default())
                        .delay_seconds(delay as i32)
                        .build()
                        .map_err(|e| QueueError(e.to_string()))
                })
                .collect::<Result<_, _>>()?;
            let out = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| QueueError(format!("{e:?}")))?;
            if let Some(f) = out.failed().first() {
                return Err(QueueError(format!(
                    "{} of {} messages refused: {}",
                    out.failed().len(),
                    chunk.len(),
                    f.message().unwrap_or("-")
                )));
            }
        }
        Ok(())
    }

    /// Receives up to 10 messages, waiting up to `wait_secs` for one (the local consumer).
    pub async fn receive(&self, wait_secs: i32) -> Result<Vec<(String, String)>, QueueError> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(10)
            .wait_time_seconds(wait_secs)
            .send()
            .await
            .map_err(|e| QueueError(format!("{e:?}")))?;
        Ok(out
            .messages()
            .iter()
            .filter_map(|m| Some((m.receipt_handle()?.to_string(), m.body()?.to_string())))
            .collect())
    }

    pub async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| QueueError(format!("{e:?}")))
    }
}
