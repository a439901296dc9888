//! Fan-out, the dispatcher and the forwarder.
//!
//! - **Fan-out**: each committed event becomes one delivery per subscribed, enabled endpoint
//!   of its tenant (same store, same mode); the deliveries are written (ids derived from event
//!   and endpoint, so a repeat finds them), their first attempts queued, and only then does the
//!   event leave the outbox. A crash anywhere in between leaves the event in the outbox.
//! - **The dispatcher** handles one queue message: a wait not yet over hops through the queue;
//!   otherwise the attempt is claimed with a conditional write (a duplicate message finds it
//!   claimed and does nothing), made, and recorded, and the next attempt of the ladder queued.
//! - **The forwarder** (scheduled) fans out what the outbox still holds, re-queues attempts whose
//!   message was lost, and closes attempts interrupted by a crash.

use crate::outbound::{Outbound, SignedPost};
use crate::queue::{AttemptMessage, Queue, QueueError};
use sellvy_models::time::Timestamp;
use sellvy_models::webhook::{
    AttemptRecord, Hop, KEPT_RESPONSE_BYTES, Ladder, WebhookDelivery, WebhookDeliveryStatus, hop,
};
use sellvy_models::{Event, Tenant};
use sellvy_store::{Db, StoreError};
use std::collections::HashMap;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("no delivery queue is configured")]
    NoQueue,
}

/// A retry by hand waits at most this for the receiver (the request waits for it).
pub const MANUAL_TIMEOUT: Duration = Duration::from_secs(20);

/// What handling one message did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// Not due yet: sent back to the queue for `delay_secs`.
    Hopped { delay_secs: u32 },
    /// A duplicate or stale message: nothing done.
    Skipped,
    /// An attempt was made; the delivery is now in this state.
    Attempted(WebhookDeliveryStatus),
}

/// What one run of the forwarder did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Forwarded {
    /// Outbox events fanned out.
    pub events: usize,
    /// Deliveries re-queued or closed after a crash.
    pub repaired: usize,
    /// Items that can never be handled, taken out of the forwarder's way.
    pub set_aside: usize,
    /// Items that met passing trouble; the next run takes them again.
    pub skipped: usize,
}

/// The kinds of item the forwarder watches.
#[derive(Debug, Clone, Copy)]
enum Watched {
    Event,
    WebhookDelivery,
}

impl Watched {
    fn as_str(self) -> &'static str {
        match self {
            Watched::Event => "event",
            Watched::WebhookDelivery => "webhook_delivery",
        }
    }
}

/// Everything delivery needs, built once per process.
#[derive(Clone, Debug)]
pub struct Webhooks {
    pub db: Db,
    pub queue: Option<Queue>,
    pub outbound: Outbound,
    pub ladder: Ladder,
    /// A receiver's time to answer (30 s).
    pub timeout: Duration,
    /// How long past a due time the forwarder waits before it steps in (a queued message is
    /// presumed lost), and how old an outbox event must be before the forwarder takes it (the
    /// request that wrote it fans it out itself).
    pub grace: Duration,
}

impl Webhooks {
    pub fn new(db: Db, outbound: Outbound) -> Webhooks {
        Webhooks {
            db,
            queue: None,
            outbound,
            ladder: Ladder::default(),
            timeout: Duration::from_secs(30),
            grace: Duration::from_secs(120),
        }
    }

    /// `SELLVY_WEBHOOK_LADDER` (seconds, e.g. `0,60,300,1800,7200`), `SELLVY_WEBHOOK_GRACE_SECS`,
    /// and the queue from the environment.
    pub async fn from_env(db: Db, outbound: Outbound, config: &aws_config::SdkConfig) -> Webhooks {
        let mut w = Webhooks::new(db, outbound);
        if let Some(l) = std::env::var("SELLVY_WEBHOOK_LADDER").ok().and_then(|v| Ladder::parse(&v)) {
            w.ladder = l;
        }
        if let Some(g) = std::env::var("SELLVY_WEBHOOK_GRACE_SECS").ok().and_then(|v| v.parse::<f64>().ok()) {
            w.grace = Duration::from_secs_f64(g.max(0.0));
        }
        w.queue = Queue::from_env(config).await;
        w
    }

    fn queue(&self) -> Result<&Queue, DispatchError> {
        self.queue.as_ref().ok_or(DispatchError::NoQueue)
    }

