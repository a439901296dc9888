//! Products: the Sellvy product object, enriched with every field of Selly's (types, stock from
//! `info`, gateways, custom checkout fields, quantities, warranty, visibility, dynamic delivery).

use crate::apikey::Mode;
use crate::error::ValidationError;
use crate::money::{self, Currency, Money};
use crate::page::{QueryParams, SortOrder};
use crate::pool::PoolWrite;
use crate::request::{self, Body, Errors, check_url};
use crate::time::Timestamp;
use crate::wire::{
    Amount, CustomFieldInput, NewProduct, ProductChanges, ProductObject, PublicProduct, PublicStock,
    PublicVariant, StockLevel, VariantInput, VariantObject,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashSet;

mod list;
mod parse;
#[cfg(test)]
mod tests;

pub use list::{ProductListQuery, ProductSort, ProductSummary};
pub use parse::json_cost;
pub use sellvy_wire::{CUSTOM_FIELD_TYPES, CustomField, GATEWAYS, ProductType};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    pub id: crate::id::VariantId,
    pub title: String,
    pub price_minor: i64,
    /// Serials kept in the product before serials had pools (read only: the store moves them
    /// to the variant's pool the first time it reads such a product).
    #[serde(default, skip_serializing)]
    pub serials: Vec<String>,
    #[serde(default, skip_serializing)]
    pub available: Option<u64>,
}

/// A variant's own stock counters (a serials product sold in variants keeps its stock per
/// variant): units checkouts can still reserve, and units open orders hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaneStock {
    #[serde(default)]
    pub available: u64,
    #[serde(default)]
    pub held: u64,
}

/// Current stock: a count, or unlimited (`"∞"` in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stock {
    Count(u64),
    Unlimited,
}

impl From<Stock> for StockLevel {
    fn from(s: Stock) -> StockLevel {
        match s {
            Stock::Count(n) => StockLevel::Count(n),
            Stock::Unlimited => StockLevel::Unlimited,
        }
    }
}

/// A product as stored. Built only by [`ProductInput`] parsing, so it always satisfies the rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    pub id: crate::id::ProductId,
    pub title: String,
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub product_type: ProductType,
    pub price_minor: i64,
    pub currency: String,
    pub category_id: Option<crate::id::CategoryId>,
    pub is_visible: bool,
    pub images: Vec<String>,
    pub file_url: Option<String>,
    /// Serials kept in the product before serials had pools (read only: the store moves them to
    /// the pool the first time it reads such a product). Serials live in the product's pool.
    #[serde(default, skip_serializing)]
    pub serials: Vec<String>,
    pub stock_delimiter: String,
    pub stock_amount: Option<u64>,
    pub gateways: Vec<String>,
    pub minimum_quantity: u32,
    pub maximum_quantity: Option<u32>,
    pub custom: Vec<CustomField>,
    pub customer_details_required: bool,
    pub warranty: Option<String>,
    pub warranty_duration: Option<u64>,
    pub redirect_url: Option<String>,
    pub unlisted: bool,
    pub private: bool,
    pub hide_stock: bool,
    pub vpn_block: bool,
    pub dynamic_url: Option<String>,
    pub max_risk_level: u8,
    pub seller_note: Option<String>,
    pub low_stock_threshold: Option<u64>,
    pub variants: Vec<Variant>,
    /// Sold as a subscription (see [`crate::subscription`]).
    #[serde(default)]
    pub recurring: Option<crate::wire::Recurring>,
    pub total_sold: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Optimistic-concurrency counter, bumped by every write.
    pub version: u64,
    /// Units that checkouts can still reserve: the stock less what open orders hold. `None`
    /// when the stock is unlimited (or kept per variant). Checkouts take from it atomically.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available: Option<u64>,
    /// Units open (unpaid) orders hold: reserved at checkout, gone when paid or released. The
    /// stock is `available + held`. [`HELD_UNKNOWN`] for a product written before it was kept
    /// (the store works it out from the old counts the first time it reads one).
    #[serde(default = "held_unknown")]
    pub held: u64,
    /// Per variant (a serials product sold in variants): each variant's counters, by id.
    #[serde(default)]
    pub vstock: std::collections::BTreeMap<String, LaneStock>,
    /// Bytes of serials the pools hold (bounded by [`crate::pool::MAX_POOL_BYTES`]).
    #[serde(default)]
    pub pool_bytes: u64,
    /// The longest serial ever added (bytes): what one unit of this product can weigh in an
    /// order, for checkout's bound on an order's goods.
    #[serde(default)]
    pub serial_len_max: u64,
}

/// `held` of a product written before units held were counted.
pub const HELD_UNKNOWN: u64 = u64::MAX;

