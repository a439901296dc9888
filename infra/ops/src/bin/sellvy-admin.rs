//! Operator commands: `sellvy-admin create-store --name "My Store" --plan pro [--json]`.

use clap::{Parser, Subcommand};
use sellvy_models::apikey::Plan;

#[derive(Parser)]
#[command(
    about = "Sellvy operator commands (uses the standard AWS configuration and SELLVY_TABLE_NAME)"
)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a store and a full-access secret key for each mode (live and test).
    CreateStore {
        #[arg(long)]
        name: String,
        /// free, pro, business or enterprise
        #[arg(long, default_value = "free", value_parser = parse_plan)]
        plan: Plan,
        /// Print the store and its keys as one JSON object (for scripts).
        #[arg(long)]
        json: bool,
    },
}

fn parse_plan(s: &str) -> Result<Plan, String> {
    Plan::parse(s).ok_or_else(|| "must be free, pro, business or enterprise".to_string())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let db = sellvy_store::Db::from_env().await;
    match args.command {
        Command::CreateStore { name, plan, json } => {
            let created = sellvy_ops::create_store(&db, &name, plan).await?;
            if json {
                println!("{created}");
            } else {
                println!(
                    "Store {} ({}) created on the {} plan.",
                    created["name"], created["store_id"], created["plan"]
                );
                println!("Keys (shown once; keep them safe):");
                for mode in ["live", "test"] {
                    println!(
                        "  {mode}: {}",
                        created["keys"][mode]["key"].as_str().unwrap_or_default()
                    );
                }
            }
        }
    }
    Ok(())
}
