//! Orders: what a checkout creates, what payment completes and delivery fills.

use crate::coupon::{Coupon, CouponType};
use crate::error::{FieldError, ValidationError};
use crate::id;
use crate::input::Input;
use crate::money::{self, Currency};
use crate::page::{PageRequest, QueryParams, enum_param};
use crate::product::{Product, ProductType, Stock};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The answers to a product's custom fields, in all (JSON, escapes counted twice), so an order
/// stays small in lists.
pub const MAX_CUSTOM_VALUES_COST: usize = 16 * 1024;

/// An unpaid order holds its stock this long, then expires.
pub const PAYMENT_WINDOW_SECS: i64 = 30 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    Pending,
    Processing,
    Completed,
    Cancelled,
    Refunded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PaymentStatus {
    Pending,
    Paid,
    Failed,
    Refunded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum GoodsStatus {
    Pending,
    /// Dynamic goods: the seller's `dynamic_url` is being called.
    Sending,
    Delivered,
    Failed,
}

/// How long a dynamic fetch counts as in flight (its timeout is 10 s); after that a process
/// that died mid-fetch no longer blocks a redelivery.
pub const DELIVERY_IN_FLIGHT_SECS: i64 = 30;

/// The goods, once delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GoodsDelivery {
    pub status: GoodsStatus,
    /// Serials handed out.
    #[serde(default)]
    pub items: Vec<String>,
    /// The seller's note (services).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Digital downloads: the expiring, download-capped link (a path under the API's base URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_url: Option<String>,
    /// Dynamic goods: what the seller's `dynamic_url` answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Why the last delivery failed (dynamic goods); `POST /v1/orders/{id}/redeliver` tries again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Dynamic goods: the calls made to the seller's `dynamic_url` so far.
    #[serde(default)]
    pub attempts: u32,
    /// Dynamic goods: when the sweeper calls the `dynamic_url` again (after a failure, or in
    /// place of a process that died before it could); `None` once there is nothing left to
    /// try automatically.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<Timestamp>,
}

/// The waits before the sweeper's automatic retries of failed dynamic goods (after the first,
/// second, ... failed call): 1 min, 5 min, 30 min, 2 h, 6 h. Six calls in all over about
/// 8.5 hours; then the order waits for the seller's `redeliver`.
pub const GOODS_RETRY_WAITS_SECS: [i64; 5] = [60, 300, 1800, 7200, 21_600];

impl GoodsDelivery {
    fn pending() -> GoodsDelivery {
        GoodsDelivery {
            status: GoodsStatus::Pending,
            items: Vec::new(),
            note: None,
            download_url: None,
            content: None,
            error: None,
            attempts: 0,
            retry_at: None,
        }
    }
}

/// A chargeback opened on a paid order (Stripe's `charge.dispute.created`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Dispute {
    /// The gateway's dispute id (`dp_…`).
    pub id: String,
    /// The gateway's reason (`fraudulent`, `product_not_received`, …).
    pub reason: String,
    /// The gateway's status (`needs_response`, `won`, `lost`, …).
    pub status: String,
    pub opened_at: Timestamp,
}

/// How an order was paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payment {
    /// Test mode's sandbox gateway.
    Sandbox,
    /// A Stripe PaymentIntent (`pi_…`).
    Stripe { payment_intent: String },
}

impl Payment {
    pub fn reference(&self) -> String {
        match self {
            Payment::Sandbox => "sandbox".into(),
            Payment::Stripe { payment_intent } => payment_intent.clone(),
        }
    }
}

/// How long a download link works, and how many downloads it allows.
pub const DOWNLOAD_TTL_SECS: i64 = 7 * 24 * 3600;
pub const MAX_DOWNLOADS: u32 = 5;

/// The goods a paid order delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Goods {
    Serials(Vec<String>),
    Note(Option<String>),
    /// The download token (its hash is stored with the grant; the link carries the token).
    Download {
        token: String,
    },
    /// Generated by the seller's `dynamic_url` after payment: the order waits in `processing`.
    Dynamic,
}

/// A new download token: `dl_` + 40 base62 characters.
pub fn new_download_token() -> String {
    format!("dl_{}", id::random_base62(40))
}

