//! Subscriptions: a product sold every period. This module is the schedule and the life of one
//! subscription, without storage or payment: its periods (months keep the day they started on,
//! clamped to shorter months), renewals, the dunning after a failed renewal, and cancellation
//! (at once, or at the period's end).
//!
//! The rules decided for renewals:
//! - **The price is fixed at the start**: each renewal charges the unit price and quantity the
//!   subscription began with (a later price change applies to new subscriptions).
//! - **A coupon applies to the first period only**; renewals charge the full price.
//! - **A renewal that cannot be delivered** (no serials left) is not charged: the subscription
//!   goes `past_due` with that reason and is retried on the dunning schedule.
//! - **Dunning**: a failed renewal is retried 1, 3 and 5 days after it first failed; when the
//!   last retry fails, the subscription is cancelled (`payment_failed`).
//! - **A product deleted or made private** ends its subscriptions at the end of their period.

use crate::error::ValidationError;
use crate::id::{CustomerId, OrderId, ProductId, SubscriptionId, TypedId, derived_id};
use crate::order::Order;
use crate::page::{PageRequest, QueryParams, enum_param};
use crate::time::Timestamp;
use crate::wire::{
    Amount, CustomerDetails, OrderProduct, OrderVariant, PublicSubscription, SubscriptionCancellation,
    SubscriptionObject,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use crate::wire::{Interval, Recurring, SubscriptionStatus as Status};

/// Retries of a failed renewal, in days after the first failure.
pub const DUNNING_DAYS: [i64; 3] = [1, 3, 5];

/// The longest free trial.
pub const MAX_TRIAL_DAYS: u32 = 730;

/// Why a recurring rule is refused, if it is, as (field under `recurring`, message): a period
/// spans at most ten years, a trial at most [`MAX_TRIAL_DAYS`].
pub fn recurring_error(r: &Recurring) -> Option<(&'static str, String)> {
    let most = match r.interval {
        Interval::Day => 3650,
        Interval::Week => 520,
        Interval::Month => 120,
        Interval::Year => 10,
    };
    let unit = format!("{:?}", r.interval).to_lowercase();
    if r.interval_count == 0 || r.interval_count > most {
        return Some(("interval_count", format!("must be from 1 to {most} for a {unit} interval")));
    }
    r.trial_days
        .filter(|d| *d == 0 || *d > MAX_TRIAL_DAYS)
        .map(|_| ("trial_days", format!("must be from 1 to {MAX_TRIAL_DAYS}")))
}

/// The end of the `n`th period (1 = the first) of a subscription that started at `start`:
/// months and years keep the start's day of the month, clamped to shorter months (a
/// subscription from 31 January renews on 28 or 29 February, then on 31 March), and keep its
/// time of day (UTC).
pub fn period_end(r: &Recurring, start: Timestamp, n: u32) -> Timestamp {
    let steps = i64::from(r.interval_count) * i64::from(n);
    let Ok(at) = jiff::Timestamp::from_millisecond(start.millis()) else {
        return Timestamp::from_millis(jiff::Timestamp::MAX.as_millisecond());
    };
    let utc = at.to_zoned(jiff::tz::TimeZone::UTC);
    let span = match r.interval {
        Interval::Day => jiff::Span::new().try_days(steps),
        Interval::Week => jiff::Span::new().try_weeks(steps),
        Interval::Month => jiff::Span::new().try_months(steps),
        Interval::Year => jiff::Span::new().try_years(steps),
    };
    // jiff adds months to the civil date and clamps to the month's last day. Past the calendar's
    // end (year 9999) a period never ends: it is never renewed again.
    match span.and_then(|s| utc.checked_add(s)) {
        Ok(end) => Timestamp::from_millis(end.timestamp().as_millisecond()),
        Err(_) => Timestamp::from_millis(jiff::Timestamp::MAX.as_millisecond()),
    }
}

/// Who ended a subscription, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cancellation {
    /// `seller`, `buyer` or `sellvy` (dunning, the product gone).
    pub by: String,
    /// `requested`, `payment_failed`, `product_unavailable`, or the seller's own words.
    pub reason: String,
    pub at: Timestamp,
}

