//! The coupons function: `/v1/coupons` and `/v1/coupons/{id}`.
//!
//! Codes are unique per store and mode, compared case-insensitively; uniqueness holds under
//! concurrent creates (the code is claimed in the coupon's own transaction). Uses are counted
//! by checkout.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use sellvy_api::{ApiError, AppState, Auth, JsonBody, Params, until_committed};
use sellvy_models::time::Timestamp;
use sellvy_models::{Coupon, PageRequest, SortOrder};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/coupons", get(list).post(create))
        .route("/v1/coupons/{id}", get(show).delete(remove))
}

async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let page = PageRequest::parse(&params)?;
    let found = state.db.coupon_page(&auth.tenant, page.offset(), page.per_page, SortOrder::Desc).await?;
    Ok(sellvy_api::list(found.items.iter().map(Coupon::to_json).collect(), page, found.total))
}

async fn find(state: &AppState, auth: &Auth, id: &str) -> Result<Coupon, ApiError> {
    if !sellvy_models::id::looks_like("cpn_", id) {
        return Err(ApiError::not_found("Coupon"));
    }
    state.db.get_coupon(&auth.tenant, id).await?.ok_or_else(|| ApiError::not_found("Coupon"))
}

async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(sellvy_api::ok(find(&state, &auth, &id).await?.to_json()))
}

async fn create(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let store = state.db.get_store(&auth.tenant.store_id).await?.ok_or_else(|| {
        ApiError::Internal(format!("store {} of a valid key is missing", auth.tenant.store_id))
    })?;
    let coupon = Coupon::create(body, store.currency(), Timestamp::now())?;
    state.db.create_coupon(&auth.tenant, &coupon).await?;
    Ok(sellvy_api::created(coupon.to_json()))
}

async fn remove(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    until_committed(|| async {
        let coupon = find(&state, &auth, &id).await?;
        state.db.delete_coupon(&auth.tenant, &coupon).await?;
        Ok(sellvy_api::no_content())
    })
    .await
}
