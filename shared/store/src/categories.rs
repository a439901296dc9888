//! Categories, with the count of their products (kept by the products' transactions).

use crate::collection::{CATEGORIES, Page};
use crate::db::{Db, StoreError, Write, n, s};
use sellvy_models::{Category, SortOrder, Tenant};

impl Db {
    pub async fn create_category(&self, t: &Tenant, c: &Category) -> Result<(), StoreError> {
        self.transact(vec![
            Write::put(&self.table, CATEGORIES.item(t, &c.id, c)?, Some("attribute_not_exists(PK)"), &[])?,
            CATEGORIES.count_add(self, t, 1)?,
        ])
        .await
    }

    pub async fn get_category(&self, t: &Tenant, id: &str) -> Result<Option<Category>, StoreError> {
        self.get_object(CATEGORIES, t, id).await
    }

    pub async fn category_page(
        &self,
        t: &Tenant,
        offset: u64,
        per_page: u32,
        order: SortOrder,
    ) -> Result<Page<Category>, StoreError> {
        self.page(CATEGORIES, t, offset, per_page, order).await
    }

    /// Changes name and description if nobody else did since `old` was read. The product
    /// count is left alone (products change it concurrently).
    pub async fn update_category(
        &self,
        t: &Tenant,
        new: &Category,
        old: &Category,
    ) -> Result<(), StoreError> {
        let description = match &new.description {
            Some(d) => s(d),
            None => aws_sdk_dynamodb::types::AttributeValue::Null(true),
        };
        self.transact(vec![Write::update_named(
            &self.table,
            CATEGORIES.key(t, &new.id),
            "SET #name = :name, description = :d, updated_at = :u, version = :nv",
            Some("version = :v"),
            &[("#name", "name")],
            &[
                (":name", s(&new.name)),
                (":d", description),
                (":u", s(new.updated_at.to_rfc3339())),
                (":nv", n(new.version)),
                (":v", n(old.version)),
            ],
        )?])
        .await
    }

    /// Deletes a category that has no products. With products, the delete is refused (the
    /// products would point at nothing); the count is checked in the same write, so a product
    /// added concurrently either lands first (and the delete is refused) or fails.
    pub async fn delete_category(&self, t: &Tenant, c: &Category) -> Result<(), StoreError> {
        self.transact(vec![
            Write::delete(
                &self.table,
                CATEGORIES.key(t, &c.id),
                Some("attribute_exists(PK) AND (attribute_not_exists(product_count) OR product_count <= :zero)"),
                &[(":zero", n(0))],
            )?
            .or_reject(
                "id",
                format!(
                    "still has {} product(s): move them to another category or delete them first",
                    c.product_count.max(1)
                ),
            ),
            CATEGORIES.count_add(self, t, -1)?,
        ])
        .await
    }
}
