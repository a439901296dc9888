//! Calls Sellvy makes to sellers' own servers: dynamic delivery today, webhook deliveries next.
//! Every such call goes through [`guard`] (the SSRF guard of DESIGN.md: https, public
//! addresses only, the address checked is the one connected to) and is signed like a webhook.

pub mod guard;
pub mod outbound;

pub use guard::{Destination, GuardError, Reach};
pub use outbound::{Attempt, Failure, Outbound, SignedPost};
