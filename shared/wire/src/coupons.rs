//! Coupons.

use crate::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CouponType {
    /// `value` percent off (0 < value ≤ 100, up to 2 decimals).
    Percentage,
    /// `value` off, in the store's currency.
    Fixed,
}

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

/// `POST /coupons`: `code`, `type` and `value` are required.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCoupon {
    /// Letters, digits, `-` and `_`; matched without regard to case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        required = true,
        nullable = false,
        min_length = 1,
        max_length = 50,
        pattern = "^[A-Za-z0-9_-]+$"
    )]
    pub code: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    #[schema(required = true, nullable = false)]
    pub kind: Option<CouponType>,
    /// A percentage (0 < value ≤ 100) or an amount in the store's currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(required = true, nullable = false)]
    pub value: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 1000000000)]
    pub max_uses: Option<u64>,
    /// In the future.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_order_amount: Option<Decimal>,
    /// `prod_…` ids (none: every product).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 50)]
    pub applies_to_products: Option<Vec<String>>,
}
