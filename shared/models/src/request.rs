//! Reading a request body: the body is checked against its wire type's own OpenAPI schema (the
//! document clients read), every problem named with its path, then deserialized by serde into
//! the wire type; the domain adds the rules that tie fields together.
//!
//! The rules, the same for every body:
//! - the body is a JSON object; `null` counts as absent (a PATCH clears an optional field with
//!   it, and a required field sent as `null` "is required");
//! - each property is checked against its schema: JSON type, `minLength`/`maxLength` (in
//!   characters), `minimum`/`maximum`, `minItems`/`maxItems`, `enum`, `format: date-time`;
//!   an array item or a map entry is named `images[3]`, `variants[0].price`,
//!   `custom_fields.Size`;
//! - objects are closed: a property the schema does not list is an "unknown field", each named
//!   (a map says which values it takes in `additionalProperties`);
//! - a property that fails is dropped before serde runs, so the request type (whose fields are
//!   optional) still deserializes and the domain checks what is left, skipping what failed
//!   ([`Errors::has`]): one answer lists every bad field.
//!
//! Errors come back in the order of the schema's properties (unknown fields last), whichever
//! step found them.

use crate::error::{FieldError, ValidationError};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use utoipa::ToSchema;

/// A schema with the component schemas it refers to, as JSON.
struct Document {
    root: Value,
    components: Map<String, Value>,
}

/// `S`'s schema document, built once per process.
fn document<S: ToSchema>() -> Arc<Document> {
    static CACHE: OnceLock<Mutex<HashMap<&'static str, Arc<Document>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let name = std::any::type_name::<S>();
    if let Some(d) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(name) {
        return d.clone();
    }
    let mut refs = Vec::new();
    S::schemas(&mut refs);
    let doc = Arc::new(Document {
        root: serde_json::to_value(S::schema()).unwrap_or_default(),
        components: refs
            .into_iter()
            .map(|(name, s)| (name, serde_json::to_value(s).unwrap_or_default()))
            .collect(),
    });
    cache.lock().unwrap_or_else(|p| p.into_inner()).insert(name, doc.clone());
    doc
}

/// The field errors of one request, in the order of the body's schema.
#[derive(Debug, Default)]
pub struct Errors {
    order: Vec<String>,
    errors: Vec<FieldError>,
}

impl Errors {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// Whether `field`, or anything inside it (`variants` for `variants[0].price`), failed.
    pub fn has(&self, field: &str) -> bool {
        self.errors.iter().any(|e| {
            e.field.strip_prefix(field).is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
        })
    }

    /// "is required" for a field the body did not carry (unless it already failed).
    pub fn require<T>(&mut self, field: &str, value: &Option<T>) {
        if value.is_none() && !self.has(field) {
            self.add(field, "is required");
        }
    }

    /// Every error, ordered by the schema's properties (stable within one property), or `Ok`.
    pub fn finish(self) -> Result<(), ValidationError> {
        let Errors { order, mut errors } = self;
        if errors.is_empty() {
            return Ok(());
        }
        let top = |f: &str| {
            let name = f.split(['.', '[']).next().unwrap_or(f);
            order.iter().position(|p| p == name).unwrap_or(usize::MAX)
        };
        // An unknown top-level field has no place in the schema: last. A nested one stays with
        // its parent.
        errors.sort_by_key(|e| top(&e.field));
        Err(ValidationError { errors })
    }
}

const UNKNOWN: &str = "unknown field";

/// The body as a JSON object (a PATCH merges it into the current fields before reading).
pub fn object(body: Value) -> Result<Map<String, Value>, ValidationError> {
    match body {
        Value::Object(map) => Ok(map),
        other => {
            Err(ValidationError::one("body", format!("must be a JSON object, not {}", type_name(&other))))
        }
    }
}

/// A body read into `T`, with what was wrong in it.
pub struct Body<T> {
    pub fields: T,
    pub errors: Errors,
}

