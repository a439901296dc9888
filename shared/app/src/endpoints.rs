//! A seller's webhook endpoints: created, changed, deleted and given new secrets, with the
//! SSRF guard on every URL they are given. The API's `/v1/webhook_endpoints` and the
//! dashboard's Webhooks page both run these.

use crate::{AppError, AppState, lookup, until_committed};
use sellvy_models::webhook::{Endpoint, MAX_ENDPOINTS};
use sellvy_models::{Mode, Tenant};
use serde_json::Value;

/// The SSRF guard at creation and on a new URL: it must reach a public address now (it is
/// checked again at every delivery); https in live mode.
async fn guard(state: &AppState, tenant: &Tenant, url: &str) -> Result<(), AppError> {
    sellvy_webhooks::guard::check(url, state.config.reach, tenant.mode == Mode::Live)
        .await
        .map(|_| ())
        .map_err(|e| AppError::invalid("url", e.0))
}

pub async fn find(state: &AppState, tenant: &Tenant, id: &str) -> Result<Endpoint, AppError> {
    lookup(id, async |id: &sellvy_models::id::EndpointId| state.db.get_endpoint(tenant, id).await).await
}

/// A new endpoint from a `POST /webhook_endpoints` body (its secret is in the answer once).
pub async fn create(state: &AppState, tenant: &Tenant, body: Value) -> Result<Endpoint, AppError> {
    let endpoint = Endpoint::create(body, tenant.mode, state.config.clock.now())?;
    guard(state, tenant, &endpoint.url).await?;
    state.db.create_endpoint(tenant, &endpoint, MAX_ENDPOINTS).await?;
    Ok(endpoint)
}

/// Applies a PATCH body (a new URL is guarded again).
pub async fn update(state: &AppState, tenant: &Tenant, id: &str, body: Value) -> Result<Endpoint, AppError> {
    until_committed(|| async {
        let old = find(state, tenant, id).await?;
        let new = old.apply_update(body.clone(), tenant.mode, state.config.clock.now())?;
        if new.url != old.url {
            guard(state, tenant, &new.url).await?;
        }
        state.db.update_endpoint(tenant, &new, &old).await?;
        Ok(new)
    })
    .await
}

pub async fn delete(state: &AppState, tenant: &Tenant, id: &str) -> Result<(), AppError> {
    until_committed(|| async {
        let e = find(state, tenant, id).await?;
        state.db.delete_endpoint(tenant, &e).await?;
        Ok(())
    })
    .await
}

/// A new signing secret (in the answer once); the old one still signs for a grace period.
pub async fn rotate(state: &AppState, tenant: &Tenant, id: &str) -> Result<Endpoint, AppError> {
    until_committed(|| async {
        let old = find(state, tenant, id).await?;
        let new = old.rotated(state.config.clock.now());
        state.db.update_endpoint(tenant, &new, &old).await?;
        Ok(new)
    })
    .await
}
