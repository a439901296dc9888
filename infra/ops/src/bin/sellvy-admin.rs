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
        /// The owner who signs in to the dashboard: gets a one-time link to set a password.
        #[arg(long)]
        owner_email: Option<String>,
        /// Where the dashboard is served (for the owner's link).
        #[arg(long, env = "SELLVY_DASHBOARD_URL", default_value = "http://localhost:3000")]
        dashboard_url: String,
        /// Print the store and its keys as one JSON object (for scripts).
        #[arg(long)]
        json: bool,
    },
    /// Another one-time link for an owner to set their password (expires in 24 hours).
    SetupLink {
        #[arg(long)]
        email: String,
        #[arg(long, env = "SELLVY_DASHBOARD_URL", default_value = "http://localhost:3000")]
        dashboard_url: String,
    },
    /// Make someone an owner of a store (a new account, or the store added to theirs).
    AddOwner {
        #[arg(long)]
        store: String,
        #[arg(long)]
        email: String,
        #[arg(long, env = "SELLVY_DASHBOARD_URL", default_value = "http://localhost:3000")]
        dashboard_url: String,
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
        Command::CreateStore { name, limits, currency, owner_email, dashboard_url, json } => {
            let spec =
                sellvy_ops::NewStore { name, plan: limits.plan, currency, custom_limit: limits.custom()? };
            let mut created = sellvy_ops::create_store(&db, &spec).await?;
            if let Some(email) = owner_email {
                let store = created["store_id"].as_str().unwrap_or_default().to_string();
                created["owner"] = sellvy_ops::add_owner(&db, &store, &email, &dashboard_url).await?;
            }
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
                if let Some(link) = created["owner"]["setup_link"].as_str() {
                    println!("Owner {}: set a password within 24 hours (once) at", created["owner"]["email"]);
                    println!("  {link}");
                }
            }
        }
        Command::SetupLink { email, dashboard_url } => {
            let link = sellvy_ops::issue_setup_link(&db, &email, &dashboard_url).await?;
            println!("{}", link["setup_link"].as_str().unwrap_or_default());
        }
        Command::AddOwner { store, email, dashboard_url } => {
            let link = sellvy_ops::add_owner(&db, &store, &email, &dashboard_url).await?;
            println!("{}", link["setup_link"].as_str().unwrap_or_default());
        }
        Command::SetPlan { store, limits } => {
            let done = sellvy_ops::set_plan(&db, &store, limits.plan, limits.custom()?).await?;
            println!("{done}");
        }
    }
    Ok(())
}
