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

use crate::error::{FieldError, ValidationError};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// How often a recurring product renews.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    Day,
    Week,
    Month,
    Year,
}

/// The most intervals one period may span (a period stays within about ten years).
pub const MAX_INTERVAL_COUNT: u32 = 120;
/// Retries of a failed renewal, in days after the first failure.
pub const DUNNING_DAYS: [i64; 3] = [1, 3, 5];

/// A product's renewal rule: every `interval_count` `interval`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recurring {
    pub interval: Interval,
    pub interval_count: u32,
}

impl Recurring {
    /// Checks the rule; errors name `field.interval_count` (no period over ten years).
    pub fn check(&self, field: &str) -> Result<(), ValidationError> {
        let most = match self.interval {
            Interval::Day => 3650,
            Interval::Week => 520,
            Interval::Month => MAX_INTERVAL_COUNT,
            Interval::Year => 10,
        };
        if self.interval_count == 0 || self.interval_count > most {
            return Err(ValidationError {
                errors: vec![FieldError::new(
                    format!("{field}.interval_count"),
                    format!("must be from 1 to {most} for a {:?} interval", self.interval).to_lowercase(),
                )],
            });
        }
        Ok(())
    }

    /// The end of the `n`th period (1 = the first) of a subscription that started at `start`:
    /// months and years keep the start's day of the month, clamped to shorter months (a
    /// subscription from 31 January renews on 28 or 29 February, then on 31 March), and keep its
    /// time of day (UTC).
    pub fn period_end(&self, start: Timestamp, n: u32) -> Timestamp {
        let steps = i64::from(self.interval_count) * i64::from(n);
        let Ok(at) = jiff::Timestamp::from_millisecond(start.millis()) else { return start };
        let utc = at.to_zoned(jiff::tz::TimeZone::UTC);
        let span = match self.interval {
            Interval::Day => jiff::Span::new().try_days(steps),
            Interval::Week => jiff::Span::new().try_weeks(steps),
            Interval::Month => jiff::Span::new().try_months(steps),
            Interval::Year => jiff::Span::new().try_years(steps),
        };
        // jiff adds months to the civil date and clamps to the month's last day.
        match span.and_then(|s| utc.checked_add(s)) {
            Ok(end) => Timestamp::from_millis(end.timestamp().as_millisecond()),
            Err(_) => start,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Active,
    /// A renewal failed (or could not be delivered): retried on the dunning schedule.
    PastDue,
    /// Ended before its period's end: by the seller or the buyer at once, or after dunning.
    Cancelled,
    /// Reached the end of its last period (cancelled at period end, or its product gone).
    Expired,
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
            current_period_end: recurring.period_end(now, 1),
            cancel_at_period_end: false,
            cancellation: None,
            failed_at: None,
            retries: 0,
            failure: None,
        }
    }

    /// When something is next due (the sweep's watch time), `None` once it has ended.
    pub fn next_due(&self) -> Option<Timestamp> {
        match self.status {
            Status::Active => Some(self.current_period_end),
            Status::PastDue => {
                let failed = self.failed_at.unwrap_or(self.current_period_end);
                DUNNING_DAYS.get(self.retries as usize).map(|days| failed.plus_seconds(days * 86_400))
            }
            Status::Cancelled | Status::Expired => None,
        }
    }

    pub fn due(&self, now: Timestamp) -> Due {
        match self.next_due() {
            Some(at) if at <= now => match self.cancel_at_period_end && self.status == Status::Active {
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
            current_period_end: self.recurring.period_end(self.started_at, periods),
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
        match at_period_end && self.status == Status::Active {
            true => Schedule { cancel_at_period_end: true, cancellation, ..self.clone() },
            false => Schedule { status: Status::Cancelled, cancellation, ..self.clone() },
        }
    }

    /// Its last period is over.
    pub fn expired(&self) -> Schedule {
        Schedule { status: Status::Expired, ..self.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    fn monthly() -> Recurring {
        Recurring { interval: Interval::Month, interval_count: 1 }
    }

    #[test]
    fn months_keep_their_day_clamped_to_shorter_months() {
        let start = at("2027-01-31T10:00:00Z");
        let ends: Vec<String> =
            (1..=4).map(|n| monthly().period_end(start, n).to_rfc3339()[..10].to_string()).collect();
        assert_eq!(ends, ["2027-02-28", "2027-03-31", "2027-04-30", "2027-05-31"]);
        assert_eq!(
            monthly().period_end(at("2028-01-31T00:00:00Z"), 1).to_rfc3339()[..10],
            *"2028-02-29",
            "a leap year"
        );
        let weekly = Recurring { interval: Interval::Week, interval_count: 2 };
        assert_eq!(weekly.period_end(start, 1), start.plus_seconds(14 * 86_400));
        let yearly = Recurring { interval: Interval::Year, interval_count: 1 };
        assert_eq!(yearly.period_end(at("2028-02-29T00:00:00Z"), 1).to_rfc3339()[..10], *"2029-02-28");
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
    fn intervals_are_bounded() {
        assert!(Recurring { interval: Interval::Month, interval_count: 0 }.check("recurring").is_err());
        let too_long =
            Recurring { interval: Interval::Year, interval_count: 11 }.check("recurring").unwrap_err();
        assert_eq!(too_long.errors[0].field, "recurring.interval_count");
        assert!(Recurring { interval: Interval::Day, interval_count: 3650 }.check("recurring").is_ok());
    }
}
