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
    pub id: String,
    /// `ORD-<number>`, unique per store and mode.
    pub number: u64,
    pub status: OrderStatus,
    pub payment_status: PaymentStatus,
    pub product_id: String,
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
    pub coupon_id: Option<String>,
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
    pub customer_id: Option<String>,
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

/// What `POST /storefront/checkout` asks for, read field by field.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckoutRequest {
    pub product_id: String,
    pub variant_id: Option<String>,
    pub quantity: u32,
    pub email: String,
    pub gateway: String,
    pub coupon: Option<String>,
    pub custom_fields: Map<String, Value>,
    pub customer: Option<Map<String, Value>>,
}

/// Payment gateways Sellvy can take money through today. Others may be enabled on products
/// (the seed's list) but are refused at checkout until their adapter exists.
pub const GATEWAYS_WITH_ADAPTER: [&str; 1] = ["stripe"];

/// Gateways whose payments can be refunded in part (the seed: "Partial refunds are supported
/// for Stripe payments").
pub const PARTIAL_REFUND_GATEWAYS: [&str; 1] = ["stripe"];

fn email_ok(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.contains('@')
}

impl CheckoutRequest {
    pub fn parse(body: Value) -> Result<CheckoutRequest, ValidationError> {
        let mut i = Input::object(body)?;
        let product_id = i.take_str("product_id");
        let variant_id = i.take_str("variant_id");
        let quantity = i.int("quantity", 1, 1_000_000).map(|q| q as u32);
        let email = i.text("email", 3, 254).map(|e| e.to_lowercase());
        if let Some(e) = &email
            && !email_ok(e)
        {
            i.error("email", "must be an email address");
        }
        let gateway = i.take_str("gateway");
        let coupon = i.text("coupon", 1, 50);
        let custom_fields = match i.take("custom_fields") {
            None => Map::new(),
            Some(Value::Object(m)) => m,
            Some(_) => {
                i.error("custom_fields", "must be an object: {\"field name\": value}");
                Map::new()
            }
        };
        let customer = match i.take("customer") {
            None => None,
            Some(Value::Object(m)) => Some(m),
            Some(_) => {
                i.error("customer", "must be an object: {name, address, country}");
                None
            }
        };
        for f in ["product_id", "quantity", "email", "gateway"] {
            i.require(f);
        }
        i.finish()?;
        Ok(CheckoutRequest {
            product_id: product_id.unwrap_or_default(),
            variant_id,
            quantity: quantity.unwrap_or(1),
            email: email.unwrap_or_default(),
            gateway: gateway.unwrap_or_default(),
            coupon,
            custom_fields,
            customer,
        })
    }
}

/// Domains of throwaway mailboxes (a fraud signal).
const DISPOSABLE_DOMAINS: [&str; 8] = [
    "mailinator.com",
    "guerrillamail.com",
    "10minutemail.com",
    "tempmail.com",
    "yopmail.com",
    "trashmail.com",
    "sharklasers.com",
    "getnada.com",
];

/// The fraud score of a checkout, 0 (no signal) to 100, from documented rules:
/// a throwaway mailbox +40; 10 units or more +20; a total of 1,000 or more (major units) +20;
/// a buyer who never bought here before +10.
pub fn fraud_score(
    email: &str,
    quantity: u32,
    total_minor: i64,
    currency: Currency,
    first_purchase: bool,
) -> u8 {
    let domain = email.rsplit('@').next().unwrap_or("");
    let mut score = 0u32;
    if DISPOSABLE_DOMAINS.contains(&domain) {
        score += 40;
    }
    if quantity >= 10 {
        score += 20;
    }
    if total_minor >= 1000 * 10i64.pow(currency.exponent()) {
        score += 20;
    }
    if first_purchase {
        score += 10;
    }
    score.min(100) as u8
}

