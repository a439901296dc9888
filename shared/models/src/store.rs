//! Stores: a seller's store, its plan, and each mode's settings (storefront origins, blocked
//! countries and networks, the reservation policy, the delivery secret).

use crate::apikey::Mode;
use crate::error::ValidationError;
use crate::id;
use crate::request::{self, Body};
use crate::time::Timestamp;
use crate::wire::StoreSettings;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use sellvy_wire::Plan;

/// A store: the tenant that owns keys and data. Its name, plan, currency and limit are the
/// store's; its storefront and checkout settings and its delivery secret are per mode, so a
/// test key works on a sandboxed copy and never reads or changes live settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(from = "StoredStore")]
pub struct Store {
    pub id: crate::id::StoreId,
    pub name: String,
    pub plan: Plan,
    /// The store's currency (ISO 4217): fixed coupons and order minimums are in it.
    pub currency: String,
    /// The rate limit in force (the plan's, or the store's own on Enterprise).
    pub rate_limit: crate::RateLimit,
    pub live: ModeSettings,
    pub test: ModeSettings,
    /// An IANA time zone name (checked when set); `UTC` by default.
    pub time_zone: String,
    pub created_at: Timestamp,
}

/// The time zone of stores that never chose one.
pub const DEFAULT_TIME_ZONE: &str = "UTC";

/// An IANA time zone (from the bundled database), or `None` for a name it does not know.
pub fn time_zone(name: &str) -> Option<jiff::tz::TimeZone> {
    jiff::tz::TimeZone::get(name).ok()
}

/// What each mode of a store sets for itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModeSettings {
    /// Browser origins allowed to call the storefront routes; empty allows any.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// Checkouts from these countries (ISO 3166-1 alpha-2, the buyer's `customer.country`)
    /// are refused with 403.
    #[serde(default)]
    pub blocked_countries: Vec<String>,
    /// Checkouts from these client addresses (IPs or CIDR ranges) are refused with 403.
    #[serde(default)]
    pub blocked_ips: Vec<String>,
    /// Signs what Sellvy sends to the seller's own servers outside webhooks (dynamic delivery):
    /// `X-Sellvy-Signature` = HMAC-SHA256 of the body with it, as webhooks are signed. Each mode
    /// has its own; empty until `rotate_delivery_secret` for a mode that never had one.
    #[serde(default)]
    pub delivery_secret: String,
    /// Unpaid orders of one product one buyer (network or email) may have at once
    /// ([`crate::hold`]); `None`: [`crate::hold::DEFAULT_OPEN_ORDERS_PER_BUYER`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_open_orders_per_buyer: Option<u32>,
    /// How long a buyer whose order expired unpaid waits to order that product again;
    /// `None`: [`crate::hold::DEFAULT_RENEWAL_COOLDOWN_SECS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewal_cooldown_seconds: Option<u32>,
}

/// A store as stored: today's per-mode settings, or (for a store written before they were per
/// mode) the settings both modes shared, which become the live settings, with a test copy that
/// has no delivery secret of its own yet (secrets are never copied).
#[derive(Deserialize)]
struct StoredStore {
    id: crate::id::StoreId,
    name: String,
    plan: Plan,
    #[serde(default = "default_currency")]
    currency: String,
    #[serde(default = "free_limit")]
    rate_limit: crate::RateLimit,
    #[serde(default)]
    live: Option<ModeSettings>,
    #[serde(default)]
    test: Option<ModeSettings>,
    #[serde(default)]
    allowed_origins: Vec<String>,
    #[serde(default)]
    blocked_countries: Vec<String>,
    #[serde(default)]
    blocked_ips: Vec<String>,
    #[serde(default)]
    delivery_secret: String,
    #[serde(default)]
    time_zone: Option<String>,
    created_at: Timestamp,
}

impl From<StoredStore> for Store {
    fn from(s: StoredStore) -> Store {
        let shared = ModeSettings {
            allowed_origins: s.allowed_origins,
            blocked_countries: s.blocked_countries,
            blocked_ips: s.blocked_ips,
            delivery_secret: String::new(),
            max_open_orders_per_buyer: None,
            renewal_cooldown_seconds: None,
        };
        let live =
            s.live.unwrap_or_else(|| ModeSettings { delivery_secret: s.delivery_secret, ..shared.clone() });
        let test = s.test.unwrap_or(shared);
        Store {
            id: s.id,
            name: s.name,
            plan: s.plan,
            currency: s.currency,
            rate_limit: s.rate_limit,
            live,
            test,
            time_zone: s.time_zone.unwrap_or_else(|| DEFAULT_TIME_ZONE.into()),
            created_at: s.created_at,
        }
    }
}

