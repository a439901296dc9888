//! A tenant's daily figures: quarter-hour counters added in the payment's and the refund's own
//! transactions, spread over [`SHARDS`] partitions, read back with one Query per shard.

use crate::db::{Db, Item, StoreError, Write, n, s};
use crate::layout::stats_key;
use aws_sdk_dynamodb::types::AttributeValue;
use sellvy_models::Tenant;
use sellvy_models::stats::{KEEP_DAYS, SHARDS, SLOT_SECS, SlotFigures, Tally};
use sellvy_models::time::Timestamp;

/// `<currency>#<slot>#<o|r|f>`: orders, revenue, refunds of one slot of the day's item.
fn counter(currency: &str, slot: i64, what: char) -> String {
    format!("{currency}#{slot}#{what}")
}

impl Db {
    /// The write that adds `tally` to its day's counters (for a transaction with the payment
    /// or refund it counts). Atomic `ADD`s: concurrent payments never conflict on it.
    pub(crate) fn tally_write(&self, t: &Tenant, tally: &Tally) -> Result<Write, StoreError> {
        let (day, slot) = tally.day_and_slot();
        let changes: Vec<(String, i64)> =
            [('o', tally.orders), ('r', tally.revenue_minor), ('f', tally.refunds_minor)]
                .into_iter()
                .filter(|(_, v)| *v != 0)
                .map(|(what, v)| (counter(&tally.currency, slot, what), v))
                .collect();
        let names: Vec<(String, String)> =
            changes.iter().enumerate().map(|(i, (name, _))| (format!("#c{i}"), name.clone())).collect();
        let mut values: Vec<(String, AttributeValue)> =
            changes.iter().enumerate().map(|(i, (_, v))| (format!(":c{i}"), n(v))).collect();
        let keep_until = tally.at.seconds() + KEEP_DAYS * 86_400;
        values.push((":ttl".into(), n(keep_until)));
        let adds: Vec<String> = (0..changes.len()).map(|i| format!("#c{i} :c{i}")).collect();
        let expression = match adds.is_empty() {
            true => "SET expires_at = :ttl".to_string(),
            false => format!("ADD {} SET expires_at = :ttl", adds.join(", ")),
        };
        let names: Vec<(&str, &str)> = names.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let values: Vec<(&str, AttributeValue)> =
            values.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        Write::update_named(&self.table, stats_key(t, tally.shard, &day), &expression, None, &names, &values)
    }

    /// Every slot's counters of the UTC days `first..=last` (`YYYY-MM-DD`): one Query per
    /// shard, concurrently (in this task, so the request's cost counts them).
    pub async fn stats(&self, t: &Tenant, first: &str, last: &str) -> Result<Vec<SlotFigures>, StoreError> {
        const _: () = assert!(SHARDS == 4, "one query per shard below");
        let shard = |n: u8| {
            self.stats_shard(stats_key(t, n, "").0, stats_key(t, n, first).1, stats_key(t, n, last).1)
        };
        let (a, b, c, d) = tokio::join!(shard(0), shard(1), shard(2), shard(3));
        let mut slots = Vec::new();
        for items in [a?, b?, c?, d?] {
            slots.extend(items.iter().flat_map(slots_of));
        }
        Ok(slots)
    }

    async fn stats_shard(&self, pk: String, from: String, to: String) -> Result<Vec<Item>, StoreError> {
        let values = [(":pk", s(pk)), (":from", s(from)), (":to", s(to))];
        self.query_all(None, "PK = :pk AND SK BETWEEN :from AND :to", &values, None).await
    }
}

/// A day item's counters as slots (one per currency and slot that has any).
fn slots_of(item: &Item) -> Vec<SlotFigures> {
    let Some(AttributeValue::S(sk)) = item.get("SK") else { return Vec::new() };
    let Some(day) = sk.strip_prefix("DAY#").and_then(|d| Timestamp::parse(&format!("{d}T00:00:00Z"))) else {
        return Vec::new();
    };
    let mut slots: std::collections::BTreeMap<(String, i64), SlotFigures> = Default::default();
    for (name, value) in item {
        let mut parts = name.split('#');
        let (Some(currency), Some(slot), Some(what), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let (Ok(slot), AttributeValue::N(v)) = (slot.parse::<i64>(), value) else { continue };
        let v: i64 = v.parse().unwrap_or(0);
        let f = slots.entry((currency.to_string(), slot)).or_insert_with(|| SlotFigures {
            start: day.plus_seconds(slot * SLOT_SECS),
            currency: currency.to_string(),
            orders: 0,
            revenue_minor: 0,
            refunds_minor: 0,
        });
        match what {
            "o" => f.orders += v,
            "r" => f.revenue_minor += v,
            "f" => f.refunds_minor += v,
            _ => {}
        }
    }
    slots.into_values().collect()
}
