//! Running a function's router on AWS Lambda.

use sellvy_app::AppState;

/// The whole `main` of a function: clients built once, then every invocation served by the
/// same router the local gateway mounts. The router is built to serve only (no schemas
/// collected: see [`crate::routes`]).
pub async fn run(routes: fn() -> crate::Routes) -> Result<(), lambda_http::Error> {
    sellvy_app::telemetry::init_tracing(true);
    crate::routes::serving_only();
    let state = AppState::from_env().await;
    lambda_http::run(crate::app(routes(), state)).await
}
