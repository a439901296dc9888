//! Scalars (amounts, stock levels), the envelope and errors.

use crate::prelude::*;

/// A decimal amount as the seed shows it: `29.99`, `5` (whole amounts print without `.0`).
/// Held as `f64` on the wire side only; the server keeps integer minor units.
#[derive(Debug, Clone, Copy, Default, PartialEq, PartialOrd)]
pub struct Amount(pub f64);

impl Amount {
    /// `minor` units of a currency with `exponent` decimals: 2999 with 2 is 29.99. Dividing two
    /// exactly representable numbers rounds once, to the double nearest the decimal.
    pub fn from_minor(minor: i64, exponent: u32) -> Amount {
        Amount(minor as f64 / 10i64.pow(exponent) as f64)
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.fract() == 0.0 && self.0.abs() < 9.0e15 {
            s.serialize_i64(self.0 as i64)
        } else {
            s.serialize_f64(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) => {
                n.as_f64().map(Amount).ok_or_else(|| serde::de::Error::custom("not a number"))
            }
            Value::String(s) => s.trim().parse().map(Amount).map_err(serde::de::Error::custom),
            _ => Err(serde::de::Error::custom("expected a number")),
        }
    }
}

impl PartialSchema for Amount {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Number)
            .description(Some("A decimal amount (`29.99`); at most the currency's decimals"))
            .into()
    }
}
impl ToSchema for Amount {}

/// An amount as a client sends it: a JSON number (`29.99`) or a string holding one
/// (`"29.99"`), kept as the exact decimal text so the server reads it without rounding. The
/// currency's decimals, the sign and the range are the domain's to check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decimal(pub String);

impl From<f64> for Decimal {
    fn from(f: f64) -> Decimal {
        Decimal(serde_json::to_string(&Amount(f)).unwrap_or_default())
    }
}

impl From<&str> for Decimal {
    fn from(s: &str) -> Decimal {
        Decimal(s.to_string())
    }
}

impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match serde_json::from_str::<serde_json::Number>(&self.0) {
            Ok(n) => n.serialize(s),
            Err(_) => s.serialize_str(&self.0),
        }
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            // serde_json prints a number in its shortest round-trip form: 29.99 -> "29.99".
            Value::Number(n) => Ok(Decimal(n.to_string())),
            Value::String(s) => Ok(Decimal(s.trim().to_string())),
            _ => Err(serde::de::Error::custom("expected a number or a numeric string")),
        }
    }
}

impl PartialSchema for Decimal {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::SchemaType::from_iter([Type::Number, Type::String]))
            .description(Some(
                "A decimal amount: a number (`29.99`) or a string holding one (`\"29.99\"`); at most the currency's decimals",
            ))
            .into()
    }
}
impl ToSchema for Decimal {}

impl PartialSchema for Timestamp {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some("RFC 3339, UTC"))
            .into()
    }
}
impl ToSchema for Timestamp {}

/// Current stock: a count, or `"∞"` (unlimited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockLevel {
    Count(u64),
    Unlimited,
}

impl Serialize for StockLevel {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            StockLevel::Count(n) => s.serialize_u64(*n),
            StockLevel::Unlimited => s.serialize_str("∞"),
        }
    }
}

impl<'de> Deserialize<'de> for StockLevel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) => {
                n.as_u64().map(StockLevel::Count).ok_or_else(|| serde::de::Error::custom("bad stock"))
            }
            Value::String(s) if s == "∞" => Ok(StockLevel::Unlimited),
            _ => Err(serde::de::Error::custom("stock is a count or \"∞\"")),
        }
    }
}

impl PartialSchema for StockLevel {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0)))
            .item(ObjectBuilder::new().schema_type(Type::String).enum_values(Some(["∞"])))
            .description(Some("A count, or \"∞\" when unlimited"))
            .into()
    }
}
impl ToSchema for StockLevel {}

/// `meta` of every list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PageMeta {
    pub page: u32,
    pub per_page: u32,
    /// Items in the whole (filtered) list.
    pub total: u64,
}

/// One field a 422 is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FieldIssue {
    pub field: String,
    pub message: String,
}

/// The error object of every error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorObject {
    /// `unauthorized`, `forbidden`, `not_found`, `method_not_allowed`, `idempotency_key_in_use`,
    /// `payload_too_large`, `validation_error`, `rate_limited` or `internal_error`.
    pub code: String,
    pub message: String,
    pub status: u16,
    /// Validation errors: the first field named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Validation errors: every field, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldIssue>>,
}

/// `{"error": {...}}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorObject,
}

envelopes!(ProductData, ProductList, ProductObject);
envelopes!(CategoryData, CategoryList, CategoryObject);
envelopes!(CouponData, CouponList, CouponObject);
envelopes!(ApiKeyData, ApiKeyList, ApiKeyObject);

/// `{"data": {...the key, with its secret}}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CreatedApiKeyData {
    pub data: CreatedApiKey,
}

/// Pagination of every list.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page number, from 1.
    #[param(minimum = 1)]
    pub page: Option<u32>,
    /// Items per page, 1 to 100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
}

/// A word of the contract's vocabulary (an enum's wire name, or an alias it accepts, such as a
/// product type's `file`), read by the enum's own serde rules: nothing is listed twice.
pub fn parse_word<T: serde::de::DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(Value::String(s.to_string())).ok()
}

/// The words a vocabulary enum takes, as its OpenAPI schema lists them: `"a, b, c"`, for the
/// "must be one of …" of a 422.
pub fn words<T: PartialSchema>() -> String {
    let schema = serde_json::to_value(T::schema()).unwrap_or_default();
    let listed = schema["enum"].as_array().cloned().unwrap_or_default();
    listed.iter().filter_map(|w| w.as_str()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod vocabulary_tests {
    use super::*;

    #[test]
    fn words_come_from_the_enums_themselves() {
        assert_eq!(words::<crate::Permission>(), "read, write, full");
        assert_eq!(words::<crate::ProductType>(), "digital_download, serials, dynamic, service");
        assert_eq!(parse_word::<crate::ProductType>("file"), Some(crate::ProductType::DigitalDownload));
        assert_eq!(parse_word::<crate::EventType>("order.created"), Some(crate::EventType::OrderCreated));
        assert_eq!(parse_word::<crate::Plan>("gold"), None);
    }

    #[test]
    fn delivery_statuses_are_named_as_serialized() {
        for s in crate::WebhookDeliveryStatus::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(
            crate::WebhookDeliveryStatus::ALL.len(),
            words::<crate::WebhookDeliveryStatus>().split(", ").count()
        );
    }
}
