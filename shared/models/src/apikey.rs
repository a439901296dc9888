//! Stores, modes, API keys and permissions.

use crate::error::ValidationError;
use crate::id;
use crate::input::Input;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Live and test data of a store are fully separate; a key belongs to one mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Live,
    Test,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Live => "live",
            Mode::Test => "test",
        }
    }
}

/// The store and mode every request acts in, derived from the authenticated key and never
/// from the URL or body.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tenant {
    pub store_id: String,
    pub mode: Mode,
}

/// What a key may do. Ordered: each level includes the ones before it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    /// GET requests only.
    Read,
    /// Reads, and writes of catalog resources (products, categories, coupons).
    Write,
    /// Everything, including refunds, blacklists, API keys and webhook endpoints.
    Full,
}

impl Permission {
    pub fn parse(s: &str) -> Option<Permission> {
        match s {
            "read" => Some(Permission::Read),
            "write" => Some(Permission::Write),
            "full" => Some(Permission::Full),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Read => "read",
            Permission::Write => "write",
            Permission::Full => "full",
        }
    }
    /// Whether a key with this permission may do what needs `needed`.
    pub fn allows(self, needed: Permission) -> bool {
        self >= needed
    }
}

/// Plans, which set the rate limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    Free,
    Pro,
    Business,
    Enterprise,
}

impl Plan {
    /// The plan's rate limit; Enterprise limits are set per store.
    pub fn rate_limit(self) -> Option<crate::RateLimit> {
        match self {
            Plan::Free => Some(crate::RateLimit::FREE),
            Plan::Pro => Some(crate::RateLimit::PRO),
            Plan::Business => Some(crate::RateLimit::BUSINESS),
            Plan::Enterprise => None,
        }
    }

    pub fn parse(s: &str) -> Option<Plan> {
        match s {
            "free" => Some(Plan::Free),
            "pro" => Some(Plan::Pro),
            "business" => Some(Plan::Business),
            "enterprise" => Some(Plan::Enterprise),
            _ => None,
        }
    }
}

/// A store: the tenant that owns keys and data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Store {
    pub id: String,
    pub name: String,
    pub plan: Plan,
    /// The store's currency (ISO 4217): fixed coupons and order minimums are in it.
    #[serde(default = "default_currency")]
    pub currency: String,
    /// The rate limit in force (the plan's, or the store's own on Enterprise).
    #[serde(default = "free_limit")]
    pub rate_limit: crate::RateLimit,
    pub created_at: Timestamp,
}

fn free_limit() -> crate::RateLimit {
    crate::RateLimit::FREE
}

fn default_currency() -> String {
    "USD".into()
}

impl Store {
    pub fn new(name: &str, plan: Plan, currency: crate::Currency, rate_limit: crate::RateLimit) -> Store {
        Store {
            id: id::new_id("store_"),
            name: name.to_string(),
            plan,
            currency: currency.code().to_string(),
            rate_limit,
            created_at: Timestamp::now(),
        }
    }

    pub fn currency(&self) -> crate::Currency {
        crate::Currency::parse(&self.currency).unwrap_or(crate::Currency::USD)
    }
}

/// Random characters after `sk_live_` / `sk_test_` (40 base62 chars = 238 bits).
const SECRET_RANDOM_CHARS: usize = 40;

/// A secret key as the client holds it. Only its hash is ever stored.
#[derive(Clone, PartialEq, Eq)]
pub struct KeySecret {
    secret: String,
    mode: Mode,
}

impl std::fmt::Debug for KeySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeySecret({}…)", &self.secret[..12])
    }
}

impl KeySecret {
    /// A fresh secret key for this mode.
    pub fn generate(mode: Mode) -> KeySecret {
        let secret = format!("sk_{}_{}", mode.as_str(), id::random_base62(SECRET_RANDOM_CHARS));
        KeySecret { secret, mode }
    }

    /// Recognises the shape of a secret key (`sk_live_…` / `sk_test_…` + 32 to 128 base62
    /// characters). Anything else cannot be a key and needs no lookup.
    pub fn parse(s: &str) -> Option<KeySecret> {
        let (mode, rest) = if let Some(r) = s.strip_prefix("sk_live_") {
            (Mode::Live, r)
        } else if let Some(r) = s.strip_prefix("sk_test_") {
            (Mode::Test, r)
        } else {
            return None;
        };
        let ok = (32..=128).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric());
        ok.then(|| KeySecret { secret: s.to_string(), mode })
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }
    pub fn expose(&self) -> &str {
        &self.secret
    }

    /// The stored form: lowercase hex SHA-256. A key carries over 190 random bits, so a fast
    /// hash is enough (no password stretching needed).
    pub fn hash(&self) -> String {
        hex(&Sha256::digest(self.secret.as_bytes()))
    }

    /// What listings show instead of the secret: `sk_test_…AbCd`.
    pub fn redacted(&self) -> String {
        let last4 = &self.secret[self.secret.len() - 4..];
        format!("sk_{}_…{last4}", self.mode.as_str())
    }
}

pub fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

/// A stored API key (without its secret).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: String,
    pub store_id: String,
    pub mode: Mode,
    pub name: String,
    pub permissions: Permission,
    pub hash: String,
    pub redacted: String,
    /// The store's rate limit, copied onto each key so authentication (one read) also knows
    /// the limit; the operator's plan change rewrites it on every key of the store.
    #[serde(default = "free_limit")]
    pub rate_limit: crate::RateLimit,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// What `POST /api_keys` asks for.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub name: String,
    pub permissions: Permission,
}

impl NewApiKey {
    pub fn parse(body: Value) -> Result<NewApiKey, ValidationError> {
        let mut input = Input::object(body)?;
        let name = input.text("name", 1, 100).unwrap_or_default();
        let permissions = input.take_str("permissions").and_then(|p| {
            Permission::parse(&p).or_else(|| {
                input.error("permissions", "must be one of read, write, full");
                None
            })
        });
        input.require("name");
        input.require("permissions");
        input.finish()?;
        Ok(NewApiKey { name, permissions: permissions.unwrap_or(Permission::Read) })
    }
}

impl ApiKey {
    /// A new key for a tenant: the stored record and the secret to show once.
    pub fn issue(
        tenant: &Tenant,
        name: &str,
        permissions: Permission,
        rate_limit: crate::RateLimit,
    ) -> (ApiKey, KeySecret) {
        let secret = KeySecret::generate(tenant.mode);
        let key = ApiKey {
            id: id::new_id("key_"),
            store_id: tenant.store_id.clone(),
            mode: tenant.mode,
            name: name.to_string(),
            permissions,
            hash: secret.hash(),
            redacted: secret.redacted(),
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
            id: self.id.clone(),
            name: self.name.clone(),
            permissions: self.permissions,
            mode: self.mode,
            redacted_key: self.redacted.clone(),
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
        let k = KeySecret::generate(Mode::Test);
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
            "sk_live_short",
            "pk_live_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "sk_prod_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "sk_live_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!aa",
        ] {
            assert!(KeySecret::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(KeySecret::parse(&format!("sk_live_{}", "a".repeat(32))).unwrap().mode(), Mode::Live);
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
        assert_eq!(fields, ["permissions", "name"]);
        let ok = NewApiKey::parse(serde_json::json!({"name": "CI", "permissions": "write"})).unwrap();
        assert_eq!(ok.permissions, Permission::Write);
    }
}
