//! Reviews: a buyer rates a completed order once (with the order's access token), within
//! [`WINDOW_DAYS`] of ordering; the seller replies in public and hides or shows reviews. A
//! product's rating counts its visible reviews, kept apart from the product (payments write
//! the product; reviews never do).

use crate::error::ValidationError;
use crate::id::{OrderId, ProductId, ReviewId};
use crate::order::Order;
use crate::request::{self, Body};
use crate::time::Timestamp;
use crate::wire::{
    OrderProduct, OrderStatus, ProductRating, PublicReview, ReplyInput, ReviewInput, ReviewObject,
    ReviewReply,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How long after ordering a buyer may review.
pub const WINDOW_DAYS: i64 = 90;
/// The name shown when the buyer chose none.
pub const ANONYMOUS: &str = "Verified buyer";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    pub id: ReviewId,
    pub order_id: OrderId,
    pub product_id: ProductId,
    pub product_title: String,
    pub rating: u8,
    pub message: Option<String>,
    /// The name the buyer chose.
    pub name: Option<String>,
    pub customer_email: String,
    pub hidden: bool,
    pub refunded: bool,
    pub reply: Option<ReviewReply>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: u64,
}

impl Review {
    /// The buyer's review of `order` from a `POST /storefront/orders/{id}/review` body.
    pub fn create(order: &Order, body: Value, now: Timestamp) -> Result<Review, ValidationError> {
        let Body { fields, mut errors } = request::read::<ReviewInput, ReviewInput>(body)?;
        errors.require("rating", &fields.rating);
        let message = request::trimmed(fields.message);
        let name = request::trimmed(fields.name);
        if name.as_deref().is_some_and(|n| n.contains('@')) {
            errors.add("name", "must not be an email address: it is shown to everyone");
        }
        if order.status != OrderStatus::Completed {
            errors.add("id", "only a completed order can be reviewed");
        } else if order.review_id.is_some() {
            errors.add("id", "this order has a review already");
        } else if now > order.created_at.plus_seconds(WINDOW_DAYS * 86_400) {
            errors.add("id", format!("reviews are taken within {WINDOW_DAYS} days of the order"));
        }
        errors.finish()?;
        Ok(Review {
            id: ReviewId::new(),
            order_id: order.id.clone(),
            product_id: order.product_id.clone(),
            product_title: order.product_title.clone(),
            rating: fields.rating.unwrap_or(5),
            message,
            name,
            customer_email: order.customer_email.clone(),
            hidden: false,
            refunded: order.refunded_minor > 0,
            reply: None,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }

    /// The seller's reply from a `POST /reviews/{id}/reply` body (replacing any earlier one),
    /// or without a reply (`None`).
    pub fn replied(&self, body: Option<Value>, now: Timestamp) -> Result<Review, ValidationError> {
        let reply = match body {
            None => None,
            Some(body) => {
                let Body { fields, mut errors } = request::read::<ReplyInput, ReplyInput>(body)?;
                let message = request::required_text(&mut errors, "message", fields.message);
                errors.require("message", &message);
                errors.finish()?;
                message.map(|message| ReviewReply { message, created_at: now })
            }
        };
        Ok(Review { reply, updated_at: now, version: self.version + 1, ..self.clone() })
    }

    pub fn with_hidden(&self, hidden: bool, now: Timestamp) -> Review {
        Review { hidden, updated_at: now, version: self.version + 1, ..self.clone() }
    }

    /// What it adds to its product's rating: `(reviews, sum of ratings)` while visible.
    pub fn counts(&self) -> (i64, i64) {
        if self.hidden { (0, 0) } else { (1, i64::from(self.rating)) }
    }

    fn shown_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| ANONYMOUS.into())
    }

    pub fn to_object(&self) -> ReviewObject {
        ReviewObject {
            id: self.id.to_string(),
            order_id: self.order_id.to_string(),
            product: OrderProduct { id: self.product_id.to_string(), title: self.product_title.clone() },
            rating: self.rating,
            message: self.message.clone(),
            name: self.shown_name(),
            customer_email: self.customer_email.clone(),
            hidden: self.hidden,
            refunded: self.refunded,
            reply: self.reply.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    pub fn to_public(&self) -> PublicReview {
        PublicReview {
            id: self.id.to_string(),
            rating: self.rating,
            message: self.message.clone(),
            name: self.shown_name(),
            refunded: self.refunded,
            reply: self.reply.clone(),
            created_at: self.created_at,
        }
    }
}

/// A product's rating from its counters.
pub fn rating(count: i64, sum: i64) -> ProductRating {
    let count = count.max(0);
    ProductRating {
        average: (count > 0).then(|| ((sum as f64 / count as f64) * 10.0).round() / 10.0),
        count: count as u64,
    }
}

/// `GET /reviews`'s filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReviewListQuery {
    pub product_id: Option<String>,
    pub rating: Option<u8>,
}

impl ReviewListQuery {
    pub fn parse(
        params: &crate::page::QueryParams,
    ) -> Result<(crate::PageRequest, ReviewListQuery), ValidationError> {
        let mut errors = Vec::new();
        let page = crate::PageRequest::parse(params).map_err(|e| errors.extend(e.errors)).unwrap_or_default();
        let rating = match params.get("rating") {
            None => None,
            Some(_) => crate::page::positive(params, "rating", 5, 5).map_err(|e| errors.push(e)).ok(),
        };
        if !errors.is_empty() {
            return Err(ValidationError { errors });
        }
        let query = ReviewListQuery {
            product_id: params.get("product_id").map(str::to_string),
            rating: rating.map(|r| r as u8),
        };
        Ok((page, query))
    }

    pub fn matches(&self, product_id: &str, rating: u8) -> bool {
        self.product_id.as_deref().is_none_or(|p| p == product_id) && self.rating.is_none_or(|r| r == rating)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_average_to_one_decimal() {
        assert_eq!(rating(0, 0), ProductRating { average: None, count: 0 });
        assert_eq!(rating(3, 13), ProductRating { average: Some(4.3), count: 3 });
        assert_eq!(rating(2, 9), ProductRating { average: Some(4.5), count: 2 });
    }
}
