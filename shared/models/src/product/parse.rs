//! Reading a product from a request body: creation, and updates as "the product's own input
//! overlaid with the fields sent", by the same rules.

use super::*;

impl Product {
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
        let mut patch = Value::Object(request::object(patch)?);
        request::alias(&mut patch, "type", "product_type")?;
        let Value::Object(mut patch_map) = patch else { unreachable!("an object, as read") };
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
                change.lanes_removed.push(old.id.to_string());
                if self.stock_per_variant() {
                    pools.lanes.insert(old.id.to_string(), Vec::new());
                }
            }
        }
        for (n, v) in updated.variants.iter().enumerate() {
            let held = self.lane(&v.id).held;
            if let Some(wanted) = pools.lanes.get(v.id.as_str())
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
            if per_variant && !self.vstock.contains_key(v.id.as_str()) {
                change.lanes_added.push(v.id.to_string());
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
    errors: &mut Errors,
    field: &str,
    info: &str,
    delimiter: &str,
    seen: &mut HashSet<String>,
) -> Vec<String> {
    let serials = crate::pool::split_serials(info, delimiter);
    match crate::pool::check_serials(&serials, field, seen) {
        Ok(()) => serials,
        Err(e) => {
            errors.add(field, e.message);
            Vec::new()
        }
    }
}

/// A URL field: trimmed, and checked unless its shape already failed.
fn url_field(errors: &mut Errors, field: &str, url: Option<String>, https_only: bool) -> Option<String> {
    let url = request::trimmed(url)?;
    if let Err(why) = check_url(&url, https_only) {
        errors.add(field, why);
    }
    Some(url)
}

fn parse_product(
    mut body: Value,
    mode: Mode,
    existing: Option<&Product>,
) -> Result<(Product, PoolWrite), ValidationError> {
    request::alias(&mut body, "type", "product_type")?;
    if body.get("type").and_then(Value::as_str) == Some("file") {
        body["type"] = Value::from(ProductType::DigitalDownload.as_str());
    }
    let Body { fields: f, mut errors } = request::read::<NewProduct, ProductChanges>(body)?;
    let e = &mut errors;

    let title = request::required_text(e, "title", f.title);
    let description = request::trimmed(f.description);
    let product_type = f.product_type;
    let currency = match f.currency {
        None => Some(Currency::USD),
        Some(c) => Currency::parse(c.trim()).or_else(|| {
            e.add("currency", "must be a supported ISO 4217 currency code (e.g. USD, EUR, GBP)");
            None
        }),
    };
    // With an unknown currency, the price is still checked (as if USD) so both errors show.
    let price_currency = currency.unwrap_or(Currency::USD);
    let price = f.price.and_then(|p| {
        Money::parse_decimal("price", &p.0, price_currency).map_err(|x| e.add("price", x.message)).ok()
    });
    let category_id = f.category_id.and_then(|c| {
        crate::id::CategoryId::parse(c.trim()).or_else(|| {
            e.add("category_id", "must be a category id (cat_…)");
            None
        })
    });
    let is_visible = f.is_visible.unwrap_or(true);
    let mut images = Vec::new();
    for (n, url) in f.images.unwrap_or_default().into_iter().enumerate() {
        if let Some(url) = url_field(e, &format!("images[{n}]"), Some(url.0), false) {
            images.push(url);
        }
    }
    let file_url = url_field(e, "file_url", f.file_url, false);
    let stock_delimiter = f.stock_delimiter.unwrap_or_else(|| ",".to_string());
    let info = f.info;
    let stock_amount = f.stock_amount;
    let gateways = match f.gateways {
        None if e.has("gateways") => Vec::new(),
        None => vec!["stripe".to_string()],
        Some(list) => {
            let mut seen = HashSet::new();
            for (n, g) in list.iter().enumerate() {
                if !GATEWAYS.contains(&g.as_str()) {
                    e.add(format!("gateways[{n}]"), format!("must be one of {}", GATEWAYS.join(", ")));
                } else if !seen.insert(g.clone()) {
                    e.add(format!("gateways[{n}]"), "is listed twice");
                }
            }
            if list.is_empty() {
                e.add("gateways", "must enable at least one gateway");
            }
            list
        }
    };
    let minimum_quantity = f.minimum_quantity.unwrap_or(1);
    let maximum_quantity = f.maximum_quantity;
    if let Some(max) = maximum_quantity
        && max < minimum_quantity
    {
        e.add("maximum_quantity", "must not be less than minimum_quantity");
    }
    let custom = read_custom_fields(e, f.custom.unwrap_or_default());
    let customer_details_required = f.customer_details_required.unwrap_or(false);
    let warranty = request::trimmed(f.warranty);
    let warranty_duration = f.warranty_duration;
    let redirect_url = url_field(e, "redirect_url", f.redirect_url, false);
    let unlisted = f.unlisted.unwrap_or(false);
    let private = f.private.unwrap_or(false);
    let hide_stock = f.hide_stock.unwrap_or(false);
    let vpn_block = f.vpn_block.unwrap_or(false);
    let dynamic_url = url_field(e, "dynamic_url", f.dynamic_url, mode == Mode::Live);
    let max_risk_level = f.max_risk_level.unwrap_or(100);
    let seller_note = request::trimmed(f.seller_note);
    let low_stock_threshold = f.low_stock_threshold;
    let recurring = f.recurring.and_then(|r| {
        e.require("recurring.interval", &r.interval);
        e.require("recurring.interval_count", &r.interval_count);
        let r = crate::wire::Recurring {
            interval: r.interval?,
            interval_count: r.interval_count?,
            trial_days: r.trial_days,
        };
        if let Some((field, why)) = crate::subscription::recurring_error(&r) {
            e.add(format!("recurring.{field}"), why);
        }
        if r.trial_days.is_some() && product_type == Some(ProductType::Serials) {
            e.add(
                "recurring.trial_days",
                "a serials product hands out serials every period: trials are for other types",
            );
        }
        Some(r)
    });

    // Rules that tie fields to the product type.
    let mut serial_seen = HashSet::new();
    let mut pools = PoolWrite::default();
    if let Some(t) = product_type {
        if t != ProductType::Serials && info.as_deref().is_some_and(|s| !s.trim().is_empty()) {
            e.add("info", "holds serials, so it applies only to type serials");
        }
        if t != ProductType::DigitalDownload && stock_amount.is_some() {
            e.add(
                "stock_amount",
                "applies only to type digital_download (serials count their stock from info)",
            );
        }
        if t != ProductType::DigitalDownload && file_url.is_some() {
            e.add("file_url", "applies only to type digital_download");
        }
        if t == ProductType::Dynamic && dynamic_url.is_none() && !e.has("dynamic_url") {
            e.add("dynamic_url", "is required for type dynamic");
        }
        if t != ProductType::Dynamic && dynamic_url.is_some() {
            e.add("dynamic_url", "applies only to type dynamic");
        }
        if t == ProductType::Serials
            && let Some(info) = &info
        {
            let serials = read_serials(e, "info", info, &stock_delimiter, &mut serial_seen);
            pools.lanes.insert(crate::pool::PRODUCT_LANE.to_string(), serials);
        }
    }
    let variants = read_variants(
        e,
        f.variants.unwrap_or_default(),
        product_type,
        currency,
        &stock_delimiter,
        existing,
        &mut serial_seen,
        &mut pools,
    );
    if !variants.is_empty() && pools.lanes.get(crate::pool::PRODUCT_LANE).is_some_and(|s| !s.is_empty()) {
        e.add(
            "info",
            "must be empty when the product has variants: each variant holds its own serials in its info",
        );
    }
    let pool_bytes: u64 = pools.lanes.values().flatten().map(|s| s.len() as u64).sum();
    if pool_bytes > crate::pool::MAX_POOL_BYTES {
        e.add(
            "info",
            format!("must be at most {} MiB of serials in all", crate::pool::MAX_POOL_BYTES / 1024 / 1024),
        );
    }
    errors.finish()?;

    let now = Timestamp::now();
    Ok(Product {
        id: crate::id::ProductId::new(),
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
        recurring,
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
            p.vstock = p.variants.iter().map(|v| (v.id.to_string(), LaneStock::default())).collect();
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

fn read_custom_fields(e: &mut Errors, items: Vec<CustomFieldInput>) -> Vec<CustomField> {
    let mut out = Vec::new();
    let mut names = HashSet::new();
    for (n, c) in items.into_iter().enumerate() {
        let at = |f: &str| format!("custom[{n}].{f}");
        let kind = c.kind.and_then(|t| {
            if CUSTOM_FIELD_TYPES.contains(&t.as_str()) {
                Some(t)
            } else {
                e.add(at("type"), format!("must be one of {}", CUSTOM_FIELD_TYPES.join(", ")));
                None
            }
        });
        let name = request::required_text(e, &at("name"), c.name);
        if let Some(name) = &name
            && !names.insert(name.to_lowercase())
        {
            e.add(at("name"), "is used by another custom field");
        }
        let options: Option<Vec<String>> =
            c.options.map(|o| o.into_iter().map(|c| c.0.trim().to_string()).collect());
        if let Some(i) = options.iter().flatten().position(|o| o.is_empty()) {
            e.add(format!("custom[{n}].options[{i}]"), "must not be empty");
        }
        match (kind.as_deref(), &options) {
            (Some("select"), None) if !e.has(&at("options")) => {
                e.add(at("options"), "is required for a select: list its choices")
            }
            (Some("select"), Some(o)) if o.is_empty() => {
                e.add(at("options"), "must list at least one choice")
            }
            (Some(k), Some(_)) if k != "select" => e.add(at("options"), "applies only to type select"),
            _ => {}
        }
        if let (Some(kind), Some(name)) = (kind, name)
            && !e.has(&format!("custom[{n}]"))
        {
            out.push(CustomField {
                kind,
                name,
                required: c.required.unwrap_or(false),
                options: options.unwrap_or_default(),
            });
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn read_variants(
    e: &mut Errors,
    items: Vec<VariantInput>,
    product_type: Option<ProductType>,
    currency: Option<Currency>,
    delimiter: &str,
    existing: Option<&Product>,
    serial_seen: &mut HashSet<String>,
    pools: &mut PoolWrite,
) -> Vec<Variant> {
    let mut out = Vec::new();
    let mut titles = HashSet::new();
    let mut ids = HashSet::new();
    for (n, v) in items.into_iter().enumerate() {
        let at = |f: &str| format!("variants[{n}].{f}");
        let id = match v.id {
            None => Some(crate::id::VariantId::new()),
            Some(id) => {
                let known = existing.and_then(|p| p.variants.iter().find(|x| x.id == id));
                match known {
                    None => {
                        e.add(at("id"), "is not a variant of this product (omit id to add a new variant)");
                        None
                    }
                    Some(_) if !ids.insert(id.clone()) => {
                        e.add(at("id"), "is listed twice");
                        None
                    }
                    Some(x) => Some(x.id.clone()),
                }
            }
        };
        let title = request::required_text(e, &at("title"), v.title);
        if let Some(t) = &title
            && !titles.insert(t.to_lowercase())
        {
            e.add(at("title"), "is used by another variant");
        }
        let price = v.price.and_then(|p| {
            Money::parse_decimal("price", &p.0, currency.unwrap_or(Currency::USD))
                .map_err(|x| e.add(at("price"), x.message))
                .ok()
        });
        let serials = match (product_type, v.info) {
            (Some(ProductType::Serials), Some(info)) => {
                Some(read_serials(e, &at("info"), &info, delimiter, serial_seen))
            }
            (Some(_), Some(info)) if !info.trim().is_empty() => {
                e.add(at("info"), "holds serials, so it applies only to type serials");
                None
            }
            _ => None,
        };
        if let (Some(id), Some(title), Some(price)) = (id, title, price) {
            if let Some(serials) = serials {
                pools.lanes.insert(id.to_string(), serials);
            }
            out.push(Variant { id, title, price_minor: price.minor, serials: Vec::new(), available: None });
        }
    }
    out
}
