//! A store's daily figures (orders paid, revenue, refunds, per currency), kept as they happen:
//! each payment and refund adds to a quarter hour's counters in its own transaction, spread
//! over [`SHARDS`] items so a store's concurrent payments rarely write the same one. Days are
//! cut in the store's time zone when read: every zone's midnight falls on a quarter hour, so
//! the UTC quarter hours add up to local days exactly, whatever zone is chosen later.

use crate::order::Order;
use crate::time::Timestamp;
use crate::wire::{Amount, StatsCurrency, StatsDay, StatsObject};
use std::collections::BTreeMap;

/// Seconds in one counted slot.
pub const SLOT_SECS: i64 = 900;
/// Slots in one UTC day.
pub const SLOTS_PER_DAY: i64 = 24 * 3600 / SLOT_SECS;
/// Items a tenant's figures are spread over (each a partition of its own).
pub const SHARDS: u8 = 4;
/// Days `GET /stats` may ask for, and its default.
pub const MAX_DAYS: u32 = 90;
pub const DEFAULT_DAYS: u32 = 30;
/// How long a day's counters are kept.
pub const KEEP_DAYS: i64 = 400;

/// One change to the figures: a payment (one order, its total) or a refund (its amount).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    pub at: Timestamp,
    pub currency: String,
    pub orders: i64,
    pub revenue_minor: i64,
    pub refunds_minor: i64,
    /// Which of the tenant's [`SHARDS`] items takes it.
    pub shard: u8,
}

fn shard_of(order: &Order) -> u8 {
    let last = order.id.as_str().bytes().last().unwrap_or(0);
    last % SHARDS
}

impl Tally {
    /// An order paid at `order.updated_at`.
    pub fn paid(order: &Order) -> Tally {
        Tally {
            at: order.updated_at,
            currency: order.currency.clone(),
            orders: 1,
            revenue_minor: order.total_minor,
            refunds_minor: 0,
            shard: shard_of(order),
        }
    }

    /// `amount_minor` refunded on `order` at `order.updated_at`.
    pub fn refunded(order: &Order, amount_minor: i64) -> Tally {
        Tally {
            at: order.updated_at,
            currency: order.currency.clone(),
            orders: 0,
            revenue_minor: 0,
            refunds_minor: amount_minor,
            shard: shard_of(order),
        }
    }

    /// The UTC day (`2026-11-30`) and its slot the tally falls in.
    pub fn day_and_slot(&self) -> (String, i64) {
        let secs = self.at.seconds();
        let day_start = secs.div_euclid(86_400) * 86_400;
        (utc_date(day_start), (secs - day_start) / SLOT_SECS)
    }
}

/// `YYYY-MM-DD` of a UTC instant (seconds).
pub fn utc_date(secs: i64) -> String {
    Timestamp::from_millis(secs * 1000).to_rfc3339()[..10].to_string()
}

/// `days` of `GET /stats`: 1 to [`MAX_DAYS`], default [`DEFAULT_DAYS`].
pub fn days_param(params: &crate::page::QueryParams) -> Result<u32, crate::ValidationError> {
    crate::page::positive(params, "days", DEFAULT_DAYS, MAX_DAYS)
        .map_err(|e| crate::ValidationError { errors: vec![e] })
}

/// One slot's counters, as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotFigures {
    pub start: Timestamp,
    pub currency: String,
    pub orders: i64,
    pub revenue_minor: i64,
    pub refunds_minor: i64,
}

/// The days asked for, in the store's zone: the first instant of the first day and the UTC
/// dates whose slots may fall in them (the range to read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub zone: String,
    pub days: Vec<jiff::civil::Date>,
    pub from: Timestamp,
    pub first_utc_date: String,
    pub last_utc_date: String,
}

/// The last `days` days up to today (in `zone`, an IANA name a store holds), at `now`.
pub fn window(zone_name: &str, days: u32, now: Timestamp) -> Window {
    let zone = crate::store::time_zone(zone_name).unwrap_or(jiff::tz::TimeZone::UTC);
    let instant = jiff::Timestamp::from_millisecond(now.millis()).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let today = instant.to_zoned(zone.clone()).date();
    let days: Vec<jiff::civil::Date> = (0..i64::from(days.max(1)))
        .rev()
        .filter_map(|back| today.checked_sub(jiff::Span::new().days(back)).ok())
        .collect();
    let start = days.first().copied().unwrap_or(today);
    let from =
        start.to_zoned(zone).map(|z| Timestamp::from_millis(z.timestamp().as_millisecond())).unwrap_or(now);
    Window {
        zone: zone_name.to_string(),
        days,
        from,
        first_utc_date: utc_date(from.seconds()),
        last_utc_date: utc_date(now.seconds()),
    }
}

