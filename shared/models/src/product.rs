//! Products: the Sellvy product object, enriched with every field of Selly's (types, stock from
//! `info`, gateways, custom checkout fields, quantities, warranty, visibility, dynamic delivery).

use crate::apikey::Mode;
use crate::error::ValidationError;
use crate::id;
use crate::input::{Input, check_url};
use crate::money::{self, Currency, Money};
use crate::page::{QueryParams, SortOrder};
use crate::pool::PoolWrite;
use crate::time::Timestamp;
use crate::wire::{
    Amount, ProductObject, PublicProduct, PublicStock, PublicVariant, StockLevel, VariantObject,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProductType {
    /// A file the buyer downloads (Selly's `file`).
    DigitalDownload,
    /// Serial keys handed out from the product's `info`.
    Serials,
    /// Goods generated on payment by the seller's `dynamic_url`.
    Dynamic,
    /// A service the seller performs.
    Service,
}

impl ProductType {
    pub fn parse(s: &str) -> Option<ProductType> {
        match s {
            "digital_download" | "file" => Some(ProductType::DigitalDownload),
            "serials" => Some(ProductType::Serials),
            "dynamic" => Some(ProductType::Dynamic),
            "service" => Some(ProductType::Service),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ProductType::DigitalDownload => "digital_download",
            ProductType::Serials => "serials",
            ProductType::Dynamic => "dynamic",
            ProductType::Service => "service",
        }
    }
}

const TYPE_NAMES: &str = "digital_download (or file), serials, dynamic, service";

/// Payment gateways a product may enable (the Selly list).
pub const GATEWAYS: [&str; 12] = [
    "paypal",
    "stripe",
    "cashapp",
    "bitcoin",
    "ethereum",
    "litecoin",
    "bitcoin_cash",
    "perfect_money",
    "skrill",
    "dogecoin",
    "bnb",
    "polygon",
];

/// Input types of custom checkout fields.
pub const CUSTOM_FIELD_TYPES: [&str; 7] =
    ["select", "number", "text", "hidden", "textarea", "checkbox", "country_dropdown"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CustomField {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub required: bool,
    /// The choices of a `select` (and only of a select).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    pub id: String,
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
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub product_type: ProductType,
    pub price_minor: i64,
    pub currency: String,
    pub category_id: Option<String>,
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

// Limits of single fields; the whole is bounded by [`MAX_PRODUCT_COST`].
const MAX_TITLE: usize = 200;
const MAX_DESCRIPTION: usize = 20_000;
const MAX_VARIANTS: usize = 50;
/// A product without its serials, as JSON with every quote and backslash counted twice (as a
/// Lambda response escapes them): 100 of them (a full list page) stay under Lambda's 6 MB.
pub const MAX_PRODUCT_COST: usize = 40 * 1024;
const MAX_CUSTOM_FIELDS: usize = 25;
const MAX_IMAGES: usize = 10;

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
                id: v.id.clone(),
                title: v.title.clone(),
                price: amount(v.price_minor),
                stock: self.variant_stock(v).into(),
                info: None,
            })
            .collect();
        ProductObject {
            id: self.id.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            product_type: self.product_type,
            price: amount(self.price_minor),
            currency: self.currency.clone(),
            category_id: self.category_id.clone(),
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
    /// count replaced by "in stock" / "out of stock" when the seller hides it.
    pub fn to_public(&self) -> PublicProduct {
        let currency = self.currency();
        let amount = |minor: i64| Amount::from_minor(minor, currency.exponent());
        let show = |stock: Stock| match (stock, self.hide_stock) {
            (Stock::Unlimited, _) => PublicStock::Label("∞".into()),
            (Stock::Count(n), false) => PublicStock::Count(n),
            (Stock::Count(0), true) => PublicStock::Label("out of stock".into()),
            (Stock::Count(_), true) => PublicStock::Label("in stock".into()),
        };
        PublicProduct {
            id: self.id.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            product_type: self.product_type,
            price: amount(self.price_minor),
            currency: self.currency.clone(),
            category_id: self.category_id.clone(),
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
                    id: v.id.clone(),
                    title: v.title.clone(),
                    price: amount(v.price_minor),
                    stock: show(self.variant_stock(v)),
                })
                .collect(),
        }
    }

    /// [`Product::to_object`] as JSON.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.to_object()).expect("wire types serialize")
    }

    /// The writable fields as input, so that an update is "this product's input, overlaid
    /// with the fields sent", parsed by the same rules as a creation.
    fn to_input(&self) -> Map<String, Value> {
        let mut o = self.to_json();
        let map = o.as_object_mut().expect("to_json builds an object");
        for read_only in ["id", "stock", "total_sold", "created_at", "updated_at"] {
            map.shift_remove(read_only);
        }
        map.insert("price".into(), Value::from(self.price().to_decimal_string()));
        if let Some(Value::Array(vs)) = map.get_mut("variants") {
            for (v, stored) in vs.iter_mut().zip(&self.variants) {
                let vo = v.as_object_mut().expect("variant object");
                vo.remove("stock");
                vo.insert(
                    "price".into(),
                    Value::from(money::minor_to_string(stored.price_minor, self.currency())),
                );
            }
        }
        std::mem::take(map)
    }

    /// Applies a PATCH (or PUT) body: only the fields sent change; `null` clears an optional
    /// field. The result obeys every rule a new product does. Returns the product, what its
    /// pools must hold afterwards (for each `info` sent) and what changes in its counters.
    pub fn apply_update(
        &self,
        patch: Value,
        mode: Mode,
    ) -> Result<(Product, PoolWrite, StockChange), ValidationError> {
        let mut patch = Input::object(patch)?;
        patch.alias("type", "product_type");
        let mut patch_map = patch.into_map()?;
        // A client may send back what it read: read-only fields are fine while unchanged.
        let current = self.to_json();
        let mut errors = Vec::new();
        for read_only in ["id", "stock", "total_sold", "created_at", "updated_at"] {
            if let Some(sent) = patch_map.shift_remove(read_only)
                && read_only != "updated_at"
                && sent != current[read_only]
            {
                errors.push(crate::FieldError::new(read_only, "is read-only"));
            }
        }
        if !errors.is_empty() {
            return Err(ValidationError { errors });
        }
        let stock_amount_sent = patch_map.contains_key("stock_amount");
        let mut merged = self.to_input();
        for (k, v) in patch_map {
            merged.insert(k, v);
        }
        let (mut updated, mut pools) = parse_product(Value::Object(merged), mode, Some(self))?;
        let serials = |p: &Product| p.product_type == ProductType::Serials;
        // Units open orders hold stay held: what they hold must still be there afterwards.
        let mut change = StockChange::default();
        if self.held > 0 && (!updated.counted_on_product() || serials(self) != serials(&updated)) {
            let field = match (updated.product_type, serials(self)) {
                (ProductType::Serials, true) => "variants",
                (ProductType::DigitalDownload, false) => "stock_amount",
                _ => "type",
            };
            return Err(ValidationError::one(
                field,
                format!(
                    "open orders hold {} units of this product's stock: change how its stock is kept once they are paid or expired",
                    self.held
                ),
            ));
        }
        if let Some(wanted) = pools.lanes.get(crate::pool::PRODUCT_LANE)
            && (wanted.len() as u64) < self.held
        {
            return Err(ValidationError::one(
                "info",
                format!(
                    "would leave {} units, but open orders hold {}: keep at least {}",
                    wanted.len(),
                    self.held,
                    self.held
                ),
            ));
        }
        // Counters carry over; a definition that changes sets them anew.
        updated.available = self.available;
        updated.held = self.held;
        updated.vstock = self.vstock.clone();
        updated.pool_bytes = self.pool_bytes;
        updated.serial_len_max = self.serial_len_max;
        match (updated.product_type, updated.stock_amount) {
            (ProductType::DigitalDownload, Some(n)) if stock_amount_sent || !self.counted_on_product() => {
                if n < self.held {
                    return Err(ValidationError::one(
                        "stock_amount",
                        format!(
                            "would leave {n} units, but open orders hold {}: keep at least {}",
                            self.held, self.held
                        ),
                    ));
                }
                change.available = Some(Some(n - self.held));
            }
            (ProductType::Serials, _) if updated.variants.is_empty() && !self.counted_on_product() => {
                change.available = Some(Some(0));
            }
            _ if !updated.counted_on_product() && self.available.is_some() => change.available = Some(None),
            _ => {}
        }
        if let Some(a) = change.available {
            updated.available = a;
        }
        // Variants: a serials product's variants each count their own stock.
        let per_variant = updated.stock_per_variant();
        let mut errors = Vec::new();
        for old in &self.variants {
            let gone = !updated.variants.iter().any(|v| v.id == old.id);
            let held = self.lane(&old.id).held;
            if (gone || !per_variant) && held > 0 {
                errors.push(crate::FieldError::new(
                    "variants",
                    format!("{} is held by open orders and cannot be removed now", old.id),
                ));
            }
            if gone || !per_variant {
                change.lanes_removed.push(old.id.clone());
                if self.stock_per_variant() {
                    pools.lanes.insert(old.id.clone(), Vec::new());
                }
            }
        }
        for (n, v) in updated.variants.iter().enumerate() {
            let held = self.lane(&v.id).held;
            if let Some(wanted) = pools.lanes.get(&v.id)
                && (wanted.len() as u64) < held
            {
                errors.push(crate::FieldError::new(
                    format!("variants[{n}].info"),
                    format!(
                        "would leave {} serials, but open orders hold {held}: keep at least {held}",
                        wanted.len()
                    ),
                ));
            }
            if per_variant && !self.vstock.contains_key(&v.id) {
                change.lanes_added.push(v.id.clone());
            }
        }
        if !errors.is_empty() {
            return Err(ValidationError { errors });
        }
        for id in &change.lanes_removed {
            updated.vstock.remove(id);
        }
        for id in &change.lanes_added {
            updated.vstock.insert(id.clone(), LaneStock::default());
        }
        // A product no longer of type serials, or now sold in variants, gives its own serials up.
        if serials(self) && self.variants.is_empty() && (!serials(&updated) || per_variant) {
            pools.lanes.insert(crate::pool::PRODUCT_LANE.to_string(), Vec::new());
        }
        updated.id = self.id.clone();
        updated.total_sold = self.total_sold;
        updated.created_at = self.created_at;
        updated.updated_at = Timestamp::now().max(self.updated_at);
        updated.version = self.version + 1;
        Ok((updated, pools, change))
    }

    /// Creates a product from a `POST /products` body, with what its pools must hold.
    pub fn create(body: Value, mode: Mode) -> Result<(Product, PoolWrite), ValidationError> {
        parse_product(body, mode, None)
    }
}

