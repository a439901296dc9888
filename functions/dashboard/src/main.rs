#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    sellvy_app::telemetry::init_tracing(true);
    let state = sellvy_app::AppState::from_env().await;
    lambda_http::run(sellvy_dashboard::app(state)).await
}
