//! `GET /orders`: its filters.

use super::*;

/// `GET /v1/orders`'s filters, all optional: `status`, `payment_status`, `customer_email`,
/// `product_id`, `date_from` and `date_to` (inclusive bounds on `created_at`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderListQuery {
    pub status: Option<OrderStatus>,
    pub payment_status: Option<PaymentStatus>,
    pub customer_email: Option<String>,
    pub product_id: Option<String>,
    pub date_from: Option<Timestamp>,
    pub date_to: Option<Timestamp>,
}

impl OrderListQuery {
    /// Reads the filters; every bad one is named, with the page's own errors.
    pub fn parse(params: &QueryParams) -> Result<(PageRequest, OrderListQuery), ValidationError> {
        let mut errors = Vec::new();
        let page = PageRequest::parse(params).map_err(|e| errors.extend(e.errors)).unwrap_or_default();
        let status = enum_param("status", params.get("status"), &mut errors);
        let payment_status = enum_param("payment_status", params.get("payment_status"), &mut errors);
        let mut bound = |field: &str, upper: bool| {
            let raw = params.get(field)?;
            let t = Timestamp::parse_bound(raw, upper);
            if t.is_none() {
                errors.push(FieldError::new(field, "must be a date (2026-11-01) or an RFC 3339 time"));
            }
            t
        };
        let date_from = bound("date_from", false);
        let date_to = bound("date_to", true);
        if !errors.is_empty() {
            return Err(ValidationError { errors });
        }
        let query = OrderListQuery {
            status,
            payment_status,
            customer_email: params.get("customer_email").map(str::to_lowercase),
            product_id: params.get("product_id").map(str::to_string),
            date_from,
            date_to,
        };
        Ok((page, query))
    }

    /// Whether no filter is set: the plain newest-first list, served from the key order.
    pub fn is_unfiltered(&self) -> bool {
        *self == OrderListQuery::default()
    }

    /// Whether an order (as its summary tells) passes every filter.
    pub fn matches(
        &self,
        status: OrderStatus,
        payment_status: PaymentStatus,
        customer_email: &str,
        product_id: &str,
        created_at: Timestamp,
    ) -> bool {
        self.status.is_none_or(|s| status == s)
            && self.payment_status.is_none_or(|p| payment_status == p)
            && self.customer_email.as_ref().is_none_or(|e| customer_email == e)
            && self.product_id.as_ref().is_none_or(|p| product_id == p)
            && self.date_from.is_none_or(|from| created_at >= from)
            && self.date_to.is_none_or(|to| created_at <= to)
    }
}
