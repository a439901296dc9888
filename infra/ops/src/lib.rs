//! Operator and local-development tools.
//!
//! - `sellvy-gateway`: every function's routes under `/v1` on one loopback port, built from the
//!   very routers the Lambdas run.
//! - `sellvy-admin`: creates stores and their first API keys.

use axum::Router;
use sellvy_api::AppState;
use sellvy_models::apikey::{ApiKey, Plan, Store};
use sellvy_models::{Mode, Permission, Tenant};
use sellvy_store::{Db, StoreError};
use serde_json::{Value, json};

/// Every function's routes, as API Gateway would route them to each Lambda.
pub fn all_routes() -> Router<AppState> {
    sellvy_products::routes()
        .merge(sellvy_categories::routes())
        .merge(sellvy_account::routes())
}

/// The local gateway's app.
pub fn gateway(state: AppState) -> Router {
    sellvy_api::app(all_routes(), state)
}

/// Serves the gateway on a bound listener until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    axum::serve(listener, gateway(state)).await
}

/// A new store with a full-access key per mode. Returns the store and the secrets, which are
/// shown only now.
pub async fn create_store(db: &Db, name: &str, plan: Plan) -> Result<Value, StoreError> {
    let store = Store::new(name, plan);
    let mut keys = Vec::new();
    let mut secrets = serde_json::Map::new();
    for mode in [Mode::Live, Mode::Test] {
        let tenant = Tenant {
            store_id: store.id.clone(),
            mode,
        };
        let (key, secret) = ApiKey::issue(
            &tenant,
            &format!("{} key ({})", mode.as_str(), "created by sellvy-admin"),
            Permission::Full,
        );
        secrets.insert(
            mode.as_str().to_string(),
            json!({"id": key.id, "key": secret.expose(), "permissions": "full"}),
        );
        keys.push(key);
    }
    db.create_store(&store, &keys).await?;
    Ok(json!({"store_id": store.id, "name": store.name, "plan": plan, "keys": secrets}))
}
