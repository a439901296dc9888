//! Coupons: a code buyers enter at checkout for a percentage or fixed discount.

use crate::error::ValidationError;
use crate::id::ProductId;
use crate::money::{self, Currency, Money};
use crate::request::{self, Body};
use crate::time::Timestamp;
use crate::wire::NewCoupon;
use crate::wire::{Amount, CouponObject};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use sellvy_wire::CouponType;

/// Percentages are held in hundredths of a percent: 12.5 % is 1250.
const PERCENT_EXPONENT: u32 = 2;
/// A coupon may name at most this many products (each is checked in the same transaction).
pub const MAX_APPLIES_TO: usize = 50;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coupon {
    pub id: crate::id::CouponId,
    /// As the seller wrote it; unique per store and mode, compared case-insensitively.
    pub code: String,
    #[serde(rename = "type")]
    pub kind: CouponType,
    /// Hundredths of a percent, or minor units of `currency`.
    pub value: i64,
    pub currency: String,
    pub max_uses: Option<u64>,
    #[serde(default)]
    pub uses: u64,
    pub expires_at: Option<Timestamp>,
    pub min_order_amount: Option<i64>,
    pub applies_to_products: Vec<crate::id::ProductId>,
    pub created_at: Timestamp,
}

/// The form a code is compared in: `Summer20` and `SUMMER20` are one code.
pub fn code_key(code: &str) -> String {
    code.to_lowercase()
}

impl Coupon {
    /// A coupon from a `POST /coupons` body. `currency` is the store's: fixed values and
    /// `min_order_amount` are in it.
    pub fn create(body: Value, currency: Currency, now: Timestamp) -> Result<Coupon, ValidationError> {
        let Body { fields: f, mut errors } = request::read::<NewCoupon, NewCoupon>(body)?;
        let e = &mut errors;
        let code = request::required_text(e, "code", f.code);
        if let Some(c) = &code
            && !c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            e.add("code", "may contain only letters, digits, - and _");
        }
        let kind = f.kind;
        let value = f.value.and_then(|v| {
            let parsed = match kind {
                Some(CouponType::Fixed) => Money::parse_decimal("value", &v.0, currency).map(|m| m.minor),
                _ => money::parse_minor_text("value", &v.0, PERCENT_EXPONENT, "a percentage"),
            };
            match parsed {
                Err(x) => {
                    e.add("value", x.message);
                    None
                }
                Ok(0) => {
                    e.add("value", "must be greater than 0");
                    None
                }
                Ok(p) if kind == Some(CouponType::Percentage) && p > 100 * 100 => {
                    e.add("value", "must be at most 100 for a percentage");
                    None
                }
                Ok(v) => Some(v),
            }
        });
        let max_uses = f.max_uses;
        let expires_at = f.expires_at.filter(|t| {
            if *t <= now {
                e.add("expires_at", "must be in the future");
            }
            *t > now
        });
        let min_order_amount = f.min_order_amount.and_then(|v| {
            Money::parse_decimal("min_order_amount", &v.0, currency)
                .map_err(|x| e.add("min_order_amount", x.message))
                .ok()
                .map(|m| m.minor)
        });
        let mut applies_to_products = Vec::new();
        for (n, p) in f.applies_to_products.unwrap_or_default().iter().enumerate() {
            match ProductId::parse(p.trim()) {
                None => e.add(format!("applies_to_products[{n}]"), "is not a product id (prod_…)"),
                Some(id) if applies_to_products.contains(&id) => {
                    e.add(format!("applies_to_products[{n}]"), "is listed twice")
                }
                Some(id) => applies_to_products.push(id),
            }
        }
        e.require("code", &code);
        e.require("type", &kind);
        e.require("value", &value);
        errors.finish()?;
        Ok(Coupon {
            id: crate::id::CouponId::new(),
            code: code.unwrap_or_default(),
            kind: kind.unwrap_or(CouponType::Fixed),
            value: value.unwrap_or_default(),
            currency: currency.code().to_string(),
            max_uses,
            uses: 0,
            expires_at,
            min_order_amount,
            applies_to_products,
            created_at: now,
        })
    }

    fn currency(&self) -> Currency {
        Currency::parse(&self.currency).unwrap_or(Currency::USD)
    }

    pub fn to_object(&self) -> CouponObject {
        let exponent = match self.kind {
            CouponType::Percentage => PERCENT_EXPONENT,
            CouponType::Fixed => self.currency().exponent(),
        };
        let amount = Amount::from_minor;
        CouponObject {
            id: self.id.to_string(),
            code: self.code.clone(),
            kind: self.kind,
            value: amount(self.value, exponent),
            currency: self.currency.clone(),
            max_uses: self.max_uses,
            uses: self.uses,
            expires_at: self.expires_at,
            min_order_amount: self.min_order_amount.map(|m| amount(m, self.currency().exponent())),
            applies_to_products: self.applies_to_products.iter().map(|p| p.to_string()).collect(),
            created_at: self.created_at,
        }
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.to_object()).expect("wire types serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        Timestamp::parse("2026-11-22T00:00:00Z").unwrap()
    }

    fn fields(e: ValidationError) -> Vec<String> {
        e.errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn the_seeds_coupon_parses_when_its_date_is_ahead() {
        let c = Coupon::create(
            json!({"code": "SUMMER20", "type": "percentage", "value": 20, "max_uses": 100,
                   "expires_at": "2027-09-01T00:00:00Z", "min_order_amount": 10,
                   "applies_to_products": ["prod_00000000000000000000000001"]}),
            Currency::USD,
            now(),
        )
        .unwrap();
        let j = c.to_json();
        assert_eq!(j["value"], 20);
        assert_eq!(j["min_order_amount"], 10);
        assert_eq!(j["uses"], 0);
        assert_eq!(j["type"], "percentage");
        assert_eq!(code_key(&c.code), "summer20");
    }

    #[test]
    fn values_follow_the_type() {
        let p = |v: Value| {
            Coupon::create(json!({"code": "X", "type": "percentage", "value": v}), Currency::USD, now())
        };
        assert_eq!(p(json!(12.5)).unwrap().to_json()["value"].to_string(), "12.5");
        assert_eq!(fields(p(json!(0)).unwrap_err()), ["value"]);
        assert_eq!(fields(p(json!(100.01)).unwrap_err()), ["value"]);
        assert!(p(json!(100)).is_ok());
        let f = |v: Value| {
            Coupon::create(json!({"code": "X", "type": "fixed", "value": v}), Currency::USD, now())
        };
        assert_eq!(f(json!("4.99")).unwrap().value, 499);
        assert_eq!(fields(f(json!(4.999)).unwrap_err()), ["value"]);
        assert_eq!(fields(f(json!(-1)).unwrap_err()), ["value"]);
    }

    #[test]
    fn every_rule_names_its_field() {
        let e = Coupon::create(
            json!({"code": "no spaces!", "type": "bogo", "max_uses": 0, "expires_at": "2020-01-01T00:00:00Z",
                   "min_order_amount": "x", "applies_to_products": ["prod_x"], "stackable": true}),
            Currency::USD,
            now(),
        )
        .unwrap_err();
        assert_eq!(
            fields(e),
            [
                "code",
                "type",
                "value",
                "max_uses",
                "expires_at",
                "min_order_amount",
                "applies_to_products[0]",
                "stackable"
            ]
        );
        let e = Coupon::create(
            json!({"code": "A", "type": "fixed", "value": 1, "expires_at": "soon"}),
            Currency::USD,
            now(),
        )
        .unwrap_err();
        assert_eq!(fields(e), ["expires_at"]);
    }
}
