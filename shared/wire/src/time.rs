//! RFC 3339 UTC timestamps, everywhere.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A UTC instant with millisecond precision, shown as RFC 3339 (`2026-03-20T15:30:00.123Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub fn now() -> Self {
        Self((OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64)
    }
    pub fn from_millis(ms: i64) -> Self {
        Self(ms)
    }
    pub fn millis(self) -> i64 {
        self.0
    }
    pub fn seconds(self) -> i64 {
        self.0.div_euclid(1000)
    }
    pub fn plus_seconds(self, s: i64) -> Self {
        Self(self.0 + s * 1000)
    }
    /// A bound of a date filter: an RFC 3339 time, or a calendar date (`2026-11-01`), which
    /// means the start of that day (UTC) for a lower bound and its end for an upper bound.
    pub fn parse_bound(s: &str, upper: bool) -> Option<Self> {
        if let Some(t) = Self::parse(s) {
            return Some(t);
        }
        let day = Self::parse(&format!("{}T00:00:00Z", s.trim()))?;
        Some(if upper { Self(day.0 + 24 * 3600 * 1000 - 1) } else { day })
    }

    pub fn parse(s: &str) -> Option<Self> {
        let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
        Some(Self((t.unix_timestamp_nanos() / 1_000_000) as i64))
    }
    pub fn to_rfc3339(self) -> String {
        let t = OffsetDateTime::from_unix_timestamp_nanos(self.0 as i128 * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let (h, m, s) = (t.hour(), t.minute(), t.second());
        format!(
            "{:04}-{:02}-{:02}T{h:02}:{m:02}:{s:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.millisecond()
        )
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse(&s).ok_or_else(|| serde::de::Error::custom("not an RFC 3339 timestamp"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_rfc3339_in_utc() {
        let t = Timestamp::parse("2026-03-20T16:30:00.250+01:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-03-20T15:30:00.250Z");
        assert_eq!(Timestamp::parse(&t.to_rfc3339()), Some(t));
        assert_eq!(Timestamp::parse("yesterday"), None);
    }
}
