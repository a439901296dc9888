//! The reservation policy: how much of a product's stock one buyer may hold unpaid.
//!
//! An unpaid order holds its units until it is paid or its `pay_by` passes. So that a stranger
//! with the public key cannot keep a store's stock from everyone else:
//!
//! - **A few open orders per buyer and product.** A buyer is known by each of their
//!   *holders*: the client's network (an IPv4 address, or an IPv6 /64, the block one
//!   subscriber gets, so rotating addresses within it does not help) and their email (case and
//!   `+tag` ignored). Each holder may have at most the store's `max_open_orders_per_buyer`
//!   (default 3, per mode) unpaid orders of one product at once; a store whose own servers check
//!   out for many buyers raises it.
//! - **No renewing a hold back to back.** When an order expires unpaid, its holders wait the
//!   store's `renewal_cooldown_seconds` (default [`DEFAULT_RENEWAL_COOLDOWN_SECS`], per mode)
//!   before they may order that product again: a hold cannot be kept alive by checking out
//!   again every 30 minutes. A store whose own servers check out for many buyers (one address)
//!   sets it to 0 and raises the bound above.
//! - **A large order holds its stock for less time.** An order for more than a quarter of what
//!   was left must be paid within [`LARGE_ORDER_PAY_WINDOW_SECS`] instead of 30 minutes; a
//!   genuine buyer of the whole stock still buys it in one order.
//!
//! The counts live in one small item per (product, holder), changed in the checkout's own
//! transaction (a condition refuses the order when a bound is reached) and in the transaction
//! that ends the order (paid, cancelled, failed, expired).

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::net::IpAddr;

/// Unpaid orders of one product one holder may have at once, unless the store says otherwise.
pub const DEFAULT_OPEN_ORDERS_PER_BUYER: u32 = 3;
/// The most a store may allow.
pub const MAX_OPEN_ORDERS_PER_BUYER: u32 = 10_000;
/// How long the holders of an order that expired unpaid wait before ordering that product
/// again, unless the store says otherwise; and the longest a store may set.
pub const DEFAULT_RENEWAL_COOLDOWN_SECS: u32 = 15 * 60;
pub const MAX_RENEWAL_COOLDOWN_SECS: u32 = 24 * 3600;
/// The payment window of an order for more than a quarter of what was left in stock.
pub const LARGE_ORDER_PAY_WINDOW_SECS: i64 = 10 * 60;

/// Who holds an unpaid order's stock, and how long they wait to hold it again if the order
/// expires unpaid (the store's setting when the order was placed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    pub holders: Vec<String>,
    pub cooldown_secs: u32,
}

impl Hold {
    pub fn is_empty(&self) -> bool {
        self.holders.is_empty()
    }

    /// When the holders may order again, for an order that expired unpaid at `now`.
    pub fn cooldown_until(&self, now: Timestamp) -> Option<Timestamp> {
        (self.cooldown_secs > 0).then(|| now.plus_seconds(self.cooldown_secs as i64))
    }
}

