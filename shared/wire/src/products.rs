//! Products: their vocabulary and the objects and requests of `/products`.

use crate::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProductType {
    /// A file the buyer downloads (Selly's `file`).
    #[serde(alias = "file")]
    DigitalDownload,
    /// Serial keys handed out from the product's `info`.
    Serials,
    /// Goods generated on payment by the seller's `dynamic_url`.
    Dynamic,
    /// A service the seller performs.
    Service,
}

impl ProductType {
    pub fn parse(s: &str) -> Option<ProductType> {
        parse_word(s)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ProductType::DigitalDownload => "digital_download",
            ProductType::Serials => "serials",
            ProductType::Dynamic => "dynamic",
            ProductType::Service => "service",
        }
    }
}

/// Payment gateways a product may enable (the Selly list).
pub const GATEWAYS: [&str; 12] = [
    "paypal",
    "stripe",
    "cashapp",
    "bitcoin",
    "ethereum",
    "litecoin",
    "bitcoin_cash",
    "perfect_money",
    "skrill",
    "dogecoin",
    "bnb",
    "polygon",
];

/// Input types of custom checkout fields.
pub const CUSTOM_FIELD_TYPES: [&str; 7] =
    ["select", "number", "text", "hidden", "textarea", "checkbox", "country_dropdown"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CustomField {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub required: bool,
    /// The choices of a `select` (and only of a select).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

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
    /// Sold as a subscription: each checkout starts one, renewed every period.
    pub recurring: Option<crate::Recurring>,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(required = true, nullable = false, min_length = 1, max_length = 1048576)]
    pub info: Option<String>,
    /// `var_…`: for a product sold in variants, the variant whose serials these are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_id: Option<String>,
}

/// A custom checkout field as sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomFieldInput {
    /// select, number, text, hidden, textarea, checkbox or country_dropdown.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    #[schema(required = true, nullable = false)]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(required = true, nullable = false, min_length = 1, max_length = 100)]
    pub name: Option<String>,
    /// Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    /// The choices of a `select` (and only of a select).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 100, inline)]
    pub options: Option<Vec<Choice>>,
}

/// One choice of a `select` custom field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(min_length = 1, max_length = 200)]
pub struct Choice(pub String);

/// A variant as sent: `id` to keep an existing one, none for a new one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(required = true, nullable = false, min_length = 1, max_length = 200)]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(required = true, nullable = false)]
    pub price: Option<Decimal>,
    /// Serials (type serials), split by the product's `stock_delimiter`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<String>,
}

/// The writable fields of a product, all optional (a PATCH body; `null` clears). Fields not
/// listed here are refused (422). Adding a product field: a field here, one in `ProductObject`
/// (and `PublicProduct` when buyers see it), and its line in the domain's reading and
/// printing of a product.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProductChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    /// `file` is accepted for digital_download, and `product_type` for `type`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub product_type: Option<ProductType>,
    /// ISO 4217 (default USD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 3, max_length = 3)]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Decimal>,
    /// `cat_…`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_id: Option<String>,
    /// Default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_visible: Option<bool>,
    /// Image URLs (http or https).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 10, inline)]
    pub images: Option<Vec<Url>>,
    /// Type digital_download: what the buyer downloads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 2048)]
    pub file_url: Option<String>,
    /// What splits `info` into serials (default `,`), kept as sent (`\n` is common).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 16)]
    pub stock_delimiter: Option<String>,
    /// Serials (type serials), split by `stock_delimiter`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<String>,
    /// Type digital_download: units for sale (none: unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 1000000000)]
    pub stock_amount: Option<u64>,
    /// Payment gateways (default `["stripe"]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 12)]
    pub gateways: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 1000000)]
    pub minimum_quantity: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 1000000)]
    pub maximum_quantity: Option<u32>,
    /// Custom checkout fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 25)]
    pub custom: Option<Vec<CustomFieldInput>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_details_required: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 10000)]
    pub warranty: Option<String>,
    /// Seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 315360000)]
    pub warranty_duration: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 2048)]
    pub redirect_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unlisted: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hide_stock: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpn_block: Option<bool>,
    /// Required for type dynamic (https in live mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 2048)]
    pub dynamic_url: Option<String>,
    /// Default 100 (no fraud check refuses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 100)]
    pub max_risk_level: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 10000)]
    pub seller_note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 1000000000)]
    pub low_stock_threshold: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 50)]
    pub variants: Option<Vec<VariantInput>>,
    /// Sell it as a subscription (`null`: a one-off purchase, the default). Subscriptions
    /// already started keep the rule they started with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurring: Option<crate::RecurringInput>,
}

/// An http or https URL.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(min_length = 1, max_length = 2048)]
pub struct Url(pub String);

impl From<&str> for Url {
    fn from(s: &str) -> Url {
        Url(s.to_string())
    }
}

impl From<&str> for Choice {
    fn from(s: &str) -> Choice {
        Choice(s.to_string())
    }
}

/// `POST /products`: `title`, `type` and `price` are required.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NewProduct {
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[serde(rename = "type")]
    pub product_type: ProductType,
    pub price: Decimal,
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
