//! Orders, customers, checkout and refunds.

use crate::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    Pending,
    Processing,
    Completed,
    Cancelled,
    Refunded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PaymentStatus {
    Pending,
    Paid,
    Failed,
    Refunded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum GoodsStatus {
    Pending,
    /// Dynamic goods: the seller's `dynamic_url` is being called.
    Sending,
    Delivered,
    Failed,
}

/// A chargeback opened on a paid order (Stripe's `charge.dispute.created`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Dispute {
    /// The gateway's dispute id (`dp_…`).
    pub id: String,
    /// The gateway's reason (`fraudulent`, `product_not_received`, …).
    pub reason: String,
    /// The gateway's status (`needs_response`, `won`, `lost`, …).
    pub status: String,
    pub opened_at: Timestamp,
}

/// Name and address, when the product asks for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CustomerDetails {
    pub name: String,
    pub address: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OrderProduct {
    pub id: String,
    pub title: String,
}

/// An order, as its seller, its buyer and its webhook events see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OrderObject {
    pub id: String,
    /// `ORD-<n>`, unique per store and mode.
    pub order_number: String,
    pub status: crate::OrderStatus,
    pub payment_status: crate::PaymentStatus,
    pub customer_email: String,
    pub product: OrderProduct,
    pub quantity: u32,
    pub subtotal: Amount,
    pub discount: Amount,
    pub total: Amount,
    pub currency: String,
    /// The gateway (`stripe`, …).
    pub payment_method: String,
    /// The coupon code used.
    pub coupon: Option<String>,
    pub custom_fields: serde_json::Map<String, Value>,
    pub customer: Option<crate::CustomerDetails>,
    /// 0 (no risk) to 100.
    pub fraud_score: u8,
    /// Refunded so far.
    pub refunded: Amount,
    pub refund_reason: Option<String>,
    /// The buyer's customer record, once paid.
    pub customer_id: Option<String>,
    pub delivery: OrderDelivery,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// An unpaid order expires then, giving its stock back.
    pub pay_by: Timestamp,
    /// The variant bought, if the product has variants.
    pub variant: Option<OrderVariant>,
    /// The gateway's payment reference once paid (`pi_…` for Stripe, `sandbox` in test mode).
    pub payment_id: Option<String>,
    /// Why the last payment attempt failed, while the order can still be paid.
    pub payment_error: Option<String>,
    /// A chargeback opened on this order.
    pub dispute: Option<crate::Dispute>,
    /// The subscription this order started or renewed (`sub_…`).
    pub subscription_id: Option<String>,
}

/// An order's goods. Lists (`GET /orders`) leave the goods themselves out (`items` and
/// `content` are absent there, `item_count` says how many serials): `GET /orders/{id}`, the
/// storefront's order and the order events carry them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrderDelivery {
    pub status: crate::GoodsStatus,
    /// Serials handed out (absent in lists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<String>>,
    /// How many serials were handed out.
    pub item_count: u64,
    /// The seller's note (services).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Digital downloads: the expiring, download-capped link (a path under the API's base URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_url: Option<String>,
    /// Dynamic goods: what the seller's `dynamic_url` answered (absent in lists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Why the last delivery failed (dynamic goods); `POST /v1/orders/{id}/redeliver` tries again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Dynamic goods: the calls made to the seller's `dynamic_url` so far (absent for other
    /// goods).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
    /// Dynamic goods: when Sellvy calls the `dynamic_url` again by itself; absent once it no
    /// longer will (delivered, or every automatic retry failed: redeliver by hand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<Timestamp>,
}

/// The variant an order bought.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrderVariant {
    pub id: String,
    pub title: String,
}

envelopes!(OrderData, OrderList, OrderObject);

