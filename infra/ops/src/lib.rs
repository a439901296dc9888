//! Operator and local-development tools.
//!
//! - `sellvy-gateway`: every function's routes under `/v1` on one loopback port, built from the
//!   very routers the Lambdas run.
//! - `sellvy-admin`: creates stores, their first API keys and their owners' sign-in links.

use axum::Router;
use sellvy_app::AppState;
use sellvy_models::apikey::{ApiKey, KeyKind, Plan, Store};
use sellvy_models::{Currency, Mode, Permission, RateLimit, Tenant};
use sellvy_store::{Db, StoreError};
use serde_json::{Value, json};

/// The local gateway's app: every function's routes, as API Gateway would route them to each
/// Lambda.
pub fn gateway(state: AppState) -> Router {
    sellvy_dashboard::app(state.clone()).merge(sellvy_api::app(sellvy_reference::all_routes(), state))
}

/// Serves the gateway on a bound listener until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    // The peer address is the storefront's client address, as API Gateway's sourceIp is.
    axum::serve(listener, gateway(state).into_make_service_with_connect_info::<std::net::SocketAddr>()).await
}

/// What an operator asks for when creating a store.
#[derive(Debug, Clone)]
pub struct NewStore {
    pub name: String,
    pub plan: Plan,
    pub currency: Currency,
    /// Enterprise only: the store's own limit (required there).
    pub custom_limit: Option<RateLimit>,
}

impl NewStore {
    pub fn new(name: &str, plan: Plan) -> NewStore {
        NewStore { name: name.to_string(), plan, currency: Currency::USD, custom_limit: None }
    }

    fn rate_limit(&self) -> Result<RateLimit, String> {
        match (self.plan.rate_limit(), self.custom_limit) {
            (Some(limit), None) => Ok(limit),
            (None, Some(custom)) => Ok(custom),
            (Some(_), Some(_)) => Err("custom limits are for the enterprise plan only".into()),
            (None, None) => Err("the enterprise plan needs its limit: --per-minute and --burst".into()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A new store with a full-access key per mode. Returns the store and the secrets, which are
/// shown only now.
pub async fn create_store(db: &Db, spec: &NewStore) -> Result<Value, OpsError> {
    let limit = spec.rate_limit().map_err(OpsError::Invalid)?;
    let store = Store::new(&spec.name, spec.plan, spec.currency, limit);
    let mut keys = Vec::new();
    let mut secrets = serde_json::Map::new();
    for mode in [Mode::Live, Mode::Test] {
        let tenant = Tenant { store_id: store.id.clone(), mode };
        let name = format!("{} key (created by sellvy-admin)", mode.as_str());
        let (key, secret) = ApiKey::issue(&tenant, &name, KeyKind::Secret, Permission::Full, limit);
        secrets.insert(
            mode.as_str().to_string(),
            json!({"id": key.id, "key": secret.expose(), "permissions": "full"}),
        );
        keys.push(key);
    }
    db.create_store(&store, &keys).await?;
    Ok(json!({
        "store_id": store.id, "name": store.name, "plan": spec.plan, "currency": store.currency,
        "rate_limit": limit, "keys": secrets,
    }))
}

/// Moves a store to another plan (or another custom limit), on the store and on every key.
pub async fn set_plan(
    db: &Db,
    store_id: &str,
    plan: Plan,
    custom_limit: Option<RateLimit>,
) -> Result<Value, OpsError> {
    let spec = NewStore { name: String::new(), plan, currency: Currency::USD, custom_limit };
    let limit = spec.rate_limit().map_err(OpsError::Invalid)?;
    let id = sellvy_models::id::StoreId::parse(store_id)
        .ok_or_else(|| OpsError::Invalid(format!("{store_id} is not a store id (store_…)")))?;
    let keys = db.set_store_plan(&id, plan, limit).await?;
    Ok(json!({"store_id": store_id, "plan": plan, "rate_limit": limit, "keys_updated": keys}))
}

/// Makes `email` an owner of `store_id` (a new account, or the store added to theirs) and
/// issues a one-time link to set their password, under `dashboard_url`.
pub async fn add_owner(db: &Db, store_id: &str, email: &str, dashboard_url: &str) -> Result<Value, OpsError> {
    if !sellvy_models::account::email_ok(email) {
        return Err(OpsError::Invalid(format!("{email:?} is not an email address")));
    }
    let store = sellvy_models::id::StoreId::parse(store_id)
        .ok_or_else(|| OpsError::Invalid(format!("{store_id:?} is not a store id")))?;
    if db.get_store(&store).await?.is_none() {
        return Err(OpsError::Invalid(format!("no store {store_id}")));
    }
    let owner = db.add_owner(email, &store, sellvy_models::time::Timestamp::now()).await?;
    setup_link(db, &owner, dashboard_url).await
}

/// Another one-time link for an owner to set their password (the last one still works until
/// used or expired).
pub async fn issue_setup_link(db: &Db, email: &str, dashboard_url: &str) -> Result<Value, OpsError> {
    let owner = db
        .owner_by_email(email)
        .await?
        .ok_or_else(|| OpsError::Invalid(format!("no owner with email {email}")))?;
    setup_link(db, &owner, dashboard_url).await
}

async fn setup_link(
    db: &Db,
    owner: &sellvy_models::account::Owner,
    dashboard_url: &str,
) -> Result<Value, OpsError> {
    let (link, token) =
        sellvy_models::account::SetupLink::issue(&owner.id, sellvy_models::time::Timestamp::now());
    db.put_setup_link(&link).await?;
    Ok(json!({
        "owner_id": owner.id, "email": owner.email, "stores": owner.stores,
        "setup_link": format!("{}/dashboard/setup/{token}", dashboard_url.trim_end_matches('/')),
        "link_expires_at": link.ends_at,
    }))
}