    fn later(now: Timestamp, d: Duration) -> Timestamp {
        Timestamp::from_millis(now.millis() + d.as_millis() as i64)
    }

    /// Fans events out (see the module's doc); returns how many deliveries were queued.
    pub async fn fan_out(&self, events: &[(Tenant, Event)]) -> Result<usize, DispatchError> {
        if events.is_empty() {
            return Ok(0);
        }
        let queue = self.queue()?;
        let now = Timestamp::now();
        let mut endpoints = HashMap::new();
        let mut messages = Vec::new();
        for (t, event) in events {
            let key = (t.store_id.clone(), t.mode);
            if !endpoints.contains_key(&key) {
                endpoints.insert(key.clone(), self.db.endpoints(t).await?);
            }
            // The deliveries of one event are written concurrently.
            let mut writes = tokio::task::JoinSet::new();
            for e in endpoints[&key].iter().filter(|e| e.subscribes(event.event_type)) {
                let d = WebhookDelivery::new(event, &e.id, now);
                messages.push(AttemptMessage::new(t, &d.id, 1, now));
                let (db, t, watch) = (self.db.clone(), t.clone(), Self::later(now, self.grace));
                writes.spawn(sellvy_store::measure(async move { db.put_new_delivery(&t, &d, watch).await }));
            }
            while let Some(written) = writes.join_next().await {
                let (written, cost) =
                    written.map_err(|e| StoreError::Backend(format!("delivery write task: {e}")))?;
                sellvy_store::add_cost(cost);
                written?;
            }
        }
        queue.send(&messages, now).await?;
        let done: Vec<(Tenant, String)> = events.iter().map(|(t, e)| (t.clone(), e.id.to_string())).collect();
        self.db.mark_dispatched(&done).await?;
        Ok(messages.len())
    }

    /// Handles one queue message at `now`.
    pub async fn handle(&self, msg: &AttemptMessage, now: Timestamp) -> Result<Handled, DispatchError> {
        let queue = self.queue()?;
        if let Hop::Wait { delay_secs } = hop(Timestamp::from_millis(msg.due_at), now, queue.max_delay_secs) {
            queue.send(std::slice::from_ref(msg), now).await?;
            return Ok(Handled::Hopped { delay_secs });
        }
        let t = msg.tenant();
        let Some(d) = self.db.get_delivery(&t, &msg.delivery_id).await? else { return Ok(Handled::Skipped) };
        let manual = msg.attempt == 0;
        let due = match manual {
            true => d.retryable_by_hand() && msg.after_attempts == Some(d.attempts.len() as u32),
            false => d.awaits_attempt(msg.attempt),
        };
        if !due {
            return Ok(Handled::Skipped);
        }
        Ok(match self.attempt(&t, &d, manual).await? {
            Some(done) => Handled::Attempted(done.status),
            None => Handled::Skipped,
        })
    }

    /// Claims and makes one attempt of `d` (as read); `None` when another claim won.
    pub async fn attempt(
        &self,
        t: &Tenant,
        d: &WebhookDelivery,
        manual: bool,
    ) -> Result<Option<WebhookDelivery>, DispatchError> {
        let now = Timestamp::now();
        let claimed = d.claimed(now, manual);
        let interrupted_after = Self::later(now, self.timeout + self.grace);
        if !self.db.claim_delivery(t, d, &claimed, interrupted_after).await? {
            return Ok(None);
        }
        let endpoint = self.db.get_endpoint(t, &d.endpoint_id).await?;
        let number = d.attempt_number();
        let at = Timestamp::now();
        let record = match endpoint {
            None => failed_record(number, at, manual, "endpoint_deleted", "the endpoint was deleted"),
            Some(e) if !e.enabled => {
                failed_record(number, at, manual, "endpoint_disabled", "the endpoint is disabled")
            }
            Some(e) => {
                let sent = self
                    .outbound
                    .post(&SignedPost {
                        url: &e.url,
                        body: d.payload.as_bytes(),
                        secret: &e.secret,
                        previous_secret: e.previous_secret(at),
                        mode: t.mode,
                        event: d.event_type.as_str(),
                        delivery_id: &d.id,
                        // A retry by hand may be answered within API Gateway's 30 s.
                        timeout: if manual { self.timeout.min(MANUAL_TIMEOUT) } else { self.timeout },
                        keep: KEPT_RESPONSE_BYTES,
                    })
                    .await;
                AttemptRecord {
                    number,
                    at,
                    status_code: sent.status,
                    duration_ms: sent.duration.as_millis() as u64,
                    error_kind: sent.failure.as_ref().map(|f| f.kind().to_string()),
                    error: sent.failure.as_ref().map(|f| f.to_string()),
                    response_body: sent.body,
                    manual,
                }
            }
        };
        let now = Timestamp::now();
        let done = match manual {
            true => claimed.after_manual_attempt(record, now),
            false => claimed.after_attempt(record, &self.ladder, now),
        };
        self.settle(t, &claimed, &done).await?;
        Ok(Some(done))
    }