/// The schedule of one subscription: what the store keeps beside its orders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    pub recurring: Recurring,
    pub status: Status,
    /// When the first period began: every period's end counts from it.
    pub started_at: Timestamp,
    /// Periods begun so far (1 during the first).
    pub periods: u32,
    pub current_period_start: Timestamp,
    pub current_period_end: Timestamp,
    pub cancel_at_period_end: bool,
    pub cancellation: Option<Cancellation>,
    /// When its free trial ends, if it began with one.
    #[serde(default)]
    pub trial_end: Option<Timestamp>,
    /// While `past_due`: when the renewal first failed, the retries made, and why.
    pub failed_at: Option<Timestamp>,
    pub retries: u32,
    pub failure: Option<String>,
}

/// What is due on a subscription at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    Nothing,
    /// Charge and deliver the next period.
    Renewal,
    /// Its last period is over: it expires.
    Expiry,
}

impl Schedule {
    /// The schedule of a subscription whose first period was paid at `now`.
    pub fn start(recurring: Recurring, now: Timestamp) -> Schedule {
        Schedule {
            recurring,
            status: Status::Active,
            started_at: now,
            periods: 1,
            current_period_start: now,
            current_period_end: period_end(&recurring, now, 1),
            cancel_at_period_end: false,
            cancellation: None,
            trial_end: None,
            failed_at: None,
            retries: 0,
            failure: None,
        }
    }

    /// The schedule of a subscription whose free trial of `days` began at `now`: its first
    /// paid period starts when the trial ends, and every period counts from then.
    pub fn start_trial(recurring: Recurring, days: u32, now: Timestamp) -> Schedule {
        let end = now.plus_seconds(i64::from(days) * 86_400);
        Schedule {
            status: Status::Trialing,
            started_at: end,
            periods: 0,
            current_period_end: end,
            trial_end: Some(end),
            ..Schedule::start(recurring, now)
        }
    }

    /// When something is next due (the sweep's watch time), `None` once it has ended.
    pub fn next_due(&self) -> Option<Timestamp> {
        match self.status {
            Status::Active | Status::Trialing => Some(self.current_period_end),
            Status::PastDue => {
                let failed = self.failed_at.unwrap_or(self.current_period_end);
                DUNNING_DAYS.get(self.retries as usize).map(|days| failed.plus_seconds(days * 86_400))
            }
            Status::Cancelled | Status::Expired => None,
        }
    }

    pub fn due(&self, now: Timestamp) -> Due {
        match self.next_due() {
            Some(at) if at <= now => match self.cancel_at_period_end && self.in_period() {
                true => Due::Expiry,
                false => Due::Renewal,
            },
            _ => Due::Nothing,
        }
    }

    /// The next period was paid (a renewal, or a dunning retry that succeeded): it begins where
    /// the last one ended, whenever the payment came.
    pub fn renewed(&self) -> Schedule {
        let periods = self.periods + 1;
        Schedule {
            status: Status::Active,
            periods,
            current_period_start: self.current_period_end,
            current_period_end: period_end(&self.recurring, self.started_at, periods),
            failed_at: None,
            retries: 0,
            failure: None,
            ..self.clone()
        }
    }

    /// A renewal (or a retry) failed at `now` for `why`: `past_due` until the next retry, or
    /// cancelled when the retries are spent.
    pub fn renewal_failed(&self, now: Timestamp, why: &str) -> Schedule {
        let (failed_at, retries) = match self.status {
            Status::PastDue => (self.failed_at.unwrap_or(now), self.retries + 1),
            _ => (now, 0),
        };
        if retries as usize >= DUNNING_DAYS.len() {
            return Schedule {
                status: Status::Cancelled,
                failure: Some(why.into()),
                cancellation: Some(Cancellation {
                    by: "sellvy".into(),
                    reason: "payment_failed".into(),
                    at: now,
                }),
                ..self.clone()
            };
        }
        Schedule {
            status: Status::PastDue,
            failed_at: Some(failed_at),
            retries,
            failure: Some(why.into()),
            ..self.clone()
        }
    }

    /// Ended by `by` for `reason`: at once, or (`at_period_end`) when the paid period is over.
    /// An ended subscription stays as it is.
    pub fn cancelled(&self, by: &str, reason: &str, at_period_end: bool, now: Timestamp) -> Schedule {
        if matches!(self.status, Status::Cancelled | Status::Expired) {
            return self.clone();
        }
        let cancellation = Some(Cancellation { by: by.into(), reason: reason.into(), at: now });
        match at_period_end && self.in_period() {
            true => Schedule { cancel_at_period_end: true, cancellation, ..self.clone() },
            false => Schedule { status: Status::Cancelled, cancellation, ..self.clone() },
        }
    }

