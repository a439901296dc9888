//! Secret-key authentication: `Authorization: Bearer sk_live_…|sk_test_…`.
//!
//! The key's hash is looked up (one GetItem); its store and mode become the request's tenant.
//! The permission a route needs is the one its OpenAPI operation declares ([`crate::access`]).
//! A valid key refused for its kind (publishable) or its permission spends nothing of the
//! store's quota: the caller's address pays instead, from the per-client storefront bucket.

use crate::access::{Access, AccessTable};
use crate::error::ApiError;
use axum::extract::{FromRequestParts, MatchedPath};
use axum::http::{Method, header, request::Parts};
use sellvy_app::AppState;
use sellvy_models::apikey::{ApiKey, KeyKind, KeySecret};
use sellvy_models::time::Timestamp;
use sellvy_models::{Permission, Tenant};
use sellvy_store::Taken;
use std::sync::Arc;

/// `last_used_at` is refreshed at most this often per key, so a busy key does not pay a write
/// on every request.
const TOUCH_INTERVAL_SECS: i64 = 60;

/// The authenticated caller of a secret-key route.
#[derive(Debug, Clone)]
pub struct Auth {
    pub key: ApiKey,
    pub tenant: Tenant,
}

/// What the matched route takes, from the router's access table (a full-access secret key
/// when the route is unknown).
pub(crate) fn route_access(parts: &Parts) -> Access {
    match (parts.extensions.get::<Arc<AccessTable>>(), parts.extensions.get::<MatchedPath>()) {
        (Some(table), Some(path)) => table.of(&parts.method, path.as_str()),
        _ => Access::Secret(Permission::Full),
    }
}

/// The kind of key a route takes, as its error messages name it.
#[derive(Clone, Copy)]
pub(crate) struct Expected {
    /// "API key", "key".
    pub noun: &'static str,
    /// What goes after `Bearer` in the messages: "API key", "publishable key".
    pub placeholder: &'static str,
    /// "sk_live_… or sk_test_…".
    pub forms: &'static str,
}

pub(crate) const SECRET: Expected =
    Expected { noun: "API key", placeholder: "API key", forms: "sk_live_… or sk_test_…" };
pub(crate) const PUBLISHABLE: Expected =
    Expected { noun: "key", placeholder: "publishable key", forms: "pk_live_… or pk_test_…" };

/// The bearer token of the request: 401 when it is missing or not a Sellvy key.
pub(crate) fn bearer(parts: &Parts, expected: Expected) -> Result<KeySecret, ApiError> {
    let Expected { noun, placeholder, forms } = expected;
    let invalid = || ApiError::Unauthorized(format!("Invalid {noun}"));
    let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::Unauthorized(format!("Missing {noun}: send Authorization: Bearer {forms}"))
    })?;
    let value = value.to_str().map_err(|_| invalid())?;
    let token = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")).ok_or_else(|| {
        ApiError::Unauthorized(format!("The Authorization header must be: Bearer <{placeholder}>"))
    })?;
    KeySecret::parse(token.trim()).ok_or_else(invalid)
}

/// The key a secret names, if it exists (not revoked) in the mode its prefix says.
pub(crate) async fn find_key(
    state: &AppState,
    secret: &KeySecret,
    expected: Expected,
) -> Result<ApiKey, ApiError> {
    state
        .db
        .find_key(&secret.hash())
        .await?
        .filter(|k| k.mode == secret.mode())
        .ok_or_else(|| ApiError::Unauthorized(format!("Invalid {}", expected.noun)))
}

/// A valid key refused for what it is: `refusal`, unless the caller's address is over its
/// per-client limit (then 429). The store's own quota is not touched.
pub(crate) async fn refuse(state: &AppState, parts: &Parts, t: &Tenant, refusal: ApiError) -> ApiError {
    refuse_client(state, &crate::storefront::client_address(parts), t, refusal).await
}

async fn refuse_client(state: &AppState, client: &str, t: &Tenant, refusal: ApiError) -> ApiError {
    let now = state.config.clock.now_micros();
    let limit = state.config.storefront_client_limit;
    match state.db.take_client_request(t, client, limit, now, &state.buckets).await {
        Ok(d) if !d.allowed => ApiError::RateLimited { retry_after: d.retry_after_secs },
        Ok(_) => refusal,
        Err(e) => {
            tracing::warn!(error = %e, "per-client limiter unavailable");
            refusal
        }
    }
}

/// The caller a key is, for a route that needs `needed`: a publishable key, or a key without
/// that permission, is refused (spending the caller's address's allowance, not the store's).
async fn admitted(state: &AppState, client: &str, key: ApiKey, needed: Permission) -> Result<Auth, ApiError> {
    let auth = Auth { tenant: key.tenant(), key };
    if auth.key.kind == KeyKind::Publishable {
        let refusal = ApiError::Forbidden(
            "Publishable keys reach only the storefront routes (/v1/storefront/…); use a secret key".into(),
        );
        return Err(refuse_client(state, client, &auth.tenant, refusal).await);
    }
    if !auth.key.permissions.allows(needed) {
        let refusal = ApiError::Forbidden(format!(
            "This API key has {} permission; this request needs {}",
            auth.key.permissions.as_str(),
            needed.as_str()
        ));
        return Err(refuse_client(state, client, &auth.tenant, refusal).await);
    }
    Ok(auth)
}

