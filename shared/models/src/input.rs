//! Field-by-field reading of a JSON object, collecting every error with its field's name.
//!
//! `null` counts as absent (so a PATCH can clear an optional field); a field that is present
//! with the wrong JSON type is an error naming that field; fields left unread when
//! [`Input::finish`] runs are reported as unknown.

use crate::error::{FieldError, ValidationError};
use serde_json::{Map, Value};
use std::collections::HashSet;

pub struct Input {
    map: Map<String, Value>,
    prefix: String,
    present: HashSet<String>,
    errors: Vec<FieldError>,
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl Input {
    /// The request body, which must be a JSON object.
    pub fn object(body: Value) -> Result<Input, ValidationError> {
        match body {
            Value::Object(map) => Ok(Input::with_prefix(map, String::new())),
            other => {
                Err(ValidationError::one("body", format!("must be a JSON object, not {}", type_name(&other))))
            }
        }
    }

    fn with_prefix(map: Map<String, Value>, prefix: String) -> Input {
        Input { map, prefix, present: HashSet::new(), errors: Vec::new() }
    }

    /// An element of an array field (`custom[2]`), read with its own name prefix. Its errors
    /// come back to the parent through [`Input::absorb`].
    pub fn nested(&mut self, field: &str, value: Value) -> Option<Input> {
        match value {
            Value::Object(map) => Some(Input::with_prefix(map, format!("{}{field}.", self.prefix))),
            other => {
                self.error(field, format!("must be an object, not {}", type_name(&other)));
                None
            }
        }
    }

    /// Takes a nested input's errors (and its unknown fields) into this one.
    pub fn absorb(&mut self, child: Input) {
        let Input { map, prefix, mut errors, .. } = child;
        for key in map.keys() {
            errors.push(FieldError::new(format!("{prefix}{key}"), "unknown field"));
        }
        self.errors.extend(errors);
    }

    pub fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(format!("{}{field}", self.prefix), message));
    }

    pub fn has_error(&self, field: &str) -> bool {
        let full = format!("{}{field}", self.prefix);
        self.errors.iter().any(|e| e.field == full)
    }

    /// Whether the field was sent with a non-null value (after it was taken).
    pub fn was_present(&self, field: &str) -> bool {
        self.present.contains(field)
    }

    /// Whether the field was sent as `null` (before it is taken): "clear this optional field".
    pub fn is_null(&self, field: &str) -> bool {
        matches!(self.map.get(field), Some(Value::Null))
    }

    /// The raw value, or `None` when absent or null.
    pub fn take(&mut self, field: &str) -> Option<Value> {
        match self.map.shift_remove(field) {
            None | Some(Value::Null) => None,
            Some(v) => {
                self.present.insert(field.to_string());
                Some(v)
            }
        }
    }

    /// Removes a field sent under another name (`product_type` for `type`), so both spellings
    /// are accepted; sending both with different values is an error.
    pub fn alias(&mut self, canonical: &str, alias: &str) {
        if let Some(v) = self.map.shift_remove(alias) {
            match self.map.get(canonical) {
                Some(existing) if !existing.is_null() && *existing != v => {
                    self.error(alias, format!("is another name for {canonical}; send one of them"))
                }
                Some(existing) if !existing.is_null() => {}
                _ => {
                    self.map.insert(canonical.to_string(), v);
                }
            }
        }
    }

    pub fn take_str(&mut self, field: &str) -> Option<String> {
        match self.take(field)? {
            Value::String(s) => Some(s),
            other => {
                self.error(field, format!("must be a string, not {}", type_name(&other)));
                None
            }
        }
    }

    /// A string, trimmed, between `min` and `max` characters long.
    pub fn text(&mut self, field: &str, min: usize, max: usize) -> Option<String> {
        let s = self.take_str(field)?;
        let s = s.trim().to_string();
        let n = s.chars().count();
        if n < min {
            self.error(
                field,
                if min == 1 {
                    "must not be empty".to_string()
                } else {
                    format!("must be at least {min} characters")
                },
            );
            return None;
        }
        if n > max {
            self.error(field, format!("must be at most {max} characters"));
            return None;
        }
        Some(s)
    }

    pub fn bool(&mut self, field: &str) -> Option<bool> {
        match self.take(field)? {
            Value::Bool(b) => Some(b),
            other => {
                self.error(field, format!("must be true or false, not {}", type_name(&other)));
                None
            }
        }
    }

    /// A whole number within `min..=max`.
    pub fn int(&mut self, field: &str, min: i64, max: i64) -> Option<i64> {
        let v = self.take(field)?;
        let n = match &v {
            Value::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| f as i64)),
            _ => None,
        };
        match n {
            None if v.is_number() => {
                self.error(field, "must be a whole number");
                None
            }
            None => {
                self.error(field, format!("must be a whole number, not {}", type_name(&v)));
                None
            }
            Some(n) if n < min || n > max => {
                self.error(field, format!("must be between {min} and {max}"));
                None
            }
            Some(n) => Some(n),
        }
    }

    /// An array of at most `max` elements.
    pub fn array(&mut self, field: &str, max: usize) -> Option<Vec<Value>> {
        match self.take(field)? {
            Value::Array(items) if items.len() > max => {
                self.error(field, format!("must have at most {max} items"));
                None
            }
            Value::Array(items) => Some(items),
            other => {
                self.error(field, format!("must be an array, not {}", type_name(&other)));
                None
            }
        }
    }

    /// An array of strings, each trimmed and 1..=`max_len` characters.
    pub fn string_list(&mut self, field: &str, max: usize, max_len: usize) -> Option<Vec<String>> {
        let items = self.array(field, max)?;
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.into_iter().enumerate() {
            match item {
                Value::String(s) if !s.trim().is_empty() && s.trim().chars().count() <= max_len => {
                    out.push(s.trim().to_string())
                }
                Value::String(_) => {
                    ok = false;
                    self.error(&format!("{field}[{i}]"), format!("must be 1 to {max_len} characters"));
                }
                other => {
                    ok = false;
                    self.error(
                        &format!("{field}[{i}]"),
                        format!("must be a string, not {}", type_name(&other)),
                    );
                }
            }
        }
        ok.then_some(out)
    }

    /// Records "is required" unless the field was sent or already has an error.
    pub fn require(&mut self, field: &str) {
        if !self.was_present(field) && !self.has_error(field) {
            self.error(field, "is required");
        }
    }

    /// The fields not read yet, failing if reading them so far found errors (such as both
    /// spellings of an aliased field).
    pub fn into_map(self) -> Result<Map<String, Value>, ValidationError> {
        if self.errors.is_empty() { Ok(self.map) } else { Err(ValidationError { errors: self.errors }) }
    }

    /// Ends reading: any field not read is unknown. Returns every error found.
    pub fn finish(self) -> Result<(), ValidationError> {
        let Input { map, prefix, mut errors, .. } = self;
        for key in map.keys() {
            errors.push(FieldError::new(format!("{prefix}{key}"), "unknown field"));
        }
        if errors.is_empty() { Ok(()) } else { Err(ValidationError { errors }) }
    }
}

