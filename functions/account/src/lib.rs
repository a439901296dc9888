//! The account function: API keys (`/v1/api_keys`). Full-access keys only.
//!
//! Keys belong to one mode: a live key manages live keys, a test key test keys, so a test key
//! can never mint a live one.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{delete, get};
use sellvy_api::{ApiError, AppState, Auth, JsonBody, Params};
use sellvy_models::apikey::{ApiKey, NewApiKey};
use sellvy_models::{PageRequest, Permission};

pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/api_keys", get(list).post(create)).route("/v1/api_keys/{id}", delete(revoke))
}

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

async fn create(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    auth.require(Permission::Full)?;
    let new = NewApiKey::parse(body)?;
    let (key, secret) = ApiKey::issue(&auth.tenant, &new.name, new.permissions, auth.key.rate_limit);
    state.db.create_key(&key).await?;
    let mut data = key.to_json();
    // The only time the secret is shown.
    data["key"] = secret.expose().into();
    Ok(sellvy_api::created(data))
}

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
