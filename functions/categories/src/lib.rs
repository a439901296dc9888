//! The categories function: `/v1/categories` and `/v1/categories/{id}`.
//!
//! A category that still has products cannot be deleted (422): products never point at
//! nothing. Products name their category with `category_id`, checked in the product's own
//! transaction.

use axum::extract::{Path, State};
use axum::response::Response;
use sellvy_api::docs::{Errors, NotFound, WriteErrors};
use sellvy_api::routes;
use sellvy_api::{ApiError, Auth, JsonBody, Params, Routes};
use sellvy_app::{AppState, until_committed};
use sellvy_models::wire::{CategoryData, CategoryInput, CategoryList, CategoryListParams};
use sellvy_models::{Category, PageRequest, SortOrder};

pub fn routes() -> Routes {
    Routes::new().routes(routes!(list, create)).routes(routes!(show, update, replace, remove))
}

/// List categories
///
/// Oldest first (`order=desc` for newest first).
#[utoipa::path(get, path = "/v1/categories", operation_id = "list_categories", tag = "Categories", security(("secret_key" = ["read"])), params(CategoryListParams),
    responses((status = 200, description = "OK", body = CategoryList), Errors))]
async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let page = PageRequest::parse(&params)?;
    let order = match params.get("order") {
        None | Some("asc") => SortOrder::Asc,
        Some("desc") => SortOrder::Desc,
        Some(_) => return Err(ApiError::invalid("order", "must be asc or desc")),
    };
    let found = state.db.category_page(&auth.tenant, page.offset(), page.per_page, order).await?;
    Ok(sellvy_api::list(found.items.iter().map(Category::to_json).collect(), page, found.total))
}

async fn find(state: &AppState, auth: &Auth, id: &str) -> Result<Category, sellvy_app::AppError> {
    sellvy_app::lookup(id, async |id: &sellvy_models::id::CategoryId| {
        state.db.get_category(&auth.tenant, id).await
    })
    .await
}

/// Get a category
#[utoipa::path(get, path = "/v1/categories/{id}", operation_id = "get_category", tag = "Categories", security(("secret_key" = ["read"])), params(("id" = String, Path, description = "cat_…")),
    responses((status = 200, description = "OK", body = CategoryData), NotFound, Errors))]
async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(sellvy_api::ok(find(&state, &auth, &id).await?.to_json()))
}

/// Create a category
///
/// `name` is required.
#[utoipa::path(post, path = "/v1/categories", operation_id = "create_category", tag = "Categories", security(("secret_key" = ["write"])), request_body = CategoryInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 201, description = "Created", body = CategoryData), WriteErrors, Errors))]
async fn create(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let category = Category::create(body)?;
    state.db.create_category(&auth.tenant, &category).await?;
    Ok(sellvy_api::created(category.to_json()))
}

/// Update a category
///
/// Only the fields sent change; `null` clears the description. PUT is accepted too.
#[utoipa::path(patch, path = "/v1/categories/{id}", operation_id = "update_category", tag = "Categories", security(("secret_key" = ["write"])), request_body = CategoryInput,
    params(("id" = String, Path, description = "cat_…")),
    responses((status = 200, description = "OK", body = CategoryData), NotFound, WriteErrors, Errors))]
async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    Ok(until_committed(|| async {
        let current = find(&state, &auth, &id).await?;
        let updated = current.apply_update(body.clone())?;
        state.db.update_category(&auth.tenant, &updated, &current).await?;
        Ok(sellvy_api::ok(updated.to_json()))
    })
    .await?)
}

/// Replace a category (PUT)
///
/// The same as PATCH: only the fields sent change.
#[utoipa::path(put, path = "/v1/categories/{id}", operation_id = "replace_category", tag = "Categories", security(("secret_key" = ["write"])), request_body = CategoryInput,
    params(("id" = String, Path, description = "cat_…")),
    responses((status = 200, description = "OK", body = CategoryData), NotFound, WriteErrors, Errors))]
async fn replace(
    state: State<AppState>,
    auth: Auth,
    id: Path<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    update(state, auth, id, body).await
}

/// Delete a category
///
/// Refused (422 on `id`) while the category still has products.
#[utoipa::path(delete, path = "/v1/categories/{id}", operation_id = "delete_category", tag = "Categories", security(("secret_key" = ["write"])), params(("id" = String, Path, description = "cat_…")),
    responses((status = 204, description = "Deleted"), NotFound, Errors))]
async fn remove(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let category = find(&state, &auth, &id).await?;
    state.db.delete_category(&auth.tenant, &category).await?;
    Ok(sellvy_api::no_content())
}