/// An absolute http(s) URL of sane length, with a host. `https_only` refuses plain http.
pub fn check_url(url: &str, https_only: bool) -> Result<(), String> {
    if url.len() > 2048 {
        return Err("must be at most 2048 characters".into());
    }
    let rest = if let Some(r) = url.strip_prefix("https://") {
        r
    } else if let Some(r) = url.strip_prefix("http://") {
        if https_only {
            return Err("must be an https URL".into());
        }
        r
    } else {
        return Err(if https_only { "must be an https URL" } else { "must be an http or https URL" }.into());
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or(host);
    if host.is_empty() || host.starts_with(':') || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must be a valid URL with a host".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reports_wrong_types_unknown_fields_and_missing_ones() {
        let mut i = Input::object(json!({"a": 1, "b": "x", "zzz": true, "n": null})).unwrap();
        assert_eq!(i.take_str("a"), None);
        assert_eq!(i.int("b", 0, 5), None);
        assert_eq!(i.take("n"), None);
        i.require("c");
        let e = i.finish().unwrap_err();
        let got: Vec<_> = e.errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            got,
            [
                "a: must be a string, not a number",
                "b: must be a whole number, not a string",
                "c: is required",
                "zzz: unknown field"
            ]
        );
    }

    #[test]
    fn non_objects_are_refused() {
        assert_eq!(Input::object(json!([1])).err().unwrap().errors[0].field, "body");
    }

    #[test]
    fn urls() {
        assert!(check_url("https://example.com/x.png", true).is_ok());
        assert!(check_url("http://example.com", false).is_ok());
        assert!(check_url("http://example.com", true).is_err());
        assert!(check_url("ftp://example.com", false).is_err());
        assert!(check_url("https://", false).is_err());
        assert!(check_url("https://exa mple.com", false).is_err());
    }
}
