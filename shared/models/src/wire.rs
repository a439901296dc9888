//! The API's wire types: exactly what requests and responses carry, with their OpenAPI
//! schemas. The server builds its responses from these types, the Rust SDK reads them back,
//! and the published OpenAPI document is generated from them, so the three cannot disagree.
//!
//! Requests are *parsed* by the field-by-field rules of each resource (for precise 422s); the
//! request types here describe those bodies for the document and let the SDK send them.

use crate::apikey::{Mode, Permission};
use crate::coupon::CouponType;
use crate::event::EventType;
use crate::product::{CustomField, ProductType};
use crate::time::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::{KnownFormat, RefOr};
use utoipa::{IntoParams, PartialSchema, ToSchema};

// ---------------------------------------------------------------- scalars

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

// ---------------------------------------------------------------- envelope and errors

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

/// Defines `{data: T}` and `{data: [T], meta}` envelopes for a wire type.
macro_rules! envelopes {
    ($one:ident, $many:ident, $t:ty) => {
        #[doc = concat!("`{\"data\": ", stringify!($t), "}`")]
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
        pub struct $one {
            pub data: $t,
        }

        #[doc = concat!("A page of ", stringify!($t), ", with `meta`")]
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
        pub struct $many {
            pub data: Vec<$t>,
            pub meta: PageMeta,
        }
    };
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

// ---------------------------------------------------------------- products

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VariantObject {
    pub id: String,
    pub title: String,
    pub price: Amount,
    pub stock: StockLevel,
    /// A serials product's variant holds its own serials (in `GET /products/{id}` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<String>,
}

/// The category a product is in (`GET /products/{id}` only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CategoryRef {
    pub id: String,
    pub name: String,
}

/// A product, with every field of the Sellvy and Selly product objects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProductObject {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub product_type: ProductType,
    pub price: Amount,
    pub currency: String,
    pub category_id: Option<String>,
    pub is_visible: bool,
    pub images: Vec<String>,
    pub file_url: Option<String>,
    pub stock: StockLevel,
    /// Serials, joined by `stock_delimiter` (type serials without variants), in
    /// `GET /products/{id}` and the answers of writes. Lists and `product.*` events carry
    /// `null`: serials are secrets, and a product may hold 2 MiB of them.
    pub info: Option<String>,
    pub stock_delimiter: String,
    pub stock_amount: Option<u64>,
    pub gateways: Vec<String>,
    pub minimum_quantity: u32,
    pub maximum_quantity: Option<u32>,
    pub custom: Vec<CustomField>,
    pub customer_details_required: bool,
    pub warranty: Option<String>,
    pub warranty_duration: Option<u64>,
    pub redirect_url: Option<String>,
    pub unlisted: bool,
    pub private: bool,
    pub hide_stock: bool,
    pub vpn_block: bool,
    pub dynamic_url: Option<String>,
    pub max_risk_level: u8,
    pub seller_note: Option<String>,
    pub low_stock_threshold: Option<u64>,
    pub variants: Vec<VariantObject>,
    pub total_sold: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The product's category (in `GET /products/{id}` when it has one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<CategoryRef>,
}

/// `POST /products/{id}/serials`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SerialsInput {
    /// The serials to add, split by the product's `stock_delimiter` (each at most 1,000
    /// characters).
    #[schema(min_length = 1, max_length = 1048576)]
    pub info: String,
    /// `var_…`: for a product sold in variants, the variant whose serials these are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_id: Option<String>,
}

/// A variant as sent: `id` to keep an existing one, none for a new one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VariantInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub title: String,
    pub price: Amount,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<String>,
}

/// The writable fields of a product, all optional (a PATCH body; `null` clears). Fields not
/// listed here are refused (422).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProductChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub product_type: Option<ProductType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Amount>,
    /// ISO 4217 (default USD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_visible: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_url: Option<String>,
    /// Serials (type serials), split by `stock_delimiter`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stock_delimiter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stock_amount: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateways: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_quantity: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_quantity: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<Vec<CustomField>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_details_required: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warranty: Option<String>,
    /// Seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warranty_duration: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unlisted: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hide_stock: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpn_block: Option<bool>,
    /// Required for type dynamic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dynamic_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(maximum = 100)]
    pub max_risk_level: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seller_note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low_stock_threshold: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variants: Option<Vec<VariantInput>>,
}

/// `POST /products`: `title`, `type` and `price` are required.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NewProduct {
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[serde(rename = "type")]
    pub product_type: ProductType,
    pub price: Amount,
    #[serde(flatten)]
    pub more: ProductChanges,
}

