//! Subscriptions: a recurring product's rule, and the subscription its checkout starts.

use crate::prelude::*;

/// How often a recurring product renews.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    Day,
    Week,
    Month,
    Year,
}

/// A product sold recurring: renewed every `interval_count` `interval`s. Months keep the day
/// of the month the subscription started on, clamped to shorter months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Recurring {
    pub interval: Interval,
    /// 1 or more; a period spans at most ten years (3650 days, 520 weeks, 120 months, 10 years).
    #[schema(minimum = 1, maximum = 3650)]
    pub interval_count: u32,
    /// A free trial before the first paid period, for buyers new to the store (1 to 730 days;
    /// not for serials, which every period hands out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 730)]
    pub trial_days: Option<u32>,
}

/// A product's `recurring` as sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecurringInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(required = true, nullable = false)]
    pub interval: Option<Interval>,
    /// A period spans at most ten years (3650 days, 520 weeks, 120 months, 10 years).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(required = true, nullable = false, minimum = 1, maximum = 3650)]
    pub interval_count: Option<u32>,
    /// A free trial before the first paid period, for buyers new to the store (not for
    /// serials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 730)]
    pub trial_days: Option<u32>,
}

impl From<Recurring> for RecurringInput {
    fn from(r: Recurring) -> RecurringInput {
        RecurringInput {
            interval: Some(r.interval),
            interval_count: Some(r.interval_count),
            trial_days: r.trial_days,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionStatus {
    /// In its free trial, until `current_period_end` (`trial_end`), when the first period is
    /// charged.
    Trialing,
    /// Paid up to `current_period_end`.
    Active,
    /// A renewal failed (declined, or nothing left to deliver): retried on the dunning schedule.
    PastDue,
    /// Ended before its period was over: at once by the seller or the buyer, or after dunning.
    Cancelled,
    /// Its last period is over (cancelled at period end, or its product no longer sold).
    Expired,
}

impl SubscriptionStatus {
    pub fn parse(s: &str) -> Option<SubscriptionStatus> {
        parse_word(s)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionStatus::Trialing => "trialing",
            SubscriptionStatus::Active => "active",
            SubscriptionStatus::PastDue => "past_due",
            SubscriptionStatus::Cancelled => "cancelled",
            SubscriptionStatus::Expired => "expired",
        }
    }
}

/// Who ended a subscription (or asked for it to end at its period's end), and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubscriptionCancellation {
    /// `seller`, `buyer` or `sellvy` (dunning spent, the product no longer sold).
    pub by: String,
    /// `requested`, `payment_failed`, `product_unavailable`, or the words the seller gave.
    pub reason: String,
    pub at: Timestamp,
}

/// A subscription, as its seller and its webhook events see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SubscriptionObject {
    /// `sub_…`
    pub id: String,
    pub status: SubscriptionStatus,
    pub product: OrderProduct,
    pub variant: Option<OrderVariant>,
    pub quantity: u32,
    /// What each renewal charges (fixed when the subscription started; coupons apply to the
    /// first period only).
    pub renewal_price: Amount,
    pub currency: String,
    pub recurring: Recurring,
    pub customer_email: String,
    pub customer_id: Option<String>,
    pub payment_method: String,
    pub current_period_start: Timestamp,
    pub current_period_end: Timestamp,
    /// When its free trial ends (or ended), if it had one.
    pub trial_end: Option<Timestamp>,
    /// Periods paid so far (1 during the first; 0 during a trial).
    pub periods: u32,
    /// When the next renewal (or dunning retry) is charged; null once nothing more will be.
    pub next_charge_at: Option<Timestamp>,
    pub cancel_at_period_end: bool,
    pub cancelled_at: Option<Timestamp>,
    pub cancellation: Option<SubscriptionCancellation>,
    /// Why the last renewal failed, while `past_due` (and after dunning cancelled it).
    pub renewal_error: Option<String>,
    /// The orders of its periods, newest first (the last 100; `order_count` counts them all).
    pub orders: Vec<String>,
    pub order_count: u32,
    /// Test mode: the subscription's own clock, once moved forward
    /// (`POST /subscriptions/{id}/test_clock`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_clock: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

envelopes!(SubscriptionData, SubscriptionList, SubscriptionObject);

/// A subscription as its buyer sees it (the storefront, with the first order's access token).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PublicSubscription {
    pub id: String,
    pub status: SubscriptionStatus,
    pub product: OrderProduct,
    pub variant: Option<OrderVariant>,
    pub quantity: u32,
    pub renewal_price: Amount,
    pub currency: String,
    pub recurring: Recurring,
    pub current_period_start: Timestamp,
    pub current_period_end: Timestamp,
    pub trial_end: Option<Timestamp>,
    pub next_charge_at: Option<Timestamp>,
    pub cancel_at_period_end: bool,
    pub cancelled_at: Option<Timestamp>,
    pub renewal_error: Option<String>,
    /// The orders of its periods, newest first (each opens with the same access token).
    pub orders: Vec<String>,
    pub created_at: Timestamp,
}

envelopes!(PublicSubscriptionData, PublicSubscriptionList, PublicSubscription);

/// `POST /storefront/subscriptions/{id}/payment`: the renewal order the buyer pays now, and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SubscriptionPayment {
    pub subscription: PublicSubscription,
    /// Opens with the subscription's access token.
    pub order: OrderObject,
    pub payment: PaymentInstructions,
}

/// `{"data": SubscriptionPayment}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SubscriptionPaymentData {
    pub data: SubscriptionPayment,
}

/// `POST /subscriptions/{id}/cancel` and the storefront's cancel.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelSubscriptionInput {
    /// Keep it until the paid period ends, then it expires (default true). A `past_due`
    /// subscription, whose period is unpaid, ends at once either way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_period_end: Option<bool>,
    /// The seller's words (default `requested`); the storefront takes none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 200)]
    pub reason: Option<String>,
}

/// `POST /subscriptions/{id}/test_clock` (test mode): moves the subscription's clock forward to
/// `advance_to`, running every renewal, dunning retry and expiry due by then.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestClockInput {
    /// Later than the clock's current time (which starts at the real time), at most 5 years on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(required = true, nullable = false)]
    pub advance_to: Option<Timestamp>,
    /// How the sandbox answers this subscription's renewals from now on (`succeeded` until
    /// told otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewals: Option<crate::SandboxOutcome>,
}

/// Query of `GET /subscriptions`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubscriptionListParams {
    #[param(minimum = 1)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
    pub status: Option<SubscriptionStatus>,
    /// `prod_…`
    pub product_id: Option<String>,
    pub customer_email: Option<String>,
}
