//! Taking payment and delivering goods, shared by the storefront (sandbox payments, Stripe's
//! callbacks) and the seller's orders API (redelivery, refunds): what happens when an order is
//! paid, when it ends unpaid, and how dynamic goods are fetched from the seller's server.

pub mod settle;
pub mod stripe;

pub use settle::{deliver, fail, no_longer_payable, pay, release};