/// A new order and the buyer's access token (shown once).
pub struct Placed {
    pub order: Order,
    pub access_token: String,
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Order {
    /// Checks a checkout against its product (and coupon) and prices it. The order number is
    /// given by the store. Stock and coupon uses are taken atomically when the order is written.
    pub fn place(
        req: &CheckoutRequest,
        product: &Product,
        coupon: Option<&Coupon>,
        number: u64,
        now: Timestamp,
        first_purchase: bool,
    ) -> Result<Placed, ValidationError> {
        let mut errors = Vec::new();
        let mut bad = |f: &str, m: String| errors.push(FieldError::new(f, m));
        let variant = match (&req.variant_id, product.variants.is_empty()) {
            (None, true) => None,
            (Some(_), true) => {
                bad("variant_id", "this product has no variants".into());
                None
            }
            (None, false) => {
                bad("variant_id", "is required: this product is sold in variants".into());
                None
            }
            (Some(id), false) => {
                let found = product.variants.iter().find(|v| &v.id == id);
                if found.is_none() {
                    bad("variant_id", "is not a variant of this product".into());
                }
                found
            }
        };
        if product.product_type == ProductType::DigitalDownload && product.file_url.is_none() {
            bad("product_id", "has no file to deliver yet".into());
        }
        let q = req.quantity;
        if q < product.minimum_quantity {
            bad("quantity", format!("must be at least {}", product.minimum_quantity));
        }
        if let Some(max) = product.maximum_quantity
            && q > max
        {
            bad("quantity", format!("must be at most {max}"));
        }
        let available = match variant {
            Some(v) if product.stock_per_variant() => Some(product.lane(&v.id).available),
            _ => product.available,
        };
        if let (Stock::Count(_), Some(available)) = (product.stock(), available)
            && q as u64 > available
        {
            bad(
                "quantity",
                if available == 0 {
                    "is out of stock".to_string()
                } else {
                    format!("only {available} left in stock")
                },
            );
        }
        if !product.gateways.contains(&req.gateway) {
            bad("gateway", format!("must be one this product accepts: {}", product.gateways.join(", ")));
        } else if !GATEWAYS_WITH_ADAPTER.contains(&req.gateway.as_str()) {
            bad(
                "gateway",
                format!(
                    "{} payments are not available yet; use one of: {}",
                    req.gateway,
                    GATEWAYS_WITH_ADAPTER.join(", ")
                ),
            );
        }
        // The serials of one order must fit the order (and the events and webhook deliveries
        // that carry it): checked now, never discovered at payment.
        if product.product_type == ProductType::Serials && product.serial_len_max > 0 {
            let per_unit = product.serial_len_max * 2 + 3; // the longest serial, every byte escaped
            let most = crate::pool::MAX_GOODS_BYTES / per_unit;
            if q as u64 > most {
                errors.push(FieldError::new(
                    "quantity",
                    format!(
                        "must be at most {most} for this product: the serials of one order must fit in {} KiB",
                        crate::pool::MAX_GOODS_BYTES / 1024
                    ),
                ));
            }
        }
        let custom = check_custom_fields(product, &req.custom_fields, &mut errors);
        let custom_cost = crate::product::json_cost(&custom);
        if custom_cost > MAX_CUSTOM_VALUES_COST {
            errors.push(FieldError::new(
                "custom_fields",
                format!("must be at most {} KiB in all", MAX_CUSTOM_VALUES_COST / 1024),
            ));
        }
        let customer = check_customer(product.customer_details_required, req.customer.as_ref(), &mut errors);

        let currency = product.currency();
        let unit = variant.map_or(product.price_minor, |v| v.price_minor);
        let subtotal = unit.saturating_mul(q as i64);
        let discount = match coupon {
            None => 0,
            Some(c) => coupon_discount(c, product, subtotal, currency, now, &mut errors),
        };
        if !errors.is_empty() {
            return Err(ValidationError { errors });
        }
        let total = subtotal - discount;
        let fraud_score = fraud_score(&req.email, q, total, currency, first_purchase);
        let token = format!("ot_{}", id::random_base62(40));
        let order = Order {
            id: id::new_id("ord_"),
            number,
            status: OrderStatus::Pending,
            payment_status: PaymentStatus::Pending,
            product_id: product.id.clone(),
            product_title: product.title.clone(),
            product_type: product.product_type,
            quantity: q,
            unit_price_minor: unit,
            subtotal_minor: subtotal,
            discount_minor: discount,
            total_minor: subtotal - discount,
            currency: currency.code().to_string(),
            customer_email: req.email.clone(),
            custom_fields: custom,
            customer,
            coupon_id: coupon.map(|c| c.id.clone()),
            coupon_code: coupon.map(|c| c.code.clone()),
            gateway: req.gateway.clone(),
            reserved: if available.is_some() { q as u64 } else { 0 },
            fraud_score,
            token_hash: token_hash(&token),
            delivery: GoodsDelivery::pending(),
            created_at: now,
            updated_at: now,
            pay_by: now.plus_seconds(crate::hold::pay_window_secs(q, available, PAYMENT_WINDOW_SECS)),
            version: 1,
            customer_id: None,
            refunded_minor: 0,
            refund_reason: None,
            variant: variant.map(|v| crate::wire::OrderVariant { id: v.id.clone(), title: v.title.clone() }),
            payment_id: None,
            payment_error: None,
            dispute: None,
            stripe_refunds: Vec::new(),
            hold: crate::hold::Hold::default(),
        };
        Ok(Placed { order, access_token: token })
    }

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
    pub fn paid(&self, goods: Goods, payment: &Payment, customer_id: &str, now: Timestamp) -> Order {
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
            customer_id: Some(customer_id.to_string()),
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
            id: self.id.clone(),
            order_number: self.order_number(),
            status: self.status,
            payment_status: self.payment_status,
            customer_email: self.customer_email.clone(),
            product: crate::wire::OrderProduct {
                id: self.product_id.clone(),
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
            customer_id: self.customer_id.clone(),
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

fn coupon_discount(
    c: &Coupon,
    product: &Product,
    subtotal: i64,
    currency: Currency,
    now: Timestamp,
    errors: &mut Vec<FieldError>,
) -> i64 {
    let mut bad = |m: &str| errors.push(FieldError::new("coupon", m));
    if c.expires_at.is_some_and(|e| e <= now) {
        bad("has expired");
        return 0;
    }
    if c.max_uses.is_some_and(|m| c.uses >= m) {
        bad("has been used up");
        return 0;
    }
    if !c.applies_to_products.is_empty() && !c.applies_to_products.contains(&product.id) {
        bad("does not apply to this product");
        return 0;
    }
    let same_currency = c.currency == currency.code();
    if let Some(min) = c.min_order_amount {
        if !same_currency {
            bad("is in another currency than this product");
            return 0;
        }
        if subtotal < min {
            bad(&format!("needs an order of at least {}", money::minor_to_string(min, currency)));
            return 0;
        }
    }
    match c.kind {
        // Hundredths of a percent, rounded half up to the currency's minor unit.
        CouponType::Percentage => ((subtotal as i128 * c.value as i128 + 5_000) / 10_000) as i64,
        CouponType::Fixed if !same_currency => {
            bad("is in another currency than this product");
            0
        }
        CouponType::Fixed => c.value.min(subtotal),
    }
}

fn check_custom_fields(
    product: &Product,
    sent: &Map<String, Value>,
    errors: &mut Vec<FieldError>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, _) in sent {
        if !product.custom.iter().any(|f| &f.name == name) {
            errors.push(FieldError::new(format!("custom_fields.{name}"), "is not a field of this product"));
        }
    }
    for field in &product.custom {
        let path = format!("custom_fields.{}", field.name);
        let value = sent.get(&field.name).filter(|v| !v.is_null());
        let Some(value) = value else {
            if field.required {
                errors.push(FieldError::new(path, "is required"));
            }
            continue;
        };
        let checked: Result<Value, &str> = match field.kind.as_str() {
            "number" => match value {
                Value::Number(_) => Ok(value.clone()),
                Value::String(s) if s.trim().parse::<f64>().is_ok_and(f64::is_finite) => Ok(value.clone()),
                _ => Err("must be a number"),
            },
            "checkbox" => match value {
                Value::Bool(false) if field.required => Err("must be checked"),
                Value::Bool(_) => Ok(value.clone()),
                _ => Err("must be true or false"),
            },
            "select" => match value {
                Value::String(s) if field.options.contains(s) => Ok(value.clone()),
                _ => Err("must be one of the field's options"),
            },
            "country_dropdown" => match value {
                Value::String(s) if s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase()) => {
                    Ok(value.clone())
                }
                _ => Err("must be a country code (ISO 3166-1 alpha-2, e.g. FR)"),
            },
            // text, textarea, hidden
            _ => match value {
                Value::String(s) if field.required && s.trim().is_empty() => Err("is required"),
                Value::String(s) if s.chars().count() <= 5000 => Ok(value.clone()),
                Value::String(_) => Err("must be at most 5000 characters"),
                _ => Err("must be text"),
            },
        };
        match checked {
            Ok(v) => {
                out.insert(field.name.clone(), v);
            }
            Err(m) => errors.push(FieldError::new(path, m)),
        }
    }
    out
}

fn check_customer(
    required: bool,
    sent: Option<&Map<String, Value>>,
    errors: &mut Vec<FieldError>,
) -> Option<CustomerDetails> {
    let Some(m) = sent else {
        if required {
            errors
                .push(FieldError::new("customer", "is required for this product: {name, address, country}"));
        }
        return None;
    };
    let text = |k: &str, errors: &mut Vec<FieldError>| match m.get(k) {
        Some(Value::String(s)) if !s.trim().is_empty() && s.chars().count() <= 500 => {
            Some(s.trim().to_string())
        }
        _ => {
            errors.push(FieldError::new(format!("customer.{k}"), "is required (1 to 500 characters)"));
            None
        }
    };
    let name = text("name", errors);
    let address = text("address", errors);
    let country = match m.get("country") {
        Some(Value::String(s)) if s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic()) => {
            Some(s.to_uppercase())
        }
        _ => {
            errors.push(FieldError::new(
                "customer.country",
                "must be a country code (ISO 3166-1 alpha-2, e.g. FR)",
            ));
            None
        }
    };
    for k in m.keys() {
        if !["name", "address", "country"].contains(&k.as_str()) {
            errors.push(FieldError::new(format!("customer.{k}"), "unknown field"));
        }
    }
    Some(CustomerDetails { name: name?, address: address?, country: country? })
}

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
        let status = enum_param(
            "status",
            params.get("status"),
            "pending, processing, completed, cancelled, refunded",
            &mut errors,
        );
        let payment_status = enum_param(
            "payment_status",
            params.get("payment_status"),
            "pending, paid, failed, refunded",
            &mut errors,
        );
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

/// A buyer, created by their first paid order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub id: String,
    pub email: String,
    pub total_orders: u64,
    pub lifetime_spend_minor: i64,
    pub currency: String,
    #[serde(default)]
    pub blacklisted: bool,
    #[serde(default)]
    pub blacklist_reason: Option<String>,
    pub created_at: Timestamp,
}

