//! Runs every minute (an EventBridge schedule in template.yaml).
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    sellvy_app::telemetry::init_tracing(true);
    let state = sellvy_app::AppState::from_env().await;
    lambda_runtime::run(service_fn(|_: LambdaEvent<serde_json::Value>| {
        let state = state.clone();
        async move {
            match sellvy_sweeper::sweep(&state, sellvy_models::time::Timestamp::now()).await {
                Ok(n) => Ok(serde_json::json!({"expired": n})),
                Err(e) => Err(lambda_runtime::Error::from(format!("sweep failed: {e:?}"))),
            }
        }
    }))
    .await
}
