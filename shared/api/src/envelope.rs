//! The seed's success envelope: `{"data": …}`, lists with `meta: {page, per_page, total}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sellvy_models::PageRequest;
use serde_json::{Value, json};

pub fn ok(data: Value) -> Response {
    Json(json!({ "data": data })).into_response()
}

pub fn created(data: Value) -> Response {
    (StatusCode::CREATED, Json(json!({ "data": data }))).into_response()
}

pub fn list(data: Vec<Value>, page: PageRequest, total: u64) -> Response {
    Json(json!({
        "data": data,
        "meta": {"page": page.page, "per_page": page.per_page, "total": total},
    }))
    .into_response()
}

pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}
