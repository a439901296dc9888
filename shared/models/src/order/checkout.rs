//! `POST /storefront/checkout`: the request and the order it places
//! (priced, checked against the product, its custom fields and the coupon).

use super::*;
use crate::request::{self, Body};
use crate::wire::CheckoutInput;

/// What `POST /storefront/checkout` asks for.
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
        let Body { fields: f, mut errors } = request::read::<CheckoutInput, CheckoutInput>(body)?;
        let e = &mut errors;
        let product_id = f.product_id.map(|p| p.trim().to_string());
        let email = request::required_text(e, "email", f.email).map(|m| m.to_lowercase());
        if let Some(m) = &email
            && !email_ok(m)
        {
            e.add("email", "must be an email address");
        }
        let coupon = request::trimmed(f.coupon);
        e.require("product_id", &product_id);
        e.require("quantity", &f.quantity);
        e.require("email", &email);
        e.require("gateway", &f.gateway);
        errors.finish()?;
        Ok(CheckoutRequest {
            product_id: product_id.unwrap_or_default(),
            variant_id: f.variant_id.map(|v| v.trim().to_string()),
            quantity: f.quantity.unwrap_or(1),
            email: email.unwrap_or_default(),
            gateway: f.gateway.map(|g| g.trim().to_string()).unwrap_or_default(),
            coupon,
            custom_fields: f.custom_fields.unwrap_or_default(),
            customer: f.customer,
        })
    }
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
            } else if q as u64 > crate::pool::MAX_SERIALS_PER_ORDER {
                errors.push(FieldError::new(
                    "quantity",
                    format!("must be at most {} serials in one order", crate::pool::MAX_SERIALS_PER_ORDER),
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
        // A free trial (buyers new to the store): the first period is the trial, charged nothing.
        let trial_days = product.recurring.and_then(|r| r.trial_days).filter(|_| first_purchase);
        let discount = match (coupon, trial_days) {
            (None, None) => 0,
            (None, Some(_)) => subtotal,
            (Some(_), Some(days)) => {
                errors.push(FieldError::new(
                    "coupon",
                    format!(
                        "does not apply to a free trial ({days} days free; renewals are at the full price)"
                    ),
                ));
                0
            }
            (Some(c), None) => coupon_discount(c, product, subtotal, currency, now, &mut errors),
        };
        if !errors.is_empty() {
            return Err(ValidationError { errors });
        }
        let total = subtotal - discount;
        let fraud_score = fraud_score(&req.email, q, total, currency, first_purchase);
        let token = format!("ot_{}", id::random_base62(40));
        let order = Order {
            id: crate::id::OrderId::new(),
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
            variant: variant
                .map(|v| crate::wire::OrderVariant { id: v.id.to_string(), title: v.title.clone() }),
            payment_id: None,
            payment_error: None,
            dispute: None,
            stripe_refunds: Vec::new(),
            hold: crate::hold::Hold::default(),
            review_id: None,
            recurring: product.recurring,
            subscription_id: None,
            trial_days,
        };
        Ok(Placed { order, access_token: token })
    }
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

impl Order {
    /// The order `id` that renews `sub` for its next period (or retries a failed renewal),
    /// checked against what the product still sells (the product and variant exist, stock, a
    /// gateway it takes), at the price, currency and quantity the subscription started with,
    /// with the first order's answers (fields and limits added to the product since apply to
    /// new subscriptions), without a coupon. Its access token is the subscription's.
    pub fn renewal(
        sub: &crate::subscription::Subscription,
        id: crate::id::OrderId,
        product: &Product,
        number: u64,
        now: Timestamp,
    ) -> Result<Order, ValidationError> {
        let req = CheckoutRequest {
            product_id: product.id.to_string(),
            variant_id: sub.variant.as_ref().map(|v| v.id.clone()),
            quantity: sub.quantity,
            email: sub.customer_email.clone(),
            gateway: sub.gateway.clone(),
            coupon: None,
            custom_fields: Map::new(),
            customer: None,
        };
        let as_sold_then = Product {
            custom: Vec::new(),
            customer_details_required: false,
            minimum_quantity: 1,
            maximum_quantity: None,
            recurring: None,
            ..product.clone()
        };
        let placed = Order::place(&req, &as_sold_then, None, number, now, false)?;
        let subtotal = sub.unit_price_minor.saturating_mul(i64::from(sub.quantity));
        Ok(Order {
            id,
            custom_fields: sub.custom_fields.clone(),
            customer: sub.customer.clone(),
            currency: sub.currency.clone(),
            unit_price_minor: sub.unit_price_minor,
            subtotal_minor: subtotal,
            discount_minor: 0,
            total_minor: subtotal,
            token_hash: sub.token_hash.clone(),
            recurring: Some(sub.schedule.recurring),
            subscription_id: Some(sub.id.clone()),
            trial_days: None,
            ..placed.order
        })
    }
}
