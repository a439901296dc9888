//! `Idempotency-Key` on POST requests, with Stripe's semantics: the first response to a key
//! is kept 24 hours and replayed (with `Idempotent-Replayed: true`) for a retry with the same
//! key and the same request; the same key with a different request is a 422; a retry that
//! arrives while the first is still running waits for it and gets its response, so the work is
//! done once. Server errors (5xx) are not kept: the key can be retried.

use crate::auth::Auth;
use crate::error::ApiError;
use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sellvy_app::AppState;
use sellvy_models::apikey::hex;
use sellvy_store::{Claim, StoredResponse};
use sha2::{Digest, Sha256};
use std::time::Duration;

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
const BODY_LIMIT: usize = 1024 * 1024;
/// How long a retry waits for the first request with its key to finish.
const WAIT: Duration = Duration::from_secs(10);

pub(crate) async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST || !req.headers().contains_key(&IDEMPOTENCY_KEY) {
        return next.run(req).await;
    }
    match handle(state, req, next).await {
        Ok(resp) | Err(resp) => resp,
    }
}

fn invalid_key(message: &str) -> Response {
    ApiError::invalid("Idempotency-Key", message).into_response()
}

async fn handle(state: AppState, req: Request, next: Next) -> Result<Response, Response> {
    let key = req.headers()[&IDEMPOTENCY_KEY]
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| (1..=255).contains(&k.len()))
        .ok_or_else(|| invalid_key("must be 1 to 255 visible ASCII characters"))?
        .to_string();
    let (mut parts, body) = req.into_parts();
    let auth = Auth::from_request_parts(&mut parts, &state).await.map_err(IntoResponse::into_response)?;
    let bytes = to_bytes(body, BODY_LIMIT).await.map_err(|_| ApiError::PayloadTooLarge.into_response())?;
    // The request the key stands for: method, path and exact body.
    let mut hasher = Sha256::new();
    hasher.update(parts.method.as_str().as_bytes());
    hasher.update(b" ");
    hasher.update(parts.uri.path().as_bytes());
    hasher.update(b"\n");
    hasher.update(&bytes);
    let fingerprint = hex(&hasher.finalize());
    let t = &auth.tenant;
    let now = || state.config.clock.now_micros() / 1_000_000;
    let internal = |e: sellvy_store::StoreError| ApiError::from(e).into_response();

    let deadline = tokio::time::Instant::now() + WAIT;
    let mut claim = state.db.claim_idempotent(t, &key, &fingerprint, now()).await.map_err(internal)?;
    loop {
        match claim {
            Claim::Fresh => break,
            Claim::Replay(stored) => return Ok(replay(stored)),
            Claim::Mismatch => {
                return Err(invalid_key("was already used with a different request: use a new key"));
            }
            Claim::InProgress if tokio::time::Instant::now() >= deadline => {
                return Err(ApiError::IdempotencyKeyInUse.into_response());
            }
            Claim::InProgress => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                claim = match state.db.peek_idempotent(t, &key, &fingerprint).await.map_err(internal)? {
                    // Released (the first attempt failed on our side): claim it for this one.
                    Claim::Fresh => {
                        state.db.claim_idempotent(t, &key, &fingerprint, now()).await.map_err(internal)?
                    }
                    other => other,
                };
            }
        }
    }

    let resp = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    if resp.status().is_server_error() {
        if let Err(e) = state.db.release_idempotent(t, &key).await {
            tracing::warn!(error = %e, "could not release an idempotency key");
        }
        return Ok(resp);
    }
    let (resp_parts, body) = resp.into_parts();
    let body = to_bytes(body, usize::MAX)
        .await
        .map_err(|_| ApiError::Internal("response body".into()).into_response())?;
    let stored = StoredResponse {
        status: resp_parts.status.as_u16(),
        content_type: resp_parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(String::from),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    if let Err(e) = state.db.finish_idempotent(t, &key, &stored).await {
        // The work is done and its answer is right: return it, but a retry will wait out the
        // lock and run again. Logged loudly.
        tracing::error!(error = %e, "could not store an idempotent response");
    }
    Ok(Response::from_parts(resp_parts, Body::from(body)))
}

fn replay(stored: StoredResponse) -> Response {
    let mut resp = Response::new(Body::from(stored.body));
    *resp.status_mut() = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    if let Some(ct) = stored.content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
        resp.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    resp.headers_mut().insert(REPLAYED, HeaderValue::from_static("true"));
    resp
}
