//! The webhook delivery log's actions: a retry by hand of one delivery, and one more attempt
//! for every failed delivery of an endpoint since a time. The API's `/v1/webhook_deliveries`
//! and `retry_failed`, and the dashboard's Webhook Logs page, all run these.

use crate::{AppError, AppState, endpoints, lookup};
use sellvy_models::Tenant;
use sellvy_models::time::Timestamp;
use sellvy_models::webhook::{MAX_ATTEMPTS, WebhookDelivery};

fn dispatch_failed(e: sellvy_webhooks::DispatchError) -> AppError {
    AppError::Internal(e.to_string())
}

pub async fn find(state: &AppState, tenant: &Tenant, id: &str) -> Result<WebhookDelivery, AppError> {
    lookup(id, async |id: &sellvy_models::id::WebhookDeliveryId| state.db.get_delivery(tenant, id).await)
        .await
}

/// One attempt now, while the caller waits; the answer is the delivery with it. Only a failed
/// or delivered delivery, and at most [`MAX_ATTEMPTS`] per delivery.
pub async fn retry(state: &AppState, tenant: &Tenant, id: &str) -> Result<WebhookDelivery, AppError> {
    let d = find(state, tenant, id).await?;
    if d.attempts_exhausted() {
        return Err(AppError::invalid(
            "id",
            format!("this delivery has had {MAX_ATTEMPTS} attempts, the most one delivery keeps"),
        ));
    }
    match state.webhooks.retry_now(tenant, &d).await.map_err(dispatch_failed)? {
        Some(done) => Ok(done),
        None => Err(AppError::invalid(
            "id",
            "this delivery is still being retried automatically (or an attempt is in flight); retry it once it is failed",
        )),
    }
}

/// Queues one more attempt for each failed delivery to the endpoint created at or after
/// `since` (those that had [`MAX_ATTEMPTS`] are left out): how many were queued.
pub async fn retry_failed(
    state: &AppState,
    tenant: &Tenant,
    endpoint_id: &str,
    since: Timestamp,
) -> Result<usize, AppError> {
    let endpoint = endpoints::find(state, tenant, endpoint_id).await?;
    let failed = state.db.failed_deliveries(tenant, &endpoint.id, since).await?;
    let failed: Vec<_> = failed
        .iter()
        .filter(|d| !d.attempts_exhausted())
        .map(|d| (d.id.clone(), d.attempts.len() as u32))
        .collect();
    state.webhooks.queue_by_hand(tenant, &failed).await.map_err(dispatch_failed)
}
