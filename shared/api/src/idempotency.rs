//! `Idempotency-Key` on POST requests, with Stripe's semantics: the first response to a key
//! is kept 24 hours and replayed (with `Idempotent-Replayed: true`) for a retry with the same
//! key and the same request; the same key with a different request is a 422; a retry that
//! arrives while the first is still running waits for it and gets its response, so the work is
//! done once. Server errors (5xx) are not kept: the key can be retried.
//!
//! A key belongs to whoever sent it: the secret key (on the seller's routes) or the
//! publishable key and client address (on the storefront's). The sender is authenticated with
//! the route's own extractor, so a replay passes the same permission check as the request, and
//! the same key sent by anyone else is a 422, never the stored response.
//!
//! Nothing in a kept response rests in clear: the table holds a hash of the key and the
//! response sealed (AES-256-GCM) with a key derived from the sender's own credential, which
//! Sellvy never stores (only its SHA-256), and from the `Idempotency-Key`. Only a retry by the
//! same sender, with the same key, can open it; the table, its stream and its backups cannot.

use crate::access::Access;
use crate::auth::{Auth, bearer, route_access};
use crate::error::ApiError;
use crate::storefront::Shopper;
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use sellvy_app::AppState;
use sellvy_models::Tenant;
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

/// Who sent a keyed request, and the sealing key only they (with that key) can derive.
struct Sender {
    tenant: Tenant,
    /// The API key's id, or the publishable key's id and the client's address.
    owner: String,
    seal: LessSafeKey,
}

/// Authenticates the sender with the route's own extractor (so a refused caller is refused
/// before anything is replayed); `None` for a route that takes no key.
async fn sender(parts: &mut Parts, state: &AppState, key: &str) -> Result<Option<Sender>, Response> {
    let reject = IntoResponse::into_response;
    let (tenant, owner, mut credential) = match route_access(parts) {
        Access::Public => return Ok(None),
        Access::Publishable => {
            let shopper = Shopper::from_request_parts(parts, state).await.map_err(reject)?;
            let owner = format!("{}@{}", shopper.key.id, shopper.client);
            (shopper.tenant, owner.clone(), owner)
        }
        Access::Secret(_) => {
            let auth = Auth::from_request_parts(parts, state).await.map_err(reject)?;
            (auth.tenant, auth.key.id.to_string(), String::new())
        }
    };
    let secret = bearer(parts, crate::auth::SECRET).map_err(reject)?;
    credential.push_str(secret.expose());
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(credential.as_bytes())
        .map_err(|_| ApiError::Internal("sealing key".into()).into_response())?;
    mac.update(
        format!("sellvy-idempotency-v1\n{}\n{}\n{key}", tenant.store_id, tenant.mode.as_str()).as_bytes(),
    );
    let derived = mac.finalize().into_bytes();
    let unbound = UnboundKey::new(&AES_256_GCM, &derived)
        .map_err(|_| ApiError::Internal("sealing key".into()).into_response())?;
    Ok(Some(Sender { tenant, owner, seal: LessSafeKey::new(unbound) }))
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
    let Some(sender) = sender(&mut parts, &state, &key).await? else {
        return Ok(next.run(Request::from_parts(parts, body)).await);
    };
    let bytes = to_bytes(body, BODY_LIMIT).await.map_err(|_| ApiError::PayloadTooLarge.into_response())?;
    // The request the key stands for: method, path and exact body.
    let mut hasher = Sha256::new();
    hasher.update(parts.method.as_str().as_bytes());
    hasher.update(b" ");
    hasher.update(parts.uri.path().as_bytes());
    hasher.update(b"\n");
    hasher.update(&bytes);
    let fingerprint = hex::encode(hasher.finalize());
    // The table never holds the key itself.
    let reference = hex::encode(Sha256::digest(key.as_bytes()));
    let (t, owner) = (&sender.tenant, sender.owner.as_str());
    let now = || state.config.clock.now_micros() / 1_000_000;
    let internal = |e: sellvy_store::StoreError| ApiError::from(e).into_response();

    let deadline = tokio::time::Instant::now() + WAIT;
    let mut claim =
        state.db.claim_idempotent(t, &reference, owner, &fingerprint, now()).await.map_err(internal)?;
    loop {
        match claim {
            Claim::Fresh => break,
            Claim::Replay(stored) => return Ok(replay(stored, &sender.seal)),
            Claim::Mismatch => {
                return Err(invalid_key("was already used with a different request: use a new key"));
            }
            Claim::OtherOwner => {
                return Err(invalid_key("was already used by another API key or client: use a new key"));
            }
            Claim::InProgress if tokio::time::Instant::now() >= deadline => {
                return Err(ApiError::IdempotencyKeyInUse.into_response());
            }
            Claim::InProgress => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                claim = match state
                    .db
                    .peek_idempotent(t, &reference, owner, &fingerprint)
                    .await
                    .map_err(internal)?
                {
                    // Released (the first attempt failed on our side): claim it for this one.
                    Claim::Fresh => state
                        .db
                        .claim_idempotent(t, &reference, owner, &fingerprint, now())
                        .await
                        .map_err(internal)?,
                    other => other,
                };
            }
        }
    }

    let resp = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    if resp.status().is_server_error() {
        if let Err(e) = state.db.release_idempotent(t, &reference).await {
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
        body: seal(&sender.seal, &body),
    };
    if let Err(e) = state.db.finish_idempotent(t, &reference, &stored).await {
        // The work is done and its answer is right, but too large to keep (a product with
        // megabytes of serials): a retry must not do the work again, so it is told what
        // happened instead of being answered the same.
        tracing::warn!(error = %e, bytes = body.len(), "an idempotent answer too large to keep: its retries are told so");
        let told = ApiError::IdempotentAnswerNotKept { status: stored.status }.into_response();
        let (told_parts, told_body) = told.into_parts();
        let told_body = to_bytes(told_body, usize::MAX).await.unwrap_or_default();
        let note = StoredResponse {
            status: told_parts.status.as_u16(),
            content_type: Some("application/json".into()),
            body: seal(&sender.seal, &told_body),
        };
        if let Err(e) = state.db.finish_idempotent(t, &reference, &note).await {
            tracing::error!(error = %e, "could not store an idempotent response");
        }
    }
    Ok(Response::from_parts(resp_parts, Body::from(body)))
}

