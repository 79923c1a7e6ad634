//! Calendar work for the generator, done by `chrono`: the two timestamp
//! formats Twitter writes, and the months that topic seasons follow.

use std::fmt::{self, Display, Formatter};

use chrono::{DateTime, Datelike, Month, Months, NaiveDate, NaiveTime, Timelike, Utc};

use super::WIB_OFFSET_MS;

/// 2026-01-05T00:00:00Z, a Monday: where traffic starts by default.
pub(super) const DEFAULT_START_MS: i64 = 1_767_571_200_000;

fn utc(ms: i64) -> DateTime<Utc> {
    // Event times are within chrono's range (±262,000 years) by far.
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// `2022-11-02T03:15:42.000Z`: API v2 always reports whole seconds.
pub(super) fn v2_time(ms: i64) -> impl Display {
    Stamp {
        t: utc(ms),
        v1: false,
    }
}

/// `Wed Nov 02 03:20:05 +0000 2022`, as API v1.1 writes `created_at`.
pub(super) fn v1_time(ms: i64) -> impl Display {
    Stamp {
        t: utc(ms),
        v1: true,
    }
}

/// An instant in one of Twitter's two formats. chrono does the calendar;
/// the digits are written directly rather than through a format string,
/// which chrono would parse on every call.
struct Stamp {
    t: DateTime<Utc>,
    v1: bool,
}

impl Display for Stamp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let t = &self.t;
        let (hour, min, sec) = (t.hour(), t.minute(), t.second());
        if self.v1 {
            let month = Month::try_from(t.month() as u8).map_or("", |m| &m.name()[..3]);
            let (dow, day, year) = (t.weekday(), t.day(), t.year());
            write!(
                f,
                "{dow} {month} {day:02} {hour:02}:{min:02}:{sec:02} +0000 {year}"
            )
        } else {
            let (year, month, day) = (t.year(), t.month(), t.day());
            write!(
                f,
                "{year}-{month:02}-{day:02}T{hour:02}:{min:02}:{sec:02}.000Z"
            )
        }
    }
}

/// `2022-11-02T03:15:42.000Z`.
pub(super) fn format_v2_time(ms: i64) -> String {
    v2_time(ms).to_string()
}

/// The month (0 = January) of `t_ms` in WIB, and when it starts and ends
/// (UTC ms): the span over which one topic mix holds.
pub(super) fn wib_month(t_ms: i64) -> (usize, i64, i64) {
    let local = utc(t_ms + WIB_OFFSET_MS).date_naive();
    let first = NaiveDate::from_ymd_opt(local.year(), local.month(), 1).unwrap_or(local);
    let next = first + Months::new(1);
    let start =
        |d: NaiveDate| d.and_time(NaiveTime::MIN).and_utc().timestamp_millis() - WIB_OFFSET_MS;
    (local.month0() as usize, start(first), start(next))
}
