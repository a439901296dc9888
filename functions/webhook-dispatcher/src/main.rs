//! Runs under the SQS event source (template.yaml: ReportBatchItemFailures).
use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    sellvy_app::telemetry::init_tracing(true);
    let state = sellvy_app::AppState::from_env().await;
    let webhooks = state.webhooks.clone();
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let webhooks = webhooks.clone();
        async move {
            Ok::<_, lambda_runtime::Error>(
                sellvy_webhook_dispatcher::handle_batch(&webhooks, event.payload).await,
            )
        }
    }))
    .await
}
