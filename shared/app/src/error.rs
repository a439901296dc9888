//! The domain's one error type. It says what went wrong in the seller's or buyer's terms; the
//! HTTP layer (`sellvy-api`) maps it to the contract's error object and status, in one place.

use sellvy_models::ValidationError;
use sellvy_models::event::EventDataError;
use sellvy_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No such object in the caller's store and mode (the message names it).
    #[error("{0}")]
    NotFound(String),
    /// The input breaks a rule; every field at fault is named.
    #[error("{0}")]
    Invalid(ValidationError),
    /// The caller did not prove who it is (a gateway callback whose signature does not verify).
    #[error("{0}")]
    Unauthenticated(String),
    /// The store's own rules refuse this (a blacklisted buyer, a blocked country, the risk
    /// score, a sandbox payment in live mode, …).
    #[error("{0}")]
    Refused(String),
    /// A payment gateway failed or did not answer; nothing was charged (or refunded).
    #[error("{0}")]
    Gateway(String),
    /// Ours to fix: logged with its details, never shown to the caller.
    #[error("{0}")]
    Internal(String),
}

impl AppError {
    /// `"<what> not found"`.
    pub fn not_found(what: &str) -> AppError {
        AppError::NotFound(format!("{what} not found"))
    }

    /// A 422 naming one field.
    pub fn invalid(field: &str, message: impl Into<String>) -> AppError {
        AppError::Invalid(ValidationError::one(field, message))
    }
}

impl From<ValidationError> for AppError {
    fn from(e: ValidationError) -> Self {
        AppError::Invalid(e)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Rejected { field, message } => AppError::invalid(&field, message),
            StoreError::Refused => AppError::Refused("This request is refused by the store's rules".into()),
            // Flows retry conflicts; one that is still there is ours to fix.
            StoreError::Conflict | StoreError::Backend(_) | StoreError::Unwritable(_) => {
                AppError::Internal(e.to_string())
            }
        }
    }
}

impl From<EventDataError> for AppError {
    fn from(e: EventDataError) -> Self {
        AppError::Internal(e.to_string())
    }
}
