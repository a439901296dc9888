//! Orders: checkout takes stock and coupon uses in the order's own transaction, so no
//! concurrency can oversell or exceed `max_uses`; payment takes its serials out of the pool in
//! the transaction that completes the order (or parks them under the order first, for an order
//! too large for one transaction), so no serial is ever sold twice. Stock moves by atomic
//! counters on the product (`available`, `held`, `total_sold`), never by rewriting it.

use crate::collection::{COUPONS, ORDERS, PRODUCTS, Page};
use crate::db::{Db, Item, StoreError, Write, n, number, s};
use crate::layout::{Watch, coupon_code_key, hold_key, order_number_key};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity, ReturnValue};
use sellvy_models::coupon::code_key;
use sellvy_models::hold::HoldCount;
use sellvy_models::order::{Order, OrderStatus, PaymentStatus};
use sellvy_models::stats::Tally;
use sellvy_models::time::Timestamp;
use sellvy_models::{Coupon, Event, Product, SortOrder, Tenant};
use serde::{Deserialize, Serialize};

/// Everything a paid order's transaction writes.
pub struct Completion<'a> {
    pub paid: &'a Order,
    pub old: &'a Order,
    pub product: &'a Product,
    /// The serials the order receives: taken from the pool now, or parked for it before.
    pub claimed: Claimed<'a>,
    pub customer: crate::CustomerUpdate<'a>,
    pub events: &'a [Event],
    /// Digital downloads: the link's grant, written with the order.
    pub download: Option<DownloadGrant<'a>>,
    /// Stripe payments: the PaymentIntent, recorded so that Stripe's later callbacks about it
    /// (disputes) find the order.
    pub stripe_payment_intent: Option<&'a str>,
    /// The subscription this payment starts or renews.
    pub subscription: Option<crate::SubscriptionWrite<'a>>,
}

/// Where a paid order's serials come from.
pub enum Claimed<'a> {
    /// Not a serials order.
    Nothing,
    /// Picked from the pool: they leave it in the payment's transaction.
    Pool(&'a [crate::PoolEntry]),
    /// Parked under the order beforehand: the parked chunks go.
    Parked(&'a [crate::Parked]),
}

impl Claimed<'_> {
    /// The bytes of serials the pools give up.
    fn bytes(&self) -> i64 {
        match self {
            Claimed::Nothing => 0,
            Claimed::Pool(e) => e.iter().map(|e| e.serial.len() as i64).sum(),
            Claimed::Parked(p) => p.iter().flat_map(|p| &p.entries).map(|e| e.serial.len() as i64).sum(),
        }
    }
}

/// A stock lane's counters on the product: its own (`available`, `held`), or a variant's.
fn lane_paths(lane: &str) -> (&'static str, &'static str, Vec<(&'static str, &str)>) {
    if lane == sellvy_models::pool::PRODUCT_LANE {
        ("available", "held", vec![])
    } else {
        ("vstock.#lane.available", "vstock.#lane.held", vec![("#lane", lane)])
    }
}

fn stripe_key(payment_intent: &str) -> (String, String) {
    crate::layout::stripe_payment_key(payment_intent)
}

/// An expiring, download-capped link to a file, found by its token's hash.
pub struct DownloadGrant<'a> {
    pub token: &'a str,
    pub file_url: &'a str,
    pub expires_at: sellvy_models::time::Timestamp,
    pub max_downloads: u32,
}

fn download_key(token: &str) -> (String, String) {
    crate::layout::download_key(&sellvy_models::order::token_hash(token))
}

/// The few fields order lists filter on (projected into GSI1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderSummary {
    pub id: String,
    pub status: OrderStatus,
    pub payment_status: PaymentStatus,
    pub customer_email: String,
    pub product_id: String,
    pub created_at: sellvy_models::time::Timestamp,
}

/// An order's stored item. A pending order also carries the keys of the sparse `Pending`
/// index (by `pay_by`), which the sweeper reads to expire unpaid orders; a paid order whose
/// dynamic goods wait carries them by `delivery.retry_at` (the sweeper fetches them); any
/// other write of the order drops them.
fn order_item(t: &Tenant, o: &Order) -> Result<Item, StoreError> {
    let mut item = ORDERS.item(t, &o.id, o)?;
    if o.status == OrderStatus::Pending {
        crate::db::watch(&mut item, Watch::UnpaidOrders, o.pay_by, t, &o.id);
    } else if let Some(at) = o.delivery.retry_at.filter(|_| o.awaits_delivery()) {
        crate::db::watch(&mut item, Watch::Goods, at, t, &o.id);
    }
    Ok(item)
}

