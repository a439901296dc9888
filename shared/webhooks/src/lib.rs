//! Calls Sellvy makes to sellers' own servers: webhook deliveries (fan-out from the outbox, the
//! queue and its retry ladder, the dispatcher) and dynamic delivery.
//! Every such call goes through [`guard`] (the SSRF guard of DESIGN.md: https, public
//! addresses only, the address checked is the one connected to) and is signed like a webhook.

pub mod dispatch;
pub mod guard;
pub mod metrics;
pub mod outbound;
pub mod queue;

pub use dispatch::{DispatchError, Forwarded, Handled, Webhooks};
pub use guard::{Destination, GuardError, Reach};
pub use outbound::{Failure, Outbound, PostOutcome, SignedPost};
pub use queue::{AttemptMessage, Queue};