/// Reads serials from `info`: split, each checked (length, repeats across the whole product,
/// the pools' bound). Errors name `field`.
fn read_serials(
    input: &mut Input,
    field: &str,
    info: &str,
    delimiter: &str,
    seen: &mut HashSet<String>,
) -> Vec<String> {
    let serials = crate::pool::split_serials(info, delimiter);
    match crate::pool::check_serials(&serials, field, seen) {
        Ok(()) => serials,
        Err(e) => {
            input.error(field, e.message);
            Vec::new()
        }
    }
}

fn parse_product(
    body: Value,
    mode: Mode,
    existing: Option<&Product>,
) -> Result<(Product, PoolWrite), ValidationError> {
    let mut i = Input::object(body)?;
    i.alias("type", "product_type");

    let title = i.text("title", 1, MAX_TITLE);
    let description = i.text("description", 0, MAX_DESCRIPTION).filter(|d| !d.is_empty());
    let product_type = i.take_str("type").and_then(|t| {
        ProductType::parse(&t).or_else(|| {
            i.error("type", format!("must be one of {TYPE_NAMES}"));
            None
        })
    });
    let currency = match i.take_str("currency") {
        None => Some(Currency::USD),
        Some(c) => Currency::parse(&c).or_else(|| {
            i.error("currency", "must be a supported ISO 4217 currency code (e.g. USD, EUR, GBP)");
            None
        }),
    };
    // With an unknown currency, the price is still checked (as if USD) so both errors show.
    let price_currency = currency.unwrap_or(Currency::USD);
    let price = i.take("price").and_then(|p| {
        Money::parse("price", &p, price_currency).map_err(|e| i.error("price", e.message)).ok()
    });
    let category_id = i.take_str("category_id").and_then(|c| {
        if id::looks_like("cat_", &c) {
            Some(c)
        } else {
            i.error("category_id", "must be a category id (cat_…)");
            None
        }
    });
    let is_visible = i.bool("is_visible").unwrap_or(true);
    let images = i.string_list("images", MAX_IMAGES, 2048).unwrap_or_default();
    for (n, url) in images.iter().enumerate() {
        if let Err(why) = check_url(url, false) {
            i.error(&format!("images[{n}]"), why);
        }
    }
    let file_url = i.take_str("file_url").map(|s| s.trim().to_string());
    if let Some(Err(why)) = file_url.as_deref().map(|u| check_url(u, false)) {
        i.error("file_url", why);
    }
    let stock_delimiter = match i.take_str("stock_delimiter") {
        None => ",".to_string(),
        Some(d) if d.is_empty() || d.chars().count() > 16 => {
            i.error("stock_delimiter", "must be 1 to 16 characters");
            ",".to_string()
        }
        Some(d) => d,
    };
    let info = i.take_str("info");
    let stock_amount = i.int("stock_amount", 0, 1_000_000_000).map(|n| n as u64);
    let gateways = match i.string_list("gateways", GATEWAYS.len(), 32) {
        None if i.was_present("gateways") => Vec::new(),
        None => vec!["stripe".to_string()],
        Some(list) => {
            let mut seen = HashSet::new();
            for (n, g) in list.iter().enumerate() {
                if !GATEWAYS.contains(&g.as_str()) {
                    i.error(&format!("gateways[{n}]"), format!("must be one of {}", GATEWAYS.join(", ")));
                } else if !seen.insert(g.clone()) {
                    i.error(&format!("gateways[{n}]"), "is listed twice");
                }
            }
            if list.is_empty() {
                i.error("gateways", "must enable at least one gateway");
            }
            list
        }
    };
    let minimum_quantity = i.int("minimum_quantity", 1, 1_000_000).unwrap_or(1) as u32;
    let maximum_quantity = i.int("maximum_quantity", 1, 1_000_000).map(|n| n as u32);
    if let Some(max) = maximum_quantity
        && max < minimum_quantity
    {
        i.error("maximum_quantity", "must not be less than minimum_quantity");
    }
    let custom = parse_custom_fields(&mut i);
    let customer_details_required = i.bool("customer_details_required").unwrap_or(false);
    let warranty = i.text("warranty", 0, 10_000).filter(|w| !w.is_empty());
    let warranty_duration = i.int("warranty_duration", 1, 10 * 365 * 24 * 3600).map(|n| n as u64);
    let redirect_url = i.take_str("redirect_url").map(|s| s.trim().to_string());
    if let Some(Err(why)) = redirect_url.as_deref().map(|u| check_url(u, false)) {
        i.error("redirect_url", why);
    }
    let unlisted = i.bool("unlisted").unwrap_or(false);
    let private = i.bool("private").unwrap_or(false);
    let hide_stock = i.bool("hide_stock").unwrap_or(false);
    let vpn_block = i.bool("vpn_block").unwrap_or(false);
    let dynamic_url = i.take_str("dynamic_url").map(|s| s.trim().to_string());
    if let Some(Err(why)) = dynamic_url.as_deref().map(|u| check_url(u, mode == Mode::Live)) {
        i.error("dynamic_url", why);
    }
    let max_risk_level = i.int("max_risk_level", 0, 100).unwrap_or(100) as u8;
    let seller_note = i.text("seller_note", 0, 10_000).filter(|s| !s.is_empty());
    let low_stock_threshold = i.int("low_stock_threshold", 0, 1_000_000_000).map(|n| n as u64);

    // Rules that tie fields to the product type.
    let mut serial_seen = HashSet::new();
    let mut pools = PoolWrite::default();
    if let Some(t) = product_type {
        if t != ProductType::Serials && info.as_deref().is_some_and(|s| !s.trim().is_empty()) {
            i.error("info", "holds serials, so it applies only to type serials");
        }
        if t != ProductType::DigitalDownload && stock_amount.is_some() {
            i.error(
                "stock_amount",
                "applies only to type digital_download (serials count their stock from info)",
            );
        }
        if t != ProductType::DigitalDownload && file_url.is_some() {
            i.error("file_url", "applies only to type digital_download");
        }
        if t == ProductType::Dynamic && dynamic_url.is_none() && !i.has_error("dynamic_url") {
            i.error("dynamic_url", "is required for type dynamic");
        }
        if t != ProductType::Dynamic && dynamic_url.is_some() {
            i.error("dynamic_url", "applies only to type dynamic");
        }
        if t == ProductType::Serials
            && let Some(info) = &info
        {
            let serials = read_serials(&mut i, "info", info, &stock_delimiter, &mut serial_seen);
            pools.lanes.insert(crate::pool::PRODUCT_LANE.to_string(), serials);
        }
    }
    let variants = parse_variants(
        &mut i,
        product_type,
        currency,
        &stock_delimiter,
        existing,
        &mut serial_seen,
        &mut pools,
    );
    if !variants.is_empty() && pools.lanes.get(crate::pool::PRODUCT_LANE).is_some_and(|s| !s.is_empty()) {
        i.error(
            "info",
            "must be empty when the product has variants: each variant holds its own serials in its info",
        );
    }
    let pool_bytes: u64 = pools.lanes.values().flatten().map(|s| s.len() as u64).sum();
    if pool_bytes > crate::pool::MAX_POOL_BYTES {
        i.error(
            "info",
            format!("must be at most {} MiB of serials in all", crate::pool::MAX_POOL_BYTES / 1024 / 1024),
        );
    }

    i.require("title");
    i.require("type");
    i.require("price");
    i.finish()?;

    let now = Timestamp::now();
    Ok(Product {
        id: id::new_id("prod_"),
        title: title.unwrap_or_default(),
        description,
        product_type: product_type.unwrap_or(ProductType::Service),
        price_minor: price.map_or(0, |p| p.minor),
        currency: currency.unwrap_or(Currency::USD).code().to_string(),
        category_id,
        is_visible,
        images,
        file_url,
        serials: Vec::new(),
        stock_delimiter,
        stock_amount,
        gateways,
        minimum_quantity,
        maximum_quantity,
        custom,
        customer_details_required,
        warranty,
        warranty_duration,
        redirect_url,
        unlisted,
        private,
        hide_stock,
        vpn_block,
        dynamic_url,
        max_risk_level,
        seller_note,
        low_stock_threshold,
        variants,
        total_sold: 0,
        created_at: now,
        updated_at: now,
        version: 1,
        available: None,
        held: 0,
        vstock: std::collections::BTreeMap::new(),
        pool_bytes: 0,
        serial_len_max: 0,
    })
    .map(|mut p| {
        // A new product's counters: the pools' own writes count the serials in.
        p.available = match p.product_type {
            ProductType::Serials if p.variants.is_empty() => Some(0),
            ProductType::DigitalDownload => p.stock_amount,
            _ => None,
        };
        if p.stock_per_variant() {
            p.vstock = p.variants.iter().map(|v| (v.id.clone(), LaneStock::default())).collect();
        }
        (p, pools)
    })
    .and_then(|(p, pools)| check_size(&p).map(|()| (p, pools)))
}