/// A hold counter outlives every order it counts (and its cooldown) by a day, then DynamoDB's
/// TTL removes it.
fn hold_ttl(until: Timestamp) -> i64 {
    until.seconds() + 24 * 3600
}

impl Db {
    /// Unpaid orders whose `pay_by` is before `now`, oldest first (at most `limit`), as
    /// (tenant, order id): one Query of the sparse `Pending` index.
    pub async fn due_orders(
        &self,
        now: sellvy_models::time::Timestamp,
        limit: u32,
    ) -> Result<Vec<(Tenant, String)>, StoreError> {
        self.pending(Watch::UnpaidOrders, now, limit).await
    }

    /// Paid orders whose dynamic goods are due to be fetched (again) before `now`, oldest first
    /// (at most `limit`): one Query of the sparse `Pending` index.
    pub async fn orders_awaiting_goods(
        &self,
        now: sellvy_models::time::Timestamp,
        limit: u32,
    ) -> Result<Vec<(Tenant, String)>, StoreError> {
        self.pending(Watch::Goods, now, limit).await
    }

    /// The next order number of a tenant (`ORD-<n>`): one atomic counter, never reused.
    pub async fn next_order_number(&self, t: &Tenant) -> Result<u64, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(order_number_key(t).0))
            .key("SK", s(order_number_key(t).1))
            .update_expression("ADD seq :one")
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await?;
        crate::cost::record(crate::cost::Kind::Write, 0, out.consumed_capacity());
        Ok(number(&out.attributes.unwrap_or_default(), "seq").max(1) as u64)
    }

    /// The tenant's coupon with this code (ignoring case).
    pub async fn find_coupon_by_code(&self, t: &Tenant, code: &str) -> Result<Option<Coupon>, StoreError> {
        let (pk, sk) = coupon_code_key(t, &code_key(code));
        let claim = self.get(pk, sk, true).await?;
        let Some(AttributeValue::S(id)) = claim.as_ref().and_then(|c: &Item| c.get("coupon_id")) else {
            return Ok(None);
        };
        self.get_coupon(t, id).await
    }

    /// Writes a new order, taking its stock (`available`, the product's or its variant's) and
    /// its coupon use, with its event.
    pub async fn place_order(
        &self,
        t: &Tenant,
        o: &Order,
        product: &Product,
        coupon: Option<&Coupon>,
        event: &Event,
        max_open: u32,
    ) -> Result<(), StoreError> {
        let mut writes = vec![
            Write::put(&self.table, order_item(t, o)?, Some("attribute_not_exists(PK)"), &[])?,
            ORDERS.count_add(self, t, 1)?,
            self.record_event(t, event)?,
        ];
        if o.reserved > 0 {
            // The units move from available to held, atomically, only if they are there.
            let lane = product.lane_of(o.variant.as_ref().map(|v| v.id.as_str()));
            let (available, held, names) = lane_paths(&lane);
            writes.push(
                Write::update_named(
                    &self.table,
                    PRODUCTS.key(t, &o.product_id),
                    &format!("ADD {available} :minus, {held} :q"),
                    Some(&format!("{available} >= :q")),
                    &names,
                    &[(":q", n(o.reserved)), (":minus", n(-(o.reserved as i64)))],
                )?
                .or_reject("quantity", "is more than what is left in stock"),
            );
        }
        if let Some(c) = coupon {
            let (condition, values) = match c.max_uses {
                Some(max) => ("attribute_exists(PK) AND uses < :max", vec![(":one", n(1)), (":max", n(max))]),
                None => ("attribute_exists(PK)", vec![(":one", n(1))]),
            };
            writes.push(
                Write::update(&self.table, COUPONS.key(t, &c.id), "ADD uses :one", Some(condition), &values)?
                    .or_reject("coupon", "has been used up"),
            );
        }
        // The reservation policy: each holder below the store's bound and out of its cooldown.
        for holder in &o.hold.holders {
            writes.push(
                Write::update_named(
                    &self.table,
                    hold_key(t, &o.product_id, holder),
                    "SET #open = if_not_exists(#open, :zero) + :one, expires_at = :ttl",
                    Some(
                        "(attribute_not_exists(#open) OR #open < :max) AND \
                         (attribute_not_exists(cooldown_until) OR cooldown_until <= :now)",
                    ),
                    &[("#open", "open")],
                    &[
                        (":zero", n(0)),
                        (":one", n(1)),
                        (":max", n(max_open)),
                        (":now", n(o.created_at.millis())),
                        (":ttl", n(hold_ttl(o.pay_by))),
                    ],
                )?
                .or_refuse(),
            );
        }
        self.transact(writes).await
    }

    /// The reservation counters of `holders` for one product (absent ones count zero).
    pub async fn hold_counts(
        &self,
        t: &Tenant,
        product_id: &str,
        holders: &[String],
    ) -> Result<Vec<HoldCount>, StoreError> {
        let mut out = Vec::with_capacity(holders.len());
        for holder in holders {
            let (pk, sk) = hold_key(t, product_id, holder);
            let item = self.get(pk, sk, true).await?;
            out.push(item.map_or_else(HoldCount::default, |i| HoldCount {
                open: number(&i, "open"),
                cooldown_until:
                    i.get("cooldown_until").map(|_| Timestamp::from_millis(number(&i, "cooldown_until"))),
            }));
        }
        Ok(out)
    }

    /// The writes that lower the counters of an unpaid order's holders as it ends, with a
    /// renewal cooldown until `cooldown_until` when it expired unpaid.
    fn hold_releases(
        &self,
        t: &Tenant,
        old: &Order,
        cooldown_until: Option<Timestamp>,
    ) -> Result<Vec<Write>, StoreError> {
        let ttl = hold_ttl(cooldown_until.unwrap_or(old.pay_by).max(old.pay_by));
        old.hold
            .holders
            .iter()
            .map(|holder| {
                let key = hold_key(t, &old.product_id, holder);
                let names = [("#open", "open")];
                match cooldown_until {
                    Some(until) => Write::update_named(
                        &self.table,
                        key,
                        "ADD #open :minus SET expires_at = :ttl, cooldown_until = :until",
                        None,
                        &names,
                        &[(":minus", n(-1)), (":ttl", n(ttl)), (":until", n(until.millis()))],
                    ),
                    None => Write::update_named(
                        &self.table,
                        key,
                        "ADD #open :minus SET expires_at = :ttl",
                        None,
                        &names,
                        &[(":minus", n(-1)), (":ttl", n(ttl))],
                    ),
                }
            })
            .collect()
    }

    /// Completes a paid order: the order (if still as read), its serials leaving the pool (or
    /// their parked chunks), the product's counters (`held` down, `total_sold` up: atomic, no
    /// version check, so buyers of one product never wait on each other's payments), the
    /// customer's record, the day's figures (sharded), and the events, in one transaction.
    pub async fn complete_order(&self, t: &Tenant, c: &Completion<'_>) -> Result<(), StoreError> {
        let Completion {
            paid,
            old,
            product,
            claimed,
            customer,
            events,
            download,
            stripe_payment_intent,
            subscription,
        } = c;
        let mut writes = vec![Write::put_versioned(&self.table, order_item(t, paid)?, old.version)?];
        match claimed {
            Claimed::Nothing => {}
            Claimed::Pool(entries) => {
                for e in entries.iter() {
                    writes.push(self.take_from_pool(t, &product.id, e)?);
                }
            }
            Claimed::Parked(chunks) => {
                for p in chunks.iter() {
                    writes.push(self.unpark_write(t, &paid.id, p)?);
                }
            }
        }
        let lane = product.lane_of(paid.variant.as_ref().map(|v| v.id.as_str()));
        let (_, held, mut names) = lane_paths(&lane);
        let mut add = vec!["total_sold :q".to_string()];
        let mut values = vec![(":q", n(paid.quantity))];
        if old.reserved > 0 {
            add.push(format!("{held} :unheld"));
            values.push((":unheld", n(-(old.reserved as i64))));
        }
        if !matches!(claimed, Claimed::Nothing) {
            add.push("pool_bytes :bytes".into());
            values.push((":bytes", n(-claimed.bytes())));
        }
        if old.reserved == 0 {
            names.clear();
        }
        writes.push(
            Write::update_named(
                &self.table,
                PRODUCTS.key(t, &product.id),
                &format!("ADD {}", add.join(", ")),
                Some("attribute_exists(PK)"),
                &names,
                &values,
            )?
            .or_reject("id", "the product of this order no longer exists"),
        );
        writes.extend(self.customer_writes(t, customer)?);
        if let Some(d) = download {
            let item: Item = std::collections::HashMap::from([
                ("PK".to_string(), s(download_key(d.token).0)),
                ("SK".to_string(), s(download_key(d.token).1)),
                ("order_id".to_string(), s(&paid.id)),
                ("file_url".to_string(), s(d.file_url)),
                ("expires_ms".to_string(), n(d.expires_at.millis())),
                ("max_downloads".to_string(), n(d.max_downloads)),
                ("downloads".to_string(), n(0)),
                ("expires_at".to_string(), n(d.expires_at.seconds() + 24 * 3600)),
            ]);
            writes.push(Write::put(&self.table, item, Some("attribute_not_exists(PK)"), &[])?);
        }
        if let Some(pi) = stripe_payment_intent {
            let item: Item = std::collections::HashMap::from([
                ("PK".to_string(), s(stripe_key(pi).0)),
                ("SK".to_string(), s(stripe_key(pi).1)),
                ("store_id".to_string(), s(&t.store_id)),
                ("mode".to_string(), s(t.mode.as_str())),
                ("order_id".to_string(), s(&paid.id)),
            ]);
            writes.push(Write::put(&self.table, item, None, &[])?);
        }
        if old.status == OrderStatus::Pending {
            writes.extend(self.hold_releases(t, old, None)?);
        }
        writes.push(self.tally_write(t, &Tally::paid(paid))?);
        if let Some(w) = subscription {
            writes.extend(self.subscription_writes(t, w)?);
        }
        for e in events.iter() {
            writes.push(self.record_event(t, e)?);
        }
        self.transact(writes).await
    }

    /// The order a Stripe PaymentIntent paid, as (tenant, order id).
    pub async fn find_stripe_payment(
        &self,
        payment_intent: &str,
    ) -> Result<Option<(Tenant, String)>, StoreError> {
        let (pk, sk) = stripe_key(payment_intent);
        let Some(item) = self.get(pk, sk, true).await? else {
            return Ok(None);
        };
        let text = |k: &str| match item.get(k) {
            Some(AttributeValue::S(v)) => Some(v.clone()),
            _ => None,
        };
        let mode = match text("mode").as_deref() {
            Some("live") => sellvy_models::Mode::Live,
            Some("test") => sellvy_models::Mode::Test,
            _ => return Ok(None),
        };
        let store_id = text("store_id").and_then(|s| sellvy_models::id::StoreId::parse(&s));
        Ok(store_id.zip(text("order_id")).map(|(store_id, id)| (Tenant { store_id, mode }, id)))
    }

    /// Writes an order's new state if nobody changed it since `old` was read, with its events.
    pub async fn update_order(
        &self,
        t: &Tenant,
        new: &Order,
        old: &Order,
        events: &[Event],
    ) -> Result<(), StoreError> {
        let mut writes = vec![Write::put_versioned(&self.table, order_item(t, new)?, old.version)?];
        for e in events {
            writes.push(self.record_event(t, e)?);
        }
        self.transact(writes).await
    }

    /// Ends an unpaid order (payment failed, cancelled, expired): its stock and coupon use go
    /// back, if the product and coupon still exist, and its holders' counters go down (with a
    /// renewal cooldown until `cooldown_until`, for an order that expired unpaid).
    #[allow(clippy::too_many_arguments)]
    pub async fn release_order(
        &self,
        t: &Tenant,
        ended: &Order,
        old: &Order,
        product: Option<&Product>,
        coupon: Option<&Coupon>,
        events: &[Event],
        cooldown_until: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        let mut writes = vec![Write::put_versioned(&self.table, order_item(t, ended)?, old.version)?];
        if let Some(p) = product.filter(|_| old.reserved > 0) {
            // Back to the lane it came from, if the product still counts it.
            let lane = p.lane_of(old.variant.as_ref().map(|v| v.id.as_str()));
            let (available, held, names) = lane_paths(&lane);
            let counted = if lane == sellvy_models::pool::PRODUCT_LANE {
                p.available.is_some()
            } else {
                p.vstock.contains_key(&lane)
            };
            if counted {
                writes.push(
                    Write::update_named(
                        &self.table,
                        PRODUCTS.key(t, &p.id),
                        &format!("ADD {available} :q, {held} :minus"),
                        Some(&format!("attribute_exists({held})")),
                        &names,
                        &[(":q", n(old.reserved)), (":minus", n(-(old.reserved as i64)))],
                    )?
                    .or_reject("id", "the product no longer counts the units this order holds"),
                );
            }
        }
        if let Some(c) = coupon {
            writes.push(Write::update(
                &self.table,
                COUPONS.key(t, &c.id),
                "ADD uses :minus",
                Some("attribute_exists(PK) AND uses > :zero"),
                &[(":minus", n(-1)), (":zero", n(0))],
            )?);
        }
        writes.extend(self.hold_releases(t, old, cooldown_until)?);
        for e in events {
            writes.push(self.record_event(t, e)?);
        }
        self.transact(writes).await
    }

    /// Records a refund: the order (if still as read), the customer's spend, the day's
    /// figures, its review marked refunded (if it has one), the event.
    pub async fn refund_order(
        &self,
        t: &Tenant,
        refunded: &Order,
        old: &Order,
        events: &[Event],
    ) -> Result<(), StoreError> {
        let mut writes = vec![Write::put_versioned(&self.table, order_item(t, refunded)?, old.version)?];
        let amount = refunded.refunded_minor - old.refunded_minor;
        if let Some(c) = &old.customer_id {
            writes.push(self.customer_refund(t, c, amount)?);
        }
        writes.push(self.tally_write(t, &Tally::refunded(refunded, amount))?);
        if let Some(review) = &refunded.review_id {
            writes.push(self.review_refunded(t, review)?);
        }
        for e in events {
            writes.push(self.record_event(t, e)?);
        }
        self.transact(writes).await
    }

    /// Counts one download on the link `token`: its file, or `None` when the link does not
    /// exist, has expired or was used up (one conditional UpdateItem).
    pub async fn take_download(
        &self,
        token: &str,
        now: sellvy_models::time::Timestamp,
    ) -> Result<Option<String>, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(download_key(token).0))
            .key("SK", s(download_key(token).1))
            .update_expression("ADD downloads :one")
            .condition_expression("attribute_exists(PK) AND downloads < max_downloads AND expires_ms > :now")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", n(now.millis()))
            .return_values(ReturnValue::AllNew)
            .return_consumed_capacity(aws_sdk_dynamodb::types::ReturnConsumedCapacity::Total)
            .send()
            .await;
        match out {
            Ok(o) => {
                crate::cost::record(crate::cost::Kind::Write, 0, o.consumed_capacity());
                Ok(match o.attributes.as_ref().and_then(|a| a.get("file_url")) {
                    Some(AttributeValue::S(url)) => Some(url.clone()),
                    _ => None,
                })
            }
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                crate::cost::record(crate::cost::Kind::Write, 0, None);
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn get_order(&self, t: &Tenant, id: &str) -> Result<Option<Order>, StoreError> {
        self.get_object(ORDERS, t, id).await
    }

    pub async fn order_page(
        &self,
        t: &Tenant,
        offset: u64,
        per_page: u32,
    ) -> Result<Page<Order>, StoreError> {
        self.page(ORDERS, t, offset, per_page, SortOrder::Desc).await
    }

    /// Every order's summary, oldest first (filtered lists).
    pub async fn order_summaries(&self, t: &Tenant) -> Result<Vec<OrderSummary>, StoreError> {
        self.summaries(ORDERS, t).await
    }

    pub async fn get_orders(&self, t: &Tenant, ids: &[String]) -> Result<Vec<Order>, StoreError> {
        self.get_many(ORDERS, t, ids, |o: &Order| o.id.to_string()).await
    }
}
