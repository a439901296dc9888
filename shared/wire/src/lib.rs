//! Sellvy REST API v1 on the wire: the contract's vocabulary (modes, permissions, product
//! and order states, event types, timestamps), every object requests and responses carry with
//! its OpenAPI schema, and the signature scheme of calls to sellers' servers. The server builds
//! its responses from these types, the Rust SDK reads them back (depending on this crate
//! alone), and the published OpenAPI document is generated from them, so the three cannot
//! disagree.
//!
//! Requests are *parsed* by the domain's field-by-field rules (`sellvy-models`, for precise
//! 422s); the request types here describe those bodies for the document and let the SDK send
//! them.

#[macro_use]
mod macros {
    /// Defines `{data: T}` and `{data: [T], meta}` envelopes for a wire type.
    macro_rules! envelopes {
        ($one:ident, $many:ident, $t:ty) => {
            #[doc = concat!("`{\"data\": ", stringify!($t), "}`")]
            #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
            pub struct $one {
                pub data: $t,
            }

            #[doc = concat!("A page of ", stringify!($t), ", with `meta`")]
            #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
            pub struct $many {
                pub data: Vec<$t>,
                pub meta: PageMeta,
            }
        };
    }
}

/// What every module of wire types uses.
mod prelude {
    pub(crate) use crate::*;
    pub(crate) use serde::{Deserialize, Deserializer, Serialize, Serializer};
    pub(crate) use serde_json::Value;
    pub(crate) use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type};
    pub(crate) use utoipa::openapi::{KnownFormat, RefOr};
    pub(crate) use utoipa::{IntoParams, PartialSchema, ToSchema};
}

pub mod signature;
pub mod time;

mod api_keys;
mod categories;
mod common;
mod coupons;
mod events;
mod orders;
mod products;
mod reviews;
mod stats;
mod store;
mod storefront;
mod subscriptions;
mod webhooks;

pub use api_keys::*;
pub use categories::*;
pub use common::*;
pub use coupons::*;
pub use events::*;
pub use orders::*;
pub use products::*;
pub use reviews::*;
pub use stats::*;
pub use store::*;
pub use storefront::*;
pub use subscriptions::*;
pub use time::Timestamp;
pub use webhooks::*;
