//! Sellvy's domain: plain types and the rules that make them valid.
//!
//! Nothing here knows about AWS or HTTP. Raw input (a JSON object) is parsed into types that
//! cannot hold bad values; each parse error names the field it is about, so the HTTP layer can
//! turn it into the seed's 422 `validation_error` without re-checking anything.

pub mod account;
pub mod apikey;
pub mod category;
pub mod coupon;
pub mod customer;
pub mod error;
pub mod event;
pub mod hold;
pub mod id;
pub mod money;
pub mod order;
pub mod page;
pub mod pool;
pub mod product;
pub mod ratelimit;
pub mod request;
pub mod review;
pub mod stats;
pub mod subscription;
pub mod totp;
pub use sellvy_wire::signature;
pub mod store;
pub use sellvy_wire::time;
pub mod webhook;
pub use sellvy_wire as wire;
#[cfg(test)]
mod wire_tests;

pub use apikey::{ApiKey, KeySecret, Mode, Permission, Tenant};
pub use category::Category;
pub use coupon::Coupon;
pub use error::{FieldError, ValidationError};
pub use event::{Event, EventType};
pub use money::{Currency, Money};
pub use page::{PageRequest, SortOrder};
pub use pool::{PoolWrite, SerialsAppend};
pub use product::{Product, ProductListQuery, ProductSort, ProductType};
pub use ratelimit::{Decision, RateLimit};
