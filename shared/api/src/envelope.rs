//! The seed's success envelope: `{"data": …}`, lists with `meta: {page, per_page, total}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sellvy_models::PageRequest;
use sellvy_models::wire::PageMeta;
use serde::Serialize;

#[derive(Serialize)]
struct One<T> {
    data: T,
}

#[derive(Serialize)]
struct Many<T> {
    data: Vec<T>,
    meta: PageMeta,
}

pub fn ok(data: impl Serialize) -> Response {
    Json(One { data }).into_response()
}

pub fn created(data: impl Serialize) -> Response {
    (StatusCode::CREATED, Json(One { data })).into_response()
}

pub fn list<T: Serialize>(data: Vec<T>, page: PageRequest, total: u64) -> Response {
    Json(Many { data, meta: PageMeta { page: page.page, per_page: page.per_page, total } }).into_response()
}

pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}