/// What a JSON value costs in a Lambda response: its length, with every quote and backslash
/// counted twice (the response escapes them).
pub fn json_cost(v: &impl Serialize) -> usize {
    serde_json::to_string(v)
        .map_or(usize::MAX, |j| j.len() + j.bytes().filter(|b| matches!(b, b'"' | b'\\')).count())
}

/// A product (without its serials) must stay within [`MAX_PRODUCT_COST`]; the error names the
/// field that weighs most.
fn check_size(p: &Product) -> Result<(), ValidationError> {
    let object =
        serde_json::to_value(p.to_object()).map_err(|e| ValidationError::one("body", e.to_string()))?;
    let total = json_cost(&object);
    if total <= MAX_PRODUCT_COST {
        return Ok(());
    }
    let heaviest =
        ["description", "custom", "variants", "images", "warranty", "seller_note", "title", "redirect_url"]
            .into_iter()
            .max_by_key(|f| json_cost(&object[*f]))
            .unwrap_or("body");
    Err(ValidationError::one(
        heaviest,
        format!(
            "makes the product {} KiB (this field {} KiB); a product is at most {} KiB without its serials",
            total.div_ceil(1024),
            json_cost(&object[heaviest]).div_ceil(1024),
            MAX_PRODUCT_COST / 1024
        ),
    ))
}

