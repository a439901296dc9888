//! The storefront's side of the plumbing: publishable-key authentication, per-client rate
//! limits, the store's allowed origins, and CORS.

use crate::error::ApiError;
use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::{HeaderName, Method, StatusCode, header, request::Parts};
use axum::middleware::Next;
use axum::response::Response;
use sellvy_app::AppState;
use sellvy_models::Tenant;
use sellvy_models::apikey::{ApiKey, KeyKind, Store};
use std::net::SocketAddr;
use std::sync::LazyLock;
use std::time::Duration;
use tower::{Layer, ServiceExt};
use tower_http::cors::{AllowOrigin, CorsLayer};

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

/// The storefront's routes: the only ones a browser calls, so the only ones with CORS.
const STOREFRONT: &str = "/v1/storefront/";

/// What a storefront page may send and read: tower-http's CORS, mirroring the page's origin
/// (the store's own list is enforced on the request itself, by [`Shopper`]: a preflight carries
/// no key to find the store by).
static STOREFRONT_CORS: LazyLock<CorsLayer> = LazyLock::new(|| {
    let name = HeaderName::from_static;
    CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            name("idempotency-key"),
            name("x-order-token"),
        ])
        .expose_headers([
            name("x-request-id"),
            name("x-ratelimit-limit"),
            name("x-ratelimit-remaining"),
            name("x-ratelimit-reset"),
            header::RETRY_AFTER,
        ])
        .max_age(Duration::from_secs(600))
});

/// CORS for the storefront routes, around everything else (authentication, idempotency, rate
/// limits, body limits, panics, unknown routes), so a page on an allowed origin can read every
/// answer, errors included; preflights are answered here.
pub(crate) async fn cors(req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with(STOREFRONT) {
        return next.run(req).await;
    }
    let preflight = req.method() == Method::OPTIONS;
    let Ok(mut resp) = STOREFRONT_CORS.clone().layer(next).oneshot(req).await;
    if preflight {
        // A preflight's answer has no body.
        *resp.status_mut() = StatusCode::NO_CONTENT;
    }
    resp
}
