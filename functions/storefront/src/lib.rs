//! The storefront function: public routes for browsers and apps, under `/v1/storefront`.
//!
//! Callers hold a publishable key (`pk_live_…` / `pk_test_…`), safe to embed; it reaches only
//! these routes. Each client address has its own rate limit, and the store's allowed origins
//! (`PATCH /v1/store`) decide which browser origins may call. Buyers never see a product's
//! serials, file, dynamic URL or seller settings; `private` and hidden products do not exist
//! for them, `unlisted` ones only by id.

use axum::extract::{Path, State};
use axum::response::Response;
use sellvy_api::docs::{Errors, NotFound};
use sellvy_api::{ApiError, AppState, Params, Routes, Shopper};
use sellvy_models::wire::{
    PublicCategory, PublicCategoryList, PublicProductData, PublicProductList, PublicProductParams,
};
use sellvy_models::{PageRequest, SortOrder};
use utoipa_axum::routes;

pub fn routes() -> Routes {
    let documented = Routes::new()
        .routes(routes!(list_products))
        .routes(routes!(show_product))
        .routes(routes!(list_categories));
    // Browsers' CORS preflights (OPTIONS, no key) on the same paths; answered by `cors`.
    let paths = ["/v1/storefront/products", "/v1/storefront/products/{id}", "/v1/storefront/categories"];
    paths
        .into_iter()
        .fold(documented, |r, path| {
            r.route(path, axum::routing::options(|| async { axum::http::StatusCode::NO_CONTENT }))
        })
        .layer(axum::middleware::from_fn(sellvy_api::storefront::cors))
}

/// List the store's products
///
/// Visible products that are neither private nor unlisted, newest first.
#[utoipa::path(get, path = "/v1/storefront/products", operation_id = "storefront_list_products", tag = "Storefront",
    params(PublicProductParams), security(("publishable_key" = [])),
    responses((status = 200, description = "OK", body = PublicProductList), Errors))]
async fn list_products(
    State(state): State<AppState>,
    shopper: Shopper,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let page = PageRequest::parse(&params)?;
    let search = params.get("search").map(str::to_lowercase).filter(|s| !s.trim().is_empty());
    let category = params.get("category_id");
    let mut listed = state.db.product_summaries(&shopper.tenant).await?;
    listed.retain(|s| {
        s.is_listed()
            && search.as_ref().is_none_or(|q| s.title.to_lowercase().contains(q.trim()))
            && category.is_none_or(|c| s.category_id.as_deref() == Some(c))
    });
    listed.reverse(); // newest first
    let total = listed.len() as u64;
    let ids: Vec<String> =
        listed.into_iter().skip(page.offset() as usize).take(page.per_page as usize).map(|s| s.id).collect();
    let products = state.db.get_products(&shopper.tenant, &ids).await?;
    Ok(sellvy_api::list(products.iter().map(|p| p.to_public()).collect(), page, total))
}

/// Get a product
///
/// Unlisted products too (by their id); private or hidden ones answer 404.
#[utoipa::path(get, path = "/v1/storefront/products/{id}", operation_id = "storefront_get_product", tag = "Storefront",
    params(("id" = String, Path, description = "prod_…")), security(("publishable_key" = [])),
    responses((status = 200, description = "OK", body = PublicProductData), NotFound, Errors))]
async fn show_product(
    State(state): State<AppState>,
    shopper: Shopper,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let product = match sellvy_models::id::looks_like("prod_", &id) {
        true => state.db.get_product(&shopper.tenant, &id).await?,
        false => None,
    };
    match product.filter(|p| p.is_public()) {
        Some(p) => Ok(sellvy_api::ok(p.to_public())),
        None => Err(ApiError::not_found("Product")),
    }
}

/// List the store's categories
///
/// Oldest first.
#[utoipa::path(get, path = "/v1/storefront/categories", operation_id = "storefront_list_categories", tag = "Storefront",
    params(sellvy_models::wire::PageParams), security(("publishable_key" = [])),
    responses((status = 200, description = "OK", body = PublicCategoryList), Errors))]
async fn list_categories(
    State(state): State<AppState>,
    shopper: Shopper,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let page = PageRequest::parse(&params)?;
    let found = state.db.category_page(&shopper.tenant, page.offset(), page.per_page, SortOrder::Asc).await?;
    let data = found.items.into_iter().map(|c| PublicCategory {
        id: c.id,
        name: c.name,
        description: c.description,
    });
    Ok(sellvy_api::list(data.collect(), page, found.total))
}
