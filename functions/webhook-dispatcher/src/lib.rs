//! The webhook dispatcher: driven by the SQS event source, with partial batch responses. The
//! messages of a batch are handled concurrently; one that fails (DynamoDB or SQS trouble, or a
//! panic in its task) is reported in `batchItemFailures`, so SQS delivers it again and the
//! others are not repeated. A receiver's failure is not a message failure: it is recorded and
//! the ladder goes on.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use sellvy_webhooks::{DispatchError, Handled, Webhooks};
use std::collections::HashMap;

/// Handles one batch; returns the messages SQS must deliver again.
pub async fn handle_batch(webhooks: &Webhooks, event: SqsEvent) -> SqsBatchResponse {
    let webhooks = webhooks.clone();
    handle_batch_with(event, move |body| {
        let webhooks = webhooks.clone();
        async move { webhooks.handle_body(&body).await }
    })
    .await
}

/// The same, with the handling of one message body given (tests give one that panics).
pub async fn handle_batch_with<F, Fut>(event: SqsEvent, handle: F) -> SqsBatchResponse
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<Handled, DispatchError>> + Send + 'static,
{
    let mut work = tokio::task::JoinSet::new();
    // Which message each task handles, so a task that panics is still reported by its id.
    let mut messages = HashMap::new();
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let task = work.spawn(handle(record.body.unwrap_or_default()));
        messages.insert(task.id(), id);
    }
    let mut response = SqsBatchResponse::default();
    while let Some(done) = work.join_next_with_id().await {
        let (task, failed) = match done {
            Ok((task, Ok(handled))) => {
                tracing::info!(message = %messages[&task], ?handled, "delivery message");
                (task, false)
            }
            Ok((task, Err(e))) => {
                tracing::warn!(message = %messages[&task], error = %e, "delivery message failed; SQS will deliver it again");
                (task, true)
            }
            Err(e) => {
                tracing::error!(message = %messages[&e.id()], error = %e, "a delivery task panicked; SQS will deliver it again");
                (e.id(), true)
            }
        };
        if failed {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = messages[&task].clone();
            response.batch_item_failures.push(failure);
        }
    }
    response
}
