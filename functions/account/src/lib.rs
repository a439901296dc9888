//! The account function: API keys (`/v1/api_keys`). Full-access keys only.
//!
//! Keys belong to one mode: a live key manages live keys, a test key test keys, so a test key
//! can never mint a live one.

use axum::extract::{Path, State};
use axum::response::Response;
use sellvy_api::docs::{Errors, NotFound, WriteErrors};
use sellvy_api::routes;
use sellvy_api::{ApiError, Auth, JsonBody, Params, Routes};
use sellvy_app::AppState;
use sellvy_models::apikey::{ApiKey, NewApiKey};
use sellvy_models::wire::{
    ApiKeyList, CreatedApiKey, CreatedApiKeyData, NewApiKeyInput, PageParams, StoreData, StoreSettings,
};
use sellvy_models::{PageRequest, Permission};

pub fn routes() -> Routes {
    Routes::new()
        .routes(routes!(list, create))
        .routes(routes!(revoke))
        .routes(routes!(show_store, update_store))
}

/// List API keys
///
/// The keys of the caller's mode; secrets are never shown. Full access only.
#[utoipa::path(get, path = "/v1/api_keys", operation_id = "list_api_keys", tag = "API keys", security(("secret_key" = ["full"])), params(PageParams),
    responses((status = 200, description = "OK", body = ApiKeyList), Errors))]

async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let page = PageRequest::parse(&params)?;
    let keys = state.db.list_keys(&auth.tenant).await?;
    let total = keys.len() as u64;
    let data =
        keys.iter().skip(page.offset() as usize).take(page.per_page as usize).map(ApiKey::to_json).collect();
    Ok(sellvy_api::list(data, page, total))
}

/// Create an API key
///
/// The secret is in `data.key`, only in this response. At most 100 keys (secret and
/// publishable) per store and mode. Full access only.
#[utoipa::path(post, path = "/v1/api_keys", operation_id = "create_api_key", tag = "API keys", security(("secret_key" = ["full"])), request_body = NewApiKeyInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 201, description = "Created", body = CreatedApiKeyData), WriteErrors, Errors))]
async fn create(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let new = NewApiKey::parse(body)?;
    let (key, secret) =
        ApiKey::issue(&auth.tenant, &new.name, new.kind, new.permissions, auth.key.rate_limit);
    state.db.create_key(&key, sellvy_models::apikey::MAX_KEYS).await?;
    // The only time the secret is shown.
    let created = CreatedApiKey { object: key.to_object(), key: secret.expose().to_string() };
    Ok(sellvy_api::created(serde_json::to_value(created).map_err(|e| ApiError::Internal(e.to_string()))?))
}

/// Revoke an API key
///
/// At once: its next request gets 401. A key cannot revoke itself. Full access only.
#[utoipa::path(delete, path = "/v1/api_keys/{id}", operation_id = "revoke_api_key", tag = "API keys", security(("secret_key" = ["full"])), params(("id" = String, Path, description = "key_…")),
    responses((status = 204, description = "Revoked"), NotFound, Errors))]
async fn revoke(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    if id == auth.key.id {
        return Err(ApiError::invalid(
            "id",
            "is the key making this request: revoke it with another full-access key",
        ));
    }
    let Some(id) = sellvy_models::id::ApiKeyId::parse(&id) else {
        return Err(ApiError::not_found("API key"));
    };
    if !state.db.delete_key(&auth.tenant, &id).await? {
        return Err(ApiError::not_found("API key"));
    }
    Ok(sellvy_api::no_content())
}

async fn current_store(
    state: &AppState,
    auth: &Auth,
) -> Result<sellvy_models::apikey::Store, sellvy_app::AppError> {
    sellvy_app::tenant_store(state, &auth.tenant).await
}

/// Get the store
///
/// Its name, plan, currency and rate limit, and the key's mode's own settings: the origins
/// allowed on the storefront, the countries and networks refused at checkout, and (to
/// full-access keys) the secret that signs dynamic deliveries. Each mode has its own settings
/// and secret: a test key sees and changes only test mode's.
#[utoipa::path(get, path = "/v1/store", operation_id = "get_store", tag = "Store", security(("secret_key" = ["read"])),
    responses((status = 200, description = "OK", body = StoreData), Errors))]
async fn show_store(State(state): State<AppState>, auth: Auth) -> Result<Response, ApiError> {
    Ok(sellvy_api::ok(shown(&auth, &current_store(&state, &auth).await?)))
}

/// The store as this key may see it: its mode's settings, the delivery secret only for full
/// access.
fn shown(auth: &Auth, store: &sellvy_models::apikey::Store) -> sellvy_models::wire::StoreObject {
    store.to_object(auth.tenant.mode, auth.key.permissions.allows(Permission::Full))
}

/// Update the store's settings
///
/// The key's mode's own `allowed_origins` (browser origins allowed on the storefront; `[]`
/// allows any), `blocked_countries` and `blocked_ips` (checkouts from them get 403), and
/// `rotate_delivery_secret`; the other mode's settings never change. `name` and `time_zone` (an
/// IANA name; the days of `GET /stats`) are the store's, shared by both modes: live keys only
/// (422 with a test key). The plan is the operator's.
/// Full access only.
#[utoipa::path(patch, path = "/v1/store", operation_id = "update_store", tag = "Store", security(("secret_key" = ["full"])), request_body = StoreSettings,
    responses((status = 200, description = "OK", body = StoreData), WriteErrors, Errors))]
async fn update_store(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let updated = current_store(&state, &auth).await?.apply_settings(auth.tenant.mode, body)?;
    state.db.update_store_settings(&updated, auth.tenant.mode).await?;
    Ok(sellvy_api::ok(shown(&auth, &updated)))
}
