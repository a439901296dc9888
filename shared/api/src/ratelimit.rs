//! Per-store rate limits, enforced right after authentication, and the `X-RateLimit-*`
//! headers every authenticated response carries.

use crate::auth::Auth;
use crate::error::ApiError;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use sellvy_app::AppState;
use sellvy_models::Decision;
use std::cell::Cell;

pub const LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
pub const REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
pub const RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

tokio::task_local! {
    static DECISION: Cell<Option<Decision>>;
}

/// Runs a request, returning what the limiter decided for it (if it got that far).
pub(crate) async fn scope<F: Future>(fut: F) -> (F::Output, Option<Decision>) {
    DECISION
        .scope(Cell::new(None), async move {
            let out = fut.await;
            (out, DECISION.with(Cell::get))
        })
        .await
}

/// Takes one request from the caller's store (and mode) bucket, with the tenant's key version:
/// `None` when the limiter is unavailable. Its table's trouble must not take the API down with
/// it: the request goes through (and the logs say so), but no key is trusted from memory.
pub(crate) async fn take(state: &AppState, auth: &Auth) -> Option<sellvy_store::Taken> {
    let now = state.config.clock.now_micros();
    match state.db.take_request(&auth.tenant, auth.key.rate_limit, now, &state.buckets).await {
        Ok(taken) => Some(taken),
        Err(e) => {
            tracing::warn!(error = %e, "rate limiter unavailable; request let through");
            None
        }
    }
}

/// Records a decision for the response headers; a refusal is a 429.
pub(crate) fn apply(decision: Decision) -> Result<(), ApiError> {
    let _ = DECISION.try_with(|d| d.set(Some(decision)));
    if decision.allowed {
        Ok(())
    } else {
        Err(ApiError::RateLimited { retry_after: decision.retry_after_secs })
    }
}

pub(crate) fn add_headers(headers: &mut HeaderMap, d: Decision) {
    headers.insert(LIMIT, HeaderValue::from(d.limit));
    headers.insert(REMAINING, HeaderValue::from(d.remaining));
    headers.insert(RESET, HeaderValue::from(d.reset_secs));
}
