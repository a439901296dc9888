//! The fraud score: fixed, documented rules (docs/api.md, "Checkout").

use super::*;

/// Domains of throwaway mailboxes (a fraud signal).
const DISPOSABLE_DOMAINS: [&str; 8] = [
    "mailinator.com",
    "guerrillamail.com",
    "10minutemail.com",
    "tempmail.com",
    "yopmail.com",
    "trashmail.com",
    "sharklasers.com",
    "getnada.com",
];

/// The fraud score of a checkout, 0 (no signal) to 100, from documented rules:
/// a throwaway mailbox +40; 10 units or more +20; a total of 1,000 or more (major units) +20;
/// a buyer who never bought here before +10.
pub fn fraud_score(
    email: &str,
    quantity: u32,
    total_minor: i64,
    currency: Currency,
    first_purchase: bool,
) -> u8 {
    let domain = email.rsplit('@').next().unwrap_or("");
    let mut score = 0u32;
    if DISPOSABLE_DOMAINS.contains(&domain) {
        score += 40;
    }
    if quantity >= 10 {
        score += 20;
    }
    if total_minor >= 1000 * 10i64.pow(currency.exponent()) {
        score += 20;
    }
    if first_purchase {
        score += 10;
    }
    score.min(100) as u8
}
