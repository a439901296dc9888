//! The application layer: what Sellvy does, with no HTTP in it.
//!
//! It owns the state every flow needs ([`AppState`]: clients built once, settings read once),
//! retries on conflict ([`until_committed`]), the after-commit fan-out of events
//! ([`committing`], the same for requests and the sweeper), and one module per flow that moves
//! money or goods:
//!
//! - [`checkout`]: a buyer's order, its stock and coupon use taken in one transaction;
//! - [`payment`]: a payment recorded (the sandbox and Stripe's callbacks both end here), the
//!   goods handed out in the same transaction; declined attempts and disputes;
//! - [`refund`]: money back, through Stripe in live mode;
//! - [`cancel`]: an unpaid order ends (the seller cancels, it expires, its payment fails) and
//!   gives its stock and coupon use back;
//! - [`delivery`]: dynamic goods fetched from the seller's server, and redelivery.
//!
//! [`catalog`] and [`listing`] hold the seller's product writes and the filtered lists.
//! Errors are [`AppError`]: what went wrong, never how to say it over HTTP.

pub mod cancel;
pub mod catalog;
pub mod checkout;
pub mod deliveries;
pub mod delivery;
pub mod endpoints;
mod error;
mod fanout;
pub mod listing;
pub mod payment;
pub mod refund;
mod retry;
pub mod reviews;
mod state;
pub mod stats;
pub mod subscriptions;
pub mod telemetry;

pub use error::AppError;
pub use fanout::committing;
pub use retry::{FirstRead, Retry, until_committed};
pub use sellvy_payments::stripe::StripeSettings;
pub use state::{AppState, Clock, Config, Failpoint, STOREFRONT_CLIENT_LIMIT, Services};

use sellvy_models::Tenant;
use sellvy_models::apikey::Store;
use sellvy_models::id::TypedId;

/// The store a valid key belongs to (it cannot be missing: that would be ours to fix).
pub async fn tenant_store(state: &AppState, t: &Tenant) -> Result<Store, AppError> {
    state
        .db
        .get_store(&t.store_id)
        .await?
        .ok_or_else(|| AppError::Internal(format!("store {} of a valid key is missing", t.store_id)))
}

/// The object `id` names in the caller's store, or "<noun> not found". An id of the wrong
/// shape for its type (`get` says which: `async |id: &OrderId| …`) never reaches the store.
pub async fn lookup<I: TypedId, T>(
    id: &str,
    get: impl AsyncFnOnce(&I) -> Result<Option<T>, sellvy_store::StoreError>,
) -> Result<T, AppError> {
    let Some(id) = I::parse(id) else { return Err(AppError::not_found(I::NOUN)) };
    get(&id).await?.ok_or_else(|| AppError::not_found(I::NOUN))
}
