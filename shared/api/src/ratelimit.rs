//! Per-store rate limits, enforced right after authentication, and the `X-RateLimit-*`
//! headers every authenticated response carries.

use crate::auth::{Auth, Unconfirmed};
use crate::error::ApiError;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use sellvy_app::AppState;
use sellvy_models::Decision;
use std::cell::{Cell, RefCell};

pub const LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
pub const REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
pub const RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

tokio::task_local! {
    static DECISION: Cell<Option<Decision>>;
    static UNCONFIRMED: RefCell<Option<Unconfirmed>>;
}

/// Runs a request, returning what the limiter decided for it (if it got that far). A read
/// served before its limiter's write came back ([`crate::auth::confirm`]) answers only once
/// that write has vouched for it; otherwise its answer is replaced by the refusal.
pub(crate) async fn scope<F: Future<Output = Response>>(
    state: &AppState,
    fut: F,
) -> (Response, Option<Decision>) {
    let run = async move {
        let mut out = fut.await;
        if let Some(unconfirmed) = UNCONFIRMED.with(|u| u.borrow_mut().take())
            && let Err(refusal) = Box::pin(crate::auth::confirm(state, unconfirmed)).await
        {
            out = refusal.into_response();
        }
        (out, DECISION.with(Cell::get))
    };
    DECISION.scope(Cell::new(None), UNCONFIRMED.scope(RefCell::new(None), run)).await
}

/// The limiter's write for a request, on its way: what it took (`None`: the limiter could not
/// say), its DynamoDB work counted in the request's.
pub(crate) struct Check(tokio::task::JoinHandle<(Option<sellvy_store::Taken>, sellvy_store::Cost)>);

impl Check {
    pub(crate) async fn await_taken(self) -> Option<sellvy_store::Taken> {
        match self.0.await {
            Ok((taken, cost)) => {
                sellvy_store::add_cost(cost);
                taken
            }
            Err(e) => {
                tracing::warn!(error = %e, "the rate limiter's write did not finish");
                None
            }
        }
    }
}

/// Starts the limiter's write for a request without waiting for it.
pub(crate) fn take_meanwhile(state: &AppState, auth: &Auth) -> Check {
    let (state, auth) = (state.clone(), auth.clone());
    Check(tokio::spawn(async move { sellvy_store::measure(take(&state, &auth)).await }))
}

/// Whether this request runs in a [`scope`] that can hold an unconfirmed read.
pub(crate) fn can_hold() -> bool {
    UNCONFIRMED.try_with(|_| ()).is_ok()
}

/// Gives an unconfirmed read to the request's scope (handed back when there is none).
pub(crate) fn hold(unconfirmed: Unconfirmed) -> Result<(), Unconfirmed> {
    let mut unconfirmed = Some(unconfirmed);
    let _ = UNCONFIRMED.try_with(|u| *u.borrow_mut() = unconfirmed.take());
    unconfirmed.map_or(Ok(()), Err)
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
