//! One error type at the edge, mapped once to the seed's error object:
//! `{"error": {"code", "message", "status"}}` (validation errors add `field` and `errors`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sellvy_app::AppError;
use sellvy_models::ValidationError;
use sellvy_models::wire::{ErrorBody, ErrorObject, FieldIssue};
use sellvy_store::StoreError;

#[derive(Debug)]
pub enum ApiError {
    Unauthorized(String),
    Forbidden(String),
    NotFound(String),
    MethodNotAllowed,
    PayloadTooLarge,
    Validation(ValidationError),
    RateLimited {
        retry_after: u64,
    },
    /// A request with the same Idempotency-Key is still being processed.
    IdempotencyKeyInUse,
    /// The request with this Idempotency-Key was done (answering `status`), but its answer was
    /// too large to keep for replay.
    IdempotentAnswerNotKept {
        status: u16,
    },
    /// A payment gateway did not answer or failed; nothing was charged (or refunded).
    Gateway(String),
    /// Logged with its details; the client sees only a generic message and the request id.
    Internal(String),
}

impl ApiError {
    pub fn not_found(what: &str) -> ApiError {
        ApiError::NotFound(format!("{what} not found"))
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::Validation(ValidationError::one(field, message))
    }

    fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation_error"),
            ApiError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::IdempotencyKeyInUse | ApiError::IdempotentAnswerNotKept { .. } => {
                (StatusCode::CONFLICT, "idempotency_key_in_use")
            }
            ApiError::Gateway(_) => (StatusCode::BAD_GATEWAY, "gateway_error"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
        }
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        ApiError::Validation(e)
    }
}

/// The one mapping from what went wrong in the application to what the contract answers.
impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound(m) => ApiError::NotFound(m),
            AppError::Invalid(v) => ApiError::Validation(v),
            AppError::Unauthenticated(m) => ApiError::Unauthorized(m),
            AppError::Refused(m) => ApiError::Forbidden(m),
            AppError::Gateway(m) => ApiError::Gateway(m),
            AppError::Internal(m) => ApiError::Internal(m),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        AppError::from(e).into()
    }
}

/// What one 422 lists at most: more than any honest body needs, and an answer far below
/// Lambda's 6 MB whatever was sent (a 1 MiB body can hold 90,000 unknown fields).
const MAX_LISTED: usize = 100;
/// Field names longer than this are shortened in the answer (a body may send a 1 MB name).
const MAX_FIELD_CHARS: usize = 200;

/// The field errors a 422 shows: the first [`MAX_LISTED`], names shortened.
fn listed(v: &ValidationError) -> impl Iterator<Item = FieldIssue> + '_ {
    v.errors.iter().take(MAX_LISTED).map(|e| {
        let field = match e.field.char_indices().nth(MAX_FIELD_CHARS) {
            Some((cut, _)) => format!("{}…", &e.field[..cut]),
            None => e.field.clone(),
        };
        FieldIssue { field, message: e.message.clone() }
    })
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.parts();
        let message = match &self {
            ApiError::Unauthorized(m) | ApiError::Forbidden(m) | ApiError::NotFound(m) => m.clone(),
            ApiError::Gateway(m) => {
                tracing::warn!(detail = %m, "payment gateway error");
                m.clone()
            }
            ApiError::MethodNotAllowed => "This method is not allowed on this route".into(),
            ApiError::PayloadTooLarge => "The request body is larger than 1 MiB".into(),
            ApiError::Validation(v) => {
                let listed: Vec<String> = listed(v).map(|e| format!("{}: {}", e.field, e.message)).collect();
                match v.errors.len() - listed.len() {
                    0 => listed.join("; "),
                    more => format!("{}; and {more} more", listed.join("; ")),
                }
            }
            ApiError::RateLimited { retry_after } => {
                format!("Too many requests: retry in {retry_after} seconds")
            }
            ApiError::IdempotencyKeyInUse => {
                "A request with this Idempotency-Key is still being processed; retry shortly".into()
            }
            ApiError::IdempotentAnswerNotKept { status } => format!(
                "The request with this Idempotency-Key was done (it answered {status}), but its answer is too large to replay: read the object instead"
            ),
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                "Something went wrong on our side; contact support with the request id".into()
            }
        };
        let (field, errors) = match &self {
            ApiError::Validation(v) => {
                let errors: Vec<FieldIssue> = listed(v).collect();
                (errors.first().map(|e| e.field.clone()), Some(errors))
            }
            _ => (None, None),
        };
        let body = ErrorBody {
            error: ErrorObject { code: code.into(), message, status: status.as_u16(), field, errors },
        };
        let mut resp = (status, axum::Json(body)).into_response();
        if let ApiError::RateLimited { retry_after } = self {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
        resp
    }
}