/// Checks `body` against the schema of `S` and deserializes what passed into `T` (`S` itself,
/// or the all-optional type `S` adds its required fields to, as `NewProduct` does to
/// `ProductChanges`). Fails at once only when the body is not a JSON object.
pub fn read<S: ToSchema, T: DeserializeOwned>(body: Value) -> Result<Body<T>, ValidationError> {
    let mut body = Value::Object(object(body)?);
    let doc = document::<S>();
    let mut errors = Errors { order: doc.property_names(&doc.root), errors: Vec::new() };
    doc.check(&doc.root, &mut body, "", &mut errors.errors);
    match serde_json::from_value(body) {
        Ok(fields) => Ok(Body { fields, errors }),
        // The schema and the type disagree: a defect of Sellvy's, reported against the body
        // rather than as a 500.
        Err(e) => {
            errors.add("body", format!("could not be read: {e}"));
            Err(errors.finish().expect_err("an error was just added"))
        }
    }
}

pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() { name.to_string() } else { format!("{path}.{name}") }
}

/// An object schema's properties (in order), required names, and what other keys may hold
/// (`None`: no other key).
struct Shape<'a> {
    properties: Vec<(&'a str, &'a Value)>,
    required: Vec<&'a str>,
    others: Option<&'a Value>,
}

