//! Categories group a store's products.

use crate::error::{FieldError, ValidationError};
use crate::request::{self, Body};
use crate::time::Timestamp;
use crate::wire::CategoryInput;
use crate::wire::CategoryObject;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Category {
    pub id: crate::id::CategoryId,
    pub name: String,
    pub description: Option<String>,
    /// Products in this category, maintained by the products' own transactions.
    #[serde(default)]
    pub product_count: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: u64,
}

const READ_ONLY: [&str; 4] = ["id", "product_count", "created_at", "updated_at"];

impl Category {
    /// A category from a `POST /categories` body: `name` (required, 1–100 characters) and
    /// `description` (up to 5,000).
    pub fn create(body: Value) -> Result<Category, ValidationError> {
        let (name, description) = parse(body)?;
        let now = Timestamp::now();
        Ok(Category {
            id: crate::id::CategoryId::new(),
            name,
            description,
            product_count: 0,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }

    /// Applies a PATCH body: only the fields sent change; `null` clears the description.
    pub fn apply_update(&self, patch: Value) -> Result<Category, ValidationError> {
        let mut patch = request::object(patch)?;
        let current = self.to_json();
        let errors: Vec<FieldError> = READ_ONLY
            .iter()
            .filter_map(|f| {
                let sent = patch.shift_remove(*f)?;
                (*f != "updated_at" && *f != "product_count" && sent != current[*f])
                    .then(|| FieldError::new(*f, "is read-only"))
            })
            .collect();
        if !errors.is_empty() {
            return Err(ValidationError { errors });
        }
        let mut merged = Map::new();
        merged.insert("name".into(), Value::from(self.name.clone()));
        merged.insert("description".into(), json!(self.description));
        merged.extend(patch);
        let (name, description) = parse(Value::Object(merged))?;
        Ok(Category {
            name,
            description,
            updated_at: Timestamp::now().max(self.updated_at),
            version: self.version + 1,
            ..self.clone()
        })
    }

    pub fn to_object(&self) -> CategoryObject {
        CategoryObject {
            id: self.id.to_string(),
            name: self.name.clone(),
            description: self.description.clone(),
            product_count: self.product_count.max(0),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.to_object()).expect("wire types serialize")
    }
}

fn parse(body: Value) -> Result<(String, Option<String>), ValidationError> {
    let Body { fields, mut errors } = request::read::<CategoryInput, CategoryInput>(body)?;
    let name = request::required_text(&mut errors, "name", fields.name);
    errors.require("name", &name);
    errors.finish()?;
    Ok((name.unwrap_or_default(), request::trimmed(fields.description)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_and_updates_with_named_errors() {
        let c = Category::create(json!({"name": "Templates", "description": "Website and app templates"}))
            .unwrap();
        assert!(c.id.starts_with("cat_"));
        assert_eq!(c.to_json()["product_count"], 0);
        let u = c.apply_update(json!({"description": null})).unwrap();
        assert_eq!(u.name, "Templates");
        assert_eq!(u.description, None);
        assert_eq!(u.version, 2);
        let e = Category::create(json!({"description": 5, "colour": "red"})).unwrap_err();
        let fields: Vec<_> = e.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "description", "colour"]);
        assert_eq!(c.apply_update(json!({"name": ""})).unwrap_err().errors[0].field, "name");
        assert_eq!(c.apply_update(json!({"id": "cat_x"})).unwrap_err().errors[0].field, "id");
        assert!(c.apply_update(c.to_json()).is_ok());
    }
}