    /// Writes an attempt's outcome and queues the ladder's next attempt.
    async fn settle(
        &self,
        t: &Tenant,
        claimed: &WebhookDelivery,
        done: &WebhookDelivery,
    ) -> Result<(), DispatchError> {
        let next_due =
            (done.status == WebhookDeliveryStatus::Scheduled).then_some(done.next_attempt_at).flatten();
        let watch = next_due.map(|due| Self::later(due, self.grace));
        self.db.record_delivery(t, claimed, done, watch).await?;
        if let Some(due) = next_due {
            // If this send is lost, the forwarder re-queues the attempt after its watch time.
            let msg = AttemptMessage::new(t, &done.id, done.next_attempt, due);
            if let Err(e) = self.queue()?.send(&[msg], Timestamp::now()).await {
                tracing::warn!(delivery = %done.id, error = %e, "could not queue the next attempt; the forwarder will");
            }
        }
        Ok(())
    }

    /// A retry by hand, made now while the caller waits (it does not restart the ladder).
    /// `Ok(None)` when the delivery cannot be retried by hand now (the ladder still runs, or an
    /// attempt is in flight).
    pub async fn retry_now(
        &self,
        t: &Tenant,
        d: &WebhookDelivery,
    ) -> Result<Option<WebhookDelivery>, DispatchError> {
        if !d.retryable_by_hand() {
            return Ok(None);
        }
        self.attempt(t, d, true).await
    }

    /// Queues one attempt by hand for each delivery (they go out at once, concurrently).
    pub async fn queue_by_hand(
        &self,
        t: &Tenant,
        deliveries: &[(sellvy_models::id::WebhookDeliveryId, u32)],
    ) -> Result<usize, DispatchError> {
        let now = Timestamp::now();
        let messages: Vec<AttemptMessage> =
            deliveries.iter().map(|(id, attempts)| AttemptMessage::by_hand(t, id, *attempts, now)).collect();
        self.queue()?.send(&messages, now).await?;
        Ok(messages.len())
    }

    /// The forwarder's run at `now` (see the module's doc). One item's trouble never stops the
    /// run: an item that can never be handled (DynamoDB refuses its write, or it cannot be read
    /// back) is set aside, out of the forwarder's way, with a log line and the `ItemsSetAside`
    /// metric; one that meets passing trouble waits for the next run. Only failing to read the
    /// watch lists themselves ends the run early.
    pub async fn forward(&self, now: Timestamp) -> Result<Forwarded, DispatchError> {
        let settled = Timestamp::from_millis(now.millis() - self.grace.as_millis() as i64);
        let mut report = Forwarded::default();
        let mut events = Vec::new();
        for (t, id) in self.db.undispatched_events(settled, 500).await? {
            match self.db.get_event(&t, &id).await {
                Ok(Some(e)) => events.push((t, e)),
                Ok(None) => {
                    if let Err(e) = self.db.mark_dispatched(&[(t.clone(), id.clone())]).await {
                        self.trouble(Watched::Event, &t, &id, e.into(), &mut report).await;
                    }
                }
                Err(e) => self.trouble(Watched::Event, &t, &id, e.into(), &mut report).await,
            }
        }
        for chunk in events.chunks(100) {
            if self.fan_out(chunk).await.is_ok() {
                report.events += chunk.len();
                continue;
            }
            // Something in the chunk failed: one at a time, to find which.
            for one in chunk {
                match self.fan_out(std::slice::from_ref(one)).await {
                    Ok(_) => report.events += 1,
                    Err(e) => self.trouble(Watched::Event, &one.0, &one.1.id, e, &mut report).await,
                }
            }
        }
        for (t, id) in self.db.overdue_deliveries(now, 500).await? {
            match self.repair(&t, &id, now).await {
                Ok(fixed) => report.repaired += usize::from(fixed),
                Err(e) => self.trouble(Watched::WebhookDelivery, &t, &id, e, &mut report).await,
            }
        }
        Ok(report)
    }

