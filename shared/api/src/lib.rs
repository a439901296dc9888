//! HTTP plumbing every function shares: the seed's envelope and errors (the one mapping from
//! the application's errors), API-key auth with permissions and live/test tenants, request
//! bodies and queries, request ids, per-request DynamoDB cost accounting, and the glue that
//! runs a router on Lambda or on a local port. What requests do is the application layer's
//! (`sellvy-app`).

pub mod access;
pub mod auth;
pub mod body;
pub mod docs;
pub mod envelope;
pub mod error;
mod idempotency;
pub mod lambda;
mod middleware;
mod ratelimit;
pub mod routes;
pub mod storefront;

pub use auth::Auth;
pub use body::{JsonBody, Params};
pub use envelope::{created, list, no_content, ok};
pub use error::ApiError;
pub use storefront::Shopper;

use axum::Router;
use sellvy_app::AppState;

/// A function's routes with their OpenAPI operations: served and documented together.
pub type Routes = utoipa_axum::router::OpenApiRouter<AppState>;

/// A function's routes made into a complete app: who may call each route (from its documented
/// operation), the shared error fallbacks, request ids, cost accounting, storefront CORS,
/// panic safety and body limit. Lambda and the local gateway both serve this.
pub fn app(routes: Routes, state: AppState) -> Router {
    let (router, doc) = routes.split_for_parts();
    let access = std::sync::Arc::new(access::AccessTable::from_doc(&doc));
    middleware::wrap(router, access, state)
}
