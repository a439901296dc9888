//! API-key authentication: `Authorization: Bearer sk_live_…|sk_test_…`.
//!
//! The key's hash is looked up (one GetItem); its store and mode become the request's tenant.
//! `read` keys may only GET; routes that need more call [`Auth::require`].

use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::{Method, header, request::Parts};
use sellvy_app::AppState;
use sellvy_models::apikey::{ApiKey, KeyKind, KeySecret};
use sellvy_models::time::Timestamp;
use sellvy_models::{Permission, Tenant};

/// `last_used_at` is refreshed at most this often per key, so a busy key does not pay a write
/// on every request.
const TOUCH_INTERVAL_SECS: i64 = 60;

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Auth {
    pub key: ApiKey,
    pub tenant: Tenant,
}

impl Auth {
    /// Fails with 403 `forbidden` unless the key's permission includes `needed`.
    pub fn require(&self, needed: Permission) -> Result<(), ApiError> {
        if self.key.permissions.allows(needed) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "This API key has {} permission; this request needs {}",
                self.key.permissions.as_str(),
                needed.as_str()
            )))
        }
    }
}

fn bearer(parts: &Parts) -> Result<KeySecret, ApiError> {
    let missing = || {
        ApiError::Unauthorized("Missing API key: send Authorization: Bearer sk_live_… or sk_test_…".into())
    };
    let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(missing)?;
    let value = value.to_str().map_err(|_| ApiError::Unauthorized("Invalid API key".into()))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .ok_or_else(|| ApiError::Unauthorized("The Authorization header must be: Bearer <API key>".into()))?;
    KeySecret::parse(token.trim()).ok_or_else(|| ApiError::Unauthorized("Invalid API key".into()))
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // Authenticated already in this request (by the idempotency layer): same answer, no
        // second lookup and no second token taken.
        if let Some(auth) = parts.extensions.get::<Auth>() {
            return Ok(auth.clone());
        }
        let secret = bearer(parts)?;
        let hash = secret.hash();
        let key = state
            .db
            .find_key(&hash)
            .await?
            .filter(|k| k.mode == secret.mode())
            .ok_or_else(|| ApiError::Unauthorized("Invalid API key".into()))?;
        let now = Timestamp::now();
        if key.last_used_at.is_none_or(|t| now.seconds() - t.seconds() >= TOUCH_INTERVAL_SECS)
            && let Err(e) = state.db.touch_key(&hash, now).await
        {
            tracing::warn!(error = %e, "could not record the key's last use");
        }
        let auth = Auth { tenant: key.tenant(), key };
        crate::ratelimit::enforce(state, &auth).await?;
        if auth.key.kind == KeyKind::Publishable {
            return Err(ApiError::Forbidden(
                "Publishable keys reach only the storefront routes (/v1/storefront/…); use a secret key"
                    .into(),
            ));
        }
        if !matches!(parts.method, Method::GET | Method::HEAD) {
            auth.require(Permission::Write)?;
        }
        parts.extensions.insert(auth.clone());
        Ok(auth)
    }
}
