//! The Stripe adapter: PaymentIntents and refunds through Stripe's HTTP API (form-encoded
//! requests, JSON answers, `Idempotency-Key` on every write), and the verification of Stripe's
//! signed webhook callbacks (`Stripe-Signature: t=…,v1=…`).

use hmac::{Hmac, KeyInit, Mac};
use sellvy_models::Tenant;
use sellvy_models::order::Order;
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;
use std::sync::OnceLock;
use std::time::Duration;

/// The deployment's Stripe account.
#[derive(Clone)]
pub struct StripeSettings {
    /// `https://api.stripe.com` in production; a local fake in tests (`SELLVY_STRIPE_API_BASE`).
    pub api_base: String,
    /// `sk_live_…` (`SELLVY_STRIPE_SECRET_KEY`).
    pub secret_key: String,
    /// The webhook endpoint's signing secret, `whsec_…` (`SELLVY_STRIPE_WEBHOOK_SECRET`).
    pub webhook_secret: String,
    /// `pk_live_…`, handed to storefronts for Stripe.js (`SELLVY_STRIPE_PUBLISHABLE_KEY`).
    pub publishable_key: Option<String>,
}

impl std::fmt::Debug for StripeSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeSettings").field("api_base", &self.api_base).finish_non_exhaustive()
    }
}

impl StripeSettings {
    /// From `SELLVY_STRIPE_*`; `None` unless both secrets are set.
    pub fn from_env() -> Option<StripeSettings> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        Some(StripeSettings {
            api_base: var("SELLVY_STRIPE_API_BASE").unwrap_or_else(|| "https://api.stripe.com".into()),
            secret_key: var("SELLVY_STRIPE_SECRET_KEY")?,
            webhook_secret: var("SELLVY_STRIPE_WEBHOOK_SECRET")?,
            publishable_key: var("SELLVY_STRIPE_PUBLISHABLE_KEY"),
        })
    }
}

/// Stripe callbacks older (or newer) than this are refused: a replayed request cannot be
/// believed twice after the window.
pub const SIGNATURE_TOLERANCE_SECS: i64 = 300;

fn http() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .expect("an HTTP client with the platform's TLS roots")
    })
}

/// What Stripe answered when a call did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StripeError {
    /// Stripe refused the request (4xx, `invalid_request_error`, …).
    Refused { status: u16, code: Option<String>, message: String },
    /// Network trouble, a timeout, a 5xx or an answer that is not Stripe's.
    Unavailable(String),
}

impl StripeError {
    /// What Stripe said (or why it could not be reached).
    pub fn message(&self) -> String {
        match self {
            StripeError::Refused { message, .. } => message.clone(),
            StripeError::Unavailable(m) => m.clone(),
        }
    }
}

/// Whether Stripe declined a charge (the card, or its bank): `402`, as Stripe answers card
/// errors, or the customer or card gone (`resource_missing`). Anything else (a concurrent
/// request with the same key, a refused key, rate limits) is not the card's doing.
pub fn is_decline(e: &StripeError) -> bool {
    matches!(e, StripeError::Refused { status: 402, .. }) || is_missing(e)
}

/// Whether Stripe no longer has what the call names (a customer deleted in its dashboard).
pub fn is_missing(e: &StripeError) -> bool {
    matches!(e, StripeError::Refused { status, code, .. }
        if *status == 404 || code.as_deref() == Some("resource_missing"))
}