fn held_unknown() -> u64 {
    HELD_UNKNOWN
}

/// What a product write does to the stock counters, besides the pools' own changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StockChange {
    /// The product-level reservable count is set anew (a limited download's `stock_amount`
    /// changed, or the stock is counted, or no longer): `Some(None)` removes it. Written only
    /// if `held` is still what was read.
    pub available: Option<Option<u64>>,
    /// Variants whose counters start now (new variants of a serials product).
    pub lanes_added: Vec<String>,
    /// Variants removed (their counters go, if nothing is held).
    pub lanes_removed: Vec<String>,
}

// The limits of single fields are in the request type's schema (`ProductChanges`); the whole
// is bounded by [`MAX_PRODUCT_COST`].
/// A product without its serials, as JSON with every quote and backslash counted twice (as a
/// Lambda response escapes them): 100 of them (a full list page) stay under Lambda's 6 MB.
pub const MAX_PRODUCT_COST: usize = 40 * 1024;

impl Product {
    pub fn currency(&self) -> Currency {
        Currency::parse(&self.currency).unwrap_or(Currency::USD)
    }

    pub fn price(&self) -> Money {
        Money { minor: self.price_minor, currency: self.currency() }
    }

    pub fn stock(&self) -> Stock {
        match self.product_type {
            ProductType::Serials if !self.variants.is_empty() => Stock::Count(
                self.variants.iter().map(|v| self.lane(&v.id).available + self.lane(&v.id).held).sum(),
            ),
            ProductType::Serials => Stock::Count(self.available.unwrap_or(0) + self.held),
            ProductType::DigitalDownload if self.stock_amount.is_some() => {
                Stock::Count(self.available.unwrap_or(0) + self.held)
            }
            _ => Stock::Unlimited,
        }
    }

    /// Whether this product was written before serials had pools and held units were counted:
    /// the store moves it to today's layout when it reads it.
    pub fn is_legacy(&self) -> bool {
        self.held == HELD_UNKNOWN
            || !self.serials.is_empty()
            || self.variants.iter().any(|v| !v.serials.is_empty())
    }

    /// Units held by open (unpaid) orders, on the product or its variants.
    pub fn reserved(&self) -> u64 {
        self.held + self.vstock.values().map(|l| l.held).sum::<u64>()
    }

    /// A variant's counters (zero for one not counted yet).
    pub fn lane(&self, variant_id: &str) -> LaneStock {
        self.vstock.get(variant_id).copied().unwrap_or_default()
    }

    /// The lane a variant's units come from: the variant's own pool when the stock is kept per
    /// variant, the product's otherwise.
    pub fn lane_of(&self, variant_id: Option<&str>) -> String {
        match variant_id {
            Some(v) if self.stock_per_variant() => v.to_string(),
            _ => crate::pool::PRODUCT_LANE.to_string(),
        }
    }

    /// Whether this product's stock is a count kept on the product itself (serials without
    /// variants, limited downloads).
    fn counted_on_product(&self) -> bool {
        match self.product_type {
            ProductType::Serials => self.variants.is_empty(),
            ProductType::DigitalDownload => self.stock_amount.is_some(),
            _ => false,
        }
    }

    /// A serials product with variants keeps its stock (and its reservations) per variant.
    pub fn stock_per_variant(&self) -> bool {
        self.product_type == ProductType::Serials && !self.variants.is_empty()
    }

    /// The position of a variant in the stored list (for updates of one variant's stock).
    pub fn variant_index(&self, id: &str) -> Option<usize> {
        self.variants.iter().position(|v| v.id == id)
    }

    pub fn variant_stock(&self, v: &Variant) -> Stock {
        match self.product_type {
            ProductType::Serials => Stock::Count(self.lane(&v.id).available + self.lane(&v.id).held),
            _ => self.stock(),
        }
    }

    /// The counters as they will be once the pools hold what `pools` asks (for the answer and
    /// the event of a write, before its pool writes run): each lane written holds its serials,
    /// of which the held units are not available.
    pub fn expecting(&self, pools: &PoolWrite) -> Product {
        let mut p = self.clone();
        if p.product_type != ProductType::Serials {
            return p;
        }
        for (lane, serials) in &pools.lanes {
            let count = serials.len() as u64;
            if lane == crate::pool::PRODUCT_LANE {
                if p.available.is_some() {
                    p.available = Some(count.saturating_sub(p.held));
                }
            } else if let Some(l) = p.vstock.get_mut(lane) {
                l.available = count.saturating_sub(l.held);
            }
            p.serial_len_max =
                p.serial_len_max.max(serials.iter().map(|s| s.len() as u64).max().unwrap_or(0));
        }
        p
    }

