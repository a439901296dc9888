//! The local gateway: `sellvy-gateway [--port 3000]`.

use clap::Parser;

#[derive(Parser)]
#[command(about = "Serve every Sellvy function's routes under /v1 on 127.0.0.1")]
struct Args {
    /// Port to listen on (0 picks a free one).
    #[arg(long, env = "SELLVY_PORT", default_value_t = 3000)]
    port: u16,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    sellvy_app::telemetry::init_tracing(false);
    let args = Args::parse();
    let mut state = sellvy_app::AppState::from_env().await;
    state.configure().config.failpoint =
        std::env::var("SELLVY_FAILPOINT").ok().and_then(|f| sellvy_app::Failpoint::parse(&f));
    // As the SQS event source does on AWS: the dispatcher consumes the delivery queue.
    let pollers = std::env::var("SELLVY_DISPATCH_POLLERS").ok().and_then(|s| s.parse().ok()).unwrap_or(4);
    tokio::spawn(state.webhooks.clone().consume(pollers));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
    let addr = listener.local_addr()?;
    tracing::info!("Sellvy gateway listening on http://{addr}/v1 (table {})", state.db.table());
    println!("listening on http://{addr}");
    // As the scheduled Lambda does on AWS: expire unpaid orders past their pay_by.
    let every = std::env::var("SELLVY_SWEEP_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(30u64);
    let sweeper = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(every.max(1)));
        loop {
            tick.tick().await;
            if let Err(e) = sellvy_sweeper::sweep(&sweeper, sellvy_models::time::Timestamp::now()).await {
                tracing::warn!(error = ?e, "sweep failed");
            }
        }
    });
    sellvy_ops::serve(listener, state).await
}
