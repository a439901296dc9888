//! What every flow shares: clients built once per process (at Lambda cold start) and the
//! settings read once from the environment.

use sellvy_payments::stripe::StripeSettings;
use sellvy_store::{BucketHints, Db};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// What one client address may send to one store's storefront, unless configured otherwise
/// ([`Config::storefront_client_limit`]).
pub const STOREFRONT_CLIENT_LIMIT: sellvy_models::RateLimit =
    sellvy_models::RateLimit { per_minute: 120, burst: 30 };

/// The process's clients and settings, shared by every route and request: axum clones the
/// state into every route when a router is built and again for every request, so a clone is
/// one reference count (the [`Services`] behind it are built once per process).
#[derive(Clone, Debug)]
pub struct AppState(Arc<Services>);

/// What an [`AppState`] gives every flow: the store, the settings, the limiter's and the keys'
/// per-process memory, and webhook delivery.
#[derive(Clone, Debug)]
pub struct Services {
    pub db: Db,
    pub config: Config,
    /// The rate limiter's per-process memory of its buckets (a hint, never the truth).
    pub buckets: BucketHints,
    /// The secret keys this process read, trusted only under the key version they were read
    /// under (see `sellvy_store::KeyCache`).
    pub keys: sellvy_store::KeyCache,
    /// Webhook fan-out and delivery; its `outbound` makes every call to sellers' servers
    /// (dynamic delivery too), behind the SSRF guard.
    pub webhooks: sellvy_webhooks::Webhooks,
}

/// The deployment's settings, read once per process.
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
    /// Live-mode card payments (the deployment's Stripe account); `None` refuses them.
    pub stripe: Option<StripeSettings>,
    /// Which addresses outbound calls may reach (`SELLVY_ALLOW_LOOPBACK=1` adds loopback, for
    /// local development and tests only).
    pub reach: sellvy_webhooks::Reach,
    /// How long after a payment the sweeper waits before it fetches dynamic goods the paying
    /// request did not (its process died) (`SELLVY_GOODS_GRACE_SECS`; default 60).
    pub goods_grace_secs: i64,
    /// Where the tests that kill a process make it die (`SELLVY_FAILPOINT`, honoured by the
    /// local gateway only).
    pub failpoint: Option<Failpoint>,
}

/// A place where a test makes the process die, to show that nothing is lost when one does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failpoint {
    /// After a request's transaction commits, before its events are fanned out.
    CrashBeforeFanOut,
    /// After a payment is recorded, before the order's dynamic goods are fetched.
    CrashAfterPayment,
}

impl Failpoint {
    pub fn parse(name: &str) -> Option<Failpoint> {
        match name {
            "crash_before_fan_out" => Some(Failpoint::CrashBeforeFanOut),
            "crash_after_payment" => Some(Failpoint::CrashAfterPayment),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Failpoint::CrashBeforeFanOut => "crash_before_fan_out",
            Failpoint::CrashAfterPayment => "crash_after_payment",
        }
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            cost_headers: false,
            clock: Clock::system(),
            storefront_client_limit: STOREFRONT_CLIENT_LIMIT,
            stripe: None,
            reach: sellvy_webhooks::Reach::PublicOnly,
            goods_grace_secs: 60,
            failpoint: None,
        }
    }
}

impl Config {
    /// Dies here if the test asked for it.
    pub(crate) fn failpoint(&self, here: Failpoint) {
        if self.failpoint == Some(here) {
            tracing::error!("SELLVY_FAILPOINT={}: the process stops here", here.name());
            std::process::abort();
        }
    }

    pub fn from_env() -> Config {
        let limit = std::env::var("SELLVY_STOREFRONT_CLIENT_LIMIT").ok().and_then(|v| {
            let (per_minute, burst) = v.split_once('/')?;
            sellvy_models::RateLimit::custom(per_minute.trim().parse().ok()?, burst.trim().parse().ok()?)
        });
        Config {
            cost_headers: std::env::var("SELLVY_COST_HEADERS").is_ok_and(|v| v == "1" || v == "true"),
            clock: Clock::system(),
            storefront_client_limit: limit.unwrap_or(STOREFRONT_CLIENT_LIMIT),
            stripe: StripeSettings::from_env(),
            reach: sellvy_webhooks::Reach::from_env(),
            goods_grace_secs: std::env::var("SELLVY_GOODS_GRACE_SECS")
                .ok()
                .and_then(|v| v.parse().ok())
                .map_or(60, |v: i64| v.max(0)),
            failpoint: None,
        }
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.0
    }
}

impl AppState {
    pub fn new(db: Db, config: Config) -> AppState {
        let webhooks =
            sellvy_webhooks::Webhooks::new(db.clone(), sellvy_webhooks::Outbound::new(config.reach));
        AppState(Arc::new(Services {
            db,
            config,
            buckets: BucketHints::default(),
            keys: Default::default(),
            webhooks,
        }))
    }

    /// The services, to finish setting them up before the state is handed to a router (a
    /// state already shared is copied first, so no router sees a change).
    pub fn configure(&mut self) -> &mut Services {
        Arc::make_mut(&mut self.0)
    }

    /// Clients and settings from the environment (the delivery queue and ladder included).
    pub async fn from_env() -> AppState {
        // One AWS configuration for both clients (loaded once per cold start).
        let aws = sellvy_store::aws::load().await;
        let mut state = AppState::new(Db::from_config(&aws), Config::from_env());
        state.configure().webhooks =
            sellvy_webhooks::Webhooks::from_env(state.db.clone(), state.webhooks.outbound.clone(), &aws)
                .await;
        state
    }

    /// The deployment's Stripe account, or why live payments cannot be taken.
    pub(crate) fn stripe(&self) -> Option<&StripeSettings> {
        self.config.stripe.as_ref()
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

    /// Now, to the millisecond.
    pub fn now(&self) -> sellvy_models::time::Timestamp {
        sellvy_models::time::Timestamp::from_millis(self.now_micros() / 1000)
    }

    /// Microseconds since the Unix epoch.
    pub fn now_micros(&self) -> i64 {
        match &self.0 {
            Some(t) => t.load(Ordering::SeqCst),
            None => sellvy_models::time::Timestamp::now().millis() * 1000,
        }
    }
}