impl Customer {
    pub fn to_object(&self) -> crate::wire::CustomerObject {
        let c = Currency::parse(&self.currency).unwrap_or(Currency::USD);
        crate::wire::CustomerObject {
            id: self.id.clone(),
            email: self.email.clone(),
            total_orders: self.total_orders,
            lifetime_spend: amount(self.lifetime_spend_minor, c),
            blacklisted: self.blacklisted,
            blacklist_reason: self.blacklist_reason.clone(),
            created_at: self.created_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paid_order(gateway: &str) -> Order {
        let (product, _) = Product::create(
            serde_json::json!({"title": "P", "type": "service", "price": 10, "gateways": ["stripe", "paypal"]}),
            crate::Mode::Test,
        )
        .unwrap();
        let req = CheckoutRequest::parse(
            serde_json::json!({"product_id": product.id, "quantity": 1, "email": "a@example.com", "gateway": "stripe"}),
        )
        .unwrap();
        let now = Timestamp::now();
        let placed = Order::place(&req, &product, None, 1, now, false).unwrap();
        Order {
            gateway: gateway.into(),
            ..placed.order.paid(Goods::Note(None), &Payment::Sandbox, "cus_1", now)
        }
    }

    #[test]
    fn partial_refunds_are_for_stripe_payments_only() {
        let now = Timestamp::now();
        let stripe = paid_order("stripe");
        let part = stripe.refund(Some(400), None, now).unwrap();
        assert_eq!((part.refunded_minor, part.payment_status), (400, PaymentStatus::Paid));
        let rest = part.refund(None, None, now).unwrap();
        assert_eq!((rest.refunded_minor, rest.status), (1000, OrderStatus::Refunded));
        assert_eq!(rest.refund(Some(1), None, now).unwrap_err().errors[0].field, "id");

        let paypal = paid_order("paypal");
        let e = paypal.refund(Some(400), None, now).unwrap_err();
        assert_eq!(e.errors[0].field, "amount");
        assert!(e.errors[0].message.contains("Stripe payments only"), "{e}");
        // In full (omitted, or the whole amount) it is fine.
        assert_eq!(paypal.refund(None, None, now).unwrap().status, OrderStatus::Refunded);
        assert_eq!(paypal.refund(Some(1000), None, now).unwrap().status, OrderStatus::Refunded);
    }

    fn pending_order(kind: &str, extra: serde_json::Value) -> (Order, Product) {
        let mut body = serde_json::json!({"title": "P", "type": kind, "price": 10});
        if kind == "serials" {
            body["info"] = "K1,K2,K3".into();
        }
        body.as_object_mut().unwrap().extend(extra.as_object().cloned().unwrap_or_default());
        let (product, pools) = Product::create(body, crate::Mode::Test).unwrap();
        let product = product.expecting(&pools);
        let req = CheckoutRequest::parse(
            serde_json::json!({"product_id": product.id, "quantity": 2, "email": "a@example.com", "gateway": "stripe"}),
        )
        .unwrap();
        (
            Order::place(&req, &product, None, 7, Timestamp::from_millis(1_000_000), false).unwrap().order,
            product,
        )
    }

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_millis(1_000_000 + secs * 1000)
    }

    #[test]
    fn a_placed_order_holds_its_stock_until_paid_or_ended() {
        let (order, product) = pending_order("serials", serde_json::json!({}));
        assert_eq!((order.status, order.payment_status), (OrderStatus::Pending, PaymentStatus::Pending));
        assert_eq!((order.reserved, order.total_minor, order.version), (2, 2000, 1));
        // Two of three units: a large order, paid within the shorter window.
        assert_eq!(order.pay_by, at(crate::hold::LARGE_ORDER_PAY_WINDOW_SECS));
        assert_eq!(order.order_number(), "ORD-7");
        assert!(order.awaits_payment() && !order.awaits_delivery());
        // A service has no counted stock: nothing is held.
        let (service, _) = pending_order("service", serde_json::json!({}));
        assert_eq!(service.reserved, 0);
        // More than the stock is refused, naming the field.
        let req = CheckoutRequest::parse(
            serde_json::json!({"product_id": product.id, "quantity": 4, "email": "a@example.com", "gateway": "stripe"}),
        )
        .unwrap();
        let e = Order::place(&req, &product, None, 8, at(0), false).err().unwrap();
        assert_eq!(
            (e.errors[0].field.as_str(), e.errors[0].message.as_str()),
            ("quantity", "only 3 left in stock")
        );
    }

    #[test]
    fn paying_delivers_each_kind_of_goods_and_releases_the_hold() {
        let (order, _) = pending_order("serials", serde_json::json!({}));
        let paid =
            order.paid(Goods::Serials(vec!["K1".into(), "K2".into()]), &Payment::Sandbox, "cus_1", at(5));
        assert_eq!((paid.status, paid.payment_status), (OrderStatus::Completed, PaymentStatus::Paid));
        assert_eq!(paid.delivery.status, GoodsStatus::Delivered);
        assert_eq!(paid.delivery.items, ["K1", "K2"]);
        assert_eq!((paid.reserved, paid.version), (0, 2));
        assert_eq!(paid.payment_id.as_deref(), Some("sandbox"));
        assert_eq!(paid.customer_id.as_deref(), Some("cus_1"));
        assert!(!paid.awaits_payment(), "a paid order takes no second payment");

        let stripe = Payment::Stripe { payment_intent: "pi_1".into() };
        let note = order.paid(Goods::Note(Some("See you Monday".into())), &stripe, "cus_1", at(5));
        assert_eq!(note.delivery.note.as_deref(), Some("See you Monday"));
        assert_eq!(note.payment_id.as_deref(), Some("pi_1"));
        let file = order.paid(Goods::Download { token: "dl_x".into() }, &Payment::Sandbox, "cus_1", at(5));
        assert_eq!(file.delivery.download_url.as_deref(), Some("/v1/storefront/downloads/dl_x"));
    }

    #[test]
    fn dynamic_goods_wait_in_processing_until_the_sellers_server_answers() {
        let (order, _) =
            pending_order("dynamic", serde_json::json!({"dynamic_url": "https://seller.example.com/goods"}));
        let paid = order.paid(Goods::Dynamic, &Payment::Sandbox, "cus_1", at(1));
        assert_eq!((paid.status, paid.delivery.status), (OrderStatus::Processing, GoodsStatus::Pending));
        assert!(paid.awaits_delivery());

        let sending = paid.delivering(at(2));
        assert_eq!(sending.delivery.status, GoodsStatus::Sending);
        assert!(sending.delivery_in_flight(at(2 + DELIVERY_IN_FLIGHT_SECS - 1)), "another fetch waits");
        assert!(!sending.delivery_in_flight(at(2 + DELIVERY_IN_FLIGHT_SECS)), "a dead fetch stops blocking");

        let failed = sending.delivery_failed("timed out".into(), at(3));
        assert_eq!((failed.status, failed.delivery.status), (OrderStatus::Processing, GoodsStatus::Failed));
        assert_eq!(failed.delivery.error.as_deref(), Some("timed out"));
        assert!(failed.awaits_delivery(), "a failed fetch can be redelivered");

        let done = failed.delivering(at(4)).delivered("CODE-123".into(), at(5));
        assert_eq!((done.status, done.delivery.status), (OrderStatus::Completed, GoodsStatus::Delivered));
        assert_eq!(
            (done.delivery.content.as_deref(), done.delivery.error.as_deref()),
            (Some("CODE-123"), None)
        );
        assert!(!done.awaits_delivery());
        assert_eq!(done.version, paid.version + 4, "every step is a new version");
    }

    #[test]
    fn paid_goods_stay_watched_until_delivered_or_given_up() {
        let (order, _) =
            pending_order("dynamic", serde_json::json!({"dynamic_url": "https://seller.example.com/goods"}));
        let paid = order.paid(Goods::Dynamic, &Payment::Sandbox, "cus_1", at(1)).goods_due_by(at(61));
        assert!(!paid.goods_due(at(60)) && paid.goods_due(at(61)), "the sweeper steps in after the grace");
        // A call in flight: the sweeper steps in once it can no longer be alive.
        let sending = paid.delivering(at(100));
        assert_eq!(sending.delivery.retry_at, Some(at(100 + DELIVERY_IN_FLIGHT_SECS)));
        assert_eq!(sending.delivery.attempts, 1);
        // Each failure waits longer; after the last wait, nothing is due and the error says why.
        let mut o = sending;
        for wait in GOODS_RETRY_WAITS_SECS {
            o = o.delivery_failed("503".into(), at(200));
            assert_eq!(o.delivery.retry_at, Some(at(200 + wait)));
            o = o.delivering(at(200 + wait));
        }
        let given_up = o.delivery_failed("503".into(), at(900_000));
        assert_eq!((given_up.delivery.attempts, given_up.delivery.retry_at), (6, None));
        assert!(!given_up.goods_due(at(10_000_000)));
        assert!(given_up.delivery.error.as_deref().unwrap().contains("/redeliver"));
        assert!(given_up.awaits_delivery(), "the seller can still redeliver");
        let done = given_up.delivering(at(900_001)).delivered("CODE".into(), at(900_002));
        assert_eq!(done.delivery.retry_at, None);
        // A paid order of other goods is never watched.
        let (serials, _) = pending_order("serials", serde_json::json!({}));
        let paid = serials.paid(Goods::Serials(vec!["K".into()]), &Payment::Sandbox, "cus_1", at(1));
        assert_eq!(paid.goods_due_by(at(2)).delivery.retry_at, None);
    }

    #[test]
    fn an_unpaid_order_ends_by_cancel_or_failed_payment_and_only_then() {
        let (order, _) = pending_order("serials", serde_json::json!({}));
        let declined = order.payment_attempt_failed("card declined".into(), at(1));
        assert_eq!((declined.status, declined.payment_status), (OrderStatus::Pending, PaymentStatus::Failed));
        assert!(declined.awaits_payment(), "a declined card can be retried until pay_by");
        assert_eq!(declined.reserved, 2, "still held");

        let cancelled = declined.cancelled(at(2)).unwrap();
        assert_eq!((cancelled.status, cancelled.reserved), (OrderStatus::Cancelled, 0));
        assert!(!cancelled.awaits_payment());
        assert_eq!(cancelled.cancelled(at(3)).unwrap_err().errors[0].field, "id", "once only");

        let expired = order.payment_failed(at(PAYMENT_WINDOW_SECS));
        assert_eq!((expired.status, expired.payment_status), (OrderStatus::Cancelled, PaymentStatus::Failed));
        assert_eq!(expired.reserved, 0);

        let paid = order.paid(Goods::Note(None), &Payment::Sandbox, "cus_1", at(1));
        assert_eq!(
            paid.cancelled(at(2)).unwrap_err().errors[0].field,
            "id",
            "a paid order is refunded, not cancelled"
        );
        assert_eq!(
            order.refund(None, None, at(2)).unwrap_err().errors[0].field,
            "id",
            "an unpaid one has nothing to refund"
        );
    }

    #[test]
    fn refunds_never_exceed_what_was_paid_and_a_dispute_is_recorded() {
        let (order, _) = pending_order("service", serde_json::json!({}));
        let paid =
            order.paid(Goods::Note(None), &Payment::Stripe { payment_intent: "pi_1".into() }, "cus_1", at(1));
        let e = paid.refund(Some(2001), None, at(2)).unwrap_err();
        assert_eq!(e.errors[0].field, "amount");
        assert!(e.errors[0].message.contains("20.00"), "{e}");
        assert_eq!(paid.refund(Some(0), None, at(2)).unwrap_err().errors[0].field, "amount");
        let part = paid.refund(Some(500), Some("late".into()), at(2)).unwrap();
        assert_eq!(
            (part.refunded_minor, part.status, part.refund_reason.as_deref()),
            (500, OrderStatus::Completed, Some("late"))
        );
        let rest = part.refund(None, None, at(3)).unwrap();
        assert_eq!((rest.refunded_minor, rest.payment_status), (2000, PaymentStatus::Refunded));
        assert_eq!(rest.refund_reason.as_deref(), Some("late"), "the first reason stays");

        let dispute = Dispute {
            id: "dp_1".into(),
            reason: "fraudulent".into(),
            status: "needs_response".into(),
            opened_at: at(9),
        };
        let disputed = paid.disputed(dispute.clone(), at(9));
        assert_eq!((disputed.dispute, disputed.status), (Some(dispute), OrderStatus::Completed));
    }

    #[test]
    fn order_list_filters_are_read_with_every_bad_one_named() {
        let q = |pairs: &[(&str, &str)]| {
            QueryParams(pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect())
        };
        let (page, query) = OrderListQuery::parse(&q(&[])).unwrap();
        assert!(query.is_unfiltered());
        assert_eq!(page, PageRequest::default());
        let (_, query) = OrderListQuery::parse(&q(&[
            ("status", "completed"),
            ("customer_email", "Ann@Example.com"),
            ("date_from", "2026-11-01"),
            ("date_to", "2026-11-01"),
        ]))
        .unwrap();
        assert_eq!(query.customer_email.as_deref(), Some("ann@example.com"));
        let day = Timestamp::parse("2026-11-01T12:00:00Z").unwrap();
        assert!(query.matches(OrderStatus::Completed, PaymentStatus::Paid, "ann@example.com", "prod_1", day));
        assert!(!query.matches(OrderStatus::Pending, PaymentStatus::Paid, "ann@example.com", "prod_1", day));
        let next_day = Timestamp::parse("2026-11-02T00:00:00Z").unwrap();
        assert!(!query.matches(
            OrderStatus::Completed,
            PaymentStatus::Paid,
            "ann@example.com",
            "prod_1",
            next_day
        ));
        let e = OrderListQuery::parse(&q(&[
            ("status", "lost"),
            ("payment_status", "x"),
            ("date_to", "soon"),
            ("per_page", "0"),
        ]))
        .unwrap_err();
        let fields: Vec<_> = e.errors.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["per_page", "status", "payment_status", "date_to"]);
    }

    #[test]
    fn fraud_rules_add_up() {
        assert_eq!(fraud_score("a@example.com", 1, 999, Currency::USD, false), 0);
        assert_eq!(fraud_score("a@example.com", 1, 999, Currency::USD, true), 10);
        assert_eq!(fraud_score("a@mailinator.com", 10, 100_000, Currency::USD, true), 90);
    }
}