/// A new delivery secret: `whsec_` + 40 base62 characters, the form Standard Webhooks libraries
/// take (secrets made before were `dsec_…`; they sign the same way).
pub fn new_delivery_secret() -> String {
    format!("whsec_{}", id::random_base62(40))
}

/// An IP address or a CIDR range, as the store's blacklist holds it.
fn parse_ip_rule(rule: &str) -> Option<(std::net::IpAddr, u8)> {
    let (ip, bits) = match rule.trim().split_once('/') {
        Some((ip, bits)) => (ip.parse::<std::net::IpAddr>().ok()?, bits.parse::<u8>().ok()?),
        None => {
            let ip = rule.trim().parse::<std::net::IpAddr>().ok()?;
            (ip, if ip.is_ipv4() { 32 } else { 128 })
        }
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some((ip, bits))
}

fn ip_in(ip: std::net::IpAddr, rule: &str) -> bool {
    use std::net::IpAddr;
    let Some((net, bits)) = parse_ip_rule(rule) else { return false };
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            (u32::from(a) & mask) == (u32::from(b) & mask)
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            (u128::from(a) & mask) == (u128::from(b) & mask)
        }
        _ => false,
    }
}

pub(crate) fn free_limit() -> crate::RateLimit {
    crate::RateLimit::FREE
}

fn default_currency() -> String {
    "USD".into()
}

impl Store {
    pub fn new(name: &str, plan: Plan, currency: crate::Currency, rate_limit: crate::RateLimit) -> Store {
        let fresh = || ModeSettings { delivery_secret: new_delivery_secret(), ..ModeSettings::default() };
        Store {
            id: crate::id::StoreId::new(),
            name: name.to_string(),
            plan,
            currency: currency.code().to_string(),
            rate_limit,
            live: fresh(),
            test: fresh(),
            time_zone: DEFAULT_TIME_ZONE.into(),
            created_at: Timestamp::now(),
        }
    }

    /// The settings of one mode.
    pub fn settings(&self, mode: Mode) -> &ModeSettings {
        match mode {
            Mode::Live => &self.live,
            Mode::Test => &self.test,
        }
    }

    /// Applies a `PATCH /store` body sent with a key of `mode`: `name` and `time_zone` (live
    /// keys only: the store's own), and that mode's `allowed_origins`, `blocked_countries`, `blocked_ips`,
    /// `max_open_orders_per_buyer`, `renewal_cooldown_seconds`, `rotate_delivery_secret`. The rest is the operator's.
    pub fn apply_settings(&self, mode: Mode, body: Value) -> Result<Store, ValidationError> {
        let Body { fields: f, mut errors } = request::read::<StoreSettings, StoreSettings>(body)?;
        let e = &mut errors;
        let name = request::required_text(e, "name", f.name);
        if name.is_some() && mode == Mode::Test {
            e.add("name", "is the store's own, shared by both modes: change it with a live key");
        }
        let zone = request::required_text(e, "time_zone", f.time_zone);
        if let Some(z) = &zone {
            if mode == Mode::Test {
                e.add("time_zone", "is the store's own, shared by both modes: change it with a live key");
            } else if time_zone(z).is_none() {
                e.add("time_zone", "must be an IANA time zone name (UTC, Europe/Paris, America/New_York)");
            }
        }
        let origins = f.allowed_origins;
        let countries: Option<Vec<String>> =
            f.blocked_countries.map(|c| c.iter().map(|c| c.trim().to_ascii_uppercase()).collect());
        for (n, c) in countries.iter().flatten().enumerate() {
            if !(c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic())) {
                e.add(
                    format!("blocked_countries[{n}]"),
                    "must be a country code (ISO 3166-1 alpha-2, e.g. FR)",
                );
            }
        }
        let ips: Option<Vec<String>> =
            f.blocked_ips.map(|l| l.iter().map(|r| r.trim().to_string()).collect());
        for (n, rule) in ips.iter().flatten().enumerate() {
            if parse_ip_rule(rule).is_none() {
                e.add(
                    format!("blocked_ips[{n}]"),
                    "must be an IP address or a CIDR range (203.0.113.7, 203.0.113.0/24, 2001:db8::/32)",
                );
            }
        }
        let max_open = f.max_open_orders_per_buyer;
        let cooldown = f.renewal_cooldown_seconds;
        let rotate = f.rotate_delivery_secret.unwrap_or(false);
        let mut normalized = Vec::new();
        for (n, o) in origins.iter().flatten().enumerate() {
            match normalize_origin(o.trim()) {
                Some(o) => normalized.push(o),
                None => e.add(
                    format!("allowed_origins[{n}]"),
                    "must be an origin: http(s)://host[:port], with no path (e.g. https://shop.example.com)",
                ),
            }
        }
        errors.finish()?;
        let mut store = self.clone();
        if let Some(name) = name {
            store.name = name;
        }
        if let Some(zone) = zone.and_then(|z| time_zone(&z)).and_then(|z| z.iana_name().map(str::to_string)) {
            store.time_zone = zone;
        }
        let settings = match mode {
            Mode::Live => &mut store.live,
            Mode::Test => &mut store.test,
        };
        if origins.is_some() {
            settings.allowed_origins = normalized;
        }
        if let Some(c) = countries {
            settings.blocked_countries = c;
        }
        if let Some(ips) = ips {
            settings.blocked_ips = ips;
        }
        if let Some(max) = max_open {
            settings.max_open_orders_per_buyer = Some(max);
        }
        if let Some(secs) = cooldown {
            settings.renewal_cooldown_seconds = Some(secs);
        }
        if rotate {
            settings.delivery_secret = new_delivery_secret();
        }
        Ok(store)
    }

    pub fn currency(&self) -> crate::Currency {
        crate::Currency::parse(&self.currency).unwrap_or(crate::Currency::USD)
    }

    /// The store as a key of `mode` sees it: that mode's settings; the delivery secret only when
    /// `with_secret` (full-access keys).
    pub fn to_object(&self, mode: Mode, with_secret: bool) -> crate::wire::StoreObject {
        let settings = self.settings(mode);
        crate::wire::StoreObject {
            id: self.id.to_string(),
            name: self.name.clone(),
            plan: self.plan,
            currency: self.currency.clone(),
            rate_limit: self.rate_limit,
            allowed_origins: settings.allowed_origins.clone(),
            blocked_countries: settings.blocked_countries.clone(),
            blocked_ips: settings.blocked_ips.clone(),
            max_open_orders_per_buyer: settings.open_orders_per_buyer(),
            renewal_cooldown_seconds: settings.renewal_cooldown(),
            delivery_secret: with_secret.then(|| settings.delivery_secret.clone()),
            time_zone: self.time_zone.clone(),
            created_at: self.created_at,
        }
    }
}