    /// The product object with its serials: `info` (and each variant's) joined from what the
    /// pools hold, by lane. `GET /products/{id}` answers this.
    pub fn to_object_with(&self, pools: &std::collections::BTreeMap<String, Vec<String>>) -> ProductObject {
        let mut object = self.to_object();
        if self.product_type == ProductType::Serials {
            let joined =
                |lane: &str| pools.get(lane).map(|s| s.join(&self.stock_delimiter)).unwrap_or_default();
            if self.variants.is_empty() {
                object.info = Some(joined(crate::pool::PRODUCT_LANE));
            }
            for v in &mut object.variants {
                v.info = Some(joined(&v.id));
            }
        }
        object
    }

    /// The product object as lists and events carry it: `info` is `null` (the serials are in
    /// `GET /products/{id}` only), so a list page stays small whatever the pools hold.
    pub fn to_object(&self) -> ProductObject {
        let currency = self.currency();
        let amount = |minor: i64| Amount::from_minor(minor, currency.exponent());
        let variants = self
            .variants
            .iter()
            .map(|v| VariantObject {
                id: v.id.to_string(),
                title: v.title.clone(),
                price: amount(v.price_minor),
                stock: self.variant_stock(v).into(),
                info: None,
            })
            .collect();
        ProductObject {
            id: self.id.to_string(),
            title: self.title.clone(),
            description: self.description.clone(),
            product_type: self.product_type,
            price: amount(self.price_minor),
            currency: self.currency.clone(),
            category_id: self.category_id.as_ref().map(ToString::to_string),
            is_visible: self.is_visible,
            images: self.images.clone(),
            file_url: self.file_url.clone(),
            stock: self.stock().into(),
            info: None,
            stock_delimiter: self.stock_delimiter.clone(),
            stock_amount: self.stock_amount.map(|_| self.available.unwrap_or(0) + self.held),
            gateways: self.gateways.clone(),
            minimum_quantity: self.minimum_quantity,
            maximum_quantity: self.maximum_quantity,
            custom: self.custom.clone(),
            customer_details_required: self.customer_details_required,
            warranty: self.warranty.clone(),
            warranty_duration: self.warranty_duration,
            redirect_url: self.redirect_url.clone(),
            unlisted: self.unlisted,
            private: self.private,
            hide_stock: self.hide_stock,
            vpn_block: self.vpn_block,
            dynamic_url: self.dynamic_url.clone(),
            max_risk_level: self.max_risk_level,
            seller_note: self.seller_note.clone(),
            low_stock_threshold: self.low_stock_threshold,
            variants,
            recurring: self.recurring,
            total_sold: self.total_sold,
            created_at: self.created_at,
            updated_at: self.updated_at,
            category: None,
        }
    }

    /// Whether buyers can open this product by its id (`private` and hidden ones they cannot).
    pub fn is_public(&self) -> bool {
        self.is_visible && !self.private
    }

    /// The product as buyers see it: no serials, file, dynamic URL or seller settings; the
    /// count replaced by "in stock" / "out of stock" when the seller hides it; with its rating
    /// (kept apart from the product, by its reviews).
    pub fn to_public(&self, rating: crate::wire::ProductRating) -> PublicProduct {
        let currency = self.currency();
        let amount = |minor: i64| Amount::from_minor(minor, currency.exponent());
        let show = |stock: Stock| match (stock, self.hide_stock) {
            (Stock::Unlimited, _) => PublicStock::Label("∞".into()),
            (Stock::Count(n), false) => PublicStock::Count(n),
            (Stock::Count(0), true) => PublicStock::Label("out of stock".into()),
            (Stock::Count(_), true) => PublicStock::Label("in stock".into()),
        };
        PublicProduct {
            id: self.id.to_string(),
            title: self.title.clone(),
            description: self.description.clone(),
            product_type: self.product_type,
            price: amount(self.price_minor),
            currency: self.currency.clone(),
            category_id: self.category_id.as_ref().map(ToString::to_string),
            images: self.images.clone(),
            stock: show(self.stock()),
            gateways: self.gateways.clone(),
            minimum_quantity: self.minimum_quantity,
            maximum_quantity: self.maximum_quantity,
            custom: self.custom.clone(),
            customer_details_required: self.customer_details_required,
            warranty: self.warranty.clone(),
            warranty_duration: self.warranty_duration,
            variants: self
                .variants
                .iter()
                .map(|v| PublicVariant {
                    id: v.id.to_string(),
                    title: v.title.clone(),
                    price: amount(v.price_minor),
                    stock: show(self.variant_stock(v)),
                })
                .collect(),
            recurring: self.recurring,
            rating,
        }
    }

    /// [`Product::to_object`] as JSON.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.to_object()).expect("wire types serialize")
    }
}
