//! Categories.

use crate::prelude::*;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CategoryObject {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub product_count: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// `POST /categories` (and, all optional, `PATCH`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 5000)]
    pub description: Option<String>,
}

/// Query of `GET /categories`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CategoryListParams {
    #[param(minimum = 1)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
    /// asc (default: oldest first) or desc.
    #[param(pattern = "^(asc|desc)$")]
    pub order: Option<String>,
}
