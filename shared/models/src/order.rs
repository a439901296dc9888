//! Orders: what a checkout creates, what payment completes and delivery fills.

use crate::apikey::hex;
use crate::coupon::{Coupon, CouponType};
use crate::error::{FieldError, ValidationError};
use crate::id;
use crate::input::Input;
use crate::money::{self, Currency};
use crate::product::{Product, ProductType, Stock};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

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
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

/// The goods, once delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Delivery {
    pub status: DeliveryStatus,
    /// Serials handed out.
    #[serde(default)]
    pub items: Vec<String>,
    /// The seller's note (services).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Digital downloads: the expiring, download-capped link (a path under the API's base URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_url: Option<String>,
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
    pub delivery: Delivery,
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
    hex(&Sha256::digest(token.as_bytes()))
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
        if req.variant_id.is_some() || !product.variants.is_empty() {
            bad("variant_id", "buying a variant is not available yet".into());
        }
        if product.product_type == ProductType::Dynamic {
            bad("product_id", "dynamic products cannot be bought yet (their delivery comes next)".into());
        }
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
        if let (Stock::Count(_), Some(available)) = (product.stock(), product.available)
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
        let custom = check_custom_fields(product, &req.custom_fields, &mut errors);
        let customer = check_customer(product.customer_details_required, req.customer.as_ref(), &mut errors);

        let currency = product.currency();
        let unit = product.price_minor;
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
            reserved: if product.available.is_some() { q as u64 } else { 0 },
            fraud_score,
            token_hash: token_hash(&token),
            delivery: Delivery {
                status: DeliveryStatus::Pending,
                items: Vec::new(),
                note: None,
                download_url: None,
            },
            created_at: now,
            updated_at: now,
            pay_by: now.plus_seconds(PAYMENT_WINDOW_SECS),
            version: 1,
            customer_id: None,
            refunded_minor: 0,
            refund_reason: None,
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

    /// The order paid and its goods delivered (serials handed out, or the seller's note).
    pub fn paid(&self, goods: Goods, customer_id: &str, now: Timestamp) -> Order {
        let delivery = match goods {
            Goods::Serials(items) => {
                Delivery { status: DeliveryStatus::Delivered, items, note: None, download_url: None }
            }
            Goods::Note(note) => {
                Delivery { status: DeliveryStatus::Delivered, items: Vec::new(), note, download_url: None }
            }
            Goods::Download { token } => Delivery {
                status: DeliveryStatus::Delivered,
                items: Vec::new(),
                note: None,
                download_url: Some(format!("/v1/storefront/downloads/{token}")),
            },
        };
        Order {
            customer_id: Some(customer_id.to_string()),
            status: OrderStatus::Completed,
            payment_status: PaymentStatus::Paid,
            reserved: 0,
            delivery,
            updated_at: now,
            version: self.version + 1,
            ..self.clone()
        }
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

    /// Unpaid past `pay_by`: cancelled, its stock given back.
    pub fn expired(&self, now: Timestamp) -> Order {
        Order {
            status: OrderStatus::Cancelled,
            payment_status: PaymentStatus::Failed,
            reserved: 0,
            updated_at: now,
            version: self.version + 1,
            ..self.clone()
        }
    }

    /// The payment failed: the order is cancelled and gives its stock back.
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
            delivery: self.delivery.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            pay_by: self.pay_by,
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

    #[test]
    fn fraud_rules_add_up() {
        assert_eq!(fraud_score("a@example.com", 1, 999, Currency::USD, false), 0);
        assert_eq!(fraud_score("a@example.com", 1, 999, Currency::USD, true), 10);
        assert_eq!(fraud_score("a@mailinator.com", 10, 100_000, Currency::USD, true), 90);
    }
}