/// Query of `GET /products`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductListParams {
    /// Page number, from 1.
    #[param(minimum = 1)]
    pub page: Option<u32>,
    /// Items per page, 1 to 100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
    /// Case-insensitive substring of the title.
    pub search: Option<String>,
    /// Product type (`file` is accepted for digital_download).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub product_type: Option<ProductType>,
    pub category_id: Option<String>,
    pub visible: Option<bool>,
    /// created_at (default), price, title or total_sold.
    #[param(pattern = "^(created_at|price|title|total_sold)$")]
    pub sort: Option<String>,
    /// desc (default) or asc.
    #[param(pattern = "^(asc|desc)$")]
    pub order: Option<String>,
}

// ---------------------------------------------------------------- categories

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CategoryObject {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub product_count: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// `POST /categories` (and, all optional, `PATCH`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 5000)]
    pub description: Option<String>,
}

/// Query of `GET /categories`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CategoryListParams {
    #[param(minimum = 1)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
    /// asc (default: oldest first) or desc.
    #[param(pattern = "^(asc|desc)$")]
    pub order: Option<String>,
}

// ---------------------------------------------------------------- coupons

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CouponObject {
    pub id: String,
    pub code: String,
    #[serde(rename = "type")]
    pub kind: CouponType,
    pub value: Amount,
    pub currency: String,
    pub max_uses: Option<u64>,
    pub uses: u64,
    pub expires_at: Option<Timestamp>,
    pub min_order_amount: Option<Amount>,
    pub applies_to_products: Vec<String>,
    pub created_at: Timestamp,
}

/// `POST /coupons`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCoupon {
    #[schema(min_length = 1, max_length = 50, pattern = "^[A-Za-z0-9_-]+$")]
    pub code: String,
    #[serde(rename = "type")]
    pub kind: CouponType,
    pub value: Amount,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_uses: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_order_amount: Option<Amount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applies_to_products: Option<Vec<String>>,
}

// ---------------------------------------------------------------- API keys

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
    pub kind: crate::apikey::KeyKind,
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
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<crate::apikey::KeyKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Permission>,
}

// ---------------------------------------------------------------- the store

/// The store's settings as its keys see them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StoreObject {
    pub id: String,
    pub name: String,
    pub plan: crate::apikey::Plan,
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
    /// Up to 20 origins (`https://shop.example.com`); `[]` allows any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_origins: Option<Vec<String>>,
    /// Up to 250 country codes (ISO 3166-1 alpha-2) whose buyers cannot check out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_countries: Option<Vec<String>>,
    /// Up to 500 IP addresses or CIDR ranges that cannot check out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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

// ---------------------------------------------------------------- storefront

/// Stock as a storefront shows it: a count, `"∞"`, or, when the seller hides the count,
/// `"in stock"` / `"out of stock"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PublicStock {
    Count(u64),
    Label(String),
}

impl PartialSchema for PublicStock {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0)))
            .item(ObjectBuilder::new().schema_type(Type::String).enum_values(Some([
                "∞",
                "in stock",
                "out of stock",
            ])))
            .into()
    }
}
impl ToSchema for PublicStock {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PublicVariant {
    pub id: String,
    pub title: String,
    pub price: Amount,
    pub stock: PublicStock,
}

/// A product as buyers see it: never its serials, file, dynamic URL or the seller's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PublicProduct {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub product_type: ProductType,
    pub price: Amount,
    pub currency: String,
    pub category_id: Option<String>,
    pub images: Vec<String>,
    pub stock: PublicStock,
    pub gateways: Vec<String>,
    pub minimum_quantity: u32,
    pub maximum_quantity: Option<u32>,
    pub custom: Vec<CustomField>,
    pub customer_details_required: bool,
    pub warranty: Option<String>,
    pub warranty_duration: Option<u64>,
    pub variants: Vec<PublicVariant>,
}

/// A category as buyers see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PublicCategory {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
}

envelopes!(PublicProductData, PublicProductList, PublicProduct);

/// A page of categories for the storefront.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PublicCategoryList {
    pub data: Vec<PublicCategory>,
    pub meta: PageMeta,
}

/// Query of `GET /storefront/products`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublicProductParams {
    #[param(minimum = 1)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
    /// Case-insensitive substring of the title.
    pub search: Option<String>,
    pub category_id: Option<String>,
}