impl std::fmt::Display for StripeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StripeError::Refused { status, code, message } => {
                write!(
                    f,
                    "Stripe refused the request ({status} {}): {message}",
                    code.as_deref().unwrap_or("-")
                )
            }
            StripeError::Unavailable(m) => write!(f, "Stripe could not be reached: {m}"),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct PaymentIntent {
    pub id: String,
    #[serde(default)]
    pub client_secret: Option<String>,
    pub status: String,
    pub amount: i64,
    pub currency: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Refund {
    pub id: String,
    pub amount: i64,
    pub status: String,
}

async fn post<T: serde::de::DeserializeOwned>(
    s: &StripeSettings,
    path: &str,
    idempotency_key: &str,
    form: &[(String, String)],
) -> Result<T, StripeError> {
    let url = format!("{}{path}", s.api_base.trim_end_matches('/'));
    let resp = http()
        .post(url)
        .bearer_auth(&s.secret_key)
        .header("Idempotency-Key", idempotency_key)
        .header("Stripe-Version", "2024-06-20")
        .form(form)
        .send()
        .await
        .map_err(|e| StripeError::Unavailable(e.to_string()))?;
    let status = resp.status().as_u16();
    let body: Value =
        resp.json().await.map_err(|e| StripeError::Unavailable(format!("HTTP {status}: {e}")))?;
    if (200..300).contains(&status) {
        return serde_json::from_value(body).map_err(|e| StripeError::Unavailable(e.to_string()));
    }
    let error = &body["error"];
    let message = error["message"].as_str().unwrap_or("no message").to_string();
    if status >= 500 || status == 429 {
        return Err(StripeError::Unavailable(format!("HTTP {status}: {message}")));
    }
    Err(StripeError::Refused { status, code: error["code"].as_str().map(String::from), message })
}

/// An amount in Sellvy's minor units as Stripe wants it. Stripe takes ISK (0 decimals in ISO
/// 4217, and in Sellvy) in hundredths, for backward compatibility; every other currency Sellvy
/// knows in its own minor unit.
pub fn amount_for_stripe(minor: i64, currency: &str) -> i64 {
    match currency.to_ascii_uppercase().as_str() {
        "ISK" => minor * 100,
        _ => minor,
    }
}

/// Why Stripe would refuse this amount, if it would: for three-decimal currencies (BHD, JOD,
/// KWD, OMR) Stripe takes only amounts whose last digit is 0.
pub fn refuses_amount(minor: i64, currency: &str) -> Option<String> {
    let code = currency.to_ascii_uppercase();
    (["BHD", "JOD", "KWD", "OMR"].contains(&code.as_str()) && minor % 10 != 0).then(|| {
        format!(
            "Stripe takes {code} amounts in multiples of 0.010 only ({}.{:03} is not)",
            minor / 1000,
            minor % 1000
        )
    })
}

#[derive(Debug, Clone, Deserialize)]
pub struct Customer {
    pub id: String,
}

/// The Stripe customer a subscription's card is saved on, made for its first order (the order
/// id is the idempotency key).
pub async fn create_customer(s: &StripeSettings, t: &Tenant, order: &Order) -> Result<Customer, StripeError> {
    let form: Vec<(String, String)> = vec![
        ("email".into(), order.customer_email.clone()),
        ("metadata[sellvy_store]".into(), t.store_id.to_string()),
        ("metadata[sellvy_mode]".into(), t.mode.as_str().into()),
        ("metadata[sellvy_order]".into(), order.id.to_string()),
    ];
    post(s, "/v1/customers", &format!("sellvy-cus-{}", order.id), &form).await
}

fn payment_form(t: &Tenant, order: &Order) -> Vec<(String, String)> {
    vec![
        ("amount".into(), amount_for_stripe(order.total_minor, &order.currency).to_string()),
        ("currency".into(), order.currency.to_lowercase()),
        ("description".into(), format!("{} · {}", order.order_number(), order.product_title)),
        ("receipt_email".into(), order.customer_email.clone()),
        ("metadata[sellvy_store]".into(), t.store_id.to_string()),
        ("metadata[sellvy_mode]".into(), t.mode.as_str().into()),
        ("metadata[sellvy_order]".into(), order.id.to_string()),
        ("metadata[order_number]".into(), order.order_number()),
    ]
}

/// Creates the PaymentIntent an order is paid with. Its metadata names the store, mode and
/// order, so the `payment_intent.*` callbacks find the order; the order id is the idempotency
/// key, so a retried checkout never creates a second payment. With a `customer` (a
/// subscription's), the card the buyer pays with is saved on it for the renewals
/// (`setup_future_usage: off_session`).
pub async fn create_payment_intent(
    s: &StripeSettings,
    t: &Tenant,
    order: &Order,
    customer: Option<&str>,
) -> Result<PaymentIntent, StripeError> {
    create_payment_intent_with_key(s, t, order, customer, "").await
}

/// [`create_payment_intent`] under an idempotency key of its own (`sellvy-pi-<order>-<suffix>`),
/// for a second try whose parameters differ from the first's (a customer made anew).
pub async fn create_payment_intent_with_key(
    s: &StripeSettings,
    t: &Tenant,
    order: &Order,
    customer: Option<&str>,
    suffix: &str,
) -> Result<PaymentIntent, StripeError> {
    let mut form = payment_form(t, order);
    form.push(("automatic_payment_methods[enabled]".into(), "true".into()));
    if let Some(customer) = customer {
        form.push(("customer".into(), customer.into()));
        form.push(("setup_future_usage".into(), "off_session".into()));
    }
    let key = match suffix {
        "" => format!("sellvy-pi-{}", order.id),
        _ => format!("sellvy-pi-{}-{suffix}", order.id),
    };
    post(s, "/v1/payment_intents", &key, &form).await
}

#[derive(Debug, Clone, Deserialize)]
pub struct SetupIntent {
    pub id: String,
    #[serde(default)]
    pub client_secret: Option<String>,
    pub status: String,
}

/// A free trial's first order charges nothing: the buyer's card is saved on `customer` for the
/// renewals by a SetupIntent (its metadata names the order, as a PaymentIntent's does; the
/// order id is the idempotency key).
pub async fn create_setup_intent(
    s: &StripeSettings,
    t: &Tenant,
    order: &Order,
    customer: &str,
) -> Result<SetupIntent, StripeError> {
    let form: Vec<(String, String)> = vec![
        ("customer".into(), customer.into()),
        ("usage".into(), "off_session".into()),
        ("metadata[sellvy_store]".into(), t.store_id.to_string()),
        ("metadata[sellvy_mode]".into(), t.mode.as_str().into()),
        ("metadata[sellvy_order]".into(), order.id.to_string()),
        ("metadata[order_number]".into(), order.order_number()),
    ];
    post(s, "/v1/setup_intents", &format!("sellvy-seti-{}", order.id), &form).await
}

/// Charges a renewal `order` to the card saved on `customer`, without the buyer
/// (`off_session`, confirmed at once). The order id is the idempotency key: however many
/// sweeps try, one charge. A declined card is [`StripeError::Refused`] (402).
pub async fn charge_saved_card(
    s: &StripeSettings,
    t: &Tenant,
    order: &Order,
    customer: &str,
    payment_method: &str,
) -> Result<PaymentIntent, StripeError> {
    let mut form = payment_form(t, order);
    form.extend([
        ("customer".into(), customer.into()),
        ("payment_method".into(), payment_method.into()),
        ("off_session".into(), "true".into()),
        ("confirm".into(), "true".into()),
    ]);
    post(s, "/v1/payment_intents", &format!("sellvy-offsession-{}", order.id), &form).await
}

/// Refunds `amount` (minor units) of a PaymentIntent. `idempotency_key` names this refund of
/// this order's state, so two racing requests for the same refund make one.
pub async fn refund(
    s: &StripeSettings,
    payment_intent: &str,
    amount: i64,
    idempotency_key: &str,
    metadata: &[(&str, &str)],
) -> Result<Refund, StripeError> {
    let mut form: Vec<(String, String)> =
        vec![("payment_intent".into(), payment_intent.into()), ("amount".into(), amount.to_string())];
    for (k, v) in metadata {
        form.push((format!("metadata[{k}]"), (*v).into()));
    }
    post(s, "/v1/refunds", idempotency_key, &form).await
}

/// Why a callback was not believed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureError {
    Missing,
    Malformed,
    TooOld,
    Mismatch,
}