fn parse_custom_fields(i: &mut Input) -> Vec<CustomField> {
    let Some(items) = i.array("custom", MAX_CUSTOM_FIELDS) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut names = HashSet::new();
    for (n, item) in items.into_iter().enumerate() {
        let field = format!("custom[{n}]");
        let Some(mut c) = i.nested(&field, item) else {
            continue;
        };
        let kind = c.take_str("type").and_then(|t| {
            if CUSTOM_FIELD_TYPES.contains(&t.as_str()) {
                Some(t)
            } else {
                c.error("type", format!("must be one of {}", CUSTOM_FIELD_TYPES.join(", ")));
                None
            }
        });
        let name = c.text("name", 1, 100);
        if let Some(name) = &name
            && !names.insert(name.to_lowercase())
        {
            c.error("name", "is used by another custom field");
        }
        let required = c.bool("required").unwrap_or(false);
        let options = c.string_list("options", 100, 200);
        match (kind.as_deref(), &options) {
            (Some("select"), None) if !c.has_error("options") => {
                c.error("options", "is required for a select: list its choices")
            }
            (Some("select"), Some(o)) if o.is_empty() => c.error("options", "must list at least one choice"),
            (Some(k), Some(_)) if k != "select" => c.error("options", "applies only to type select"),
            _ => {}
        }
        c.require("type");
        c.require("name");
        if let (Some(kind), Some(name)) = (kind, name) {
            out.push(CustomField { kind, name, required, options: options.unwrap_or_default() });
        }
        i.absorb(c);
    }
    out
}