/// Name and address, when the product asks for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CustomerDetails {
    pub name: String,
    pub address: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub id: crate::id::OrderId,
    /// `ORD-<number>`, unique per store and mode.
    pub number: u64,
    pub status: OrderStatus,
    pub payment_status: PaymentStatus,
    pub product_id: crate::id::ProductId,
    pub product_title: String,
    pub product_type: ProductType,
    pub quantity: u32,
    pub unit_price_minor: i64,
    pub subtotal_minor: i64,
    pub discount_minor: i64,
    pub total_minor: i64,
    pub currency: String,
    pub customer_email: String,
    pub custom_fields: Map<String, Value>,
    pub customer: Option<CustomerDetails>,
    pub coupon_id: Option<crate::id::CouponId>,
    pub coupon_code: Option<String>,
    pub gateway: String,
    /// Units of stock this order holds until it is paid, cancelled or expires.
    pub reserved: u64,
    pub fraud_score: u8,
    /// SHA-256 of the buyer's access token (the token itself is shown once, at checkout).
    pub token_hash: String,
    pub delivery: GoodsDelivery,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// When an unpaid order expires and gives its stock back.
    pub pay_by: Timestamp,
    pub version: u64,
    /// The buyer's customer record (set when paid).
    #[serde(default)]
    pub customer_id: Option<crate::id::CustomerId>,
    /// Refunded so far, in minor units.
    #[serde(default)]
    pub refunded_minor: i64,
    #[serde(default)]
    pub refund_reason: Option<String>,
    /// The variant bought, if the product has variants.
    #[serde(default)]
    pub variant: Option<crate::wire::OrderVariant>,
    /// The gateway's payment reference (`pi_…` for Stripe, `sandbox` in test mode), once paid.
    #[serde(default)]
    pub payment_id: Option<String>,
    /// Why the last payment attempt failed (the order may still be paid until `pay_by`).
    #[serde(default)]
    pub payment_error: Option<String>,
    #[serde(default)]
    pub dispute: Option<Dispute>,
    /// Stripe refunds (`re_…`) recorded on this order, so one is never recorded twice.
    #[serde(default)]
    pub stripe_refunds: Vec<String>,
    /// Who holds this unpaid order's stock ([`crate::hold`]): the counters its checkout
    /// raised, lowered again when it ends.
    #[serde(default, skip_serializing_if = "crate::hold::Hold::is_empty")]
    pub hold: crate::hold::Hold,
}

mod checkout;
mod fraud;
mod list;
#[cfg(test)]
mod tests;

pub use crate::customer::Customer;
pub use checkout::{CheckoutRequest, GATEWAYS_WITH_ADAPTER, PARTIAL_REFUND_GATEWAYS, Placed, token_hash};
pub use fraud::fraud_score;
pub use list::OrderListQuery;

impl Order {
    /// Whether the product's seller refuses an order this risky.
    pub fn too_risky_for(&self, product: &Product) -> bool {
        self.fraud_score > product.max_risk_level
    }

    pub fn order_number(&self) -> String {
        format!("ORD-{}", self.number)
    }

    pub fn currency(&self) -> Currency {
        Currency::parse(&self.currency).unwrap_or(Currency::USD)
    }

    /// Whether a payment may still complete this order (pending, even after a failed attempt).
    pub fn awaits_payment(&self) -> bool {
        self.status == OrderStatus::Pending
            && matches!(self.payment_status, PaymentStatus::Pending | PaymentStatus::Failed)
    }

    /// The order paid and its goods delivered (serials handed out, the seller's note, a
    /// download link); dynamic goods are generated next, so the order waits in `processing`.
    pub fn paid(
        &self,
        goods: Goods,
        payment: &Payment,
        customer_id: &crate::id::CustomerId,
        now: Timestamp,
    ) -> Order {
        let delivered = GoodsDelivery { status: GoodsStatus::Delivered, ..GoodsDelivery::pending() };
        let (status, delivery) = match goods {
            Goods::Serials(items) => (OrderStatus::Completed, GoodsDelivery { items, ..delivered }),
            Goods::Note(note) => (OrderStatus::Completed, GoodsDelivery { note, ..delivered }),
            Goods::Download { token } => (
                OrderStatus::Completed,
                GoodsDelivery {
                    download_url: Some(format!("/v1/storefront/downloads/{token}")),
                    ..delivered
                },
            ),
            Goods::Dynamic => (OrderStatus::Processing, GoodsDelivery::pending()),
        };
        Order {
            customer_id: Some(customer_id.clone()),
            status,
            payment_status: PaymentStatus::Paid,
            payment_id: Some(payment.reference()),
            payment_error: None,
            reserved: 0,
            delivery,
            updated_at: now,
            version: self.version + 1,
            ..self.clone()
        }
    }

    /// Whether the goods of this paid order still wait for the seller's `dynamic_url`.
    pub fn awaits_delivery(&self) -> bool {
        self.status == OrderStatus::Processing
            && self.payment_status == PaymentStatus::Paid
            && self.delivery.status != GoodsStatus::Delivered
    }

