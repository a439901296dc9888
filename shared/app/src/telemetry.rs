//! Logging, the same in every function and tool.

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Logs to stderr (as JSON lines for CloudWatch when `json`), levels from `RUST_LOG`: a level
/// (`debug`) and levels per module (`info,aws_smithy_runtime=debug`); default `info`. Span and
/// field filters are not taken (the filter that reads them links a regular-expression engine
/// into every function).
pub fn init_tracing(json: bool) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    let fmt = tracing_subscriber::fmt::layer().with_target(false).with_writer(std::io::stderr);
    let registry = tracing_subscriber::registry().with(filter);
    let _ = if json {
        registry.with(fmt.json().without_time()).try_init()
    } else {
        registry.with(fmt).try_init()
    };
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::filter::Targets;

    #[test]
    fn rust_log_takes_a_level_and_levels_per_module() {
        let t: Targets = "warn,sellvy_store=debug".parse().unwrap();
        assert!(t.would_enable("sellvy_store::db", &tracing::Level::DEBUG));
        assert!(!t.would_enable("aws_config", &tracing::Level::INFO));
        assert!(t.would_enable("aws_config", &tracing::Level::WARN));
    }
}