impl Document {
    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let name = r.rsplit('/').next().unwrap_or(r);
                self.components.get(name).map_or(&Value::Null, |s| self.resolve(s))
            }
            None => schema,
        }
    }

    /// The properties of an object schema, merging `allOf` parts.
    fn shape<'a>(&'a self, schema: &'a Value) -> Shape<'a> {
        let schema = self.resolve(schema);
        let mut shape = Shape { properties: Vec::new(), required: Vec::new(), others: None };
        if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
            for part in parts {
                let s = self.shape(part);
                for (name, p) in s.properties {
                    if !shape.properties.iter().any(|(n, _)| *n == name) {
                        shape.properties.push((name, p));
                    }
                }
                shape.required.extend(s.required);
                shape.others = shape.others.or(s.others);
            }
        }
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (name, p) in props {
                if !shape.properties.iter().any(|(n, _)| n == name) {
                    shape.properties.push((name, p));
                }
            }
        }
        if let Some(req) = schema.get("required").and_then(Value::as_array) {
            shape.required.extend(req.iter().filter_map(Value::as_str));
        }
        match schema.get("additionalProperties") {
            Some(Value::Bool(true)) => shape.others = Some(&Value::Bool(true)),
            Some(s @ Value::Object(_)) => shape.others = Some(s),
            _ => {}
        }
        shape
    }

    fn property_names(&self, schema: &Value) -> Vec<String> {
        self.shape(schema).properties.into_iter().map(|(n, _)| n.to_string()).collect()
    }

    /// The JSON types a schema allows (`null` left out: it never reaches here).
    fn types<'a>(&self, schema: &'a Value) -> Vec<&'a str> {
        match schema.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).filter(|t| *t != "null").collect(),
            _ if schema.get("properties").is_some() || schema.get("allOf").is_some() => vec!["object"],
            _ => Vec::new(),
        }
    }

    /// Checks `value` (never null) against `schema`, normalizing it in place (`5.0` for an
    /// integer becomes `5`; failed properties, unknown fields and nulls are removed). Returns
    /// whether the value may stay: an object always may, with what passed in it (so an array
    /// item keeps its index), anything else only when it passed.
    fn check(&self, schema: &Value, value: &mut Value, path: &str, errors: &mut Vec<FieldError>) -> bool {
        let schema = self.resolve(schema);
        // `Option<Ref>` is `oneOf: [ref, null]`; a choice of shapes passes when one passes.
        if let Some(choices) = schema.get("oneOf").or_else(|| schema.get("anyOf")).and_then(Value::as_array) {
            let choices: Vec<_> =
                choices.iter().filter(|c| c.get("type").and_then(Value::as_str) != Some("null")).collect();
            let mut first_errors = None;
            for choice in &choices {
                let mut attempt = value.clone();
                let mut errs = Vec::new();
                if self.check(choice, &mut attempt, path, &mut errs) {
                    errors.extend(errs);
                    *value = attempt;
                    return true;
                }
                first_errors.get_or_insert(errs);
            }
            errors.extend(first_errors.unwrap_or_default());
            return choices.is_empty();
        }
        let types = self.types(schema);
        let before = errors.len();
        macro_rules! fail {
            ($m:expr) => {
                errors.push(FieldError::new(path, $m))
            };
        }
        match (value, types.as_slice()) {
            (_, []) => {}
            (Value::Object(map), ts) if ts.contains(&"object") => {
                return self.check_object(schema, map, path, errors);
            }
            (Value::Array(items), ts) if ts.contains(&"array") => {
                if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
                    && items.len() as u64 > max
                {
                    fail!(format!("must have at most {max} items"));
                    return false;
                }
                if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
                    && (items.len() as u64) < min
                {
                    fail!(format!("must have at least {min} item{}", if min == 1 { "" } else { "s" }));
                    return false;
                }
                let item_schema = schema.get("items").cloned().unwrap_or(Value::Bool(true));
                let mut ok = true;
                for (i, item) in items.iter_mut().enumerate() {
                    let at = format!("{path}[{i}]");
                    if item.is_null() {
                        errors.push(FieldError::new(at, "must not be null"));
                        ok = false;
                    } else if !self.check(&item_schema, item, &at, errors) {
                        ok = false;
                    }
                }
                return ok;
            }
            (Value::String(s), ts) if ts.contains(&"string") => {
                let n = s.chars().count() as u64;
                let min = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0);
                let max = schema.get("maxLength").and_then(Value::as_u64);
                if n < min {
                    fail!(match min {
                        1 => "must not be empty".to_string(),
                        _ => format!("must be at least {min} characters"),
                    });
                } else if let Some(max) = max.filter(|m| n > *m) {
                    fail!(format!("must be at most {max} characters"));
                } else if let Some(words) = schema.get("enum").and_then(Value::as_array)
                    && !words.iter().any(|w| w.as_str() == Some(s))
                {
                    let list: Vec<_> = words.iter().filter_map(Value::as_str).collect();
                    fail!(format!("must be one of {}", list.join(", ")));
                } else if schema.get("format").and_then(Value::as_str) == Some("date-time")
                    && crate::time::Timestamp::parse(s).is_none()
                {
                    fail!("must be an RFC 3339 timestamp, e.g. 2027-09-01T00:00:00Z".to_string());
                }
            }
            (v @ Value::Number(_), ts) if ts.contains(&"integer") && !ts.contains(&"number") => {
                let Value::Number(n) = &*v else { unreachable!() };
                let whole = n.as_i64().or_else(|| {
                    n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| f as i64)
                });
                match whole {
                    None => fail!("must be a whole number".to_string()),
                    Some(w) => {
                        let (min, max) = bounds(schema);
                        if w < min || w > max {
                            fail!(match (min, max) {
                                (i64::MIN, max) => format!("must be at most {max}"),
                                (min, i64::MAX) => format!("must be at least {min}"),
                                (min, max) => format!("must be between {min} and {max}"),
                            });
                        } else {
                            *v = Value::from(w);
                        }
                    }
                }
            }
            (Value::Number(n), ts) if ts.contains(&"number") => {
                let f = n.as_f64().unwrap_or(0.0);
                let min = schema.get("minimum").and_then(Value::as_f64);
                let max = schema.get("maximum").and_then(Value::as_f64);
                if min.is_some_and(|m| f < m) || max.is_some_and(|m| f > m) {
                    fail!(format!(
                        "must be between {} and {}",
                        min.map_or("-∞".into(), |m| m.to_string()),
                        max.map_or("∞".into(), |m| m.to_string())
                    ));
                }
            }
            (Value::Bool(_), ts) if ts.contains(&"boolean") => {}
            (v, ts) => fail!(match ts {
                ["boolean"] => format!("must be true or false, not {}", type_name(v)),
                ["integer"] => format!("must be a whole number, not {}", type_name(v)),
                ["array"] => format!("must be an array, not {}", type_name(v)),
                ["object"] => format!("must be an object, not {}", type_name(v)),
                ["string"] => format!("must be a string, not {}", type_name(v)),
                ["number"] => format!("must be a number, not {}", type_name(v)),
                ts => format!(
                    "must be {}, not {}",
                    ts.iter().map(|t| article(t)).collect::<Vec<_>>().join(" or "),
                    type_name(v)
                ),
            }),
        }
        errors.len() == before
    }

    fn check_object(
        &self,
        schema: &Value,
        map: &mut Map<String, Value>,
        path: &str,
        errors: &mut Vec<FieldError>,
    ) -> bool {
        let shape = self.shape(schema);
        map.retain(|_, v| !v.is_null());
        let required_missing: Vec<&str> =
            shape.required.iter().copied().filter(|name| !map.contains_key(*name)).collect();
        // One pass over the body's keys (a 1 MiB body holds some 90,000), then one removal pass.
        let mut dropped = std::collections::HashSet::new();
        for (key, v) in map.iter_mut() {
            let at = join(path, key);
            let keep = match shape.properties.iter().find(|(n, _)| n == key) {
                Some((_, prop)) => self.check(prop, v, &at, errors),
                None => match shape.others {
                    Some(Value::Bool(true)) => true,
                    Some(others) => self.check(others, v, &at, errors),
                    None => {
                        errors.push(FieldError::new(at, UNKNOWN));
                        false
                    }
                },
            };
            if !keep {
                dropped.insert(key.clone());
            }
        }
        if !dropped.is_empty() {
            map.retain(|k, _| !dropped.contains(k));
        }
        for name in required_missing {
            errors.push(FieldError::new(join(path, name), "is required"));
        }
        true
    }
}