impl ModeSettings {
    /// Unpaid orders of one product one buyer may have at once.
    pub fn open_orders_per_buyer(&self) -> u32 {
        self.max_open_orders_per_buyer.unwrap_or(crate::hold::DEFAULT_OPEN_ORDERS_PER_BUYER)
    }

    /// How long a buyer whose order expired unpaid waits to order that product again.
    pub fn renewal_cooldown(&self) -> u32 {
        self.renewal_cooldown_seconds.unwrap_or(crate::hold::DEFAULT_RENEWAL_COOLDOWN_SECS)
    }

    /// Why this mode refuses a checkout from `client` (an address) buying for `country`.
    pub fn refuses(&self, client: &str, country: Option<&str>) -> Option<String> {
        if let Some(c) = country
            && self.blocked_countries.iter().any(|b| b.eq_ignore_ascii_case(c))
        {
            return Some(format!("This store does not sell to {}", c.to_uppercase()));
        }
        let ip = client.parse::<std::net::IpAddr>().ok()?;
        self.blocked_ips
            .iter()
            .any(|rule| ip_in(ip, rule))
            .then(|| "This store does not accept orders from your network".to_string())
    }

    /// Whether a browser at `origin` may call the storefront.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.allowed_origins.is_empty()
            || normalize_origin(origin).is_some_and(|o| self.allowed_origins.contains(&o))
    }
}

/// `https://Shop.Example.com:443` → `https://shop.example.com`; `None` when it is not an origin.
fn normalize_origin(o: &str) -> Option<String> {
    let (scheme, rest) = o.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let host = rest.strip_suffix('/').unwrap_or(rest).to_ascii_lowercase();
    let valid = !host.is_empty()
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    if !valid {
        return None;
    }
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let host = host.strip_suffix(default_port).unwrap_or(&host).to_string();
    Some(format!("{scheme}://{host}"))
}

#[cfg(test)]
mod store_tests {
    use super::*;

    fn store() -> Store {
        Store::new("S", Plan::Free, crate::Currency::USD, crate::RateLimit::FREE)
    }