/// The holders of a checkout from `client` (an address, or anything else when unknown) by
/// `email`: `net:<address or /64>` when the address parses, and `email:<hash>`. The email is
/// hashed, so the counters never carry it in clear.
pub fn holders(client: &str, email: &str) -> Vec<String> {
    let mut out = Vec::with_capacity(2);
    match client.trim().parse::<IpAddr>().map(|ip| ip.to_canonical()) {
        Ok(IpAddr::V4(v4)) => out.push(format!("net:{v4}")),
        Ok(IpAddr::V6(v6)) => {
            let s = v6.segments();
            out.push(format!("net:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3]));
        }
        Err(_) => {}
    }
    out.push(format!("email:{}", &hex::encode(Sha256::digest(normalized_email(email).as_bytes()))[..32]));
    out
}

/// `Ada.Lovelace+shop@Example.COM` → `ada.lovelace@example.com`.
fn normalized_email(email: &str) -> String {
    let email = email.trim().to_lowercase();
    match email.rsplit_once('@') {
        Some((local, domain)) => {
            let local = local.split('+').next().unwrap_or(local);
            format!("{local}@{domain}")
        }
        None => email,
    }
}

/// How long an order of `quantity` holds its stock when `available` units were left (`None`:
/// the stock is not counted, so nothing is held).
pub fn pay_window_secs(quantity: u32, available: Option<u64>, standard: i64) -> i64 {
    match available {
        Some(left) if (quantity as u64).saturating_mul(4) > left => standard.min(LARGE_ORDER_PAY_WINDOW_SECS),
        _ => standard,
    }
}

/// One holder's counter for one product, as read to explain a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HoldCount {
    pub open: i64,
    pub cooldown_until: Option<Timestamp>,
}

/// What a buyer refused by the policy is told, from their holders' counters at `now`.
pub fn refusal(counts: &[HoldCount], max_open: u32, now: Timestamp) -> String {
    let cooling = counts.iter().filter_map(|c| c.cooldown_until).filter(|u| *u > now).max();
    match cooling {
        Some(until) => {
            let minutes = ((until.millis() - now.millis()) as f64 / 60_000.0).ceil().max(1.0);
            format!(
                "An order of this product from you expired unpaid moments ago: you can order it again in {minutes} minute{}",
                if minutes == 1.0 { "" } else { "s" }
            )
        }
        None => format!(
            "You already have {max_open} unpaid order{} of this product: pay one (or let it expire) before ordering again",
            if max_open == 1 { "" } else { "s" }
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buyer_is_known_by_network_and_email() {
        let a = holders("203.0.113.7", "Ada+shop@Example.com");
        assert_eq!(a[0], "net:203.0.113.7");
        assert_eq!(a[1], holders("198.51.100.1", " ada@example.com")[1], "case and +tag ignored");
        assert_ne!(a[1], holders("203.0.113.7", "bob@example.com")[1]);
        assert!(!a[1].contains("ada"), "the email is never kept in clear");
        // Every address of one IPv6 /64 is one holder; the next /64 is another.
        let v6 = holders("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "x@example.com");
        assert_eq!(v6[0], "net:2001:db8:1:2::/64");
        assert_eq!(holders("2001:db8:1:2::9", "x@example.com")[0], v6[0]);
        assert_ne!(holders("2001:db8:1:3::9", "x@example.com")[0], v6[0]);
        // An IPv4 address written as IPv6 is the same IPv4 holder.
        assert_eq!(holders("::ffff:203.0.113.7", "x@example.com")[0], "net:203.0.113.7");
        // An unknown address leaves the email alone.
        assert_eq!(holders("unknown", "x@example.com").len(), 1);
    }

    #[test]
    fn a_large_order_holds_its_stock_for_less_time() {
        let standard = 30 * 60;
        assert_eq!(pay_window_secs(1, None, standard), standard, "uncounted stock holds nothing");
        assert_eq!(pay_window_secs(25, Some(100), standard), standard);
        assert_eq!(pay_window_secs(26, Some(100), standard), LARGE_ORDER_PAY_WINDOW_SECS);
        assert_eq!(pay_window_secs(100, Some(100), standard), LARGE_ORDER_PAY_WINDOW_SECS, "the whole stock");
        assert_eq!(pay_window_secs(1, Some(1), standard), LARGE_ORDER_PAY_WINDOW_SECS, "the last unit");
    }

    #[test]
    fn a_refusal_says_what_to_do() {
        let now = Timestamp::from_millis(1_000_000);
        let full = refusal(&[HoldCount { open: 3, cooldown_until: None }], 3, now);
        assert!(full.contains("3 unpaid orders"), "{full}");
        let past = Some(Timestamp::from_millis(999_000));
        assert!(refusal(&[HoldCount { open: 3, cooldown_until: past }], 3, now).contains("unpaid orders"));
        let soon = Some(now.plus_seconds(14 * 60 + 1));
        let cooling = refusal(&[HoldCount { open: 0, cooldown_until: soon }], 3, now);
        assert!(cooling.contains("in 15 minutes"), "{cooling}");
    }
}