// ---------------------------------------------------------------- orders

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OrderProduct {
    pub id: String,
    pub title: String,
}

/// An order, as its seller, its buyer and its webhook events see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OrderObject {
    pub id: String,
    /// `ORD-<n>`, unique per store and mode.
    pub order_number: String,
    pub status: crate::order::OrderStatus,
    pub payment_status: crate::order::PaymentStatus,
    pub customer_email: String,
    pub product: OrderProduct,
    pub quantity: u32,
    pub subtotal: Amount,
    pub discount: Amount,
    pub total: Amount,
    pub currency: String,
    /// The gateway (`stripe`, …).
    pub payment_method: String,
    /// The coupon code used.
    pub coupon: Option<String>,
    pub custom_fields: serde_json::Map<String, Value>,
    pub customer: Option<crate::order::CustomerDetails>,
    /// 0 (no risk) to 100.
    pub fraud_score: u8,
    /// Refunded so far.
    pub refunded: Amount,
    pub refund_reason: Option<String>,
    /// The buyer's customer record, once paid.
    pub customer_id: Option<String>,
    pub delivery: OrderDelivery,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// An unpaid order expires then, giving its stock back.
    pub pay_by: Timestamp,
    /// The variant bought, if the product has variants.
    pub variant: Option<OrderVariant>,
    /// The gateway's payment reference once paid (`pi_…` for Stripe, `sandbox` in test mode).
    pub payment_id: Option<String>,
    /// Why the last payment attempt failed, while the order can still be paid.
    pub payment_error: Option<String>,
    /// A chargeback opened on this order.
    pub dispute: Option<crate::order::Dispute>,
}

/// An order's goods. Lists (`GET /orders`) leave the goods themselves out (`items` and
/// `content` are absent there, `item_count` says how many serials): `GET /orders/{id}`, the
/// storefront's order and the order events carry them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrderDelivery {
    pub status: crate::order::GoodsStatus,
    /// Serials handed out (absent in lists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<String>>,
    /// How many serials were handed out.
    pub item_count: u64,
    /// The seller's note (services).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Digital downloads: the expiring, download-capped link (a path under the API's base URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_url: Option<String>,
    /// Dynamic goods: what the seller's `dynamic_url` answered (absent in lists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Why the last delivery failed (dynamic goods); `POST /v1/orders/{id}/redeliver` tries again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Dynamic goods: the calls made to the seller's `dynamic_url` so far (absent for other
    /// goods).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
    /// Dynamic goods: when Sellvy calls the `dynamic_url` again by itself; absent once it no
    /// longer will (delivered, or every automatic retry failed: redeliver by hand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<Timestamp>,
}

/// The variant an order bought.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrderVariant {
    pub id: String,
    pub title: String,
}

envelopes!(OrderData, OrderList, OrderObject);

/// What the storefront client needs to pay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PaymentInstructions {
    pub gateway: String,
    /// Test mode: pay (or fail) with `POST /v1/storefront/orders/{id}/sandbox_payment`.
    pub sandbox: bool,
    /// Live Stripe payments: the PaymentIntent to confirm with Stripe.js
    /// (`stripe.confirmPayment({clientSecret})`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stripe: Option<StripePayment>,
}

/// A Stripe PaymentIntent the storefront confirms in the browser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StripePayment {
    /// `pi_…`
    pub payment_intent: String,
    /// Give it to Stripe.js only; it lets the buyer pay this one order.
    pub client_secret: String,
    /// The Stripe publishable key to initialise Stripe.js with, when the deployment sets one.
    pub publishable_key: Option<String>,
}

/// What Sellvy did with a payment gateway's callback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GatewayCallback {
    /// The gateway's event type (`payment_intent.succeeded`, …).
    pub event: String,
    /// `paid`, `already recorded`, `ignored`, …
    pub outcome: String,
}

/// `{"data": GatewayCallback}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GatewayCallbackData {
    pub data: GatewayCallback,
}

/// A new order, its access token (shown only now) and how to pay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CheckoutObject {
    pub order: OrderObject,
    /// Send it as `X-Order-Token` (or `?token=`) to read the order.
    pub access_token: String,
    pub payment: PaymentInstructions,
}

/// `{"data": CheckoutObject}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CheckoutData {
    pub data: CheckoutObject,
}