    /// Whether it is within a period it may keep to the end (paid, or a trial).
    fn in_period(&self) -> bool {
        matches!(self.status, Status::Active | Status::Trialing)
    }

    /// Its last period is over.
    pub fn expired(&self) -> Schedule {
        Schedule { status: Status::Expired, ..self.clone() }
    }
}

/// The order ids a subscription keeps (newest first); `order_count` counts them all.
pub const KEPT_ORDER_IDS: usize = 100;
/// How far one move of a test clock may go.
pub const TEST_CLOCK_MAX_SECS: i64 = 5 * 366 * 86_400;
/// How far test clocks go at most (2100-01-01), so periods stay far from the calendar's end.
pub const TEST_CLOCK_LAST_MS: i64 = 4_102_444_800_000;
/// The orders a subscription driven by a test clock may make, in all.
pub const TEST_CLOCK_MAX_ORDERS: u32 = 1_000;

/// A subscription: what its first order bought, bought again every period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscription {
    pub id: SubscriptionId,
    pub product_id: ProductId,
    pub product_title: String,
    pub variant: Option<OrderVariant>,
    pub quantity: u32,
    /// What each renewal charges per unit (the price when it started).
    pub unit_price_minor: i64,
    pub currency: String,
    pub customer_email: String,
    pub customer_id: Option<CustomerId>,
    /// The first order's answers, given again to every renewal order.
    pub custom_fields: Map<String, Value>,
    pub customer: Option<CustomerDetails>,
    pub gateway: String,
    /// SHA-256 of the first order's access token: it opens the subscription and every order
    /// of it on the storefront.
    pub token_hash: String,
    pub schedule: Schedule,
    /// Newest first, at most [`KEPT_ORDER_IDS`].
    pub orders: Vec<OrderId>,
    pub order_count: u32,
    /// Test mode: the subscription's clock, once moved forward; the sweeper leaves such a
    /// subscription to its clock.
    pub test_clock: Option<Timestamp>,
    /// Test mode: whether the sandbox declines its renewals.
    pub sandbox_declines: bool,
    /// Live mode: the card its renewals are charged to (saved by the first payment, replaced
    /// by a payment the buyer makes later).
    #[serde(default)]
    pub card: Option<crate::order::SavedCard>,
    /// Payments of a failed renewal the buyer started: each is a renewal order of its own.
    #[serde(default)]
    pub payment_attempts: u32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: u64,
}

