use sellvy_store::Db;

/// What handlers share: clients built once per process (at Lambda cold start) and settings.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub config: Config,
}

#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Adds an `X-Sellvy-Cost` header (DynamoDB calls, items read, capacity) to every
    /// response. For local measurement; off in deployed functions.
    pub cost_headers: bool,
}

impl Config {
    pub fn from_env() -> Config {
        Config {
            cost_headers: std::env::var("SELLVY_COST_HEADERS")
                .is_ok_and(|v| v == "1" || v == "true"),
        }
    }
}

impl AppState {
    pub async fn from_env() -> AppState {
        AppState {
            db: Db::from_env().await,
            config: Config::from_env(),
        }
    }
}