/// `POST /storefront/checkout`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckoutInput {
    pub product_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_id: Option<String>,
    #[schema(minimum = 1)]
    pub quantity: u32,
    pub email: String,
    /// A gateway the product enables (today: stripe).
    pub gateway: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coupon: Option<String>,
    /// `{field name: value}` for the product's custom fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_fields: Option<serde_json::Map<String, Value>>,
    /// `{name, address, country}` when the product requires customer details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<serde_json::Map<String, Value>>,
}

/// `POST /storefront/orders/{id}/sandbox_payment` (test mode).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SandboxPaymentInput {
    /// `succeeded` or `failed`.
    #[schema(pattern = "^(succeeded|failed)$")]
    pub outcome: String,
}

/// `POST /orders/{id}/refund`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundInput {
    /// Omit for a full refund.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Amount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// A customer: someone who bought from the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CustomerObject {
    pub id: String,
    pub email: String,
    pub total_orders: u64,
    /// Paid totals less refunds (the store's currency).
    pub lifetime_spend: Amount,
    pub blacklisted: bool,
    pub blacklist_reason: Option<String>,
    pub created_at: Timestamp,
}

envelopes!(CustomerData, CustomerList, CustomerObject);

/// `POST /customers/{id}/blacklist`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BlacklistInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// Query of `GET /orders`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderListParams {
    #[param(minimum = 1)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
    /// pending, processing, completed, cancelled, refunded
    pub status: Option<crate::order::OrderStatus>,
    /// pending, paid, failed, refunded
    pub payment_status: Option<crate::order::PaymentStatus>,
    pub customer_email: Option<String>,
    pub product_id: Option<String>,
    /// Created at or after (a date, `2026-11-01`, or an RFC 3339 time).
    pub date_from: Option<String>,
    /// Created at or before (a date, meaning its whole day, or an RFC 3339 time).
    pub date_to: Option<String>,
}

// ---------------------------------------------------------------- events

/// A webhook delivery's body: `{id, type, created_at, data}`, `data` being the object as the
/// API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventObject {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub created_at: Timestamp,
    pub data: Value,
}

/// A product event's body (`product.created`, `.updated`, `.deleted`, `.low_stock`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProductEvent {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub created_at: Timestamp,
    pub data: ProductObject,
}

#[cfg(test)]
mod tests {
    //! The request types describe exactly what the parsers accept: a body with every field the
    //! document lists is valid, so the document never offers a field the API would refuse.
    use super::*;
    use crate::apikey::NewApiKey;
    use crate::{Category, Coupon, Currency, Product};
    use serde_json::json;

    fn every_product_field() -> ProductChanges {
        ProductChanges {
            title: Some("All fields".into()),
            product_type: Some(ProductType::Serials),
            price: Some(Amount(5.5)),
            currency: Some("EUR".into()),
            description: Some("d".into()),
            category_id: Some("cat_00000000000000000000000001".into()),
            is_visible: Some(true),
            images: Some(vec!["https://cdn.example/i.png".into()]),
            file_url: None, // digital_download only
            info: None,     // the variants hold the serials
            stock_delimiter: Some("\n".into()),
            stock_amount: None, // digital_download only
            gateways: Some(vec!["stripe".into(), "paypal".into()]),
            minimum_quantity: Some(1),
            maximum_quantity: Some(3),
            custom: Some(vec![CustomField {
                kind: "select".into(),
                name: "Region".into(),
                required: true,
                options: vec!["EU".into()],
            }]),
            customer_details_required: Some(true),
            warranty: Some("w".into()),
            warranty_duration: Some(60),
            redirect_url: Some("https://seller.example/thanks".into()),
            unlisted: Some(false),
            private: Some(false),
            hide_stock: Some(true),
            vpn_block: Some(true),
            dynamic_url: None, // dynamic only
            max_risk_level: Some(50),
            seller_note: Some("n".into()),
            low_stock_threshold: Some(2),
            variants: Some(vec![VariantInput {
                id: None,
                title: "EU".into(),
                price: Amount(5.0),
                info: Some("A\nB".into()),
            }]),
        }
    }