    #[test]
    fn origins_are_normalized_and_checked() {
        let store = store();
        assert!(store.test.allows_origin("https://anything.example"), "empty allows any");
        let s = store
            .apply_settings(
                Mode::Test,
                serde_json::json!({"allowed_origins": ["https://Shop.Example.com:443/", "http://localhost:5173"]}),
            )
            .unwrap();
        assert_eq!(s.test.allowed_origins, ["https://shop.example.com", "http://localhost:5173"]);
        assert!(s.test.allows_origin("https://shop.example.com"));
        assert!(!s.test.allows_origin("https://evil.example"));
        let e = store
            .apply_settings(
                Mode::Test,
                serde_json::json!({"allowed_origins": ["https://x.example/path", "*"], "plan": "pro"}),
            )
            .unwrap_err();
        let fields: Vec<_> = e.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["allowed_origins[0]", "allowed_origins[1]", "plan"]);
    }

    #[test]
    fn blocked_countries_and_networks_refuse_checkouts() {
        let store = store();
        assert_eq!(store.live.refuses("203.0.113.7", Some("FR")), None);
        let s = store
            .apply_settings(Mode::Live, serde_json::json!({"blocked_countries": ["kp"], "blocked_ips": ["203.0.113.0/24", "2001:db8::/32", "198.51.100.9"]}))
            .unwrap();
        let live = &s.live;
        assert_eq!(live.blocked_countries, ["KP"]);
        assert!(live.refuses("1.2.3.4", Some("KP")).is_some());
        assert!(live.refuses("203.0.113.200", None).is_some());
        assert!(live.refuses("::ffff:203.0.113.5", None).is_some(), "IPv4-mapped addresses match v4 ranges");
        assert!(live.refuses("2001:db8:1::5", None).is_some());
        assert!(live.refuses("198.51.100.9", Some("FR")).is_some());
        assert_eq!(live.refuses("198.51.100.10", Some("FR")), None);
        assert_eq!(live.refuses("203.0.114.1", Some("US")), None);
        assert_eq!(s.test.refuses("203.0.113.200", Some("KP")), None, "the live blocklist is live's alone");
        let e = store.apply_settings(Mode::Live, serde_json::json!({"blocked_countries": ["FRA"], "blocked_ips": ["300.1.1.1", "10.0.0.0/33"]})).unwrap_err();
        let fields: Vec<_> = e.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["blocked_countries[0]", "blocked_ips[0]", "blocked_ips[1]"]);
    }

    #[test]
    fn each_mode_has_its_own_settings_and_secret_and_only_live_keys_rename_the_store() {
        let store = store();
        assert!(
            store.live.delivery_secret.starts_with("whsec_")
                && store.test.delivery_secret.starts_with("whsec_")
        );
        assert_ne!(store.live.delivery_secret, store.test.delivery_secret, "secrets are never shared");
        let rotated =
            store.apply_settings(Mode::Test, serde_json::json!({"rotate_delivery_secret": true})).unwrap();
        assert_ne!(rotated.test.delivery_secret, store.test.delivery_secret);
        assert_eq!(rotated.live, store.live, "a test key never touches live settings");
        let e = store.apply_settings(Mode::Test, serde_json::json!({"name": "Mine now"})).unwrap_err();
        assert_eq!(e.errors[0].field, "name");
        assert_eq!(store.apply_settings(Mode::Live, serde_json::json!({"name": "New"})).unwrap().name, "New");
        let shown = store.to_object(Mode::Test, false);
        assert_eq!(shown.delivery_secret, None);
        assert_eq!(
            store.to_object(Mode::Live, true).delivery_secret.as_deref(),
            Some(store.live.delivery_secret.as_str())
        );
    }

    #[test]
    fn a_store_written_before_settings_were_per_mode_reads_as_live_with_a_test_copy_and_no_test_secret() {
        let old = serde_json::json!({
            "id": "store_1", "name": "Old", "plan": "pro", "currency": "EUR",
            "rate_limit": {"per_minute": 300, "burst": 50},
            "allowed_origins": ["https://shop.example.com"], "blocked_countries": ["KP"],
            "blocked_ips": ["203.0.113.0/24"], "delivery_secret": "dsec_old",
            "created_at": "2026-11-01T00:00:00Z"
        });
        let s: Store = serde_json::from_value(old).unwrap();
        assert_eq!(s.live.delivery_secret, "dsec_old");
        assert_eq!(s.live.allowed_origins, ["https://shop.example.com"]);
        assert_eq!(
            (s.test.allowed_origins.clone(), s.test.blocked_countries.clone()),
            (s.live.allowed_origins.clone(), s.live.blocked_countries.clone())
        );
        assert_eq!(s.test.delivery_secret, "", "secrets are never copied");
        // Written back, it round-trips as per-mode settings.
        let again: Store = serde_json::from_value(serde_json::to_value(&s).unwrap()).unwrap();
        assert_eq!((again.live, again.test), (s.live, s.test));
    }
}
