//! A store's daily figures, as `GET /v1/stats` and the dashboard's home page show them: the
//! counters the payments and refunds kept, cut into days in the store's time zone.

use crate::{AppError, AppState};
use sellvy_models::Tenant;
use sellvy_models::stats::{daily, window};
use sellvy_models::wire::StatsObject;

/// The last `days` days of the tenant's figures, today included, in `time_zone` (the store's).
pub async fn last_days(
    state: &AppState,
    t: &Tenant,
    time_zone: &str,
    days: u32,
) -> Result<StatsObject, AppError> {
    let w = window(time_zone, days, state.config.clock.now());
    let slots = state.db.stats(t, &w.first_utc_date, &w.last_utc_date).await?;
    Ok(daily(&w, &slots))
}
