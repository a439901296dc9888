//! HTTP plumbing every function shares: the seed's envelope and errors, API-key auth with
//! permissions and live/test tenants, request bodies and queries, request ids, per-request
//! DynamoDB cost accounting, and the glue that runs a router on Lambda or on a local port.

pub mod auth;
pub mod body;
pub mod docs;
pub mod envelope;
pub mod error;
mod idempotency;
pub mod lambda;
mod middleware;
mod ratelimit;
pub mod retry;
pub mod state;
pub mod storefront;

pub use auth::Auth;
pub use body::{JsonBody, Params};
pub use envelope::{created, list, no_content, ok};
pub use error::ApiError;
pub use retry::{Attempt, FirstRead, until_committed};
pub use state::{AppState, Clock, Config, StripeSettings};
pub use storefront::Shopper;

use axum::Router;

/// A function's routes with their OpenAPI operations: served and documented together.
pub type Routes = utoipa_axum::router::OpenApiRouter<AppState>;

/// A function's routes made into a complete app: the shared error fallbacks, request ids,
/// cost accounting, panic safety and body limit. Lambda and the local gateway both serve this.
pub fn app(routes: Router<AppState>, state: AppState) -> Router {
    middleware::wrap(routes, state)
}

/// The store a valid key belongs to (it cannot be missing: that would be ours to fix).
pub async fn tenant_store(
    state: &AppState,
    t: &sellvy_models::Tenant,
) -> Result<sellvy_models::apikey::Store, ApiError> {
    state
        .db
        .get_store(&t.store_id)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("store {} of a valid key is missing", t.store_id)))
}

/// The object `id` names in the caller's store, or 404 `not_found` naming `what`. An id of the
/// wrong shape (`prefix` + 26 characters) never reaches the store.
pub async fn lookup<T, Fut>(
    prefix: &str,
    id: &str,
    what: &str,
    get: impl FnOnce() -> Fut,
) -> Result<T, ApiError>
where
    Fut: Future<Output = Result<Option<T>, sellvy_store::StoreError>>,
{
    if !sellvy_models::id::looks_like(prefix, id) {
        return Err(ApiError::not_found(what));
    }
    get().await?.ok_or_else(|| ApiError::not_found(what))
}