fn article(t: &str) -> String {
    match t {
        "integer" => "a whole number".into(),
        "array" | "object" => format!("an {t}"),
        "boolean" => "true or false".into(),
        t => format!("a {t}"),
    }
}

/// An integer schema's range: its `minimum`/`maximum`, within its format's.
fn bounds(schema: &Value) -> (i64, i64) {
    let (fmin, fmax) = match schema.get("format").and_then(Value::as_str) {
        Some("int32") => (i32::MIN as i64, i32::MAX as i64),
        Some("int8") => (i8::MIN as i64, i8::MAX as i64),
        Some("uint8") => (0, u8::MAX as i64),
        Some("int16") => (i16::MIN as i64, i16::MAX as i64),
        Some("uint16") => (0, u16::MAX as i64),
        Some("uint32") => (0, u32::MAX as i64),
        _ => (i64::MIN, i64::MAX),
    };
    let min = schema.get("minimum").and_then(Value::as_f64).map_or(fmin, |m| (m.ceil() as i64).max(fmin));
    let max = schema.get("maximum").and_then(Value::as_f64).map_or(fmax, |m| (m.floor() as i64).min(fmax));
    (min, max)
}

/// Renames a field sent under another name (`product_type` for `type`) before the body is
/// read; sending both with different values is an error.
pub fn alias(body: &mut Value, canonical: &str, alias: &str) -> Result<(), ValidationError> {
    let Some(map) = body.as_object_mut() else { return Ok(()) };
    if let Some(v) = map.shift_remove(alias) {
        match map.get(canonical) {
            Some(existing) if !existing.is_null() && *existing != v => {
                return Err(ValidationError::one(
                    alias,
                    format!("is another name for {canonical}; send one of them"),
                ));
            }
            Some(existing) if !existing.is_null() => {}
            _ => {
                map.insert(canonical.to_string(), v);
            }
        }
    }
    Ok(())
}