fn parse_variants(
    i: &mut Input,
    product_type: Option<ProductType>,
    currency: Option<Currency>,
    delimiter: &str,
    existing: Option<&Product>,
    serial_seen: &mut HashSet<String>,
    pools: &mut PoolWrite,
) -> Vec<Variant> {
    let Some(items) = i.array("variants", MAX_VARIANTS) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut titles = HashSet::new();
    let mut ids = HashSet::new();
    for (n, item) in items.into_iter().enumerate() {
        let field = format!("variants[{n}]");
        let Some(mut v) = i.nested(&field, item) else {
            continue;
        };
        let id = match v.take_str("id") {
            None => Some(id::new_id("var_")),
            Some(id) => {
                let known = existing.is_some_and(|p| p.variants.iter().any(|x| x.id == id));
                if !known {
                    v.error("id", "is not a variant of this product (omit id to add a new variant)");
                    None
                } else if !ids.insert(id.clone()) {
                    v.error("id", "is listed twice");
                    None
                } else {
                    Some(id)
                }
            }
        };
        let title = v.text("title", 1, MAX_TITLE);
        if let Some(t) = &title
            && !titles.insert(t.to_lowercase())
        {
            v.error("title", "is used by another variant");
        }
        let price = v.take("price").and_then(|p| {
            Money::parse("price", &p, currency.unwrap_or(Currency::USD))
                .map_err(|e| v.error("price", e.message))
                .ok()
        });
        let info = v.take_str("info");
        let serials = match (product_type, info) {
            (Some(ProductType::Serials), Some(info)) => {
                Some(read_serials(&mut v, "info", &info, delimiter, serial_seen))
            }
            (Some(_), Some(info)) if !info.trim().is_empty() => {
                v.error("info", "holds serials, so it applies only to type serials");
                None
            }
            _ => None,
        };
        v.require("title");
        v.require("price");
        if let (Some(id), Some(title), Some(price)) = (id, title, price) {
            if let Some(serials) = serials {
                pools.lanes.insert(id.clone(), serials);
            }
            out.push(Variant { id, title, price_minor: price.minor, serials: Vec::new(), available: None });
        }
        i.absorb(v);
    }
    out
}

/// Sort fields of `GET /products`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductSort {
    CreatedAt,
    Price,
    Title,
    TotalSold,
}

/// The query of `GET /products`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductListQuery {
    pub search: Option<String>,
    pub product_type: Option<ProductType>,
    pub category_id: Option<String>,
    pub visible: Option<bool>,
    pub sort: ProductSort,
    pub order: SortOrder,
}

impl ProductListQuery {
    pub fn parse(params: &QueryParams) -> Result<ProductListQuery, ValidationError> {
        let mut errors = Vec::new();
        let mut bad = |field: &str, msg: &str| errors.push(crate::FieldError::new(field, msg));
        let search = params.get("search").map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        if search.as_ref().is_some_and(|s| s.chars().count() > 200) {
            bad("search", "must be at most 200 characters");
        }
        let product_type = params.get("type").and_then(|t| {
            ProductType::parse(t).or_else(|| {
                bad("type", "must be one of digital_download (or file), serials, dynamic, service");
                None
            })
        });
        let category_id = params.get("category_id").map(str::to_string);
        let visible = params.get("visible").and_then(|v| match v {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => {
                bad("visible", "must be true or false");
                None
            }
        });
        let sort = match params.get("sort") {
            None | Some("created_at") => ProductSort::CreatedAt,
            Some("price") => ProductSort::Price,
            Some("title") => ProductSort::Title,
            Some("total_sold") => ProductSort::TotalSold,
            Some(_) => {
                bad("sort", "must be one of created_at, price, title, total_sold");
                ProductSort::CreatedAt
            }
        };
        let order = match params.get("order") {
            None | Some("desc") => SortOrder::Desc,
            Some("asc") => SortOrder::Asc,
            Some(_) => {
                bad("order", "must be asc or desc");
                SortOrder::Desc
            }
        };
        if !errors.is_empty() {
            return Err(ValidationError { errors });
        }
        Ok(ProductListQuery { search, product_type, category_id, visible, sort, order })
    }

