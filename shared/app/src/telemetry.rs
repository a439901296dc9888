//! Logging, the same in every function and tool.

/// Logs to stderr (as JSON lines for CloudWatch when `json`), level from `RUST_LOG`
/// (default `info`).
pub fn init_tracing(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder =
        tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_writer(std::io::stderr);
    let _ = if json { builder.json().without_time().try_init() } else { builder.try_init() };
}
