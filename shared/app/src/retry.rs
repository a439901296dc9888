//! Read-modify-write with optimistic concurrency: read, compute, write with a condition on
//! what was read; when another writer got there first, read again.

use crate::error::AppError;
use sellvy_models::ValidationError;
use sellvy_models::event::EventDataError;
use sellvy_store::StoreError;

/// Tries before giving up on a write that keeps conflicting.
const ATTEMPTS: u32 = 12;

/// Why one try of a read-modify-write did not commit.
#[derive(Debug)]
pub enum Retry {
    /// Another writer changed the data: read again and try again.
    Conflict,
    /// A real answer (not found, invalid, refused, …): stop and return it.
    Stop(AppError),
}

impl From<AppError> for Retry {
    fn from(e: AppError) -> Self {
        Retry::Stop(e)
    }
}

impl From<ValidationError> for Retry {
    fn from(e: ValidationError) -> Self {
        Retry::Stop(e.into())
    }
}

impl From<EventDataError> for Retry {
    fn from(e: EventDataError) -> Self {
        Retry::Stop(e.into())
    }
}

impl From<StoreError> for Retry {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => Retry::Conflict,
            other => Retry::Stop(other.into()),
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
pub async fn until_committed<T, F, Fut>(mut attempt: F) -> Result<T, AppError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Retry>>,
{
    for n in 0..ATTEMPTS {
        match attempt().await {
            Ok(v) => return Ok(v),
            Err(Retry::Stop(e)) => return Err(e),
            Err(Retry::Conflict) => {
                let cap_ms = 5u64 << n.min(6);
                let jitter = u64::from(u16::from_le_bytes(sellvy_models::id::random_bytes::<2>())) % cap_ms;
                tokio::time::sleep(std::time::Duration::from_millis(jitter + 1)).await;
            }
        }
    }
    Err(AppError::Internal(format!("write still conflicting after {ATTEMPTS} tries")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn a_conflict_is_tried_again_and_a_real_answer_stops_at_once() {
        let tries = AtomicU32::new(0);
        let out = until_committed(|| async {
            match tries.fetch_add(1, Ordering::SeqCst) {
                0 | 1 => Err(Retry::Conflict),
                n => Ok(n),
            }
        })
        .await
        .unwrap();
        assert_eq!(out, 2);

        let tries = AtomicU32::new(0);
        let out: Result<(), _> = until_committed(|| async {
            tries.fetch_add(1, Ordering::SeqCst);
            Err(AppError::not_found("Order").into())
        })
        .await;
        assert!(matches!(out, Err(AppError::NotFound(m)) if m == "Order not found"));
        assert_eq!(tries.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_write_that_keeps_conflicting_gives_up_loudly() {
        let out: Result<(), _> = until_committed(|| async { Err(Retry::Conflict) }).await;
        assert!(matches!(out, Err(AppError::Internal(m)) if m.contains("conflicting")));
    }

    #[test]
    fn the_first_read_is_used_once() {
        let first = FirstRead::new(7);
        assert_eq!(first.take(), Some(7));
        assert_eq!(first.take(), None);
    }
}