/// A remembered key the limiter's write did not vouch for (the tenant's keys changed since it
/// was read, or the limiter could not say): forgotten, read again and admitted again, and when
/// its plan changed, the request is decided again under the new limit (once, after the change).
async fn read_again(
    state: &AppState,
    secret: &KeySecret,
    client: &str,
    needed: Permission,
    stale: &Auth,
    taken: Option<Taken>,
) -> Result<(Auth, Option<Taken>), ApiError> {
    state.keys.forget(&secret.hash());
    let key = find_key(state, secret, SECRET).await?;
    let auth = admitted(state, client, key, needed).await?;
    let taken = match taken {
        Some(_) if auth.key.rate_limit != stale.key.rate_limit => crate::ratelimit::take(state, &auth).await,
        taken => taken,
    };
    Ok((auth, taken))
}

/// What every admitted request ends with: the key remembered under the version the limiter's
/// write returned, the limiter's decision applied (429 when refused), and the key's
/// `last_used_at` refreshed when it is old.
async fn settle(state: &AppState, mut auth: Auth, taken: Option<Taken>) -> Result<Auth, ApiError> {
    if let Some(taken) = taken {
        state.keys.put(&auth.key, taken.key_version);
        crate::ratelimit::apply(taken.decision)?;
    }
    let now = Timestamp::now();
    if auth.key.last_used_at.is_none_or(|t| now.seconds() - t.seconds() >= TOUCH_INTERVAL_SECS) {
        match state.db.touch_key(&auth.key.hash, now).await {
            Ok(()) => {
                auth.key.last_used_at = Some(now);
                if let Some(taken) = taken {
                    state.keys.put(&auth.key, taken.key_version);
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not record the key's last use"),
        }
    }
    Ok(auth)
}

/// A read served while the limiter's write for it is on its way (see [`Auth`]'s extractor):
/// what is needed to vouch for it afterwards.
pub(crate) struct Unconfirmed {
    pub(crate) check: crate::ratelimit::Check,
    pub(crate) auth: Auth,
    pub(crate) version: Option<i64>,
    pub(crate) secret: KeySecret,
    pub(crate) client: String,
    pub(crate) needed: Permission,
}

/// Vouches for a read served on a remembered key, before its answer leaves: the limiter's
/// write returned the version the key was read under (else the key is read again and must
/// still be admitted), and the limiter admitted the request (else 429).
pub(crate) async fn confirm(state: &AppState, u: Unconfirmed) -> Result<(), ApiError> {
    let taken = u.check.await_taken().await;
    let (auth, taken) = match taken {
        Some(taken) if taken.key_version == u.version => (u.auth, Some(taken)),
        taken => Box::pin(read_again(state, &u.secret, &u.client, u.needed, &u.auth, taken)).await?,
    };
    settle(state, auth, taken).await.map(drop)
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    /// The key is read once per process: later requests take it from memory while the
    /// limiter's write (made for every request anyway) returns the key version it was read
    /// under. A revocation, or a change of what keys carry, moves the version on, and the next
    /// request anywhere reads the key again; when the limiter cannot answer, the key is read
    /// again too. A key that memory would refuse is read again before it is refused.
    ///
    /// A read (GET, HEAD) on a remembered key, when this process expects the limiter to admit
    /// it, does not wait for the limiter's write: the handler runs while the write is on its
    /// way, and the answer is held until [`confirm`] has vouched for it (a revoked key gets its
    /// 401 and a refused request its 429, never the data). Reads change nothing, so the only
    /// cost of a refusal is the read itself. Writes always wait.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // Authenticated already in this request (by the idempotency layer): same answer, no
        // second lookup and no second token taken.
        if let Some(auth) = parts.extensions.get::<Auth>() {
            return Ok(auth.clone());
        }
        let needed = match route_access(parts) {
            Access::Secret(p) => p,
            Access::Public | Access::Publishable => Permission::Full,
        };
        let secret = bearer(parts, SECRET)?;
        let client = crate::storefront::client_address(parts);
        let remembered = state.keys.get(&secret.hash()).filter(|(k, _)| {
            k.mode == secret.mode() && k.kind != KeyKind::Publishable && k.permissions.allows(needed)
        });
        let (auth, taken) = match remembered {
            Some((key, version)) => {
                let auth = Auth { tenant: key.tenant(), key };
                let now = state.config.clock.now_micros();
                if matches!(parts.method, Method::GET | Method::HEAD)
                    && state.db.likely_admits(&auth.tenant, auth.key.rate_limit, now, &state.buckets)
                    && crate::ratelimit::can_hold()
                {
                    let check = crate::ratelimit::take_meanwhile(state, &auth);
                    // The limiter's write goes out first (it runs until it waits for its
                    // answer), then the handler's read: the write, the slower of the two, is
                    // not started late by the read's signing and sending.
                    tokio::task::yield_now().await;
                    let unconfirmed =
                        Unconfirmed { check, auth: auth.clone(), version, secret, client, needed };
                    // Held by the request's scope, which confirms it before answering (outside
                    // one, it is confirmed here).
                    if let Err(unconfirmed) = crate::ratelimit::hold(unconfirmed) {
                        Box::pin(confirm(state, unconfirmed)).await?;
                    }
                    parts.extensions.insert(auth.clone());
                    return Ok(auth);
                }
                match crate::ratelimit::take(state, &auth).await {
                    Some(taken) if taken.key_version == version => (auth, Some(taken)),
                    taken => Box::pin(read_again(state, &secret, &client, needed, &auth, taken)).await?,
                }
            }
            None => {
                let key = find_key(state, &secret, SECRET).await?;
                let auth = admitted(state, &client, key, needed).await?;
                let taken = crate::ratelimit::take(state, &auth).await;
                (auth, taken)
            }
        };
        let auth = Box::pin(settle(state, auth, taken)).await?;
        parts.extensions.insert(auth.clone());
        Ok(auth)
    }
}
