//! The coupons function: `/v1/coupons` and `/v1/coupons/{id}`.
//!
//! Codes are unique per store and mode, compared case-insensitively; uniqueness holds under
//! concurrent creates (the code is claimed in the coupon's own transaction). Uses are counted
//! by checkout.

use axum::extract::{Path, State};
use axum::response::Response;
use sellvy_api::docs::{Errors, NotFound, WriteErrors};
use sellvy_api::routes;
use sellvy_api::{ApiError, Auth, JsonBody, Params, Routes};
use sellvy_app::{AppState, until_committed};
use sellvy_models::time::Timestamp;
use sellvy_models::wire::{CouponData, CouponList, NewCoupon, PageParams};
use sellvy_models::{Coupon, PageRequest, SortOrder};

pub fn routes() -> Routes {
    Routes::new().routes(routes!(list, create)).routes(routes!(show, remove))
}

/// List coupons
///
/// Newest first.
#[utoipa::path(get, path = "/v1/coupons", operation_id = "list_coupons", tag = "Coupons", security(("secret_key" = ["read"])), params(PageParams),
    responses((status = 200, description = "OK", body = CouponList), Errors))]

async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let page = PageRequest::parse(&params)?;
    let found = state.db.coupon_page(&auth.tenant, page.offset(), page.per_page, SortOrder::Desc).await?;
    Ok(sellvy_api::list(found.items.iter().map(Coupon::to_json).collect(), page, found.total))
}

async fn find(state: &AppState, auth: &Auth, id: &str) -> Result<Coupon, sellvy_app::AppError> {
    sellvy_app::lookup(id, async |id: &sellvy_models::id::CouponId| {
        state.db.get_coupon(&auth.tenant, id).await
    })
    .await
}

/// Get a coupon
#[utoipa::path(get, path = "/v1/coupons/{id}", operation_id = "get_coupon", tag = "Coupons", security(("secret_key" = ["read"])), params(("id" = String, Path, description = "cpn_…")),
    responses((status = 200, description = "OK", body = CouponData), NotFound, Errors))]
async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(sellvy_api::ok(find(&state, &auth, &id).await?.to_json()))
}

/// Create a coupon
///
/// `code`, `type` and `value` are required; codes are unique per store and mode, ignoring case.
#[utoipa::path(post, path = "/v1/coupons", operation_id = "create_coupon", tag = "Coupons", security(("secret_key" = ["write"])), request_body = NewCoupon,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 201, description = "Created", body = CouponData), WriteErrors, Errors))]
async fn create(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let store = sellvy_app::tenant_store(&state, &auth.tenant).await?;
    let coupon = Coupon::create(body, store.currency(), Timestamp::now())?;
    state.db.create_coupon(&auth.tenant, &coupon).await?;
    Ok(sellvy_api::created(coupon.to_json()))
}

/// Delete a coupon
///
/// Frees its code.
#[utoipa::path(delete, path = "/v1/coupons/{id}", operation_id = "delete_coupon", tag = "Coupons", security(("secret_key" = ["write"])), params(("id" = String, Path, description = "cpn_…")),
    responses((status = 204, description = "Deleted"), NotFound, Errors))]
async fn remove(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(until_committed(|| async {
        let coupon = find(&state, &auth, &id).await?;
        state.db.delete_coupon(&auth.tenant, &coupon).await?;
        Ok(sellvy_api::no_content())
    })
    .await?)
}
