//! The storefront's side of the plumbing: publishable-key authentication, per-client rate
//! limits, the store's allowed origins, and CORS.

use crate::error::ApiError;
use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::{HeaderValue, Method, StatusCode, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sellvy_app::AppState;
use sellvy_models::Tenant;
use sellvy_models::apikey::{ApiKey, KeyKind, Store};
use std::net::SocketAddr;

/// A storefront caller: a publishable key's store and mode.
#[derive(Debug, Clone)]
pub struct Shopper {
    pub key: ApiKey,
    pub tenant: Tenant,
    /// The client's address (API Gateway's source IP, or the socket's locally).
    pub client: String,
    /// The store, when authentication already read it (browser requests, for their origin).
    known_store: Option<Store>,
}

impl Shopper {
    /// The caller's store: the one authentication read, or one GetItem.
    pub async fn store(&self, state: &AppState) -> Result<Store, ApiError> {
        match &self.known_store {
            Some(s) => Ok(s.clone()),
            None => Ok(sellvy_app::tenant_store(state, &self.tenant).await?),
        }
    }
}

/// The caller's address: API Gateway's `sourceIp` on Lambda, the socket's peer locally.
pub fn client_address(parts: &Parts) -> String {
    use lambda_http::request::RequestContext;
    if let Some(RequestContext::ApiGatewayV2(ctx)) = parts.extensions.get::<RequestContext>()
        && let Some(ip) = &ctx.http.source_ip
    {
        return ip.clone();
    }
    match parts.extensions.get::<ConnectInfo<SocketAddr>>() {
        Some(ConnectInfo(addr)) => addr.ip().to_string(),
        None => "unknown".into(),
    }
}

impl FromRequestParts<AppState> for Shopper {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(shopper) = parts.extensions.get::<Shopper>() {
            return Ok(shopper.clone());
        }
        let secret = crate::auth::bearer(parts, crate::auth::PUBLISHABLE)?;
        let key = crate::auth::find_key(state, &secret, crate::auth::PUBLISHABLE).await?;
        let tenant = key.tenant();
        if key.kind != KeyKind::Publishable {
            let refusal = ApiError::Forbidden(
                "The storefront takes a publishable key (pk_…); never put a secret key in a storefront"
                    .into(),
            );
            return Err(crate::auth::refuse(state, parts, &tenant, refusal).await);
        }
        let client = client_address(parts);
        let now = state.config.clock.now_micros();
        let limit = state.config.storefront_client_limit;
        match state.db.take_client_request(&tenant, &client, limit, now, &state.buckets).await {
            Ok(decision) => crate::ratelimit::apply(decision)?,
            Err(e) => tracing::warn!(error = %e, "storefront limiter unavailable; request let through"),
        }
        // Only browsers send an Origin: apps and servers skip the store read.
        let mut known_store = None;
        if let Some(origin) = parts.headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
            let store = sellvy_app::tenant_store(state, &tenant).await?;
            if !store.settings(tenant.mode).allows_origin(origin) {
                return Err(ApiError::Forbidden(format!("The origin {origin} is not allowed by this store")));
            }
            known_store = Some(store);
        }
        let shopper = Shopper { key, tenant, client, known_store };
        parts.extensions.insert(shopper.clone());
        Ok(shopper)
    }
}

const ALLOW_HEADERS: &str = "authorization, content-type, idempotency-key, x-order-token";
const EXPOSE_HEADERS: &str =
    "x-request-id, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset, retry-after";

/// The storefront's routes: the only ones a browser calls, so the only ones with CORS.
const STOREFRONT: &str = "/v1/storefront/";

/// CORS for the storefront routes, around everything else (authentication, idempotency, rate
/// limits, body limits, panics, unknown routes), so a page on an allowed origin can read every
/// answer, errors included. Preflights are answered here: they carry no key, so the store's
/// origin list is enforced on the request itself, by [`Shopper`].
pub(crate) async fn cors(req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with(STOREFRONT) {
        return next.run(req).await;
    }
    let origin = req.headers().get(header::ORIGIN).cloned();
    if req.method() == Method::OPTIONS {
        let mut resp = StatusCode::NO_CONTENT.into_response();
        let h = resp.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.unwrap_or(HeaderValue::from_static("*")));
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, OPTIONS"));
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(ALLOW_HEADERS));
        h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
        return resp;
    }
    let mut resp = next.run(req).await;
    if let Some(origin) = origin {
        let h = resp.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSE_HEADERS));
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    resp
}
