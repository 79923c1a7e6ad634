//! Instants on kemala's interfaces: written as RFC 3339 in UTC with whole
//! seconds (`2026-01-05T06:00:00Z`), read as a day (`2026-01-05`, UTC
//! midnight) or an RFC 3339 time.
//!
//! One small module below everything that shows or takes a time (HTTP, the
//! alert wire format, the trackers' summaries, the query language), so that
//! none of them imports another just for a date format.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

/// `ms` (since the Unix epoch) as `2026-01-05T06:00:00Z`; empty when out of
/// chrono's range.
pub fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// The ms of a day (`2026-01-31`, UTC midnight) or of an RFC 3339 time, and
/// whether it was a whole day.
pub fn parse(v: &str) -> Option<(i64, bool)> {
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Some((t.timestamp_millis(), false));
    }
    let d = NaiveDate::parse_from_str(v, "%Y-%m-%d").ok()?;
    Some((d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis(), true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_seconds_in_utc_and_reads_days_or_times() {
        assert_eq!(rfc3339(1_767_571_200_999), "2026-01-05T00:00:00Z");
        assert_eq!(rfc3339(i64::MAX), "");
        assert_eq!(parse("2026-01-05"), Some((1_767_571_200_000, true)));
        assert_eq!(
            parse("2026-01-05T07:00:00+07:00"),
            Some((1_767_571_200_000, false))
        );
        assert_eq!(parse("kemarin"), None);
    }
}
