use crate::access::AccessTable;
use crate::error::ApiError;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use sellvy_app::AppState;
use std::sync::Arc;
use std::time::Instant;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
pub const COST: HeaderName = HeaderName::from_static("x-sellvy-cost");
const BODY_LIMIT: usize = 1024 * 1024;

pub(crate) fn wrap(routes: Router<AppState>, access: Arc<AccessTable>, state: AppState) -> Router {
    routes
        .route_layer(middleware::from_fn_with_state(state.clone(), crate::idempotency::layer))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            ApiError::Internal("handler panicked".into()).into_response()
        }))
        .layer(Extension(access))
        .layer(middleware::from_fn(crate::storefront::cors))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

async fn not_found(req: Request) -> ApiError {
    ApiError::NotFound(format!("No route for {} {}", req.method(), req.uri().path()))
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// The request id: API Gateway's own on Lambda, a fresh one elsewhere.
fn request_id(req: &Request) -> String {
    use lambda_http::request::RequestContext;
    match req.extensions().get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(ctx)) if ctx.request_id.is_some() => {
            ctx.request_id.clone().unwrap_or_default()
        }
        _ => sellvy_models::id::new_id("req_"),
    }
}

/// Gives every response a request id, measures the DynamoDB work of the request and logs one
/// line per request.
async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let id = request_id(&req);
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let started = Instant::now();
    // The events the request committed go to their webhook endpoints before it answers.
    let ((mut resp, rate), cost) =
        sellvy_store::measure(sellvy_app::committing(&state, crate::ratelimit::scope(&state, next.run(req))))
            .await;
    let status = resp.status().as_u16();
    tracing::info!(request_id = %id, %method, %path, status, ms = started.elapsed().as_millis() as u64, ddb = %cost, "request");
    let headers = resp.headers_mut();
    if let Some(decision) = rate {
        crate::ratelimit::add_headers(headers, decision);
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        headers.insert(REQUEST_ID, v);
    }
    if state.config.cost_headers
        && let Ok(v) = HeaderValue::from_str(&cost.to_string())
    {
        headers.insert(COST, v);
    }
    resp
}
