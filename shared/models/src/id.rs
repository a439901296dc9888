//! Prefixed, unguessable, time-sortable ids: `prod_` + 9 base62 chars of milliseconds since the
//! epoch + 17 base62 chars of 96 random bits. Fixed width in an ASCII-ordered alphabet, so the
//! string order is the creation order (they serve as DynamoDB sort keys).

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const TIME_CHARS: usize = 9;
const RANDOM_CHARS: usize = 17;
pub const ID_BODY_LEN: usize = TIME_CHARS + RANDOM_CHARS;

fn push_base62(out: &mut String, mut n: u128, width: usize) {
    let mut buf = vec![b'0'; width];
    for slot in buf.iter_mut().rev() {
        *slot = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    out.push_str(std::str::from_utf8(&buf).expect("alphabet is ASCII"));
}

/// `n` bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).expect("the OS random source is available");
    b
}

/// `len` random base62 characters (each carries log2(62) = 5.95 bits).
pub fn random_base62(len: usize) -> String {
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in random_bytes::<64>() {
            // 248 = 4 * 62: rejecting 248..=255 keeps every character equally likely.
            if b < 248 && out.len() < len {
                out.push(ALPHABET[(b % 62) as usize] as char);
            }
        }
    }
    out
}

/// A new id with the given prefix (which includes the underscore, e.g. `"prod_"`).
pub fn new_id(prefix: &str) -> String {
    let ms = crate::time::Timestamp::now().millis().max(0) as u128;
    let mut r = [0u8; 16];
    r[4..].copy_from_slice(&random_bytes::<12>());
    let mut out = String::with_capacity(prefix.len() + ID_BODY_LEN);
    out.push_str(prefix);
    push_base62(&mut out, ms, TIME_CHARS);
    push_base62(&mut out, u128::from_be_bytes(r), RANDOM_CHARS);
    out
}

/// An id derived from `seed` (itself unguessable, e.g. other ids), time-sortable by `ms`: the
/// same inputs always give the same id, which makes a repeated write find what the first made.
pub fn derived_id(prefix: &str, ms: i64, seed: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(seed);
    let mut r = [0u8; 16];
    r[4..].copy_from_slice(&digest[..12]);
    let mut out = String::with_capacity(prefix.len() + ID_BODY_LEN);
    out.push_str(prefix);
    push_base62(&mut out, ms.max(0) as u128, TIME_CHARS);
    push_base62(&mut out, u128::from_be_bytes(r), RANDOM_CHARS);
    out
}

/// Whether `s` has the shape of an id with this prefix. Cheap check before any lookup, so a
/// malformed id answers 404 without touching the database.
pub fn looks_like(prefix: &str, s: &str) -> bool {
    s.strip_prefix(prefix)
        .is_some_and(|b| b.len() == ID_BODY_LEN && b.bytes().all(|c| c.is_ascii_alphanumeric()))
}

/// An id whose prefix its type knows: made with [`TypedId::new`], read from a request with
/// [`TypedId::parse`] (the shape is checked, nothing is looked up), and otherwise used as the
/// string it is (it derefs to `str`, serializes as one, and compares with one).
pub trait TypedId: Sized {
    /// `prod_`, `ord_`, …
    const PREFIX: &'static str;
    /// What it names, for messages ("Product not found").
    const NOUN: &'static str;
    #[doc(hidden)]
    fn from_checked(s: String) -> Self;

    /// A new, unguessable, time-sortable id.
    fn new() -> Self {
        Self::from_checked(new_id(Self::PREFIX))
    }

    /// `s` when it has this id's shape (prefix and 26 base62 characters).
    fn parse(s: &str) -> Option<Self> {
        looks_like(Self::PREFIX, s).then(|| Self::from_checked(s.to_string()))
    }
}

