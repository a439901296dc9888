//! Serial pools: a serials product's serials wait in a pool of their own (one per product, a
//! lane per variant), not in the product, so that a sale claims units without rewriting the
//! product and a seller adds serials without racing buyers. This module holds the rules; the
//! store keeps the items.

use crate::error::{FieldError, ValidationError};
use crate::product::{Product, ProductType};
use crate::request::{self, Body};
use crate::wire::SerialsInput;
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};

/// The lane of a product's own serials (variants have a lane each, named by their id).
pub const PRODUCT_LANE: &str = "-";
/// The longest serial.
pub const MAX_SERIAL_LEN: usize = 1000;
/// What one product's pools may hold in all, so `GET /products/{id}` (which returns `info`
/// whole) stays far inside a Lambda response even with every character escaped.
pub const MAX_POOL_BYTES: u64 = 2 * 1024 * 1024;
/// The serials one order may receive, so the order (and the events and webhook deliveries that
/// carry it) stays inside DynamoDB's 400 KB item.
pub const MAX_GOODS_BYTES: u64 = 256 * 1024;
/// Serials read or written per DynamoDB transaction (its limit is 100 items).
pub const CHUNK: usize = 90;
/// The most serials one order may buy: its payment's transaction deletes one parked chunk per
/// [`CHUNK`] serials beside at most 20 other writes, within DynamoDB's 100 items.
pub const MAX_SERIALS_PER_ORDER: u64 = 80 * CHUNK as u64;
/// An order of at most this many serials takes them in its payment's own transaction; a larger
/// one parks them under the order first, [`CHUNK`] at a time.
pub const INLINE_SERIALS: usize = 80;

/// What a serial costs in JSON (quotes, escapes and a separator).
pub fn serial_cost(s: &str) -> u64 {
    serde_json::to_string(s).map_or(s.len() as u64 * 2 + 3, |j| j.len() as u64 + 1)
}

/// The serials a write asks the pools to hold afterwards, by lane (replace semantics); lanes
/// not named keep what they hold. A variant removed has its lane emptied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolWrite {
    pub lanes: BTreeMap<String, Vec<String>>,
}

impl PoolWrite {
    pub fn is_empty(&self) -> bool {
        self.lanes.is_empty()
    }
}

/// Splits `info` by the delimiter, trimming each piece and dropping empty ones.
pub fn split_serials(info: &str, delimiter: &str) -> Vec<String> {
    // A "\n" delimiter also splits "\r\n" lines, since every piece is trimmed.
    info.split(delimiter).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// Checks serials for one write: each at most [`MAX_SERIAL_LEN`], none twice (a serial twice
/// would be sold twice), and the whole within [`MAX_POOL_BYTES`]. Errors name `field`.
pub fn check_serials(serials: &[String], field: &str, seen: &mut HashSet<String>) -> Result<(), FieldError> {
    let mut bytes = 0;
    for s in serials {
        if s.chars().count() > MAX_SERIAL_LEN {
            return Err(FieldError::new(
                field,
                format!("each serial must be at most {MAX_SERIAL_LEN} characters"),
            ));
        }
        if !seen.insert(s.clone()) {
            return Err(FieldError::new(
                field,
                format!("holds the serial {s:?} twice: each serial can be sold once"),
            ));
        }
        bytes += s.len() as u64;
    }
    if bytes > MAX_POOL_BYTES {
        return Err(FieldError::new(
            field,
            format!("must be at most {} MiB of serials", MAX_POOL_BYTES / 1024 / 1024),
        ));
    }
    Ok(())
}

/// `POST /v1/products/{id}/serials`: `info` (split by the product's `stock_delimiter`) and, for
/// a product sold in variants, `variant_id`. The serials are added to what the pool holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialsAppend {
    pub lane: String,
    pub serials: Vec<String>,
}

impl SerialsAppend {
    pub fn parse(body: Value, product: &Product) -> Result<SerialsAppend, ValidationError> {
        let Body { fields: f, mut errors } = request::read::<SerialsInput, SerialsInput>(body)?;
        let e = &mut errors;
        let info = request::required_text(e, "info", f.info);
        e.require("info", &info);
        if product.product_type != ProductType::Serials {
            e.add("info", "serials are added to type serials only");
        }
        let lane = match (f.variant_id, product.variants.is_empty()) {
            (None, true) => Some(PRODUCT_LANE.to_string()),
            (None, false) => {
                e.add("variant_id", "is required: this product keeps serials per variant");
                None
            }
            (Some(v), false) if product.variants.iter().any(|x| x.id == v) => Some(v),
            (Some(_), _) => {
                e.add("variant_id", "is not a variant of this product");
                None
            }
        };
        let serials = info.as_deref().map(|s| split_serials(s, &product.stock_delimiter)).unwrap_or_default();
        if info.is_some() && serials.is_empty() {
            e.add("info", "holds no serial");
        }
        if let Err(x) = check_serials(&serials, "info", &mut HashSet::new()) {
            e.add(x.field, x.message);
        }
        errors.finish()?;
        Ok(SerialsAppend { lane: lane.unwrap_or_default(), serials })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serials_are_checked_for_length_repeats_and_the_pools_bound() {
        let mut seen = HashSet::new();
        assert!(check_serials(&["A".into(), "B".into()], "info", &mut seen).is_ok());
        let twice = check_serials(&["C".into(), "A".into()], "info", &mut seen).unwrap_err();
        assert!(twice.message.contains("twice"), "{twice:?}");
        let long = check_serials(&["x".repeat(1001)], "info", &mut HashSet::new()).unwrap_err();
        assert!(long.message.contains("1000 characters"));
        let many: Vec<String> = (0..3000).map(|n| format!("{n:0>999}")).collect();
        assert!(check_serials(&many, "info", &mut HashSet::new()).unwrap_err().message.contains("2 MiB"));
        assert_eq!(serial_cost("ABC"), 6);
        assert_eq!(serial_cost("A\"B"), 7, "escapes count");
    }

    #[test]
    fn an_append_names_its_lane() {
        let product = Product::create(
            json!({"title": "K", "type": "serials", "price": 1, "info": "A"}),
            crate::Mode::Test,
        )
        .unwrap()
        .0;
        let a = SerialsAppend::parse(json!({"info": "B, C"}), &product).unwrap();
        assert_eq!((a.lane.as_str(), a.serials), (PRODUCT_LANE, vec!["B".to_string(), "C".to_string()]));
        assert_eq!(
            SerialsAppend::parse(json!({"info": " , "}), &product).unwrap_err().errors[0].field,
            "info"
        );
        assert_eq!(
            SerialsAppend::parse(json!({"info": "B", "variant_id": "var_x"}), &product).unwrap_err().errors
                [0]
            .field,
            "variant_id"
        );
    }
}
