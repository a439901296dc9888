//! Serial pools: each serial of a serials product is an item of the product's pool partition
//! (`<tenant>#POOL#<product>`, sort key `<lane>#<hash of the serial>`), so:
//!
//! - a sale deletes the units it takes, in the payment's own transaction, and never rewrites
//!   the product: two buyers conflict only when they pick the same serial, and a pick starts at
//!   a random hash, so they rarely do;
//! - a seller adds serials by putting items (an append), never racing buyers;
//! - a serial is in a lane once, by construction of its key.
//!
//! The product keeps the counters (`available`, `held`, `pool_bytes`, `serial_len_max`, a
//! variant's in `vstock`); every write to a pool moves them in the same transaction, in chunks
//! of [`CHUNK`] serials (a transaction takes 100 items).

use crate::cost::{Kind, record};
use crate::db::{Db, Item, StoreError, Write, n, number, s};
use crate::layout::{PRODUCTS, parked_pk, pool_pk, pool_sk};
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, ReturnConsumedCapacity};
use sellvy_models::pool::{CHUNK, MAX_POOL_BYTES, PRODUCT_LANE, PoolWrite};
use sellvy_models::time::Timestamp;
use sellvy_models::{Product, Tenant};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Tries of one chunk before a write that keeps racing other writers gives up.
const TRIES: usize = 20;

/// One serial waiting in a pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolEntry {
    pub lane: String,
    pub serial: String,
    sk: String,
    /// When it was added (for showing `info` in the order the seller gave).
    at: i64,
}

/// Serials a large order claimed while it is being paid: one chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parked {
    sk: String,
    pub entries: Vec<PoolEntry>,
}

fn entry(item: &Item) -> Option<PoolEntry> {
    let text = |k: &str| match item.get(k) {
        Some(AttributeValue::S(v)) => Some(v.clone()),
        _ => None,
    };
    let sk = text("SK")?;
    let lane = sk.split_once('#')?.0.to_string();
    Some(PoolEntry { lane, serial: text("serial")?, at: number(item, "at"), sk })
}

fn pool_item(t: &Tenant, product_id: &str, e: &PoolEntry) -> Item {
    HashMap::from([
        ("PK".to_string(), s(pool_pk(t, product_id))),
        ("SK".to_string(), s(&e.sk)),
        ("serial".to_string(), s(&e.serial)),
        ("at".to_string(), n(e.at)),
    ])
}

/// The counter update of a pool write: `units` into (or out of, negative) a lane's `available`,
/// `bytes` into `pool_bytes`; adding also raises `serial_len_max` to `longest` and checks the
/// pools' bound; removing checks that the units are not held.
fn counters(
    db: &Db,
    t: &Tenant,
    p: &Product,
    lane: &str,
    units: i64,
    bytes: i64,
    longest: u64,
) -> Result<Write, StoreError> {
    let available =
        if lane == PRODUCT_LANE { "available".to_string() } else { "vstock.#lane.available".to_string() };
    let mut names = vec![];
    if lane != PRODUCT_LANE {
        names.push(("#lane", lane));
    }
    let mut values = vec![(":u", n(units)), (":b", n(bytes))];
    let (expression, condition) = if units >= 0 {
        values.push((":m", n(longest)));
        values.push((":room", n(MAX_POOL_BYTES as i64 - bytes)));
        (
            format!("ADD {available} :u, pool_bytes :b SET serial_len_max = :m"),
            "attribute_exists(PK) AND (attribute_not_exists(serial_len_max) OR serial_len_max <= :m) \
             AND (attribute_not_exists(pool_bytes) OR pool_bytes <= :room)"
                .to_string(),
        )
    } else {
        values.push((":k", n(-units)));
        (format!("ADD {available} :u, pool_bytes :b"), format!("attribute_exists(PK) AND {available} >= :k"))
    };
    Write::update_named(&db.table, PRODUCTS.key(t, &p.id), &expression, Some(&condition), &names, &values)
}