/// Trims a text field: `None` when absent or blank.
pub fn trimmed(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// A required text field, trimmed: an error when only blanks were sent.
pub fn required_text(errors: &mut Errors, field: &str, s: Option<String>) -> Option<String> {
    let had = s.is_some();
    let t = trimmed(s);
    if had && t.is_none() {
        errors.add(field, "must not be empty");
    }
    t
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
    use serde::Deserialize;
    use serde_json::json;

    /// A test-only request type: each field below is checked by its attributes alone (no
    /// reading code), which is all a new field of a real request type needs.
    #[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
    struct Gadget {
        #[serde(default)]
        #[schema(required = true, nullable = false, min_length = 1, max_length = 5)]
        name: Option<String>,
        #[serde(default)]
        #[schema(minimum = 1, maximum = 10)]
        count: Option<u32>,
        #[serde(default)]
        on: Option<bool>,
        #[serde(default)]
        #[schema(max_items = 2)]
        parts: Option<Vec<Part>>,
        #[serde(default)]
        tags: Option<std::collections::BTreeMap<String, String>>,
        #[serde(default)]
        when: Option<crate::time::Timestamp>,
        #[serde(default)]
        kind: Option<crate::ProductType>,
    }

    #[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
    struct Part {
        #[serde(default)]
        #[schema(required = true, nullable = false, maximum = 9)]
        size: Option<u8>,
    }

    fn read_gadget(body: Value) -> (Gadget, Vec<String>) {
        let Body { fields, errors } = read::<Gadget, Gadget>(body).unwrap();
        let listed = match errors.finish() {
            Ok(()) => Vec::new(),
            Err(e) => e.errors.iter().map(|e| e.to_string()).collect(),
        };
        (fields, listed)
    }

    #[test]
    fn every_bad_field_is_named_with_its_path_and_the_rest_is_read() {
        let (g, errors) = read_gadget(json!({
            "zzz": 1, "count": 11, "on": "yes", "name": "toolong",
            "parts": [{"size": 300}, {"size": 2, "colour": "red"}],
            "tags": {"a": "x", "b": 5}, "when": "soon", "kind": "potion"
        }));
        assert_eq!(
            errors,
            [
                "name: must be at most 5 characters",
                "count: must be between 1 and 10",
                "on: must be true or false, not a string",
                "parts[0].size: must be between 0 and 9",
                "parts[1].colour: unknown field",
                "tags.b: must be a string, not a number",
                "when: must be an RFC 3339 timestamp, e.g. 2027-09-01T00:00:00Z",
                "kind: must be one of digital_download, serials, dynamic, service",
                "zzz: unknown field",
            ]
        );
        // What passed is read; an array item keeps its place with what passed in it.
        let parts = g.parts.unwrap();
        assert_eq!((parts[0].size, parts[1].size), (None, Some(2)));
        assert_eq!(g.tags.unwrap().len(), 1);
        assert_eq!((g.name, g.when), (None, None));
    }

    #[test]
    fn nulls_are_absent_and_required_fields_say_so() {
        let (g, errors) = read_gadget(json!({"name": null, "count": 2.0, "parts": [{}]}));
        assert_eq!(errors, ["name: is required", "parts[0].size: is required"]);
        assert_eq!(g.count, Some(2), "a whole float is a whole number");
        let (_, errors) = read_gadget(json!({"name": "ok", "count": 2.5, "parts": [1, 2, 3]}));
        assert_eq!(errors, ["count: must be a whole number", "parts: must have at most 2 items"]);
        let (g, errors) = read_gadget(json!({"name": "ok", "kind": "serials", "on": true}));
        assert!(errors.is_empty());
        assert_eq!((g.kind, g.on), (Some(crate::ProductType::Serials), Some(true)));
    }

    #[test]
    fn a_body_must_be_an_object() {
        let e = read::<Gadget, Gadget>(json!([1])).err().unwrap();
        assert_eq!(e.errors[0].to_string(), "body: must be a JSON object, not an array");
    }

    #[test]
    fn domain_errors_join_in_schema_order() {
        let Body { mut errors, .. } = read::<Gadget, Gadget>(json!({"zzz": 1, "on": 3})).unwrap();
        errors.add("count", "is odd");
        errors.add("name", "is taken");
        assert!(errors.has("name") && !errors.has("nam") && !errors.has("parts"));
        let got: Vec<_> = errors.finish().unwrap_err().errors.into_iter().map(|e| e.field).collect();
        assert_eq!(got, ["name", "name", "count", "on", "zzz"]);
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
