//! A store's daily figures: `GET /stats`.

use crate::prelude::*;

/// One day of one currency's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StatsDay {
    /// The day in the store's time zone (`2026-11-30`).
    pub date: String,
    /// Orders paid that day.
    pub orders: u64,
    /// What those orders paid (after discounts).
    pub revenue: Amount,
    /// What was refunded that day (of orders paid any day).
    pub refunds: Amount,
}

/// One currency's figures: the window's totals and every day of it, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StatsCurrency {
    pub currency: String,
    pub orders: u64,
    pub revenue: Amount,
    pub refunds: Amount,
    pub days: Vec<StatsDay>,
}

/// The key's mode's figures over the last `days` days, today included, in the store's time zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StatsObject {
    /// The store's time zone (`PATCH /store`), where the days begin and end.
    pub time_zone: String,
    /// The first day (`2026-11-01`).
    pub from: String,
    /// The last day: today.
    pub to: String,
    /// One entry per currency that had a payment or refund in the window (by code); none
    /// when nothing happened.
    pub currencies: Vec<StatsCurrency>,
}

/// `{"data": StatsObject}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StatsData {
    pub data: StatsObject,
}

/// Query of `GET /stats`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// How many days, today included: 1 to 90 (default 30).
    #[param(minimum = 1, maximum = 90)]
    pub days: Option<u32>,
}