    #[test]
    fn a_product_with_every_documented_field_is_accepted() {
        let body = serde_json::to_value(every_product_field()).unwrap();
        let (p, pools) = Product::create(body, crate::Mode::Test).unwrap();
        let p = p.expecting(&pools);
        assert_eq!(p.stock(), crate::product::Stock::Count(2));
        let round: ProductObject = serde_json::from_value(p.to_json()).unwrap();
        assert_eq!(round, p.to_object());
        // The type-specific fields, each with its type.
        for (ty, field, value) in [
            ("digital_download", "file_url", json!("https://f.example/a.zip")),
            ("digital_download", "stock_amount", json!(3)),
            ("serials", "info", json!("A,B")),
            ("dynamic", "dynamic_url", json!("https://seller.example/gen")),
        ] {
            let mut body = json!({"title": "T", "type": ty, "price": 1});
            body[field] = value;
            if ty == "dynamic" && field != "dynamic_url" {
                body["dynamic_url"] = json!("https://seller.example/gen");
            }
            assert!(Product::create(body, crate::Mode::Live).is_ok(), "{field}");
        }
        let new = NewProduct {
            title: "T".into(),
            product_type: ProductType::Service,
            price: Amount(1.0),
            more: ProductChanges::default(),
        };
        assert!(Product::create(serde_json::to_value(new).unwrap(), crate::Mode::Live).is_ok());
    }

    #[test]
    fn categories_coupons_and_keys_with_every_documented_field_are_accepted() {
        let c = CategoryInput { name: Some("N".into()), description: Some("D".into()) };
        assert!(Category::create(serde_json::to_value(c).unwrap()).is_ok());
        let coupon = NewCoupon {
            code: "ALL".into(),
            kind: CouponType::Fixed,
            value: Amount(2.5),
            max_uses: Some(3),
            expires_at: Timestamp::parse("2099-01-01T00:00:00Z"),
            min_order_amount: Some(Amount(10.0)),
            applies_to_products: Some(vec!["prod_00000000000000000000000001".into()]),
        };
        assert!(
            Coupon::create(serde_json::to_value(coupon).unwrap(), Currency::USD, Timestamp::now()).is_ok()
        );
        let key = NewApiKeyInput { name: "K".into(), kind: None, permissions: Some(Permission::Write) };
        assert!(NewApiKey::parse(serde_json::to_value(key).unwrap()).is_ok());
        let key = NewApiKeyInput {
            name: "K".into(),
            kind: Some(crate::apikey::KeyKind::Publishable),
            permissions: None,
        };
        assert!(NewApiKey::parse(serde_json::to_value(key).unwrap()).is_ok());
    }
}

// ---------------------------------------------------------------- webhook endpoints and deliveries

/// A webhook endpoint. `secret` only in the answers that create or rotate it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EndpointObject {
    pub id: String,
    pub url: String,
    /// Event types it receives; `["*"]` for all.
    pub events: Vec<String>,
    pub description: Option<String>,
    pub enabled: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// `whsec_…`: verify `X-Sellvy-Signature` (or, with a Standard Webhooks library,
    /// `webhook-signature`) with it. Shown only when created or rotated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// After a rotation: until then, `webhook-signature` also carries a signature made with the
    /// previous secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret_expires_at: Option<Timestamp>,
}

envelopes!(EndpointData, EndpointList, EndpointObject);

/// `POST /webhook_endpoints`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointInput {
    /// https (live mode); public addresses only.
    #[schema(min_length = 1, max_length = 2048)]
    pub url: String,
    /// Event types, or `["*"]` (the default) for all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// Default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// `PATCH /webhook_endpoints/{id}`: only the fields sent change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 2048)]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 500)]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// `POST /webhook_endpoints/{id}/retry_failed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryFailedInput {
    /// Failed deliveries created at or after this time (RFC 3339).
    pub since: Timestamp,
}

/// What `retry_failed` queued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RetryFailedObject {
    /// Failed deliveries queued for one more attempt each, now.
    pub queued: u64,
}

/// `{"data": RetryFailedObject}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RetryFailedData {
    pub data: RetryFailedObject,
}

/// One event's delivery to one endpoint, with every attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeliveryObject {
    /// `whd_…`, also sent as `X-Sellvy-Delivery`.
    pub id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: crate::EventType,
    pub status: crate::webhook::WebhookDeliveryStatus,
    pub attempt_count: u32,
    /// When the next automatic attempt is due, while `scheduled`.
    pub next_attempt_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub attempts: Vec<crate::webhook::AttemptRecord>,
    /// The body every attempt sends: `{id, type, created_at, data}` (absent in lists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
}

envelopes!(DeliveryData, DeliveryList, DeliveryObject);

/// Query of `GET /webhook_deliveries`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryListParams {
    #[param(minimum = 1)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
    /// `we_…`
    pub endpoint_id: Option<String>,
    /// An event type (`order.created`, …).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub event_type: Option<String>,
    /// scheduled, sending, delivered, failed
    pub status: Option<crate::webhook::WebhookDeliveryStatus>,
}