macro_rules! typed_ids {
    ($($(#[$doc:meta])* $name:ident = $prefix:literal, $noun:literal;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl TypedId for $name {
            const PREFIX: &'static str = $prefix;
            const NOUN: &'static str = $noun;
            fn from_checked(s: String) -> Self {
                $name(s)
            }
        }

        #[allow(clippy::new_without_default)]
        impl $name {
            /// A new, unguessable, time-sortable id.
            pub fn new() -> Self {
                <Self as TypedId>::new()
            }

            /// `s` when it has this id's shape.
            pub fn parse(s: &str) -> Option<Self> {
                <Self as TypedId>::parse(s)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(&self.0, f)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                self == other.0
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl From<&$name> for String {
            fn from(id: &$name) -> String {
                id.0.clone()
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description(Some(concat!("`", $prefix, "…`")))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    )*};
}

typed_ids! {
    /// A store (`store_…`), shared by its two modes.
    StoreId = "store_", "Store";
    /// An API key's public id (`key_…`); the key itself is its secret.
    ApiKeyId = "key_", "API key";
    ProductId = "prod_", "Product";
    /// A variant of a product (`var_…`), unique within it.
    VariantId = "var_", "Variant";
    CategoryId = "cat_", "Category";
    CouponId = "cpn_", "Coupon";
    OrderId = "ord_", "Order";
    CustomerId = "cus_", "Customer";
    /// A buyer's review of a completed order (`rev_…`), one per order.
    ReviewId = "rev_", "Review";
    /// A subscription (`sub_…`), derived from the order that started it.
    SubscriptionId = "sub_", "Subscription";
    EventId = "evt_", "Event";
    /// A webhook endpoint (`we_…`).
    EndpointId = "we_", "Webhook endpoint";
    /// One event's delivery to one endpoint (`whd_…`), derived from both.
    WebhookDeliveryId = "whd_", "Webhook delivery";
    /// A person who signs in to the dashboard (`own_…`), owner of one or more stores.
    OwnerId = "own_", "Owner";
}

impl WebhookDeliveryId {
    /// The delivery of `event` to `endpoint`: the same pair always gives the same id.
    pub fn of(event: &EventId, endpoint: &EndpointId, event_ms: i64) -> WebhookDeliveryId {
        let seed = format!("{event}|{endpoint}");
        WebhookDeliveryId(derived_id(Self::PREFIX, event_ms, seed.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_prefixed_unique_and_time_ordered() {
        let a = new_id("prod_");
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = new_id("prod_");
        assert!(looks_like("prod_", &a) && looks_like("prod_", &b));
        assert!(a < b, "{a} should sort before {b}");
        assert!(!looks_like("cat_", &a));
        assert!(!looks_like("prod_", "prod_abc"));
        let many: std::collections::HashSet<_> = (0..1000).map(|_| new_id("x_")).collect();
        assert_eq!(many.len(), 1000);
    }

    #[test]
    fn typed_ids_know_their_prefix_and_read_as_strings() {
        let p = ProductId::new();
        assert!(p.starts_with("prod_") && p.len() == 5 + ID_BODY_LEN);
        assert_eq!(ProductId::parse(&p), Some(p.clone()));
        assert_eq!(ProductId::parse("prod_short"), None);
        assert_eq!(OrderId::parse(&p), None, "another kind's id is refused");
        assert_eq!(serde_json::to_value(&p).unwrap(), serde_json::Value::String(p.to_string()));
        let back: ProductId = serde_json::from_value(serde_json::json!(p.as_str())).unwrap();
        assert!(back == p && back == p.as_str());
        let (e, we) = (EventId::new(), EndpointId::new());
        assert_eq!(WebhookDeliveryId::of(&e, &we, 5), WebhookDeliveryId::of(&e, &we, 5));
        assert_ne!(WebhookDeliveryId::of(&e, &we, 5), WebhookDeliveryId::of(&e, &EndpointId::new(), 5));
    }

    #[test]
    fn random_base62_has_the_asked_length() {
        let s = random_base62(40);
        assert_eq!(s.len(), 40);
        assert!(s.bytes().all(|c| c.is_ascii_alphanumeric()));
    }
}
