//! Read-modify-write with optimistic concurrency: read, compute, write with a condition on
//! what was read; when another writer got there first, read again.

use crate::error::ApiError;
use sellvy_models::ValidationError;
use sellvy_store::StoreError;

/// Tries before giving up on a write that keeps conflicting.
const ATTEMPTS: u32 = 12;

/// How one try ended when it did not commit.
pub enum Attempt {
    /// Another writer changed the data: try again.
    Conflict,
    /// A real answer (404, 422, …): stop and return it.
    Failed(ApiError),
}

impl From<ApiError> for Attempt {
    fn from(e: ApiError) -> Self {
        Attempt::Failed(e)
    }
}

impl From<ValidationError> for Attempt {
    fn from(e: ValidationError) -> Self {
        Attempt::Failed(e.into())
    }
}

impl From<StoreError> for Attempt {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => Attempt::Conflict,
            other => Attempt::Failed(other.into()),
        }
    }
}

/// What was read before a retry loop: its first try uses it, later tries (after a conflict)
/// read afresh, so the common case reads once.
pub struct FirstRead<T>(std::sync::Mutex<Option<T>>);

impl<T> FirstRead<T> {
    pub fn new(value: T) -> FirstRead<T> {
        FirstRead(std::sync::Mutex::new(Some(value)))
    }

    /// The value read before the loop, the first time only.
    pub fn take(&self) -> Option<T> {
        self.0.lock().map(|mut v| v.take()).unwrap_or(None)
    }
}

/// Runs `attempt` until it commits, with a short random wait between tries (growing with each
/// one) so writers that collided do not collide again in step.
pub async fn until_committed<T, F, Fut>(mut attempt: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Attempt>>,
{
    for n in 0..ATTEMPTS {
        match attempt().await {
            Ok(v) => return Ok(v),
            Err(Attempt::Failed(e)) => return Err(e),
            Err(Attempt::Conflict) => {
                let cap_ms = 5u64 << n.min(6);
                let jitter = u64::from(u16::from_le_bytes(sellvy_models::id::random_bytes::<2>())) % cap_ms;
                tokio::time::sleep(std::time::Duration::from_millis(jitter + 1)).await;
            }
        }
    }
    Err(ApiError::Internal(format!("write still conflicting after {ATTEMPTS} tries")))
}
