//! The seed's page-number pagination: `page` (default 1), `per_page` (default 25, max 100).

use crate::error::{FieldError, ValidationError};

pub const DEFAULT_PER_PAGE: u32 = 25;

/// A query parameter naming one value of an enum (`status=pending`); a bad value adds a
/// `field` error listing the values the enum takes (from its schema).
pub fn enum_param<T: serde::de::DeserializeOwned + utoipa::PartialSchema>(
    field: &str,
    raw: Option<&str>,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    let word = sellvy_wire::parse_word(raw?);
    if word.is_none() {
        errors.push(FieldError::new(field, format!("must be one of {}", sellvy_wire::words::<T>())));
    }
    word
}
pub const MAX_PER_PAGE: u32 = 100;
/// Deep pages are refused beyond this offset (page * per_page); a cursor is the way further.
pub const MAX_OFFSET: u64 = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u32,
    pub per_page: u32,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest { page: 1, per_page: DEFAULT_PER_PAGE }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    Asc,
    Desc,
}

/// Raw query parameters, in the order sent; the last of a repeated name wins.
#[derive(Debug, Clone, Default)]
pub struct QueryParams(pub Vec<(String, String)>);

impl QueryParams {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// A whole-number parameter from 1 to `max`, `default` when absent.
pub fn positive(params: &QueryParams, name: &str, default: u32, max: u32) -> Result<u32, FieldError> {
    match params.get(name) {
        None => Ok(default),
        Some(raw) => match raw.trim().parse::<u64>() {
            Ok(n) if n >= 1 && n <= max as u64 => Ok(n as u32),
            _ => Err(FieldError::new(name, format!("must be a whole number from 1 to {max}"))),
        },
    }
}

impl PageRequest {
    pub fn parse(params: &QueryParams) -> Result<PageRequest, ValidationError> {
        let mut errors = Vec::new();
        let page = positive(params, "page", 1, u32::MAX).map_err(|e| errors.push(e)).unwrap_or(1);
        let per_page = positive(params, "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
            .map_err(|e| errors.push(e))
            .unwrap_or(DEFAULT_PER_PAGE);
        if errors.is_empty() && (page as u64 - 1) * per_page as u64 > MAX_OFFSET {
            errors.push(FieldError::new(
                "page",
                format!("is too deep: page * per_page must stay within {MAX_OFFSET}"),
            ));
        }
        if errors.is_empty() { Ok(PageRequest { page, per_page }) } else { Err(ValidationError { errors }) }
    }

    /// How many items come before this page.
    pub fn offset(self) -> u64 {
        (self.page as u64 - 1) * self.per_page as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> QueryParams {
        QueryParams(pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect())
    }

    #[test]
    fn defaults_and_bounds() {
        assert_eq!(PageRequest::parse(&q(&[])).unwrap(), PageRequest { page: 1, per_page: 25 });
        assert_eq!(PageRequest::parse(&q(&[("per_page", "100"), ("page", "3")])).unwrap().offset(), 200);
        for bad in ["0", "101", "abc", "-1", "1.5", ""] {
            let e = PageRequest::parse(&q(&[("per_page", bad)])).unwrap_err();
            assert_eq!(e.errors[0].field, "per_page", "{bad}");
        }
        assert_eq!(PageRequest::parse(&q(&[("page", "0")])).unwrap_err().errors[0].field, "page");
        assert!(PageRequest::parse(&q(&[("page", "5000"), ("per_page", "100")])).is_err());
    }
}
