//! Coupons. A code is claimed by its own item (`COUPONCODE#<lowercased code>`), written with
//! `attribute_not_exists` in the coupon's transaction: two concurrent creates of one code can
//! never both win.

use crate::collection::{COUPONS, Page};
use crate::db::{Db, StoreError, Write, s};
use crate::layout::coupon_code_key;
use sellvy_models::coupon::code_key;
use sellvy_models::{Coupon, SortOrder, Tenant};
use std::collections::HashMap;

fn code_claim(t: &Tenant, code: &str) -> (String, String) {
    coupon_code_key(t, &code_key(code))
}

impl Db {
    /// Writes a coupon if its code is free and every product it names exists.
    pub async fn create_coupon(&self, t: &Tenant, c: &Coupon) -> Result<(), StoreError> {
        let claim = HashMap::from([
            ("PK".to_string(), s(code_claim(t, &c.code).0)),
            ("SK".to_string(), s(code_claim(t, &c.code).1)),
            ("coupon_id".to_string(), s(&c.id)),
        ]);
        let mut writes = vec![
            Write::put(&self.table, COUPONS.item(t, &c.id, c)?, Some("attribute_not_exists(PK)"), &[])?,
            Write::put(&self.table, claim, Some("attribute_not_exists(PK)"), &[])?
                .or_reject("code", "is already used by another coupon of this store (codes ignore case)"),
            COUPONS.count_add(self, t, 1)?,
        ];
        writes.extend(self.products_exist(t, &c.applies_to_products, "applies_to_products")?);
        self.transact(writes).await
    }

    pub async fn get_coupon(&self, t: &Tenant, id: &str) -> Result<Option<Coupon>, StoreError> {
        self.get_object(COUPONS, t, id).await
    }

    pub async fn coupon_page(
        &self,
        t: &Tenant,
        offset: u64,
        per_page: u32,
        order: SortOrder,
    ) -> Result<Page<Coupon>, StoreError> {
        self.page(COUPONS, t, offset, per_page, order).await
    }

    /// Deletes a coupon and frees its code. [`StoreError::Conflict`] if it was deleted
    /// meanwhile.
    pub async fn delete_coupon(&self, t: &Tenant, c: &Coupon) -> Result<(), StoreError> {
        self.transact(vec![
            Write::delete(&self.table, COUPONS.key(t, &c.id), Some("attribute_exists(PK)"), &[])?,
            Write::delete(&self.table, code_claim(t, &c.code), None, &[])?,
            COUPONS.count_add(self, t, -1)?,
        ])
        .await
    }
}
