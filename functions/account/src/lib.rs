//! The account function: API keys (`/v1/api_keys`). Full-access keys only.
//!
//! Keys belong to one mode: a live key manages live keys, a test key test keys, so a test key
//! can never mint a live one.

use axum::extract::{Path, State};
use axum::response::Response;
use sellvy_api::docs::{Errors, NotFound, WriteErrors};
use sellvy_api::{ApiError, AppState, Auth, JsonBody, Params, Routes};
use sellvy_models::apikey::{ApiKey, NewApiKey};
use sellvy_models::wire::{ApiKeyList, CreatedApiKey, CreatedApiKeyData, NewApiKeyInput, PageParams};
use sellvy_models::{PageRequest, Permission};
use utoipa_axum::routes;

pub fn routes() -> Routes {
    Routes::new().routes(routes!(list, create)).routes(routes!(revoke))
}

/// List API keys
///
/// The keys of the caller's mode; secrets are never shown. Full access only.
#[utoipa::path(get, path = "/v1/api_keys", operation_id = "list_api_keys", tag = "API keys", params(PageParams),
    responses((status = 200, description = "OK", body = ApiKeyList), Errors))]

async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Params(params): Params,
) -> Result<Response, ApiError> {
    auth.require(Permission::Full)?;
    let page = PageRequest::parse(&params)?;
    let keys = state.db.list_keys(&auth.tenant).await?;
    let total = keys.len() as u64;
    let data =
        keys.iter().skip(page.offset() as usize).take(page.per_page as usize).map(ApiKey::to_json).collect();
    Ok(sellvy_api::list(data, page, total))
}

/// Create an API key
///
/// The secret is in `data.key`, only in this response. Full access only.
#[utoipa::path(post, path = "/v1/api_keys", operation_id = "create_api_key", tag = "API keys", request_body = NewApiKeyInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 201, description = "Created", body = CreatedApiKeyData), WriteErrors, Errors))]
async fn create(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    auth.require(Permission::Full)?;
    let new = NewApiKey::parse(body)?;
    let (key, secret) = ApiKey::issue(&auth.tenant, &new.name, new.permissions, auth.key.rate_limit);
    state.db.create_key(&key).await?;
    // The only time the secret is shown.
    let created = CreatedApiKey { object: key.to_object(), key: secret.expose().to_string() };
    Ok(sellvy_api::created(serde_json::to_value(created).map_err(|e| ApiError::Internal(e.to_string()))?))
}

/// Revoke an API key
///
/// At once: its next request gets 401. A key cannot revoke itself. Full access only.
#[utoipa::path(delete, path = "/v1/api_keys/{id}", operation_id = "revoke_api_key", tag = "API keys", params(("id" = String, Path, description = "key_…")),
    responses((status = 204, description = "Revoked"), NotFound, Errors))]
async fn revoke(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    auth.require(Permission::Full)?;
    if id == auth.key.id {
        return Err(ApiError::invalid(
            "id",
            "is the key making this request: revoke it with another full-access key",
        ));
    }
    if !sellvy_models::id::looks_like("key_", &id) || !state.db.delete_key(&auth.tenant, &id).await? {
        return Err(ApiError::not_found("API key"));
    }
    Ok(sellvy_api::no_content())
}
