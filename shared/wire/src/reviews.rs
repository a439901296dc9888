//! Reviews: a buyer's rating of a completed order, the seller's reply and moderation.

use crate::prelude::*;

/// The seller's public reply to a review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReviewReply {
    pub message: String,
    pub created_at: Timestamp,
}

/// A review as the seller sees it (and `review.created` carries it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReviewObject {
    /// `rev_…`
    pub id: String,
    pub order_id: String,
    pub product: OrderProduct,
    /// 1 to 5.
    pub rating: u8,
    pub message: Option<String>,
    /// The name buyers see: the one the buyer chose, or "Verified buyer".
    pub name: String,
    /// The buyer's email: the seller's only, never shown on the storefront.
    pub customer_email: String,
    /// Hidden by the seller: not on the storefront, not in the product's rating.
    pub hidden: bool,
    /// The order was refunded after the review (it stays, marked).
    pub refunded: bool,
    pub reply: Option<ReviewReply>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

envelopes!(ReviewData, ReviewList, ReviewObject);

/// A review as buyers see it on the storefront.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PublicReview {
    pub id: String,
    pub rating: u8,
    pub message: Option<String>,
    pub name: String,
    pub refunded: bool,
    pub reply: Option<ReviewReply>,
    pub created_at: Timestamp,
}

envelopes!(PublicReviewData, PublicReviewList, PublicReview);

/// A product's rating from its visible reviews.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProductRating {
    /// The mean of the visible reviews' ratings, to one decimal; null without reviews.
    pub average: Option<f64>,
    pub count: u64,
}

/// `POST /storefront/orders/{id}/review`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReviewInput {
    /// 1 (worst) to 5 (best).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(required = true, nullable = false, minimum = 1, maximum = 5)]
    pub rating: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 2000)]
    pub message: Option<String>,
    /// The name shown with the review (default "Verified buyer"); never the email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 50)]
    pub name: Option<String>,
}

/// `POST /reviews/{id}/reply`: the seller's public reply (it replaces an earlier one).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReplyInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(required = true, nullable = false, min_length = 1, max_length = 2000)]
    pub message: Option<String>,
}

/// Query of `GET /reviews`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReviewListParams {
    #[param(minimum = 1)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
    /// `prod_…`
    pub product_id: Option<String>,
    /// 1 to 5.
    #[param(minimum = 1, maximum = 5)]
    pub rating: Option<u8>,
}