/// The figures of the window's days, per currency (sorted by code), every day present.
pub fn daily(window: &Window, slots: &[SlotFigures]) -> StatsObject {
    let zone = crate::store::time_zone(&window.zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let index: BTreeMap<jiff::civil::Date, usize> =
        window.days.iter().enumerate().map(|(i, d)| (*d, i)).collect();
    // currency -> per day (orders, revenue, refunds)
    let mut by_currency: BTreeMap<String, Vec<(i64, i64, i64)>> = BTreeMap::new();
    for s in slots {
        let Ok(at) = jiff::Timestamp::from_millisecond(s.start.millis()) else { continue };
        let Some(&i) = index.get(&at.to_zoned(zone.clone()).date()) else { continue };
        let days =
            by_currency.entry(s.currency.clone()).or_insert_with(|| vec![(0, 0, 0); window.days.len()]);
        days[i].0 += s.orders;
        days[i].1 += s.revenue_minor;
        days[i].2 += s.refunds_minor;
    }
    let currencies = by_currency
        .into_iter()
        .map(|(code, days)| {
            let exponent = crate::Currency::parse(&code).map_or(2, |c| c.exponent());
            let amount = |minor: i64| Amount::from_minor(minor, exponent);
            let total = days.iter().fold((0, 0, 0), |t, d| (t.0 + d.0, t.1 + d.1, t.2 + d.2));
            StatsCurrency {
                currency: code,
                orders: total.0.max(0) as u64,
                revenue: amount(total.1),
                refunds: amount(total.2),
                days: window
                    .days
                    .iter()
                    .zip(days)
                    .map(|(date, (orders, revenue, refunds))| StatsDay {
                        date: date.to_string(),
                        orders: orders.max(0) as u64,
                        revenue: amount(revenue),
                        refunds: amount(refunds),
                    })
                    .collect(),
            }
        })
        .collect();
    StatsObject {
        time_zone: window.zone.clone(),
        from: window.days.first().map(|d| d.to_string()).unwrap_or_default(),
        to: window.days.last().map(|d| d.to_string()).unwrap_or_default(),
        currencies,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    fn slot(start: &str, currency: &str, orders: i64, revenue: i64, refunds: i64) -> SlotFigures {
        SlotFigures {
            start: at(start),
            currency: currency.into(),
            orders,
            revenue_minor: revenue,
            refunds_minor: refunds,
        }
    }

    #[test]
    fn a_tally_falls_in_its_utc_quarter_hour() {
        let t = Tally {
            at: at("2026-11-30T23:59:59.999Z"),
            currency: "USD".into(),
            orders: 1,
            revenue_minor: 500,
            refunds_minor: 0,
            shard: 0,
        };
        assert_eq!(t.day_and_slot(), ("2026-11-30".to_string(), 95));
        let t = Tally { at: at("2026-12-01T00:14:00Z"), ..t };
        assert_eq!(t.day_and_slot(), ("2026-12-01".to_string(), 0));
    }

    #[test]
    fn days_are_cut_at_the_stores_midnight() {
        // 23:30 UTC on the 29th is the 30th in Paris (UTC+1) and in Kolkata (UTC+5:30), and
        // still the 29th in New York.
        let now = at("2026-11-30T12:00:00Z");
        let slots = [
            slot("2026-11-29T23:30:00Z", "USD", 1, 1000, 0),
            slot("2026-11-30T10:00:00Z", "EUR", 2, 250, 100),
        ];
        let paris = daily(&window("Europe/Paris", 2, now), &slots);
        assert_eq!((paris.from.as_str(), paris.to.as_str()), ("2026-11-29", "2026-11-30"));
        let usd = paris.currencies.iter().find(|c| c.currency == "USD").unwrap();
        assert_eq!((usd.days[0].orders, usd.days[1].orders), (0, 1));
        assert_eq!(usd.revenue, Amount(10.0));
        let york = daily(&window("America/New_York", 2, now), &slots);
        let usd = york.currencies.iter().find(|c| c.currency == "USD").unwrap();
        assert_eq!((usd.days[0].orders, usd.days[1].orders), (1, 0));
        let kolkata = window("Asia/Kolkata", 1, now);
        assert_eq!(kolkata.from, at("2026-11-29T18:30:00Z"), "a half-hour zone's midnight");
        assert_eq!(kolkata.first_utc_date, "2026-11-29");
        // Currencies sorted, each day present, totals summed.
        assert_eq!(paris.currencies.iter().map(|c| c.currency.as_str()).collect::<Vec<_>>(), ["EUR", "USD"]);
        assert_eq!(paris.currencies[0].refunds, Amount(1.0));
        assert!(paris.currencies.iter().all(|c| c.days.len() == 2));
        // Slots outside the window are left out.
        let one_day = daily(&window("UTC", 1, now), &slots);
        assert_eq!(one_day.currencies.iter().map(|c| c.orders).sum::<u64>(), 2);
    }

    #[test]
    fn a_daylight_saving_day_has_its_own_length() {
        // Europe/Paris leaves summer time on 2026-10-25: that day is 25 hours long, and a sale
        // at 23:30 UTC (00:30 the next day in winter time) is the 26th's.
        let now = at("2026-10-26T12:00:00Z");
        let slots =
            [slot("2026-10-25T23:30:00Z", "EUR", 1, 100, 0), slot("2026-10-24T22:15:00Z", "EUR", 1, 100, 0)];
        let figures = daily(&window("Europe/Paris", 3, now), &slots);
        let eur = &figures.currencies[0];
        let orders: Vec<u64> = eur.days.iter().map(|d| d.orders).collect();
        assert_eq!(figures.from, "2026-10-24");
        assert_eq!(orders, [0, 1, 1], "22:15 UTC on the 24th is 00:15 on the 25th in summer time");
    }
}
