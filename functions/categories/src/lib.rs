//! The categories function: `/v1/categories` and `/v1/categories/{id}`.
//!
//! A category that still has products cannot be deleted (422): products never point at
//! nothing. Products name their category with `category_id`, checked in the product's own
//! transaction.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use sellvy_api::{ApiError, AppState, Auth, JsonBody, Params, until_committed};
use sellvy_models::{Category, PageRequest, SortOrder};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/categories", get(list).post(create))
        .route("/v1/categories/{id}", get(show).patch(update).put(update).delete(remove))
}

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

async fn find(state: &AppState, auth: &Auth, id: &str) -> Result<Category, ApiError> {
    if !sellvy_models::id::looks_like("cat_", id) {
        return Err(ApiError::not_found("Category"));
    }
    state.db.get_category(&auth.tenant, id).await?.ok_or_else(|| ApiError::not_found("Category"))
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
    let category = Category::create(body)?;
    state.db.create_category(&auth.tenant, &category).await?;
    Ok(sellvy_api::created(category.to_json()))
}

async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    until_committed(|| async {
        let current = find(&state, &auth, &id).await?;
        let updated = current.apply_update(body.clone())?;
        state.db.update_category(&auth.tenant, &updated, &current).await?;
        Ok(sellvy_api::ok(updated.to_json()))
    })
    .await
}

async fn remove(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let category = find(&state, &auth, &id).await?;
    state.db.delete_category(&auth.tenant, &category).await?;
    Ok(sellvy_api::no_content())
}
