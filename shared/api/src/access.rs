//! Who may call each route, read from the route's own OpenAPI operation: its security
//! requirement names the credential (`secret_key`, `publishable_key`, or none) and, for secret
//! keys, the permission as the requirement's scope (`read`, `write`, `full`). What the document
//! tells integrators is therefore what the extractors enforce; a route that declares nothing
//! needs a full-access secret key.

use axum::http::Method;
use sellvy_models::Permission;
use std::collections::HashMap;

/// The credential a route takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No key (the contract, downloads, Stripe's callbacks).
    Public,
    /// A publishable key (the storefront).
    Publishable,
    /// A secret key with at least this permission.
    Secret(Permission),
}

/// Every route's [`Access`], by method and route pattern (`/v1/products/{id}`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccessTable(HashMap<(Method, String), Access>);

impl AccessTable {
    /// Reads the operations of an OpenAPI document.
    pub fn from_doc(doc: &utoipa::openapi::OpenApi) -> AccessTable {
        let mut table = HashMap::new();
        for (path, item) in &doc.paths.paths {
            let operations = [
                (Method::GET, &item.get),
                (Method::PUT, &item.put),
                (Method::POST, &item.post),
                (Method::DELETE, &item.delete),
                (Method::PATCH, &item.patch),
                (Method::HEAD, &item.head),
                (Method::OPTIONS, &item.options),
            ];
            for (method, op) in operations {
                if let Some(op) = op {
                    // Only the requirement is read as JSON (its fields are not public).
                    let security = serde_json::to_value(&op.security).unwrap_or_default();
                    table.insert((method, path.clone()), declared(&security));
                }
            }
        }
        AccessTable(table)
    }

    /// What `method` on the route pattern `path` takes (HEAD as GET); a route the document does
    /// not know takes a full-access secret key.
    pub fn of(&self, method: &Method, path: &str) -> Access {
        let method = if method == Method::HEAD { Method::GET } else { method.clone() };
        self.0.get(&(method, path.to_string())).copied().unwrap_or(Access::Secret(Permission::Full))
    }
}

/// An operation's security requirement as an [`Access`]: missing or unclear is the strictest.
fn declared(security: &serde_json::Value) -> Access {
    let Some(requirements) = security.as_array() else { return Access::Secret(Permission::Full) };
    match requirements.first().and_then(|r| r.as_object()) {
        Some(r) if r.is_empty() => Access::Public,
        Some(r) if r.contains_key("publishable_key") => Access::Publishable,
        Some(r) => {
            let scope = r.get("secret_key").and_then(|s| s.get(0)).and_then(|s| s.as_str());
            Access::Secret(match scope {
                Some("read") => Permission::Read,
                Some("write") => Permission::Write,
                _ => Permission::Full,
            })
        }
        None => Access::Secret(Permission::Full),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_declared_requirement_decides_and_anything_unclear_needs_full_access() {
        assert_eq!(declared(&json!([{}])), Access::Public);
        assert_eq!(declared(&json!([{"publishable_key": []}])), Access::Publishable);
        assert_eq!(declared(&json!([{"secret_key": ["read"]}])), Access::Secret(Permission::Read));
        assert_eq!(declared(&json!([{"secret_key": ["write"]}])), Access::Secret(Permission::Write));
        assert_eq!(declared(&json!([{"secret_key": ["full"]}])), Access::Secret(Permission::Full));
        assert_eq!(declared(&json!([{"secret_key": []}])), Access::Secret(Permission::Full));
        assert_eq!(declared(&json!(null)), Access::Secret(Permission::Full));
        assert_eq!(AccessTable::default().of(&Method::GET, "/v1/unknown"), Access::Secret(Permission::Full));
    }
}
