//! Pieces of the OpenAPI document every function shares: the error responses each operation
//! can answer.

use std::collections::BTreeMap;
use utoipa::IntoResponses;
use utoipa::openapi::{RefOr, Response};

/// Each set of responses below is described in full in the published document. A router built
/// only to serve ([`crate::routes::serving_only`]) keeps nothing of an operation but its
/// security, so there the set is empty, not built and dropped (building them was the largest
/// part of a function's router at cold start).
macro_rules! documented_only {
    ($($name:ident),+) => {$(
        #[doc = concat!("See [`documented::", stringify!($name), "`].")]
        pub struct $name;

        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                if crate::routes::documenting() { documented::$name::responses() } else { BTreeMap::new() }
            }
        }
    )+};
}

documented_only!(Errors, WriteErrors, GatewayError, NotFound);

pub mod documented {
    use sellvy_models::wire::ErrorBody;
    use utoipa::IntoResponses;

    /// What any authenticated operation can answer besides its success.
    #[derive(IntoResponses)]
    pub enum Errors {
        /// Missing, malformed, unknown or revoked API key.
        #[response(status = 401)]
        Unauthorized(ErrorBody),
        /// The key's permission does not cover this request.
        #[response(status = 403)]
        Forbidden(ErrorBody),
        /// A query parameter or the body failed validation; `errors` names every field.
        #[response(status = 422)]
        Invalid(ErrorBody),
        /// Over the plan's rate limit; `Retry-After` says how many seconds to wait.
        #[response(status = 429)]
        RateLimited(ErrorBody),
        /// Our fault; quote the `X-Request-Id`.
        #[response(status = 500)]
        Internal(ErrorBody),
    }

    /// What a POST, PATCH or PUT can answer besides [`Errors`].
    #[derive(IntoResponses)]
    pub enum WriteErrors {
        /// A request with the same `Idempotency-Key` is still running.
        #[response(status = 409)]
        IdempotencyKeyInUse(ErrorBody),
        /// The body is over 1 MiB.
        #[response(status = 413)]
        PayloadTooLarge(ErrorBody),
    }

    /// A payment gateway (Stripe) failed or did not answer: nothing was charged or refunded.
    #[derive(IntoResponses)]
    pub enum GatewayError {
        #[response(status = 502, description = "The payment gateway failed; nothing was charged or refunded")]
        Gateway(ErrorBody),
    }

    /// The object does not exist in this store and mode.
    #[derive(IntoResponses)]
    pub enum NotFound {
        #[response(status = 404, description = "No such object in this store and mode")]
        NotFound(ErrorBody),
    }
}
