//! The payout calendar (`docs/affiliates.md`, Payout runs): the two run kinds, their schedules
//! on the scheduler, and the dates they fall on, computed from the civil calendar alone (the
//! scheduler fires them from the cron expressions; these functions name a run and tell an
//! affiliate the next payout date).

use crate::billing::charge::{civil_from_days, days_from_civil};
use crate::clock::DAY_MS;

/// A payout run's kind: whom it pays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RunKind {
    /// First Monday of each month: every eligible affiliate.
    All,
    /// First Monday after the 15th (day 16 to 22): returning affiliates only.
    Returning,
}

impl RunKind {
    pub const ALL: [RunKind; 2] = [RunKind::All, RunKind::Returning];

    /// The stored name: `all` or `returning`.
    pub const fn as_str(self) -> &'static str {
        match self {
            RunKind::All => "all",
            RunKind::Returning => "returning",
        }
    }

    pub fn parse(text: &str) -> Option<RunKind> {
        RunKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// The job that runs it on the scheduler.
    pub const fn job(self) -> &'static str {
        match self {
            RunKind::All => "affiliates.payouts_all",
            RunKind::Returning => "affiliates.payouts_returning",
        }
    }

    /// Its cron expression, UTC, day of month AND day of week (scheduler.md F4).
    pub const fn cron(self) -> &'static str {
        match self {
            RunKind::All => "0 2 * * MON#1",
            RunKind::Returning => "0 2 16-22 * MON",
        }
    }

    /// The day of this kind's run in `year`-`month` (1..=12), as (day of month).
    pub fn day_in(self, year: i32, month: u32) -> u32 {
        let from = match self {
            RunKind::All => 1,
            RunKind::Returning => 16,
        };
        let first = days_from_civil(year, month, from);
        // 1970-01-01 was a Thursday: Monday is 0 in (days + 3) mod 7.
        let to_monday = (7 - (first + 3).rem_euclid(7)) % 7;
        from + to_monday as u32
    }
}

/// A calendar date (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    /// The UTC date holding `at_ms`.
    pub fn of(at_ms: i64) -> Date {
        let (year, month, day) = civil_from_days(at_ms.div_euclid(DAY_MS));
        Date { year, month, day }
    }

    /// Its first instant, epoch ms.
    pub fn start_ms(self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * DAY_MS
    }

    /// `YYYY-MM-DD`, strictly (a real date).
    pub fn parse(text: &str) -> Option<Date> {
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |s: &str| {
            s.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| s.parse::<u32>().ok())
                .flatten()
        };
        let (y, m, d) = (num(&text[..4])?, num(&text[5..7])?, num(&text[8..])?);
        let date = Date {
            year: i32::try_from(y).ok()?,
            month: m,
            day: d,
        };
        ((1..=12).contains(&m) && Date::of(date.start_ms()) == date).then_some(date)
    }
}

impl std::fmt::Display for Date {
    /// `2026-12-07`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// The hour of day (UTC) both runs are scheduled at.
pub const RUN_HOUR: i64 = 2;

/// The scheduled instant of `kind`'s run in `year`-`month`, epoch ms.
pub fn run_at(kind: RunKind, year: i32, month: u32) -> i64 {
    let day = kind.day_in(year, month);
    days_from_civil(year, month, day) * DAY_MS + RUN_HOUR * 3_600_000
}

/// The next run of either kind at or after `now_ms`, with its kind: what the affiliate page
/// shows as the next payout date. A first-time affiliate is paid only by [`RunKind::All`]
/// (`returning = false`).
pub fn next_run(now_ms: i64, returning: bool) -> (RunKind, i64) {
    let today = Date::of(now_ms);
    let (mut year, mut month) = (today.year, today.month);
    loop {
        let mut here: Vec<(RunKind, i64)> = RunKind::ALL
            .into_iter()
            .filter(|k| returning || *k == RunKind::All)
            .map(|k| (k, run_at(k, year, month)))
            .filter(|(_, at)| *at >= now_ms)
            .collect();
        here.sort_by_key(|(_, at)| *at);
        if let Some(first) = here.first() {
            return *first;
        }
        (year, month) = if month == 12 {
            (year + 1, 1)
        } else {
            (year, month + 1)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Monday by Zeller's congruence, independent of the day count used above.
    fn is_monday(y: i32, m: u32, d: u32) -> bool {
        let (y, m) = if m < 3 { (y - 1, m + 12) } else { (y, m) };
        let (k, j) = (y % 100, y / 100);
        let h = (d as i32 + (13 * (m as i32 + 1)) / 5 + k + k / 4 + j / 4 + 5 * j) % 7;
        h == 2 // 0 = Saturday, 2 = Monday
    }

    #[test]
    fn each_kind_falls_on_its_monday_every_month_for_a_century() {
        for year in 2000..2100 {
            for month in 1..=12 {
                let all = RunKind::All.day_in(year, month);
                let ret = RunKind::Returning.day_in(year, month);
                assert!((1..=7).contains(&all) && is_monday(year, month, all));
                assert!((16..=22).contains(&ret) && is_monday(year, month, ret));
                // "After the 15th": a Monday the 15th does not count.
                assert_ne!(ret, 15);
                for d in 1..all {
                    assert!(!is_monday(year, month, d));
                }
                for d in 16..ret {
                    assert!(!is_monday(year, month, d));
                }
            }
        }
        // June 2026: Monday the 15th; the returning run is the 22nd.
        assert_eq!(RunKind::Returning.day_in(2026, 6), 22);
        assert_eq!(RunKind::All.day_in(2026, 6), 1);
    }

    #[test]
    fn the_next_payout_is_the_nearest_run_the_affiliate_can_get() {
        let at = |y, m, d, h: i64| {
            Date {
                year: y,
                month: m,
                day: d,
            }
            .start_ms()
                + h * 3_600_000
        };
        // 2026-12-07 is December's first Monday; the 21st its returning run.
        let before = at(2026, 12, 2, 0);
        assert_eq!(next_run(before, true), (RunKind::All, at(2026, 12, 7, 2)));
        let after_first = at(2026, 12, 7, 3);
        assert_eq!(
            next_run(after_first, true),
            (RunKind::Returning, at(2026, 12, 21, 2))
        );
        // A first-time affiliate waits for January's first Monday (the 4th).
        assert_eq!(
            next_run(after_first, false),
            (RunKind::All, at(2027, 1, 4, 2))
        );
        // The instant of a run is still that run.
        assert_eq!(next_run(at(2026, 12, 7, 2), false).1, at(2026, 12, 7, 2));
    }

    #[test]
    fn dates_parse_strictly_and_round_trip() {
        let d = Date::parse("2026-12-07").expect("date");
        assert_eq!(
            (d, d.to_string()),
            (
                Date {
                    year: 2026,
                    month: 12,
                    day: 7
                },
                "2026-12-07".into()
            )
        );
        assert_eq!(Date::of(d.start_ms() + DAY_MS - 1), d);
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-1-01",
            "2026-01-1x",
            "20261207",
            "+026-01-01",
            "",
        ] {
            assert_eq!(Date::parse(bad), None, "{bad}");
        }
        assert_eq!(RunKind::parse("returning"), Some(RunKind::Returning));
        assert_eq!(RunKind::parse("Returning"), None);
    }
}
