//! Metrics the operator's alarms watch, written as CloudWatch embedded metric format (one JSON
//! line on stdout, which Lambda sends to CloudWatch Logs, where it becomes a metric; locally it
//! is a log line like any other).

use sellvy_models::Tenant;
use sellvy_models::time::Timestamp;

/// The namespace of Sellvy's own metrics, and the metric of items set aside (the template's
/// `ItemsSetAsideAlarm` watches them).
pub const NAMESPACE: &str = "Sellvy";
pub const ITEMS_SET_ASIDE: &str = "ItemsSetAside";

/// An item the forwarder or the sweeper could not handle and set aside, so that it no longer
/// blocks the others: the `ItemsSetAside` metric (alarmed on) with what and why.
pub fn item_set_aside(kind: &str, t: &Tenant, id: &str, reason: &str) {
    println!("{}", set_aside_line(kind, t, id, reason, Timestamp::now()));
    tracing::error!(kind, store = %t.store_id, mode = t.mode.as_str(), item = id, reason, "item set aside");
}

fn set_aside_line(kind: &str, t: &Tenant, id: &str, reason: &str, at: Timestamp) -> String {
    serde_json::json!({
        "_aws": {
            "Timestamp": at.millis(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [[]],
                "Metrics": [{"Name": ITEMS_SET_ASIDE, "Unit": "Count"}],
            }],
        },
        ITEMS_SET_ASIDE: 1,
        "kind": kind,
        "store": t.store_id,
        "mode": t.mode.as_str(),
        "item": id,
        "reason": reason,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_aside_item_is_one_embedded_metric_line() {
        let t = Tenant { store_id: sellvy_models::id::StoreId::new(), mode: sellvy_models::Mode::Live };
        let line = set_aside_line("delivery", &t, "whd_1", "too large", Timestamp::from_millis(1_000));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Sellvy");
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"], "ItemsSetAside");
        assert_eq!(v["_aws"]["Timestamp"], 1_000);
        assert_eq!((v["ItemsSetAside"].as_i64(), v["item"].as_str()), (Some(1), Some("whd_1")));
        assert!(!line.contains('\n'), "one line");
    }
}
