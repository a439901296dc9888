//! Rate limits: the generic cell-rate algorithm (GCRA), a token bucket kept as one number, the
//! "theoretical arrival time" (`tat`) of the next request.
//!
//! A limit of `per_minute` requests with `burst` at once emits one request every
//! `T = 60 s / per_minute`, and tolerates arriving up to `tau = T × (burst − 1)` early. A
//! request at `now` is allowed when `tat ≤ now + tau`; it then moves `tat` to
//! `max(tat, now) + T`. So `burst` requests pass at once, then one per `T`.

pub use sellvy_wire::RateLimit;

const MICROS_PER_MINUTE: i64 = 60_000_000;

/// The cell-rate algorithm on a [`RateLimit`] (see the module's doc).
pub trait Gcra {
    /// Microseconds between two requests at the sustained rate (`T`).
    fn interval(self) -> i64;
    /// How early a request may come (`tau`).
    fn tolerance(self) -> i64;
    /// The decision for a request at `now` that was allowed and moved the bucket to `tat`.
    fn allowed(self, tat: i64, now: i64) -> Decision;
    /// The decision for a request at `now` refused because the bucket is at `tat`.
    fn refused(self, tat: i64, now: i64) -> Decision;
    /// Whether a bucket at `tat` lets a request at `now` through.
    fn admits(self, tat: i64, now: i64) -> bool;
}

impl Gcra for RateLimit {
    /// Microseconds between two requests at the sustained rate (`T`).
    fn interval(self) -> i64 {
        MICROS_PER_MINUTE / self.per_minute as i64
    }

    /// How early a request may come (`tau`).
    fn tolerance(self) -> i64 {
        self.interval() * (self.burst as i64 - 1)
    }

    /// The decision for a request at `now` that was allowed and moved the bucket to `tat`.
    fn allowed(self, tat: i64, now: i64) -> Decision {
        let t = self.interval();
        let room = now + self.tolerance() + t - tat;
        Decision {
            allowed: true,
            limit: self.per_minute,
            remaining: (room / t).clamp(0, self.burst as i64) as u32,
            reset_secs: ceil_secs(tat - now),
            retry_after_secs: 0,
        }
    }

    /// The decision for a request at `now` refused because the bucket is at `tat`.
    fn refused(self, tat: i64, now: i64) -> Decision {
        Decision {
            allowed: false,
            limit: self.per_minute,
            remaining: 0,
            reset_secs: ceil_secs(tat - now),
            // The next request is allowed once now' ≥ tat − tau; rounded up, so waiting this
            // long is always enough.
            retry_after_secs: ceil_secs(tat - self.tolerance() - now).max(1),
        }
    }

    /// Whether a bucket at `tat` lets a request at `now` through.
    fn admits(self, tat: i64, now: i64) -> bool {
        tat <= now + self.tolerance()
    }
}

fn ceil_secs(micros: i64) -> u64 {
    (micros.max(0) as u64).div_ceil(1_000_000)
}

/// What the limiter decided, with what the `X-RateLimit-*` and `Retry-After` headers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// Requests per minute.
    pub limit: u32,
    /// Requests that could be made right now.
    pub remaining: u32,
    /// Seconds until the bucket is full again.
    pub reset_secs: u64,
    /// Seconds to wait before retrying (refused requests).
    pub retry_after_secs: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs requests at the given instants through an in-memory bucket.
    fn run(limit: RateLimit, instants: &[i64]) -> Vec<Decision> {
        let mut tat = i64::MIN;
        instants
            .iter()
            .map(|&now| {
                if tat == i64::MIN || limit.admits(tat, now) {
                    tat = tat.max(now) + limit.interval();
                    limit.allowed(tat, now)
                } else {
                    limit.refused(tat, now)
                }
            })
            .collect()
    }

    #[test]
    fn exactly_burst_requests_pass_at_once() {
        for limit in
            [RateLimit::FREE, RateLimit::PRO, RateLimit::BUSINESS, RateLimit::custom(120, 7).unwrap()]
        {
            let d = run(limit, &vec![0; limit.burst as usize + 20]);
            assert_eq!(d.iter().filter(|d| d.allowed).count(), limit.burst as usize, "{limit:?}");
            assert!(d[..limit.burst as usize].iter().all(|d| d.allowed));
            assert_eq!(d[limit.burst as usize - 1].remaining, 0);
            assert_eq!(d[0].remaining, limit.burst - 1);
        }
    }

    #[test]
    fn retry_after_is_always_enough() {
        let limit = RateLimit::FREE;
        let mut instants = vec![0; 11];
        let d = run(limit, &instants);
        let wait = d[10].retry_after_secs as i64;
        assert_eq!(wait, 1);
        instants.push(wait * 1_000_000);
        assert!(run(limit, &instants)[11].allowed);
        // Just before that, it is still refused.
        instants.pop();
        instants.push(wait * 1_000_000 - 1);
        assert!(!run(limit, &instants)[11].allowed);
    }

    #[test]
    fn the_sustained_rate_is_per_minute() {
        let limit = RateLimit::PRO;
        // One request every 100 ms for a minute: 600 sent, burst + 300 pass.
        let instants: Vec<i64> = (0..600).map(|i| i * 100_000).collect();
        let passed = run(limit, &instants).iter().filter(|d| d.allowed).count();
        assert!((349..=351).contains(&passed), "{passed}");
    }

    #[test]
    fn custom_limits_are_checked() {
        assert!(RateLimit::custom(0, 1).is_none());
        assert!(RateLimit::custom(10, 11).is_none());
        assert!(RateLimit::custom(5000, 500).is_some());
    }
}