/// What the storefront client needs to pay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PaymentInstructions {
    pub gateway: String,
    /// Test mode: pay (or fail) with `POST /v1/storefront/orders/{id}/sandbox_payment`.
    pub sandbox: bool,
    /// Live Stripe payments: the PaymentIntent to confirm with Stripe.js
    /// (`stripe.confirmPayment({clientSecret})`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stripe: Option<StripePayment>,
}

/// A Stripe PaymentIntent the storefront confirms in the browser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StripePayment {
    /// `pi_…`; for a free trial, `seti_…`: a SetupIntent that saves the card without charging.
    pub payment_intent: String,
    /// `payment` (confirm with `stripe.confirmPayment`), or `setup` for a free trial's
    /// SetupIntent (`stripe.confirmSetup`).
    #[serde(default = "payment_mode")]
    #[schema(pattern = "^(payment|setup)$")]
    pub mode: String,
    /// Give it to Stripe.js only; it lets the buyer pay this one order.
    pub client_secret: String,
    /// The Stripe publishable key to initialise Stripe.js with, when the deployment sets one.
    pub publishable_key: Option<String>,
}

fn payment_mode() -> String {
    "payment".into()
}

/// What Sellvy did with a payment gateway's callback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GatewayCallback {
    /// The gateway's event type (`payment_intent.succeeded`, …).
    pub event: String,
    /// `paid`, `already recorded`, `ignored`, …
    pub outcome: String,
}

/// `{"data": GatewayCallback}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GatewayCallbackData {
    pub data: GatewayCallback,
}

/// A new order, its access token (shown only now) and how to pay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CheckoutObject {
    pub order: OrderObject,
    /// Send it as `X-Order-Token` (or `?token=`) to read the order.
    pub access_token: String,
    pub payment: PaymentInstructions,
}

/// `{"data": CheckoutObject}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CheckoutData {
    pub data: CheckoutObject,
}

/// `POST /storefront/checkout`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckoutInput {
    /// `prod_…`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(required = true, nullable = false)]
    pub product_id: Option<String>,
    /// `var_…`: required for a product sold in variants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(required = true, nullable = false, minimum = 1, maximum = 1000000)]
    pub quantity: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(required = true, nullable = false, min_length = 3, max_length = 254)]
    pub email: Option<String>,
    /// A gateway the product enables (today: stripe).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(required = true, nullable = false)]
    pub gateway: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 50)]
    pub coupon: Option<String>,
    /// `{field name: value}` for the product's custom fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_fields: Option<serde_json::Map<String, Value>>,
    /// `{name, address, country}` when the product requires customer details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<serde_json::Map<String, Value>>,
}

/// `POST /storefront/orders/{id}/sandbox_payment` (test mode).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SandboxPaymentInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(required = true, nullable = false)]
    pub outcome: Option<SandboxOutcome>,
}

/// What a sandbox payment does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SandboxOutcome {
    Succeeded,
    Failed,
}

/// `POST /orders/{id}/refund`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundInput {
    /// Omit for a full refund.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// A customer: someone who bought from the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CustomerObject {
    pub id: String,
    pub email: String,
    pub total_orders: u64,
    /// Paid totals less refunds (the store's currency).
    pub lifetime_spend: Amount,
    pub blacklisted: bool,
    pub blacklist_reason: Option<String>,
    pub created_at: Timestamp,
}

envelopes!(CustomerData, CustomerList, CustomerObject);

/// `POST /customers/{id}/blacklist`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BlacklistInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// Query of `GET /orders`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderListParams {
    #[param(minimum = 1)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
    /// pending, processing, completed, cancelled, refunded
    pub status: Option<crate::OrderStatus>,
    /// pending, paid, failed, refunded
    pub payment_status: Option<crate::PaymentStatus>,
    pub customer_email: Option<String>,
    pub product_id: Option<String>,
    /// Created at or after (a date, `2026-11-01`, or an RFC 3339 time).
    pub date_from: Option<String>,
    /// Created at or before (a date, meaning its whole day, or an RFC 3339 time).
    pub date_to: Option<String>,
}
