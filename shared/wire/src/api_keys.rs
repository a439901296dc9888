//! Modes, permissions and API keys.

use crate::prelude::*;

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
        parse_word(s)
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

/// Secret keys (`sk_…`) drive the seller API from the seller's servers; publishable keys
/// (`pk_…`) are safe to embed in storefronts and reach only the storefront routes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeyKind {
    #[default]
    Secret,
    Publishable,
}

impl KeyKind {
    pub fn prefix(self) -> &'static str {
        match self {
            KeyKind::Secret => "sk",
            KeyKind::Publishable => "pk",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ApiKeyObject {
    pub id: String,
    pub name: String,
    pub permissions: Permission,
    pub mode: Mode,
    /// `sk_test_…AbCd`
    pub redacted_key: String,
    /// `secret` or `publishable`.
    #[serde(rename = "type")]
    pub kind: crate::KeyKind,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// A key just created: the object and, this once, its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub object: ApiKeyObject,
    /// The secret (`sk_live_…` / `sk_test_…`), shown only in this response.
    pub key: String,
}

/// `POST /api_keys`: a secret key (`permissions` required) or a publishable key
/// (`"type": "publishable"`, no permissions: it reaches only the storefront).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKeyInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(required = true, nullable = false, min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<crate::KeyKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Permission>,
}