/// `base64(nonce ‖ ciphertext ‖ tag)`.
fn seal(key: &LessSafeKey, plain: &[u8]) -> String {
    let nonce = sellvy_models::id::random_bytes::<NONCE_LEN>();
    let mut sealed = plain.to_vec();
    match key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut sealed) {
        Ok(()) => BASE64.encode([nonce.as_slice(), &sealed].concat()),
        // Cannot happen for a body under the AEAD's limit; an empty record replays as a 500.
        Err(_) => String::new(),
    }
}

fn open(key: &LessSafeKey, sealed: &str) -> Option<Vec<u8>> {
    let raw = BASE64.decode(sealed).ok()?;
    if raw.len() < NONCE_LEN {
        return None;
    }
    let (nonce, rest) = raw.split_at(NONCE_LEN);
    let mut rest = rest.to_vec();
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let plain = key.open_in_place(nonce, Aad::empty(), &mut rest).ok()?;
    Some(plain.to_vec())
}

fn replay(stored: StoredResponse, key: &LessSafeKey) -> Response {
    let Some(body) = open(key, &stored.body) else {
        return ApiError::Internal("a kept idempotent response could not be opened".into()).into_response();
    };
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    if let Some(ct) = stored.content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
        resp.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    resp.headers_mut().insert(REPLAYED, HeaderValue::from_static("true"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> LessSafeKey {
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[byte; 32]).unwrap())
    }

    #[test]
    fn a_sealed_response_opens_only_with_its_key_and_shows_nothing_in_clear() {
        let body = br#"{"data":{"key":"sk_test_secretsecretsecret"}}"#;
        let sealed = seal(&key(1), body);
        assert!(!sealed.contains("sk_test"), "{sealed}");
        assert_eq!(open(&key(1), &sealed).as_deref(), Some(body.as_slice()));
        assert_eq!(open(&key(2), &sealed), None, "another sender's key opens nothing");
        assert_ne!(seal(&key(1), body), sealed, "a fresh nonce each time");
        assert_eq!(open(&key(1), "not base64!"), None);
    }
}