impl Db {
    /// Every serial of a product's pools (one lane, or all), in key order: one Query per MB.
    async fn pool_entries(
        &self,
        t: &Tenant,
        product_id: &str,
        lane: Option<&str>,
    ) -> Result<Vec<PoolEntry>, StoreError> {
        let mut out_entries = Vec::new();
        let mut start = None;
        loop {
            let mut q = self
                .client
                .query()
                .table_name(&self.table)
                .expression_attribute_values(":pk", s(pool_pk(t, product_id)))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .return_consumed_capacity(ReturnConsumedCapacity::Total);
            q = match lane {
                Some(l) => q
                    .key_condition_expression("PK = :pk AND begins_with(SK, :lane)")
                    .expression_attribute_values(":lane", s(format!("{l}#"))),
                None => q.key_condition_expression("PK = :pk"),
            };
            let out = q.send().await?;
            record(Kind::Read, out.items().len(), out.consumed_capacity());
            out_entries.extend(out.items().iter().filter_map(entry));
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(out_entries);
            }
        }
    }

    /// What a product's pools hold, by lane, each in the order the serials were added.
    pub async fn pools(
        &self,
        t: &Tenant,
        product_id: &str,
    ) -> Result<BTreeMap<String, Vec<String>>, StoreError> {
        let mut entries = self.pool_entries(t, product_id, None).await?;
        entries.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.sk.cmp(&b.sk)));
        let mut pools: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for e in entries {
            pools.entry(e.lane).or_default().push(e.serial);
        }
        Ok(pools)
    }

    /// Up to `count` serials of a lane to sell, read from a random place in it (wrapping
    /// around), so buyers paying at the same time rarely pick the same ones.
    pub async fn pick_serials(
        &self,
        t: &Tenant,
        product_id: &str,
        lane: &str,
        count: usize,
    ) -> Result<Vec<PoolEntry>, StoreError> {
        let from = format!("{lane}#{}", hex::encode(sellvy_models::id::random_bytes::<16>()));
        let mut picked = self.pool_range(t, product_id, &from, &format!("{lane}#~"), count).await?;
        if picked.len() < count {
            let more =
                self.pool_range(t, product_id, &format!("{lane}#"), &from, count - picked.len()).await?;
            picked.extend(more.into_iter().filter(|e| e.sk != from));
        }
        Ok(picked)
    }

    async fn pool_range(
        &self,
        t: &Tenant,
        product_id: &str,
        from: &str,
        to: &str,
        count: usize,
    ) -> Result<Vec<PoolEntry>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND SK BETWEEN :from AND :to")
            .expression_attribute_values(":pk", s(pool_pk(t, product_id)))
            .expression_attribute_values(":from", s(from))
            .expression_attribute_values(":to", s(to))
            .limit(count as i32)
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await?;
        record(Kind::Read, out.items().len(), out.consumed_capacity());
        Ok(out.items().iter().filter_map(entry).collect())
    }

    /// A transaction write putting one serial into a lane (as it was before pools: `at` orders
    /// it after earlier ones).
    pub(crate) fn pool_put(
        &self,
        t: &Tenant,
        product_id: &str,
        lane: &str,
        serial: &str,
        at: i64,
    ) -> Result<Write, StoreError> {
        let e =
            PoolEntry { lane: lane.to_string(), serial: serial.to_string(), sk: pool_sk(lane, serial), at };
        Write::put(&self.table, pool_item(t, product_id, &e), None, &[])
    }

    /// The transaction write that takes a picked serial out of its pool (it must still be
    /// there: a serial another buyer took is a conflict, and the buyer picks again).
    pub(crate) fn take_from_pool(
        &self,
        t: &Tenant,
        product_id: &str,
        e: &PoolEntry,
    ) -> Result<Write, StoreError> {
        Write::delete(&self.table, (pool_pk(t, product_id), e.sk.clone()), Some("attribute_exists(PK)"), &[])
    }

    /// Makes the pools hold what `write` asks (per lane, replace semantics): the serials no
    /// longer wanted leave (refused if open orders hold them), the new ones are added (refused
    /// past the pools' bound), the counters moving with each chunk. A lane `product` no longer
    /// counts (a variant removed, a product no longer of type serials) is only emptied. A write
    /// racing buyers or another writer re-reads and goes on; one interrupted midway is
    /// completed by sending the same `info` again.
    pub async fn write_pools(
        &self,
        t: &Tenant,
        product: &Product,
        write: &PoolWrite,
    ) -> Result<(), StoreError> {
        for (lane, wanted) in &write.lanes {
            let counted = product.product_type == sellvy_models::ProductType::Serials
                && match lane.as_str() {
                    PRODUCT_LANE => product.available.is_some(),
                    variant => product.vstock.contains_key(variant),
                };
            for _ in 0..TRIES {
                let current = self.pool_entries(t, &product.id, Some(lane)).await?;
                let wanted_set: HashSet<&String> = wanted.iter().collect();
                let held: HashSet<&String> = current.iter().map(|e| &e.serial).collect();
                let gone: Vec<PoolEntry> =
                    current.iter().filter(|e| !wanted_set.contains(&e.serial)).cloned().collect();
                let new: Vec<String> = wanted.iter().filter(|s| !held.contains(s)).cloned().collect();
                match self.remove_serials(t, product, lane, &gone, counted).await {
                    Ok(()) => {}
                    Err(StoreError::Conflict) => continue,
                    Err(e) => return Err(e),
                }
                match self.add_serials(t, &product.id, lane, &new, None).await {
                    Ok(()) => break,
                    Err(StoreError::Conflict) => continue,
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    /// Adds serials to a lane (`POST /v1/products/{id}/serials`), with `event` in the last
    /// chunk's transaction: refused (naming `info`) past the pools' bound. Serials the lane
    /// holds already are skipped, so a retry of an interrupted append completes it.
    pub async fn append_serials(
        &self,
        t: &Tenant,
        product: &Product,
        lane: &str,
        serials: &[String],
        event: &sellvy_models::Event,
    ) -> Result<(), StoreError> {
        for _ in 0..TRIES {
            let present = self.present(t, &product.id, lane, serials).await?;
            let new: Vec<String> = serials.iter().filter(|v| !present.contains(*v)).cloned().collect();
            match self.add_serials(t, &product.id, lane, &new, Some(event)).await {
                Err(StoreError::Conflict) => continue,
                other => return other,
            }
        }
        Err(StoreError::Conflict)
    }

    /// Which of `serials` the lane holds already (read by key, 100 at a time).
    async fn present(
        &self,
        t: &Tenant,
        product_id: &str,
        lane: &str,
        serials: &[String],
    ) -> Result<HashSet<String>, StoreError> {
        let mut present = HashSet::new();
        for chunk in serials.chunks(100) {
            let keys: Vec<Item> = chunk
                .iter()
                .map(|v| {
                    HashMap::from([
                        ("PK".to_string(), s(pool_pk(t, product_id))),
                        ("SK".to_string(), s(pool_sk(lane, v))),
                    ])
                })
                .collect();
            let request = KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .build()
                .map_err(|e| StoreError::Backend(e.to_string()))?;
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await?;
            let found = out.responses.as_ref().and_then(|r| r.get(&self.table)).cloned().unwrap_or_default();
            record(Kind::Read, found.len(), out.consumed_capacity());
            present.extend(found.iter().filter_map(entry).map(|e| e.serial));
        }
        Ok(present)
    }

    /// New serials into a lane, [`CHUNK`] per transaction with the counters: `available` up,
    /// `pool_bytes` up (refused past [`MAX_POOL_BYTES`]), `serial_len_max` raised. A conflict (a
    /// serial put meanwhile, or the longest serial moved) is for the caller to retry.
    async fn add_serials(
        &self,
        t: &Tenant,
        product_id: &str,
        lane: &str,
        serials: &[String],
        event: Option<&sellvy_models::Event>,
    ) -> Result<(), StoreError> {
        if serials.is_empty() {
            return Ok(());
        }
        let Some(product) = self.get_product(t, product_id).await? else {
            return Err(StoreError::Rejected {
                field: "id".into(),
                message: "the product no longer exists".into(),
            });
        };
        let product = &product;
        let base = Timestamp::now().millis() * 1_000_000;
        let mut longest = product.serial_len_max;
        let chunks = serials.chunks(CHUNK).count();
        for (c, chunk) in serials.chunks(CHUNK).enumerate() {
            let bytes: u64 = chunk.iter().map(|v| v.len() as u64).sum();
            longest = longest.max(chunk.iter().map(|v| v.len() as u64).max().unwrap_or(0));
            let mut writes = Vec::with_capacity(chunk.len() + 1);
            for (i, v) in chunk.iter().enumerate() {
                let e = PoolEntry {
                    lane: lane.to_string(),
                    serial: v.clone(),
                    sk: pool_sk(lane, v),
                    at: base + (c * CHUNK + i) as i64,
                };
                writes.push(Write::put(
                    &self.table,
                    pool_item(t, &product.id, &e),
                    Some("attribute_not_exists(PK)"),
                    &[],
                )?);
            }
            writes.push(counters(self, t, product, lane, chunk.len() as i64, bytes as i64, longest)?);
            if let Some(e) = event.filter(|_| c + 1 == chunks) {
                writes.push(self.record_event(t, e)?);
            }
            match self.transact(writes).await {
                Ok(()) => {}
                Err(StoreError::Conflict) => {
                    // Past the bound, or raced: the product says which.
                    let now = self.get_product(t, &product.id).await?;
                    if now.as_ref().is_some_and(|p| p.pool_bytes + bytes > MAX_POOL_BYTES) {
                        return Err(StoreError::Rejected {
                            field: "info".into(),
                            message: format!(
                                "would make the product hold more than {} MiB of serials",
                                MAX_POOL_BYTES / 1024 / 1024
                            ),
                        });
                    }
                    if now.is_none() {
                        return Err(StoreError::Rejected {
                            field: "id".into(),
                            message: "the product no longer exists".into(),
                        });
                    }
                    return Err(StoreError::Conflict);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Serials out of a lane, [`CHUNK`] per transaction, with the counters (refused, naming
    /// `info`, when open orders hold the units).
    async fn remove_serials(
        &self,
        t: &Tenant,
        product: &Product,
        lane: &str,
        gone: &[PoolEntry],
        counted: bool,
    ) -> Result<(), StoreError> {
        for chunk in gone.chunks(CHUNK) {
            let mut writes = Vec::with_capacity(chunk.len() + 1);
            for e in chunk {
                writes.push(self.take_from_pool(t, &product.id, e)?);
            }
            if counted {
                let bytes: i64 = chunk.iter().map(|e| e.serial.len() as i64).sum();
                writes.push(counters(self, t, product, lane, -(chunk.len() as i64), -bytes, 0)?.or_reject(
                    "info",
                    "would remove serials that open orders hold: keep at least what they hold",
                ));
            }
            self.transact(writes).await?;
        }
        Ok(())
    }

    /// Deletes every serial of a deleted product's pools (best effort: the product is gone).
    pub async fn delete_pools(&self, t: &Tenant, product_id: &str) -> Result<(), StoreError> {
        let entries = self.pool_entries(t, product_id, None).await?;
        for chunk in entries.chunks(CHUNK) {
            let writes =
                chunk.iter().map(|e| self.take_from_pool(t, product_id, e)).collect::<Result<_, _>>()?;
            if let Err(e) = self.transact(writes).await {
                tracing::warn!(error = %e, product = product_id, "could not empty a deleted product's pool");
            }
        }
        Ok(())
    }

    /// Claims serials for a large order being paid: a chunk leaves the pool and is parked under
    /// the order, atomically (a serial taken meanwhile is a conflict: pick again).
    pub async fn park_serials(
        &self,
        t: &Tenant,
        product_id: &str,
        order_id: &str,
        chunk: usize,
        entries: &[PoolEntry],
    ) -> Result<Parked, StoreError> {
        let mut writes = Vec::with_capacity(entries.len() + 1);
        for e in entries {
            writes.push(self.take_from_pool(t, product_id, e)?);
        }
        let sk = format!("{chunk:04}");
        let list =
            |f: &dyn Fn(&PoolEntry) -> AttributeValue| AttributeValue::L(entries.iter().map(f).collect());
        let item = HashMap::from([
            ("PK".to_string(), s(parked_pk(t, order_id))),
            ("SK".to_string(), s(&sk)),
            ("serials".to_string(), list(&|e| s(&e.serial))),
            ("sks".to_string(), list(&|e| s(&e.sk))),
            ("ats".to_string(), list(&|e| n(e.at))),
        ]);
        writes.push(Write::put(&self.table, item, Some("attribute_not_exists(PK)"), &[])?);
        self.transact(writes).await?;
        Ok(Parked { sk, entries: entries.to_vec() })
    }

    /// The chunks parked for an order, in order.
    pub async fn parked(&self, t: &Tenant, order_id: &str) -> Result<Vec<Parked>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk")
            .expression_attribute_values(":pk", s(parked_pk(t, order_id)))
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await?;
        record(Kind::Read, out.items().len(), out.consumed_capacity());
        Ok(out.items().iter().filter_map(parked).collect())
    }

    /// The transaction write that removes a parked chunk (its serials go to the order).
    pub(crate) fn unpark_write(&self, t: &Tenant, order_id: &str, p: &Parked) -> Result<Write, StoreError> {
        Write::delete(&self.table, (parked_pk(t, order_id), p.sk.clone()), Some("attribute_exists(PK)"), &[])
    }

    /// Gives an unpaid order's parked serials back to their pool (the units stay held until the
    /// order's release writes the counters).
    pub async fn return_parked(
        &self,
        t: &Tenant,
        product_id: &str,
        order_id: &str,
    ) -> Result<(), StoreError> {
        for p in self.parked(t, order_id).await? {
            let mut writes = vec![self.unpark_write(t, order_id, &p)?];
            for e in &p.entries {
                writes.push(Write::put(&self.table, pool_item(t, product_id, e), None, &[])?);
            }
            self.transact(writes).await?;
        }
        Ok(())
    }
}

fn parked(item: &Item) -> Option<Parked> {
    let list = |k: &str| match item.get(k) {
        Some(AttributeValue::L(l)) => Some(l.clone()),
        _ => None,
    };
    let sk = match item.get("SK") {
        Some(AttributeValue::S(v)) => v.clone(),
        _ => return None,
    };
    let (serials, sks, ats) = (list("serials")?, list("sks")?, list("ats")?);
    let entries = serials
        .iter()
        .zip(&sks)
        .zip(&ats)
        .filter_map(|((v, k), a)| match (v, k, a) {
            (AttributeValue::S(v), AttributeValue::S(k), AttributeValue::N(a)) => Some(PoolEntry {
                lane: k.split_once('#')?.0.to_string(),
                serial: v.clone(),
                sk: k.clone(),
                at: a.parse().ok()?,
            }),
            _ => None,
        })
        .collect();
    Some(Parked { sk, entries })
}
