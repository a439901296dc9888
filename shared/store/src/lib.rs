//! The only crate that speaks DynamoDB.
//!
//! One table, single-table design (see `docs/data-model.md` for the access-pattern table; every
//! key is built in `layout.rs`, whose tests pin it):
//!
//! | item            | PK                         | SK                     | GSI1PK                  | GSI1SK   |
//! |-----------------|----------------------------|------------------------|-------------------------|----------|
//! | store           | `STORE#<store_id>`         | `STORE`                |                         |          |
//! | API key         | `KEY#<sha256 of secret>`   | `KEY`                  | `<tenant>#APIKEY`       | key id   |
//! | product         | `<tenant>`                 | `PRODUCT#<prod id>`    | `<tenant>#PRODUCT`      | prod id  |
//! | product counter | `<tenant>`                 | `PRODUCT#~COUNT`       |                         |          |
//! | event (outbox)  | `<tenant>`                 | `EVENT#<evt id>`       |                         |          |
//!
//! `<tenant>` is `T#<store_id>#<live|test>`: every tenant item's key starts with it.

mod accounts;
mod api_keys;
pub mod aws;
mod categories;
mod collection;
mod cost;
mod coupons;
mod customers;
mod db;
mod events;
mod idempotency;
mod layout;
mod orders;
mod pools;
mod products;
mod ratelimit;
mod reviews;
mod stats;
mod subscriptions;
mod webhooks;

pub use api_keys::KeyCache;
pub use collection::Page;
pub use cost::{Cost, add_cost, measure};
pub use customers::{CustomerUpdate, KnownBuyer};
pub use db::{Db, StoreError};
pub use events::collect_events;
pub use idempotency::{Claim, StoredResponse};
pub use orders::{Claimed, Completion, DownloadGrant, OrderSummary};
pub use pools::{Parked, PoolEntry};
pub use ratelimit::{BucketHints, Taken};
pub use reviews::ReviewSummary;
pub use subscriptions::{SubscriptionSummary, SubscriptionWrite};
pub use webhooks::DeliverySummary;