    /// Whether the plain default listing (newest first, no filter) is asked for: the one
    /// served straight from the table's key order.
    pub fn is_key_ordered(&self) -> bool {
        self.search.is_none()
            && self.product_type.is_none()
            && self.category_id.is_none()
            && self.visible.is_none()
            && self.sort == ProductSort::CreatedAt
    }

    /// Whether a product passes the filters.
    pub fn matches(&self, p: &ProductSummary) -> bool {
        self.search.as_ref().is_none_or(|s| p.title.to_lowercase().contains(&s.to_lowercase()))
            && self.product_type.is_none_or(|t| t == p.product_type)
            && self.category_id.as_ref().is_none_or(|c| p.category_id.as_ref() == Some(c))
            && self.visible.is_none_or(|v| v == p.is_visible)
    }

    /// Sorts summaries by the asked field and order (ties broken by id, newest last).
    pub fn sort(&self, items: &mut [ProductSummary]) {
        items.sort_by(|a, b| {
            let o = match self.sort {
                ProductSort::CreatedAt => a.id.cmp(&b.id),
                ProductSort::Price => a.price_minor.cmp(&b.price_minor).then(a.id.cmp(&b.id)),
                ProductSort::Title => {
                    a.title.to_lowercase().cmp(&b.title.to_lowercase()).then(a.id.cmp(&b.id))
                }
                ProductSort::TotalSold => a.total_sold.cmp(&b.total_sold).then(a.id.cmp(&b.id)),
            };
            match self.order {
                SortOrder::Asc => o,
                SortOrder::Desc => o.reverse(),
            }
        });
    }
}

/// The few fields lists filter and sort on, kept small in an index so that filtering does not
/// read whole products.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductSummary {
    pub id: String,
    pub title: String,
    #[serde(rename = "type")]
    pub product_type: ProductType,
    pub price_minor: i64,
    pub category_id: Option<String>,
    pub is_visible: bool,
    pub total_sold: u64,
    #[serde(default)]
    pub private: bool,
    #[serde(default)]
    pub unlisted: bool,
}

impl ProductSummary {
    /// Whether the storefront lists it: visible, neither private nor unlisted.
    pub fn is_listed(&self) -> bool {
        self.is_visible && !self.private && !self.unlisted
    }
}