    /// Paid dynamic goods wait for the paying request to fetch them; if it has not by `at` (its
    /// process died), the sweeper does.
    pub fn goods_due_by(self, at: Timestamp) -> Order {
        match self.awaits_delivery() {
            true => Order { delivery: GoodsDelivery { retry_at: Some(at), ..self.delivery }, ..self },
            false => self,
        }
    }

    /// Whether the sweeper's time to call the `dynamic_url` for this order has come.
    pub fn goods_due(&self, now: Timestamp) -> bool {
        self.awaits_delivery() && self.delivery.retry_at.is_some_and(|at| at <= now)
    }

    /// The seller's `dynamic_url` is being called for this order's goods. Should the caller's
    /// process die during the call, the sweeper steps in once the call is no longer in flight.
    pub fn delivering(&self, now: Timestamp) -> Order {
        Order {
            delivery: GoodsDelivery {
                status: GoodsStatus::Sending,
                attempts: self.delivery.attempts + 1,
                retry_at: Some(now.plus_seconds(DELIVERY_IN_FLIGHT_SECS)),
                ..self.delivery.clone()
            },
            updated_at: now,
            version: self.version + 1,
            ..self.clone()
        }
    }

    /// Whether another process is fetching this order's dynamic goods right now.
    pub fn delivery_in_flight(&self, now: Timestamp) -> bool {
        self.delivery.status == GoodsStatus::Sending
            && now.millis() - self.updated_at.millis() < DELIVERY_IN_FLIGHT_SECS * 1000
    }

    /// Dynamic goods generated: the order is completed.
    pub fn delivered(&self, content: String, now: Timestamp) -> Order {
        Order {
            status: OrderStatus::Completed,
            delivery: GoodsDelivery {
                status: GoodsStatus::Delivered,
                content: Some(content),
                error: None,
                retry_at: None,
                ..self.delivery.clone()
            },
            updated_at: now,
            version: self.version + 1,
            ..self.clone()
        }
    }

    /// The seller's `dynamic_url` failed: the order stays `processing`; the sweeper calls again
    /// after the next of [`GOODS_RETRY_WAITS_SECS`], and after the last it waits for the
    /// seller's `redeliver` (the error says so).
    pub fn delivery_failed(&self, error: String, now: Timestamp) -> Order {
        let tries = self.delivery.attempts.max(1);
        let wait = GOODS_RETRY_WAITS_SECS.get(tries as usize - 1);
        let error = match wait {
            Some(_) => error,
            None => format!(
                "{error} (no automatic retry after {tries} calls: POST /v1/orders/{}/redeliver tries again)",
                self.id
            ),
        };
        Order {
            delivery: GoodsDelivery {
                status: GoodsStatus::Failed,
                error: Some(error),
                retry_at: wait.map(|w| now.plus_seconds(*w)),
                ..self.delivery.clone()
            },
            updated_at: now,
            version: self.version + 1,
            ..self.clone()
        }
    }

    /// A payment attempt failed (a declined card): the order can still be paid until `pay_by`.
    pub fn payment_attempt_failed(&self, error: String, now: Timestamp) -> Order {
        Order {
            payment_status: PaymentStatus::Failed,
            payment_error: Some(error),
            updated_at: now,
            version: self.version + 1,
            ..self.clone()
        }
    }

    /// A chargeback was opened.
    pub fn disputed(&self, dispute: Dispute, now: Timestamp) -> Order {
        Order { dispute: Some(dispute), updated_at: now, version: self.version + 1, ..self.clone() }
    }

    /// A refund of `amount` (all that remains when `None`). Errors name `amount`.
    pub fn refund(
        &self,
        amount: Option<i64>,
        reason: Option<String>,
        now: Timestamp,
    ) -> Result<Order, ValidationError> {
        if self.payment_status != PaymentStatus::Paid {
            return Err(ValidationError::one("id", "only a paid order can be refunded"));
        }
        let remaining = self.total_minor - self.refunded_minor;
        if amount.is_some_and(|a| a < remaining) && !PARTIAL_REFUND_GATEWAYS.contains(&self.gateway.as_str())
        {
            return Err(ValidationError::one(
                "amount",
                format!(
                    "partial refunds exist for Stripe payments only; omit amount to refund {} in full",
                    self.gateway
                ),
            ));
        }
        let amount = amount.unwrap_or(remaining);
        if amount <= 0 {
            return Err(ValidationError::one("amount", "must be greater than 0"));
        }
        if amount > remaining {
            return Err(ValidationError::one(
                "amount",
                format!(
                    "is more than what remains to refund ({})",
                    money::minor_to_string(remaining, self.currency())
                ),
            ));
        }
        let refunded = self.refunded_minor + amount;
        let full = refunded == self.total_minor;
        Ok(Order {
            refunded_minor: refunded,
            refund_reason: reason.or_else(|| self.refund_reason.clone()),
            status: if full { OrderStatus::Refunded } else { self.status },
            payment_status: if full { PaymentStatus::Refunded } else { self.payment_status },
            updated_at: now,
            version: self.version + 1,
            ..self.clone()
        })
    }

