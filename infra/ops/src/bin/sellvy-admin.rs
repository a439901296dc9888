//! Operator commands:
//!   sellvy-admin create-store --name "My Store" --plan pro [--currency EUR] [--json]
//!   sellvy-admin create-store --name "Big" --plan enterprise --per-minute 5000 --burst 500
//!   sellvy-admin set-plan --store store_… --plan business

use clap::{Parser, Subcommand};
use sellvy_models::apikey::Plan;
use sellvy_models::{Currency, RateLimit};

#[derive(Parser)]
#[command(about = "Sellvy operator commands (uses the standard AWS configuration and SELLVY_TABLE_NAME)")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct Limits {
    /// free, pro, business or enterprise
    #[arg(long, default_value = "free", value_parser = parse_plan)]
    plan: Plan,
    /// Enterprise: requests per minute.
    #[arg(long, requires = "burst")]
    per_minute: Option<u32>,
    /// Enterprise: requests allowed at once.
    #[arg(long, requires = "per_minute")]
    burst: Option<u32>,
}

impl Limits {
    fn custom(&self) -> Result<Option<RateLimit>, String> {
        match (self.per_minute, self.burst) {
            (Some(p), Some(b)) => RateLimit::custom(p, b).map(Some).ok_or_else(|| {
                "--burst must be 1 to --per-minute, and --per-minute 1 to 1000000".to_string()
            }),
            _ => Ok(None),
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Create a store and a full-access secret key for each mode (live and test).
    CreateStore {
        #[arg(long)]
        name: String,
        #[command(flatten)]
        limits: Limits,
        /// The store's currency (ISO 4217).
        #[arg(long, default_value = "USD", value_parser = parse_currency)]
        currency: Currency,
        /// Print the store and its keys as one JSON object (for scripts).
        #[arg(long)]
        json: bool,
    },
    /// Move a store to another plan (its keys follow at once).
    SetPlan {
        #[arg(long)]
        store: String,
        #[command(flatten)]
        limits: Limits,
    },
}

fn parse_plan(s: &str) -> Result<Plan, String> {
    Plan::parse(s).ok_or_else(|| format!("must be one of {}", sellvy_models::wire::words::<Plan>()))
}

fn parse_currency(s: &str) -> Result<Currency, String> {
    Currency::parse(s).ok_or_else(|| "must be a supported ISO 4217 code (USD, EUR, GBP, …)".to_string())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let db = sellvy_store::Db::from_env().await;
    match args.command {
        Command::CreateStore { name, limits, currency, json } => {
            let spec =
                sellvy_ops::NewStore { name, plan: limits.plan, currency, custom_limit: limits.custom()? };
            let created = sellvy_ops::create_store(&db, &spec).await?;
            if json {
                println!("{created}");
            } else {
                println!(
                    "Store {} ({}) created on the {} plan ({} requests/min, burst {}).",
                    created["name"],
                    created["store_id"],
                    created["plan"],
                    created["rate_limit"]["per_minute"],
                    created["rate_limit"]["burst"]
                );
                println!("Keys (shown once; keep them safe):");
                for mode in ["live", "test"] {
                    println!("  {mode}: {}", created["keys"][mode]["key"].as_str().unwrap_or_default());
                }
            }
        }
        Command::SetPlan { store, limits } => {
            let done = sellvy_ops::set_plan(&db, &store, limits.plan, limits.custom()?).await?;
            println!("{done}");
        }
    }
    Ok(())
}
