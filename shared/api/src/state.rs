use sellvy_store::{BucketHints, Db};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// What handlers share: clients built once per process (at Lambda cold start) and settings.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub config: Config,
    /// The rate limiter's per-process memory of its buckets (a hint, never the truth).
    pub buckets: BucketHints,
}

#[derive(Clone, Debug)]
pub struct Config {
    /// Adds an `X-Sellvy-Cost` header (DynamoDB calls, items read, capacity) to every
    /// response. For local measurement; off in deployed functions.
    pub cost_headers: bool,
    /// The time the rate limiter and idempotency keys go by.
    pub clock: Clock,
    /// What one client address may send to one store's storefront
    /// (`SELLVY_STOREFRONT_CLIENT_LIMIT=per_minute/burst`; default 120/30).
    pub storefront_client_limit: sellvy_models::RateLimit,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            cost_headers: false,
            clock: Clock::system(),
            storefront_client_limit: crate::storefront::CLIENT_LIMIT,
        }
    }
}

impl Config {
    pub fn from_env() -> Config {
        let limit = std::env::var("SELLVY_STOREFRONT_CLIENT_LIMIT").ok().and_then(|v| {
            let (per_minute, burst) = v.split_once('/')?;
            sellvy_models::RateLimit::custom(per_minute.trim().parse().ok()?, burst.trim().parse().ok()?)
        });
        Config {
            cost_headers: std::env::var("SELLVY_COST_HEADERS").is_ok_and(|v| v == "1" || v == "true"),
            clock: Clock::system(),
            storefront_client_limit: limit.unwrap_or(crate::storefront::CLIENT_LIMIT),
        }
    }
}

impl AppState {
    pub fn new(db: Db, config: Config) -> AppState {
        AppState { db, config, buckets: BucketHints::default() }
    }

    pub async fn from_env() -> AppState {
        AppState::new(Db::from_env().await, Config::from_env())
    }
}

/// The system clock, or a manual one that only moves when told (tests of time-based rules
/// such as "exactly `burst` requests pass at once").
#[derive(Clone, Debug, Default)]
pub struct Clock(Option<Arc<AtomicI64>>);

impl Clock {
    pub fn system() -> Clock {
        Clock(None)
    }

    /// A clock stopped at `micros` since the epoch.
    pub fn manual(micros: i64) -> Clock {
        Clock(Some(Arc::new(AtomicI64::new(micros))))
    }

    /// Moves a manual clock forward (no effect on the system clock).
    pub fn advance(&self, micros: i64) {
        if let Some(t) = &self.0 {
            t.fetch_add(micros, Ordering::SeqCst);
        }
    }

    /// Microseconds since the Unix epoch.
    pub fn now_micros(&self) -> i64 {
        match &self.0 {
            Some(t) => t.load(Ordering::SeqCst),
            None => sellvy_models::time::Timestamp::now().millis() * 1000,
        }
    }
}