impl Subscription {
    /// The subscription `first` (paid at `now`) starts. Its id is derived from the order's, so
    /// a payment recorded twice starts it once.
    pub fn start(first: &Order, recurring: Recurring, now: Timestamp) -> Subscription {
        Subscription {
            id: SubscriptionId::from_checked(derived_id(
                SubscriptionId::PREFIX,
                first.created_at.millis(),
                format!("subscription of {}", first.id).as_bytes(),
            )),
            product_id: first.product_id.clone(),
            product_title: first.product_title.clone(),
            variant: first.variant.clone(),
            quantity: first.quantity,
            unit_price_minor: first.unit_price_minor,
            currency: first.currency.clone(),
            customer_email: first.customer_email.clone(),
            customer_id: first.customer_id.clone(),
            custom_fields: first.custom_fields.clone(),
            customer: first.customer.clone(),
            gateway: first.gateway.clone(),
            token_hash: first.token_hash.clone(),
            schedule: match first.trial_days {
                Some(days) => Schedule::start_trial(recurring, days, now),
                None => Schedule::start(recurring, now),
            },
            orders: vec![first.id.clone()],
            order_count: 1,
            test_clock: None,
            sandbox_declines: false,
            card: None,
            payment_attempts: 0,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    pub fn status(&self) -> Status {
        self.schedule.status
    }

    /// The time this subscription lives by: its test clock once moved, else `real`.
    pub fn clock(&self, real: Timestamp) -> Timestamp {
        self.test_clock.unwrap_or(real)
    }

    /// When the sweeper must look at it next: `None` once it has ended, or while a test clock
    /// drives it.
    pub fn watch_at(&self) -> Option<Timestamp> {
        match self.test_clock {
            Some(_) => None,
            None => self.schedule.next_due(),
        }
    }

    fn derived_order_id(&self, ms: i64, what: String) -> OrderId {
        let seed = format!("renewal {} of {} {what}", self.schedule.periods + 1, self.id);
        OrderId::from_checked(derived_id(OrderId::PREFIX, ms, seed.as_bytes()))
    }

    /// The id of the order Sellvy charges for what is due now (the renewal, or a dunning
    /// retry): one per period and try, derived from both, so however many sweeps run, one
    /// order is placed for it.
    pub fn renewal_order_id(&self) -> OrderId {
        let attempt = match self.schedule.status {
            Status::PastDue => self.schedule.retries + 1,
            _ => 0,
        };
        let due = self.schedule.next_due().unwrap_or(self.schedule.current_period_end);
        self.derived_order_id(due.millis(), format!("try {attempt}"))
    }

    /// The id of the `n`th order the buyer opened to pay a failed renewal of this period
    /// themselves: never one the sweeper charges.
    pub fn buyer_order_id(&self, n: u32) -> OrderId {
        self.derived_order_id(self.schedule.current_period_end.millis(), format!("paid by the buyer {n}"))
    }

    /// Whether paying `order` renews this subscription now: it is the renewal due (not to end
    /// at its period's end), or, while `past_due`, the latest order the buyer opened (or the
    /// one being opened).
    pub fn renews_with(&self, order: &OrderId) -> bool {
        let n = self.payment_attempts;
        match self.schedule.status {
            Status::Active | Status::Trialing => {
                !self.schedule.cancel_at_period_end && *order == self.renewal_order_id()
            }
            Status::PastDue => {
                *order == self.renewal_order_id()
                    || *order == self.buyer_order_id(n)
                    || *order == self.buyer_order_id(n + 1)
            }
            Status::Cancelled | Status::Expired => false,
        }
    }

    fn changed(&self, schedule: Schedule, now: Timestamp) -> Subscription {
        Subscription { schedule, updated_at: now, version: self.version + 1, ..self.clone() }
    }

    /// The next period was paid by `order`.
    pub fn renewed(&self, order: &OrderId, now: Timestamp) -> Subscription {
        let mut orders = vec![order.clone()];
        orders.extend(self.orders.iter().take(KEPT_ORDER_IDS - 1).cloned());
        Subscription {
            orders,
            order_count: self.order_count + 1,
            ..self.changed(self.schedule.renewed(), now)
        }
    }

    /// The renewal due at `at` (the subscription's clock) failed for `why`.
    pub fn renewal_failed(&self, at: Timestamp, why: &str, now: Timestamp) -> Subscription {
        self.changed(self.schedule.renewal_failed(at, why), now)
    }

    /// Refused unless `past_due`: what a buyer's payment of a failed renewal needs.
    pub fn awaits_buyer_payment(&self) -> Result<(), ValidationError> {
        match self.status() {
            Status::PastDue => Ok(()),
            other => Err(ValidationError::one(
                "id",
                format!("only a past_due subscription has a renewal to pay (this one is {})", other.as_str()),
            )),
        }
    }

    /// The buyer opened an order of their own to pay a failed renewal (the dunning schedule
    /// stays as it is should it fail too): the next one they open has another id.
    pub fn buyer_pays(&self, now: Timestamp) -> Result<Subscription, ValidationError> {
        self.awaits_buyer_payment()?;
        Ok(Subscription {
            payment_attempts: self.payment_attempts + 1,
            updated_at: now,
            version: self.version + 1,
            ..self.clone()
        })
    }

    /// Ended (or to end at its period's end) by `by` for `reason`; an ended one is refused.
    pub fn cancelled(
        &self,
        by: &str,
        reason: &str,
        at_period_end: bool,
        now: Timestamp,
    ) -> Result<Subscription, ValidationError> {
        if matches!(self.status(), Status::Cancelled | Status::Expired) {
            return Err(ValidationError::one(
                "id",
                format!("this subscription has already ended ({})", self.status().as_str()),
            ));
        }
        let at = self.clock(now);
        Ok(self.changed(self.schedule.cancelled(by, reason, at_period_end, at), now))
    }

    /// Its last period is over (it was cancelled at period end).
    pub fn expired(&self, now: Timestamp) -> Subscription {
        self.changed(self.schedule.expired(), now)
    }

    /// Its product is no longer sold: it ends now, at the end of its paid period.
    pub fn product_unavailable(&self, now: Timestamp) -> Subscription {
        let at = self.clock(now);
        let ended = Schedule {
            cancellation: Some(Cancellation {
                by: "sellvy".into(),
                reason: "product_unavailable".into(),
                at,
            }),
            ..self.schedule.expired()
        };
        self.changed(ended, now)
    }

    /// Test mode: the clock moved forward to `to`, and the sandbox's answer to renewals.
    pub fn clock_moved(
        &self,
        to: Timestamp,
        declines: Option<bool>,
        now: Timestamp,
    ) -> Result<Subscription, ValidationError> {
        let from = self.clock(now);
        if to <= from {
            return Err(ValidationError::one(
                "advance_to",
                format!("must be later than the clock's time ({})", from.to_rfc3339()),
            ));
        }
        if to.seconds() - from.seconds() > TEST_CLOCK_MAX_SECS {
            return Err(ValidationError::one("advance_to", "must be at most 5 years after the clock's time"));
        }
        if to > Timestamp::from_millis(TEST_CLOCK_LAST_MS) {
            return Err(ValidationError::one("advance_to", "must be before 2100"));
        }
        if self.order_count >= TEST_CLOCK_MAX_ORDERS {
            return Err(ValidationError::one(
                "id",
                format!("a test subscription renews at most {TEST_CLOCK_MAX_ORDERS} times: start another"),
            ));
        }
        Ok(Subscription {
            test_clock: Some(to),
            sandbox_declines: declines.unwrap_or(self.sandbox_declines),
            updated_at: now,
            version: self.version + 1,
            ..self.clone()
        })
    }

    fn amount(&self, minor: i64) -> Amount {
        let c = crate::money::Currency::parse(&self.currency).unwrap_or(crate::money::Currency::USD);
        Amount::from_minor(minor, c.exponent())
    }

    fn product(&self) -> OrderProduct {
        OrderProduct { id: self.product_id.to_string(), title: self.product_title.clone() }
    }

    fn cancelled_at(&self) -> Option<Timestamp> {
        match self.status() {
            Status::Cancelled | Status::Expired => {
                Some(self.schedule.cancellation.as_ref().map_or(self.updated_at, |c| c.at))
            }
            _ => None,
        }
    }

    fn next_charge_at(&self) -> Option<Timestamp> {
        self.schedule.next_due().filter(|_| !self.schedule.cancel_at_period_end)
    }

    pub fn to_object(&self) -> SubscriptionObject {
        SubscriptionObject {
            id: self.id.to_string(),
            status: self.status(),
            product: self.product(),
            variant: self.variant.clone(),
            quantity: self.quantity,
            renewal_price: self.amount(self.unit_price_minor.saturating_mul(i64::from(self.quantity))),
            currency: self.currency.clone(),
            recurring: self.schedule.recurring,
            customer_email: self.customer_email.clone(),
            customer_id: self.customer_id.as_ref().map(ToString::to_string),
            payment_method: self.gateway.clone(),
            current_period_start: self.schedule.current_period_start,
            current_period_end: self.schedule.current_period_end,
            trial_end: self.schedule.trial_end,
            periods: self.schedule.periods,
            next_charge_at: self.next_charge_at(),
            cancel_at_period_end: self.schedule.cancel_at_period_end,
            cancelled_at: self.cancelled_at(),
            cancellation: self.schedule.cancellation.as_ref().map(|c| SubscriptionCancellation {
                by: c.by.clone(),
                reason: c.reason.clone(),
                at: c.at,
            }),
            renewal_error: self.schedule.failure.clone(),
            orders: self.orders.iter().map(ToString::to_string).collect(),
            order_count: self.order_count,
            test_clock: self.test_clock,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// What its buyer sees: no email, customer record or seller's notes.
    pub fn to_public(&self) -> PublicSubscription {
        let o = self.to_object();
        PublicSubscription {
            id: o.id,
            status: o.status,
            product: o.product,
            variant: o.variant,
            quantity: o.quantity,
            renewal_price: o.renewal_price,
            currency: o.currency,
            recurring: o.recurring,
            current_period_start: o.current_period_start,
            current_period_end: o.current_period_end,
            trial_end: o.trial_end,
            next_charge_at: o.next_charge_at,
            cancel_at_period_end: o.cancel_at_period_end,
            cancelled_at: o.cancelled_at,
            renewal_error: o.renewal_error,
            orders: o.orders,
            created_at: o.created_at,
        }
    }
}

/// The filters of `GET /subscriptions`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscriptionListQuery {
    pub status: Option<Status>,
    pub product_id: Option<String>,
    pub customer_email: Option<String>,
}

impl SubscriptionListQuery {
    pub fn parse(params: &QueryParams) -> Result<(PageRequest, SubscriptionListQuery), ValidationError> {
        let mut errors = Vec::new();
        let page = PageRequest::parse(params).map_err(|e| errors.extend(e.errors)).unwrap_or_default();
        let status = enum_param("status", params.get("status"), &mut errors);
        if !errors.is_empty() {
            return Err(ValidationError { errors });
        }
        let text = |k: &str| params.get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        Ok((
            page,
            SubscriptionListQuery {
                status,
                product_id: text("product_id"),
                customer_email: text("customer_email").map(|e| e.to_lowercase()),
            },
        ))
    }

    pub fn matches(&self, status: &str, product_id: &str, customer_email: &str) -> bool {
        self.status.is_none_or(|s| s.as_str() == status)
            && self.product_id.as_deref().is_none_or(|p| p == product_id)
            && self.customer_email.as_deref().is_none_or(|e| e == customer_email)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    fn monthly() -> Recurring {
        Recurring { interval: Interval::Month, interval_count: 1, trial_days: None }
    }

    #[test]
    fn months_keep_their_day_clamped_to_shorter_months() {
        let start = at("2027-01-31T10:00:00Z");
        let ends: Vec<String> =
            (1..=4).map(|n| period_end(&monthly(), start, n).to_rfc3339()[..10].to_string()).collect();
        assert_eq!(ends, ["2027-02-28", "2027-03-31", "2027-04-30", "2027-05-31"]);
        assert_eq!(
            period_end(&monthly(), at("2028-01-31T00:00:00Z"), 1).to_rfc3339()[..10],
            *"2028-02-29",
            "a leap year"
        );
        let weekly = Recurring { interval: Interval::Week, interval_count: 2, trial_days: None };
        assert_eq!(period_end(&weekly, start, 1), start.plus_seconds(14 * 86_400));
        let yearly = Recurring { interval: Interval::Year, interval_count: 1, trial_days: None };
        assert_eq!(period_end(&yearly, at("2028-02-29T00:00:00Z"), 1).to_rfc3339()[..10], *"2029-02-28");
    }

    #[test]
    fn a_year_of_monthly_renewals() {
        let start = at("2027-01-31T10:00:00Z");
        let mut s = Schedule::start(monthly(), start);
        let mut renewals = 0;
        let mut now = start;
        while now < at("2028-01-31T10:00:00Z") {
            now = s.next_due().unwrap();
            assert_eq!(s.due(now), Due::Renewal);
            assert_eq!(s.due(now.plus_seconds(-1)), Due::Nothing, "not before its time");
            s = s.renewed();
            renewals += 1;
        }
        assert_eq!(renewals, 12);
        assert_eq!(s.periods, 13);
        assert_eq!(s.current_period_start, at("2028-01-31T10:00:00Z"));
        assert_eq!(s.current_period_end, at("2028-02-29T10:00:00Z"));
    }

    #[test]
    fn a_failed_renewal_is_retried_then_cancels() {
        let start = at("2027-03-01T00:00:00Z");
        let s = Schedule::start(monthly(), start);
        let due = s.next_due().unwrap();
        let mut s = s.renewal_failed(due, "card_declined");
        let mut retries = Vec::new();
        while let Some(next) = s.next_due() {
            assert_eq!(s.status, Status::PastDue);
            retries.push((next.seconds() - due.seconds()) / 86_400);
            s = s.renewal_failed(next, "card_declined");
        }
        assert_eq!(retries, [1, 3, 5]);
        assert_eq!(s.status, Status::Cancelled);
        assert_eq!(s.cancellation.as_ref().map(|c| c.reason.as_str()), Some("payment_failed"));

        // A retry that succeeds renews from where the period ended, not from the payment.
        let s = Schedule::start(monthly(), start).renewal_failed(due, "out_of_stock");
        let paid = s.renewed();
        assert_eq!((paid.status, paid.current_period_start), (Status::Active, due));
        assert_eq!(paid.current_period_end, at("2027-05-01T00:00:00Z"));
        assert_eq!((paid.retries, paid.failure.clone()), (0, None));
    }

    #[test]
    fn cancelling_at_period_end_expires_then_and_at_once_ends_now() {
        let start = at("2027-06-15T12:00:00Z");
        let s =
            Schedule::start(monthly(), start).cancelled("buyer", "requested", true, start.plus_seconds(3600));
        assert_eq!((s.status, s.cancel_at_period_end), (Status::Active, true));
        let end = s.next_due().unwrap();
        assert_eq!(s.due(end), Due::Expiry);
        assert_eq!(s.expired().next_due(), None);
        let now = Schedule::start(monthly(), start).cancelled("seller", "requested", false, start);
        assert_eq!((now.status, now.next_due()), (Status::Cancelled, None));
        assert_eq!(now.cancelled("buyer", "again", false, end), now, "an ended subscription stays ended");
        // A past-due subscription cancelled at period end ends at once: its period is unpaid.
        let late = Schedule::start(monthly(), start).renewal_failed(end, "card_declined");
        assert_eq!(late.cancelled("buyer", "requested", true, end).status, Status::Cancelled);
    }

    #[test]
    fn a_trial_ends_into_the_first_paid_period_and_periods_count_from_then() {
        let start = at("2027-01-20T09:00:00Z");
        let s = Schedule::start_trial(monthly(), 14, start);
        assert_eq!(
            (s.status, s.periods, s.trial_end),
            (Status::Trialing, 0, Some(at("2027-02-03T09:00:00Z")))
        );
        assert_eq!(s.next_due(), s.trial_end);
        assert_eq!(s.due(at("2027-02-03T08:59:59Z")), Due::Nothing);
        let paid = s.renewed();
        assert_eq!((paid.status, paid.periods), (Status::Active, 1));
        assert_eq!(
            (paid.current_period_start, paid.current_period_end),
            (at("2027-02-03T09:00:00Z"), at("2027-03-03T09:00:00Z"))
        );
        // Cancelled during the trial at its end: it expires then, never charged.
        let leaving = s.cancelled("buyer", "requested", true, start);
        assert_eq!(
            (leaving.status, leaving.due(at("2027-02-03T09:00:00Z"))),
            (Status::Trialing, Due::Expiry)
        );
        // A first charge that fails after the trial: dunning as for any renewal.
        let late = s.renewal_failed(at("2027-02-03T09:00:00Z"), "card_declined");
        assert_eq!((late.status, late.next_due()), (Status::PastDue, Some(at("2027-02-04T09:00:00Z"))));
    }

    #[test]
    fn only_the_renewal_due_or_the_buyers_latest_order_renews() {
        let first = crate::order::tests::paid_order("stripe");
        let sub = Subscription::start(&first, monthly(), at("2027-01-01T00:00:00Z"));
        let due = sub.renewal_order_id();
        assert!(sub.renews_with(&due));
        assert!(!sub.renews_with(&sub.buyer_order_id(1)), "no buyer's order while active");
        let leaving = sub.cancelled("buyer", "requested", true, at("2027-01-02T00:00:00Z")).unwrap();
        assert!(!leaving.renews_with(&due), "to end at its period's end: not renewed");
        let late =
            sub.renewal_failed(at("2027-02-01T00:00:00Z"), "card_declined", at("2027-02-01T00:00:00Z"));
        assert_ne!(late.renewal_order_id(), due, "a retry is an order of its own");
        assert!(late.renews_with(&late.renewal_order_id()) && late.renews_with(&late.buyer_order_id(1)));
        let paying = late.buyer_pays(at("2027-02-01T01:00:00Z")).unwrap();
        assert_eq!(
            paying.renewal_order_id(),
            late.renewal_order_id(),
            "the buyer's order is not the retry's"
        );
        assert!(
            paying.renews_with(&paying.buyer_order_id(1)) && !paying.renews_with(&late.buyer_order_id(0))
        );
    }

    #[test]
    fn intervals_are_bounded() {
        assert!(
            recurring_error(&Recurring { interval: Interval::Month, interval_count: 0, trial_days: None })
                .is_some()
        );
        let too_long =
            recurring_error(&Recurring { interval: Interval::Year, interval_count: 11, trial_days: None });
        assert_eq!(
            too_long,
            Some(("interval_count", "must be from 1 to 10 for a year interval".to_string()))
        );
        let trial = Recurring { interval: Interval::Month, interval_count: 1, trial_days: Some(731) };
        assert_eq!(recurring_error(&trial).map(|e| e.0), Some("trial_days"));
        assert!(
            recurring_error(&Recurring { interval: Interval::Day, interval_count: 3650, trial_days: None })
                .is_none()
        );
    }
}
