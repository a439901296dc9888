//! What buyers see through the storefront routes.

use crate::prelude::*;

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
    /// Sold as a subscription, renewed every period.
    pub recurring: Option<crate::Recurring>,
    /// From the product's visible reviews.
    pub rating: ProductRating,
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