impl std::fmt::Display for SignatureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SignatureError::Missing => "Stripe-Signature header is missing",
            SignatureError::Malformed => "Stripe-Signature header is malformed",
            SignatureError::TooOld => "Stripe-Signature timestamp is outside the 5-minute tolerance",
            SignatureError::Mismatch => "Stripe-Signature does not match the payload",
        })
    }
}

fn hmac_hex(secret: &str, parts: &[&[u8]]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p);
    }
    hex::encode(mac.finalize().into_bytes())
}

/// The `Stripe-Signature` Stripe would send for `payload` at `timestamp` (tests, fakes).
pub fn signature_header(payload: &[u8], secret: &str, timestamp: i64) -> String {
    let t = timestamp.to_string();
    format!("t={t},v1={}", hmac_hex(secret, &[t.as_bytes(), b".", payload]))
}

/// Checks a callback as Stripe documents it: `v1` = HMAC-SHA256 of `"{t}.{payload}"` with the
/// endpoint's secret, any of several `v1` may match (secret rolling), and `t` within
/// [`SIGNATURE_TOLERANCE_SECS`] of `now`. Only then is the payload parsed.
pub fn verify_callback(
    payload: &[u8],
    header: Option<&str>,
    secret: &str,
    now: i64,
) -> Result<Value, SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => timestamp = v.parse::<i64>().ok(),
            Some(("v1", v)) => signatures.push(v),
            _ => {}
        }
    }
    let t = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let expected = hmac_hex(secret, &[t.to_string().as_bytes(), b".", payload]);
    let matches =
        signatures.iter().any(|s| sellvy_models::signature::same(s.as_bytes(), expected.as_bytes()));
    if !matches {
        return Err(SignatureError::Mismatch);
    }
    if (now - t).abs() > SIGNATURE_TOLERANCE_SECS {
        return Err(SignatureError::TooOld);
    }
    serde_json::from_slice(payload).map_err(|_| SignatureError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks_verify_only_when_signed_recently_with_the_secret() {
        let body = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;
        let now = 1_700_000_000;
        let good = signature_header(body, "whsec_test", now - 10);
        assert!(verify_callback(body, Some(&good), "whsec_test", now).is_ok());
        // Several v1 (a rolled secret): one match is enough.
        let rolled = format!("{good},v1={}", "0".repeat(64));
        assert!(verify_callback(body, Some(&rolled), "whsec_test", now).is_ok());
        assert_eq!(verify_callback(body, Some(&good), "whsec_other", now), Err(SignatureError::Mismatch));
        let tampered = br#"{"id":"evt_1","type":"payment_intent.succeeded" }"#;
        assert_eq!(verify_callback(tampered, Some(&good), "whsec_test", now), Err(SignatureError::Mismatch));
        let old = signature_header(body, "whsec_test", now - 301);
        assert_eq!(verify_callback(body, Some(&old), "whsec_test", now), Err(SignatureError::TooOld));
        let edge = signature_header(body, "whsec_test", now - 300);
        assert!(verify_callback(body, Some(&edge), "whsec_test", now).is_ok());
        assert_eq!(verify_callback(body, None, "whsec_test", now), Err(SignatureError::Missing));
        assert_eq!(verify_callback(body, Some("v1=abc"), "whsec_test", now), Err(SignatureError::Malformed));
        assert_eq!(verify_callback(body, Some("t=1"), "whsec_test", now), Err(SignatureError::Malformed));
    }

    #[test]
    fn three_decimal_amounts_must_end_in_zero() {
        assert!(refuses_amount(1125, "KWD").unwrap().contains("1.125"));
        assert_eq!(refuses_amount(1120, "kwd"), None);
        assert_eq!(refuses_amount(1125, "USD"), None);
    }

    #[test]
    fn isk_goes_to_stripe_in_hundredths() {
        assert_eq!(amount_for_stripe(5000, "ISK"), 500_000);
        assert_eq!(amount_for_stripe(2999, "USD"), 2999);
        assert_eq!(amount_for_stripe(500, "JPY"), 500);
    }

    #[test]
    fn matches_stripes_documented_scheme() {
        // HMAC-SHA256("whsec_x", "1614556800.{}") computed independently (Python hmac).
        let h = signature_header(b"{}", "whsec_x", 1_614_556_800);
        assert_eq!(h, "t=1614556800,v1=d890aadab7576a925ee24c6dbab4dd8784109ce65557a51bec038c857e0547e1");
    }
}
