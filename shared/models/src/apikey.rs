//! Modes, tenants, API keys and permissions.

use crate::error::ValidationError;
use crate::id;
use crate::request::{self, Body};
use crate::time::Timestamp;
use crate::wire::NewApiKeyInput;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub use crate::store::{ModeSettings, Plan, Store, new_delivery_secret};
pub use sellvy_wire::{KeyKind, Mode, Permission};

/// The store and mode every request acts in, derived from the authenticated key and never
/// from the URL or body.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tenant {
    pub store_id: crate::id::StoreId,
    pub mode: Mode,
}

/// API keys (secret and publishable) one store may have per mode.
pub const MAX_KEYS: u64 = 100;

/// Random characters after `sk_live_` / `sk_test_` (40 base62 chars = 238 bits).
const SECRET_RANDOM_CHARS: usize = 40;

/// A key as the client holds it (secret or publishable). Only its hash is ever stored.
#[derive(Clone, PartialEq, Eq)]
pub struct KeySecret {
    secret: String,
    mode: Mode,
    kind: KeyKind,
}

impl std::fmt::Debug for KeySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeySecret({}…)", &self.secret[..12])
    }
}

impl KeySecret {
    /// A fresh key of this kind for this mode.
    pub fn generate(mode: Mode, kind: KeyKind) -> KeySecret {
        let secret =
            format!("{}_{}_{}", kind.prefix(), mode.as_str(), id::random_base62(SECRET_RANDOM_CHARS));
        KeySecret { secret, mode, kind }
    }

    /// Recognises the shape of a key (`sk_live_…`, `sk_test_…`, `pk_live_…`, `pk_test_…` + 32
    /// to 128 base62 characters). Anything else cannot be a key and needs no lookup.
    pub fn parse(s: &str) -> Option<KeySecret> {
        let (kind, rest) = if let Some(r) = s.strip_prefix("sk_") {
            (KeyKind::Secret, r)
        } else if let Some(r) = s.strip_prefix("pk_") {
            (KeyKind::Publishable, r)
        } else {
            return None;
        };
        let (mode, rest) = if let Some(r) = rest.strip_prefix("live_") {
            (Mode::Live, r)
        } else if let Some(r) = rest.strip_prefix("test_") {
            (Mode::Test, r)
        } else {
            return None;
        };
        let ok = (32..=128).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric());
        ok.then(|| KeySecret { secret: s.to_string(), mode, kind })
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }
    pub fn kind(&self) -> KeyKind {
        self.kind
    }
    pub fn expose(&self) -> &str {
        &self.secret
    }

    /// The stored form: lowercase hex SHA-256. A key carries over 190 random bits, so a fast
    /// hash is enough (no password stretching needed).
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.secret.as_bytes()))
    }

    /// What listings show instead of the key: `sk_test_…AbCd`.
    pub fn redacted(&self) -> String {
        let last4 = &self.secret[self.secret.len() - 4..];
        format!("{}_{}_…{last4}", self.kind.prefix(), self.mode.as_str())
    }
}

/// A stored API key (without its secret).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: crate::id::ApiKeyId,
    pub store_id: crate::id::StoreId,
    pub mode: Mode,
    pub name: String,
    pub permissions: Permission,
    pub hash: String,
    pub redacted: String,
    #[serde(default)]
    pub kind: KeyKind,
    /// The store's rate limit, copied onto each key so authentication (one read) also knows
    /// the limit; the operator's plan change rewrites it on every key of the store.
    #[serde(default = "crate::store::free_limit")]
    pub rate_limit: crate::RateLimit,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// What `POST /api_keys` asks for.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub name: String,
    pub kind: KeyKind,
    /// Secret keys: as asked. Publishable keys reach only the storefront, whatever this says.
    pub permissions: Permission,
}