    /// Re-queues an attempt whose message was lost, or closes one whose process died; whether
    /// there was anything to do.
    async fn repair(&self, t: &Tenant, id: &str, now: Timestamp) -> Result<bool, DispatchError> {
        let Some(d) = self.db.get_delivery(t, id).await? else { return Ok(false) };
        match d.status {
            // The queued message was lost: queue the attempt again, watch it again.
            WebhookDeliveryStatus::Scheduled => {
                let again = WebhookDelivery { version: d.version + 1, updated_at: now, ..d.clone() };
                let due = d.next_attempt_at.unwrap_or(now);
                self.db.record_delivery(t, &d, &again, Some(Self::later(now, self.grace))).await?;
                self.queue()?.send(&[AttemptMessage::new(t, &d.id, d.next_attempt, due)], now).await?;
                Ok(true)
            }
            // The process making the attempt died: the attempt counts as failed.
            WebhookDeliveryStatus::Sending => {
                let record = failed_record(
                    d.attempt_number(),
                    now,
                    false,
                    "interrupted",
                    "the attempt was interrupted before its outcome was recorded",
                );
                let done = match d.sending_manual {
                    true => d.after_manual_attempt(WebhookDelivery::as_manual(record), now),
                    false => d.after_attempt(record, &self.ladder, now),
                };
                self.settle(t, &d, &done).await?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// An item of the forwarder's failed: set aside if it can never succeed, else left for the
    /// next run.
    async fn trouble(&self, what: Watched, t: &Tenant, id: &str, e: DispatchError, report: &mut Forwarded) {
        let DispatchError::Store(StoreError::Unwritable(why)) = e else {
            tracing::warn!(kind = what.as_str(), item = id, error = %e, "the forwarder skipped an item; the next run retries");
            report.skipped += 1;
            return;
        };
        let aside = match what {
            Watched::Event => self.db.set_aside_event(t, id, Timestamp::now()).await,
            Watched::WebhookDelivery => self.db.set_aside_delivery(t, id, Timestamp::now()).await,
        };
        match aside {
            Ok(()) => {
                crate::metrics::item_set_aside(what.as_str(), t, id, &why);
                report.set_aside += 1;
            }
            Err(e) => {
                tracing::error!(kind = what.as_str(), item = id, error = %e, "could not set an item aside; the next run retries");
                report.skipped += 1;
            }
        }
    }

    /// Serves the queue as the Lambda event source would, until the process ends: `pollers`
    /// concurrent long polls; the messages of a batch are handled concurrently; a message is
    /// deleted once handled (a failure leaves it for the queue to deliver again).
    pub async fn consume(self, pollers: usize) {
        let Some(queue) = self.queue.clone() else { return };
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..pollers.max(1) {
            let (me, queue) = (self.clone(), queue.clone());
            tasks.spawn(async move {
                loop {
                    let batch = match queue.receive(1).await {
                        Ok(b) => b,
                        Err(e) => {
                            tracing::warn!(error = %e, "receive failed");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                            continue;
                        }
                    };
                    let mut work = tokio::task::JoinSet::new();
                    for (receipt, body) in batch {
                        let (me, queue) = (me.clone(), queue.clone());
                        work.spawn(async move {
                            match me.handle_body(&body).await {
                                Ok(_) => {
                                    let _ = queue.delete(&receipt).await;
                                }
                                Err(e) => tracing::warn!(error = %e, "message failed; the queue will deliver it again"),
                            }
                        });
                    }
                    while work.join_next().await.is_some() {}
                }
            });
        }
        while tasks.join_next().await.is_some() {}
    }

    /// Handles a raw message body; an unreadable one is dropped (logged), never retried.
    pub async fn handle_body(&self, body: &str) -> Result<Handled, DispatchError> {
        match serde_json::from_str::<AttemptMessage>(body) {
            Ok(m) => self.handle(&m, Timestamp::now()).await,
            Err(e) => {
                tracing::error!(error = %e, body, "unreadable delivery message dropped");
                Ok(Handled::Skipped)
            }
        }
    }
}

fn failed_record(number: u32, at: Timestamp, manual: bool, kind: &str, why: &str) -> AttemptRecord {
    AttemptRecord {
        number,
        at,
        status_code: None,
        duration_ms: 0,
        error_kind: Some(kind.to_string()),
        error: Some(why.to_string()),
        response_body: String::new(),
        manual,
    }
}
