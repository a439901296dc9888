//! Request bodies and query strings, with the seed's 422 for anything malformed.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use sellvy_models::page::QueryParams;
use serde_json::Value;

/// A JSON body, parsed to a value for the models crate's field-by-field parsers.
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::invalid("body", "could not be read")
            }
        })?;
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(ApiError::invalid("body", "is required: send a JSON object"));
        }
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::invalid("body", format!("is not valid JSON ({e})")))
    }
}

/// The raw query parameters.
pub struct Params(pub QueryParams);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let raw = parts.uri.query().unwrap_or("");
        let pairs: Vec<(String, String)> = serde_urlencoded_pairs(raw)
            .ok_or_else(|| ApiError::invalid("query", "is not a valid query string"))?;
        Ok(Params(QueryParams(pairs)))
    }
}

fn serde_urlencoded_pairs(raw: &str) -> Option<Vec<(String, String)>> {
    axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&format!("/?{raw}").parse().ok()?)
        .ok()
        .map(|q| q.0)
}