impl NewApiKey {
    pub fn parse(body: Value) -> Result<NewApiKey, ValidationError> {
        let Body { fields: f, mut errors } = request::read::<NewApiKeyInput, NewApiKeyInput>(body)?;
        let name = request::required_text(&mut errors, "name", f.name);
        errors.require("name", &name);
        let kind = f.kind.unwrap_or(KeyKind::Secret);
        let permissions = f.permissions;
        match kind {
            KeyKind::Secret => errors.require("permissions", &permissions),
            KeyKind::Publishable if permissions.is_some() => errors
                .add("permissions", "does not apply to publishable keys: they reach only the storefront"),
            KeyKind::Publishable => {}
        }
        errors.finish()?;
        let name = name.unwrap_or_default();
        Ok(NewApiKey { name, kind, permissions: permissions.unwrap_or(Permission::Read) })
    }
}

impl ApiKey {
    /// A new key for a tenant: the stored record and the secret to show once.
    pub fn issue(
        tenant: &Tenant,
        name: &str,
        kind: KeyKind,
        permissions: Permission,
        rate_limit: crate::RateLimit,
    ) -> (ApiKey, KeySecret) {
        let secret = KeySecret::generate(tenant.mode, kind);
        let key = ApiKey {
            id: crate::id::ApiKeyId::new(),
            store_id: tenant.store_id.clone(),
            mode: tenant.mode,
            name: name.to_string(),
            permissions,
            hash: secret.hash(),
            redacted: secret.redacted(),
            kind,
            rate_limit,
            created_at: Timestamp::now(),
            last_used_at: None,
        };
        (key, secret)
    }

    pub fn tenant(&self) -> Tenant {
        Tenant { store_id: self.store_id.clone(), mode: self.mode }
    }

    /// The API object (never with the secret).
    pub fn to_object(&self) -> crate::wire::ApiKeyObject {
        crate::wire::ApiKeyObject {
            id: self.id.to_string(),
            name: self.name.clone(),
            permissions: self.permissions,
            mode: self.mode,
            redacted_key: self.redacted.clone(),
            kind: self.kind,
            created_at: self.created_at,
            last_used_at: self.last_used_at,
        }
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.to_object()).expect("wire types serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_and_hash_stably() {
        let k = KeySecret::generate(Mode::Test, KeyKind::Secret);
        assert!(k.expose().starts_with("sk_test_"));
        assert_eq!(k.expose().len(), 8 + 40);
        let again = KeySecret::parse(k.expose()).unwrap();
        assert_eq!(again.mode(), Mode::Test);
        assert_eq!(again.hash(), k.hash());
        assert_eq!(k.hash().len(), 64);
        assert!(k.redacted().starts_with("sk_test_…"));
        assert!(!format!("{k:?}").contains(&k.expose()[12..]));
    }

    #[test]
    fn rejects_what_cannot_be_a_key() {
        for bad in [
            "",
            "pk_prod_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "sk_live_short",
            "xk_live_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "sk_prod_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "sk_live_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!aa",
        ] {
            assert!(KeySecret::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(KeySecret::parse(&format!("sk_live_{}", "a".repeat(32))).unwrap().mode(), Mode::Live);
        let pk = KeySecret::parse(&format!("pk_test_{}", "a".repeat(32))).unwrap();
        assert_eq!((pk.mode(), pk.kind()), (Mode::Test, KeyKind::Publishable));
        assert!(pk.redacted().starts_with("pk_test_…"));
    }

    #[test]
    fn permissions_include_lower_levels() {
        assert!(Permission::Full.allows(Permission::Write));
        assert!(Permission::Write.allows(Permission::Read));
        assert!(!Permission::Read.allows(Permission::Write));
        assert!(!Permission::Write.allows(Permission::Full));
    }

    #[test]
    fn new_key_input_names_its_fields() {
        let e = NewApiKey::parse(serde_json::json!({"permissions": "admin"})).unwrap_err();
        let fields: Vec<_> = e.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "permissions"]);
        let ok = NewApiKey::parse(serde_json::json!({"name": "CI", "permissions": "write"})).unwrap();
        assert_eq!(ok.permissions, Permission::Write);
    }
}
