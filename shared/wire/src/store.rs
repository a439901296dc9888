//! The store: its plan, rate limit and settings.

use crate::prelude::*;

/// Plans, which set the rate limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
        parse_word(s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RateLimit {
    pub per_minute: u32,
    pub burst: u32,
}

impl RateLimit {
    pub const FREE: RateLimit = RateLimit { per_minute: 60, burst: 10 };
    pub const PRO: RateLimit = RateLimit { per_minute: 300, burst: 50 };
    pub const BUSINESS: RateLimit = RateLimit { per_minute: 1000, burst: 100 };

    /// A custom limit (Enterprise), if sane: at least 1 per minute, burst 1 ..= per_minute.
    pub fn custom(per_minute: u32, burst: u32) -> Option<RateLimit> {
        (per_minute >= 1 && burst >= 1 && burst <= per_minute && per_minute <= 1_000_000)
            .then_some(RateLimit { per_minute, burst })
    }
}

/// The store's settings as its keys see them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StoreObject {
    pub id: String,
    pub name: String,
    pub plan: crate::Plan,
    pub currency: String,
    pub rate_limit: crate::RateLimit,
    /// Browser origins allowed on the storefront routes; empty allows any.
    pub allowed_origins: Vec<String>,
    /// Checkouts for buyers in these countries are refused (403).
    pub blocked_countries: Vec<String>,
    /// Checkouts from these addresses or CIDR ranges are refused (403).
    pub blocked_ips: Vec<String>,
    /// Unpaid orders of one product one buyer (a network: an IPv4 address or an IPv6 /64; or an
    /// email) may have at once; one more is refused (403). Default 3.
    pub max_open_orders_per_buyer: u32,
    /// Seconds a buyer whose order expired unpaid waits before ordering that product again (so
    /// a hold cannot be renewed back to back). Default 900; 0 turns it off.
    pub renewal_cooldown_seconds: u32,
    /// Signs dynamic-delivery requests of this mode to the seller's server (as webhooks are
    /// signed); each mode has its own. Shown to full-access keys only.
    pub delivery_secret: Option<String>,
    /// The store's time zone (an IANA name, `Europe/Paris`; default `UTC`): the days of
    /// `GET /stats` and the dashboard. Shared by both modes.
    pub time_zone: String,
    pub created_at: Timestamp,
}

/// `{"data": StoreObject}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StoreData {
    pub data: StoreObject,
}

/// `PATCH /store`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreSettings {
    /// The store's name, shared by both modes: live keys only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    /// The store's time zone, an IANA name (`America/New_York`, `UTC`), shared by both modes:
    /// live keys only. Days of `GET /stats` begin at its midnight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 64)]
    pub time_zone: Option<String>,
    /// Up to 20 origins (`https://shop.example.com`); `[]` allows any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 20)]
    pub allowed_origins: Option<Vec<String>>,
    /// Up to 250 country codes (ISO 3166-1 alpha-2) whose buyers cannot check out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 250)]
    pub blocked_countries: Option<Vec<String>>,
    /// Up to 500 IP addresses or CIDR ranges that cannot check out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 500)]
    pub blocked_ips: Option<Vec<String>>,
    /// 1 to 10000 unpaid orders of one product per buyer (network or email) at once; raise it
    /// when the store's own servers check out for many buyers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 10000)]
    pub max_open_orders_per_buyer: Option<u32>,
    /// 0 to 86400 seconds a buyer whose order expired unpaid waits before ordering that
    /// product again; 0 when the store's own servers check out for many buyers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 86400)]
    pub renewal_cooldown_seconds: Option<u32>,
    /// `true` replaces the delivery secret (answered once in this response).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotate_delivery_secret: Option<bool>,
}
