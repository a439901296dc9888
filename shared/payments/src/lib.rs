//! Payment gateway adapters: they speak each processor's own HTTP API and nothing else.
//! What a payment means for an order is the application layer's (`sellvy-app`).

pub mod stripe;
