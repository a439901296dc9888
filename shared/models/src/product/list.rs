//! `GET /products`: its query (filters, sorts) and the summaries lists are served from.

use super::*;

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
                bad("type", &format!("must be one of {}", sellvy_wire::words::<ProductType>()));
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
            && self.category_id.as_deref().is_none_or(|c| p.category_id.as_deref() == Some(c))
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
    pub id: crate::id::ProductId,
    pub title: String,
    #[serde(rename = "type")]
    pub product_type: ProductType,
    pub price_minor: i64,
    pub category_id: Option<crate::id::CategoryId>,
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