    /// Cancelled by the seller before payment: its stock goes back.
    pub fn cancelled(&self, now: Timestamp) -> Result<Order, ValidationError> {
        if self.status != OrderStatus::Pending {
            return Err(ValidationError::one("id", "only a pending (unpaid) order can be cancelled"));
        }
        Ok(Order {
            status: OrderStatus::Cancelled,
            reserved: 0,
            updated_at: now,
            version: self.version + 1,
            ..self.clone()
        })
    }

    /// The payment failed (or never came before `pay_by`): the order is cancelled and gives
    /// its stock back.
    pub fn payment_failed(&self, now: Timestamp) -> Order {
        Order {
            status: OrderStatus::Cancelled,
            payment_status: PaymentStatus::Failed,
            reserved: 0,
            updated_at: now,
            version: self.version + 1,
            ..self.clone()
        }
    }

    /// The order as lists carry it: its goods left out (`delivery.items`, `delivery.content`), so
    /// a full page stays small whatever each order delivered.
    pub fn to_list_object(&self) -> crate::wire::OrderObject {
        let mut object = self.to_object();
        object.delivery.items = None;
        object.delivery.content = None;
        object
    }

    /// The order as its seller and its webhook events see it.
    pub fn to_object(&self) -> crate::wire::OrderObject {
        let c = self.currency();
        crate::wire::OrderObject {
            id: self.id.to_string(),
            order_number: self.order_number(),
            status: self.status,
            payment_status: self.payment_status,
            customer_email: self.customer_email.clone(),
            product: crate::wire::OrderProduct {
                id: self.product_id.to_string(),
                title: self.product_title.clone(),
            },
            quantity: self.quantity,
            subtotal: amount(self.subtotal_minor, c),
            discount: amount(self.discount_minor, c),
            total: amount(self.total_minor, c),
            currency: self.currency.clone(),
            payment_method: self.gateway.clone(),
            coupon: self.coupon_code.clone(),
            custom_fields: self.custom_fields.clone(),
            customer: self.customer.clone(),
            fraud_score: self.fraud_score,
            refunded: amount(self.refunded_minor, c),
            refund_reason: self.refund_reason.clone(),
            customer_id: self.customer_id.as_ref().map(|c| c.to_string()),
            delivery: crate::wire::OrderDelivery {
                status: self.delivery.status,
                item_count: self.delivery.items.len() as u64,
                items: Some(self.delivery.items.clone()),
                note: self.delivery.note.clone(),
                download_url: self.delivery.download_url.clone(),
                content: self.delivery.content.clone(),
                error: self.delivery.error.clone(),
                attempts: (self.product_type == ProductType::Dynamic).then_some(self.delivery.attempts),
                next_attempt_at: self.delivery.retry_at.filter(|_| self.awaits_delivery()),
            },
            created_at: self.created_at,
            updated_at: self.updated_at,
            pay_by: self.pay_by,
            variant: self.variant.clone(),
            payment_id: self.payment_id.clone(),
            payment_error: self.payment_error.clone(),
            dispute: self.dispute.clone(),
        }
    }
}

fn amount(minor: i64, c: Currency) -> crate::wire::Amount {
    crate::wire::Amount::from_minor(minor, c.exponent())
}

/// `POST /v1/orders/{id}/refund`: `amount` (in the order's currency; omitted for all that
/// remains) and `reason`.
#[derive(Debug, Clone, PartialEq)]
pub struct RefundRequest {
    pub amount_minor: Option<i64>,
    pub reason: Option<String>,
}

impl RefundRequest {
    pub fn parse(body: Value, currency: Currency) -> Result<RefundRequest, ValidationError> {
        let mut input = Input::object(body)?;
        let amount = input.take("amount").and_then(|a| {
            crate::Money::parse("amount", &a, currency).map_err(|e| input.error("amount", e.message)).ok()
        });
        let reason = input.text("reason", 0, 500).filter(|r| !r.is_empty());
        input.finish()?;
        Ok(RefundRequest { amount_minor: amount.map(|m| m.minor), reason })
    }
}
