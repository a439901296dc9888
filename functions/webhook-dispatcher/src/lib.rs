//! The webhook dispatcher: driven by the SQS event source, with partial batch responses. The
//! messages of a batch are handled concurrently; one that fails (DynamoDB or SQS trouble) is
//! reported in `batchItemFailures`, so SQS delivers it again and the others are not repeated.
//! A receiver's failure is not a message failure: it is recorded and the ladder goes on.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use sellvy_webhooks::Webhooks;

/// Handles one batch; returns the messages SQS must deliver again.
pub async fn handle_batch(webhooks: &Webhooks, event: SqsEvent) -> SqsBatchResponse {
    let mut work = tokio::task::JoinSet::new();
    for record in event.records {
        let webhooks = webhooks.clone();
        work.spawn(async move {
            let id = record.message_id.clone().unwrap_or_default();
            let body = record.body.unwrap_or_default();
            match webhooks.handle_body(&body).await {
                Ok(handled) => {
                    tracing::info!(message = %id, ?handled, "delivery message");
                    None
                }
                Err(e) => {
                    tracing::warn!(message = %id, error = %e, "delivery message failed; SQS will deliver it again");
                    Some(id)
                }
            }
        });
    }
    let mut response = SqsBatchResponse::default();
    while let Some(done) = work.join_next().await {
        if let Ok(Some(id)) = done {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}