impl From<&Product> for ProductSummary {
    fn from(p: &Product) -> Self {
        ProductSummary {
            id: p.id.clone(),
            title: p.title.clone(),
            product_type: p.product_type,
            price_minor: p.price_minor,
            category_id: p.category_id.clone(),
            is_visible: p.is_visible,
            total_sold: p.total_sold,
            private: p.private,
            unlisted: p.unlisted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(e: ValidationError) -> Vec<String> {
        e.errors.into_iter().map(|e| e.field).collect()
    }

    /// A new product as it is once its pools hold what it was created with.
    pub(super) fn made(body: Value) -> Product {
        let (p, pools) = Product::create(body, Mode::Test).unwrap();
        p.expecting(&pools)
    }

    /// An update, as the product is once its pools hold what it asks.
    pub(super) fn changed(p: &Product, patch: Value) -> Result<Product, ValidationError> {
        p.apply_update(patch, Mode::Test).map(|(u, pools, _)| u.expecting(&pools))
    }

    #[test]
    fn the_seeds_example_creates_with_defaults() {
        let (p, _) = Product::create(
            json!({"title": "Premium Icon Pack", "type": "digital_download", "price": 29.99,
                   "description": "500+ hand-crafted icons"}),
            Mode::Live,
        )
        .unwrap();
        let j = p.to_json();
        assert_eq!(j["price"].to_string(), "29.99");
        assert_eq!(j["currency"], "USD");
        assert_eq!(j["stock"], "∞");
        assert_eq!(j["is_visible"], true);
        assert_eq!(j["minimum_quantity"], 1);
        assert!(j["id"].as_str().unwrap().starts_with("prod_"));
        assert!(j.get("product_type").is_none());
    }

    #[test]
    fn serials_count_their_stock_from_info() {
        let (p, pools) = Product::create(
            json!({"title": "Keys", "product_type": "serials", "price": "5.00",
                   "info": "A\nB\r\nC\n\n", "stock_delimiter": "\n"}),
            Mode::Test,
        )
        .unwrap();
        assert_eq!(pools.lanes[crate::pool::PRODUCT_LANE], ["A", "B", "C"]);
        assert_eq!(p.stock(), Stock::Count(0), "the pool's own writes count the serials in");
        let p = p.expecting(&pools);
        assert_eq!(p.stock(), Stock::Count(3));
        assert_eq!(p.to_object_with(&pools.lanes).info.as_deref(), Some("A\nB\nC"));
        assert_eq!(p.to_json()["info"], Value::Null, "lists and events carry no serials");
        let e = Product::create(
            json!({"title": "K", "type": "serials", "price": 1, "info": "A,B,A"}),
            Mode::Test,
        )
        .unwrap_err();
        assert_eq!(fields(e), ["info"]);
    }

    #[test]
    fn file_is_an_alias_of_digital_download_and_stock_amount_limits_it() {
        let p = made(json!({"title": "F", "type": "file", "price": 1, "stock_amount": 7}));
        assert_eq!(p.product_type, ProductType::DigitalDownload);
        assert_eq!(p.to_json()["stock"], 7);
        // Two units held by open orders: the stock is still 7; setting it to 5 leaves 3 to sell.
        let held = Product { available: Some(5), held: 2, ..p.clone() };
        assert_eq!(held.to_json()["stock"], 7);
        let (_, _, change) = held.apply_update(json!({"stock_amount": 5}), Mode::Test).unwrap();
        assert_eq!(change.available, Some(Some(3)));
        assert_eq!(
            fields(held.apply_update(json!({"stock_amount": 1}), Mode::Test).unwrap_err()),
            ["stock_amount"]
        );
    }

    #[test]
    fn every_rule_names_its_field() {
        let e = Product::create(
            json!({"price": -1, "type": "potion", "currency": "XXX", "gateways": ["stripe", "venmo", "stripe"],
                   "minimum_quantity": 0, "max_risk_level": 101, "custom": [{"type": "select", "name": "Size"},
                   {"type": "radio", "name": "X"}], "images": ["ftp://x"], "colour": "red"}),
            Mode::Live,
        )
        .unwrap_err();
        assert_eq!(
            fields(e),
            [
                "type",
                "currency",
                "price",
                "images[0]",
                "gateways[1]",
                "gateways[2]",
                "minimum_quantity",
                "custom[0].options",
                "custom[1].type",
                "max_risk_level",
                "title",
                "colour"
            ]
        );
    }

    #[test]
    fn type_rules_tie_fields_to_types() {
        let e =
            Product::create(json!({"title": "D", "type": "dynamic", "price": 1}), Mode::Live).unwrap_err();
        assert_eq!(fields(e), ["dynamic_url"]);
        let e = Product::create(
            json!({"title": "D", "type": "dynamic", "price": 1, "dynamic_url": "http://x.example"}),
            Mode::Live,
        )
        .unwrap_err();
        assert_eq!(fields(e), ["dynamic_url"]);
        let e = Product::create(
            json!({"title": "S", "type": "service", "price": 1, "stock_amount": 3, "info": "a,b", "file_url": "https://f"}),
            Mode::Live,
        )
        .unwrap_err();
        assert_eq!(fields(e), ["info", "stock_amount", "file_url"]);
    }

    #[test]
    fn variants_carry_their_own_price_and_serials() {
        let p = made(json!({"title": "Game key", "type": "serials", "price": 10,
                   "variants": [{"title": "EU", "price": 9.5, "info": "E1,E2"}, {"title": "US", "price": 10, "info": "U1"}]}));
        assert_eq!(p.stock(), Stock::Count(3));
        let j = p.to_json();
        assert_eq!(j["variants"][0]["price"].to_string(), "9.5");
        assert_eq!(j["variants"][1]["stock"], 1);
        // A serial may not appear in two variants.
        let e = Product::create(
            json!({"title": "G", "type": "serials", "price": 10,
                   "variants": [{"title": "EU", "price": 1, "info": "X"}, {"title": "US", "price": 1, "info": "X"}]}),
            Mode::Test,
        )
        .unwrap_err();
        assert_eq!(fields(e), ["variants[1].info"]);
    }

    #[test]
    fn update_changes_only_what_is_sent() {
        let p = made(json!({"title": "Keys", "type": "serials", "price": 5, "info": "A,B", "variants": []}));
        let (u, pools, change) = p.apply_update(json!({"title": "New title"}), Mode::Test).unwrap();
        assert_eq!(u.title, "New title");
        assert!(pools.is_empty(), "no info sent: the pool stays as it is");
        assert_eq!(change, StockChange::default());
        assert_eq!(u.stock(), p.stock());
        assert_eq!(u.id, p.id);
        assert_eq!(u.version, p.version + 1);
        let u2 = changed(&u, json!({"price": "7.25", "description": null})).unwrap();
        assert_eq!(u2.price_minor, 725);
        assert_eq!(fields(u2.apply_update(json!({"title": null}), Mode::Test).unwrap_err()), ["title"]);
        assert_eq!(fields(u2.apply_update(json!({"id": "prod_other"}), Mode::Test).unwrap_err()), ["id"]);
        // Sending back what was read is accepted.
        assert!(u2.apply_update(u2.to_json(), Mode::Test).is_ok());
        // A new info replaces what the pool holds; open orders' units must stay.
        let held = Product { available: Some(0), held: 2, ..u2.clone() };
        assert_eq!(fields(held.apply_update(json!({"info": "X"}), Mode::Test).unwrap_err()), ["info"]);
        let (_, pools, _) = held.apply_update(json!({"info": "X,Y,Z"}), Mode::Test).unwrap();
        assert_eq!(pools.lanes[crate::pool::PRODUCT_LANE], ["X", "Y", "Z"]);
    }

    #[test]
    fn variant_ids_survive_updates() {
        let p = made(
            json!({"title": "V", "type": "service", "price": 5, "variants": [{"title": "Basic", "price": 5}]}),
        );
        let vid = p.variants[0].id.clone();
        let u = changed(
            &p,
            json!({"variants": [{"id": vid, "title": "Basic+", "price": 6}, {"title": "Pro", "price": 9}]}),
        )
        .unwrap();
        assert_eq!(u.variants[0].id, vid);
        assert_eq!(u.variants.len(), 2);
        let e = p
            .apply_update(json!({"variants": [{"id": "var_nope", "title": "X", "price": 1}]}), Mode::Test)
            .unwrap_err();
        assert_eq!(fields(e), ["variants[0].id"]);
    }

    #[test]
    fn a_product_stays_small_enough_for_a_full_list_page() {
        let option = "o".repeat(200);
        let fields_of_options: Vec<Value> = (0..25)
            .map(|n| json!({"type": "select", "name": format!("F{n}"), "options": vec![option.clone(); 100]}))
            .collect();
        let e = Product::create(
            json!({"title": "Big", "type": "service", "price": 1, "custom": fields_of_options}),
            Mode::Test,
        )
        .unwrap_err();
        assert_eq!(fields(e.clone()), ["custom"]);
        assert!(e.errors[0].message.contains("at most 40 KiB"), "{e}");
        // The largest description passes on its own, and the whole is measured as a Lambda escapes it.
        assert!(
            Product::create(
                json!({"title": "D", "type": "service", "price": 1, "description": "d".repeat(20_000)}),
                Mode::Test
            )
            .is_ok()
        );
        let quoted = "\"".repeat(20_000);
        let e = Product::create(
            json!({"title": "D", "type": "service", "price": 1, "description": quoted}),
            Mode::Test,
        )
        .unwrap_err();
        assert_eq!(fields(e), ["description"]);
    }

    #[test]
    fn variants_count_their_own_stock_and_a_removed_one_gives_its_pool_up() {
        let p = made(json!({"title": "G", "type": "serials", "price": 10,
                   "variants": [{"title": "EU", "price": 9, "info": "E1,E2"}, {"title": "US", "price": 10, "info": "U1"}]}));
        let (eu, us) = (p.variants[0].id.clone(), p.variants[1].id.clone());
        assert_eq!((p.lane(&eu).available, p.lane(&us).available), (2, 1));
        let (u, pools, change) =
            p.apply_update(json!({"variants": [{"id": eu, "title": "EU", "price": 9}, {"title": "UK", "price": 8, "info": "K1"}]}), Mode::Test).unwrap();
        let uk = u.variants[1].id.clone();
        assert_eq!(change.lanes_removed, std::slice::from_ref(&us));
        assert_eq!(change.lanes_added, std::slice::from_ref(&uk));
        assert_eq!(pools.lanes[&us], Vec::<String>::new(), "the removed variant's pool is emptied");
        assert_eq!(pools.lanes[&uk], ["K1"]);
        assert!(!pools.lanes.contains_key(&eu), "EU's pool stays as it is");
        // A variant whose units open orders hold cannot go.
        let mut held = p.clone();
        held.vstock.insert(us.clone(), LaneStock { available: 0, held: 1 });
        let e = held
            .apply_update(json!({"variants": [{"id": eu, "title": "EU", "price": 9}]}), Mode::Test)
            .unwrap_err();
        assert_eq!(fields(e), ["variants"]);
    }

    #[test]
    fn list_query_filters_and_sorts() {
        let q = |pairs: &[(&str, &str)]| {
            ProductListQuery::parse(&QueryParams(
                pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(),
            ))
        };
        assert!(q(&[]).unwrap().is_key_ordered());
        assert!(!q(&[("sort", "price")]).unwrap().is_key_ordered());
        let e = q(&[("sort", "colour"), ("order", "up"), ("visible", "maybe"), ("type", "x")]).unwrap_err();
        assert_eq!(fields(e), ["type", "visible", "sort", "order"]);
    }
}

#[cfg(test)]
mod public_tests {
    use super::tests::{changed, made};
    use serde_json::json;

    #[test]
    fn buyers_never_see_serials_files_or_hidden_counts() {
        let p = made(
            json!({"title": "K", "type": "serials", "price": 5, "info": "A,B", "hide_stock": true, "seller_note": "x"}),
        );
        let public = serde_json::to_value(p.to_public()).unwrap();
        assert_eq!(public["stock"], "in stock");
        for secret in
            ["info", "file_url", "dynamic_url", "seller_note", "max_risk_level", "private", "unlisted"]
        {
            assert!(public.get(secret).is_none(), "{secret}");
        }
        let empty = changed(&p, json!({"info": ""})).unwrap();
        assert_eq!(serde_json::to_value(empty.to_public()).unwrap()["stock"], "out of stock");
        let shown = changed(&p, json!({"hide_stock": false})).unwrap();
        assert_eq!(serde_json::to_value(shown.to_public()).unwrap()["stock"], 2);
    }
}
