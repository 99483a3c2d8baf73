//! When a schedule fires: [`Calendar`] turns an expression and an IANA time zone into the next
//! fire instant strictly after a given instant (epoch milliseconds, UTC).
//!
//! Expressions (scheduler.md F4):
//! - cron with 5 fields (minute precision) or 6 (leading seconds field), parsed by `croner`
//!   with day-of-month **AND** day-of-week (not the Vixie OR), plus `#` (nth weekday), `L`
//!   (last), `W` (nearest weekday) and the `@daily`-style nicknames;
//! - fixed-rate intervals `@every N{s|m|h|d}`, aligned to the Unix epoch so every instance
//!   computes the same ticks, optionally shifted by a phase shorter than the period:
//!   `@every 5s+3s` fires at epoch multiples of 5 s plus 3 s (hosted child panels get their
//!   intervals so, each its own phase, so hundreds of them do not all wake at once).
//!
//! Time zones and DST (F5), evaluated in the schedule's zone:
//! - a local time inside a spring-forward gap fires once, at the first instant after the gap;
//! - a fixed local time inside a fall-back repeated hour fires once, at its first (daylight)
//!   occurrence; a computation that starts later inside the repeated hour continues with the
//!   next day, and the engine's cursor (`next_run_at`, always advanced from the previous tick)
//!   plus its misfire policy make sure that day's tick is not lost;
//! - patterns on every minute/hour (`*/30 * * * *`) follow real elapsed time through the
//!   repeated hour.

use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds};
use croner::Cron;

/// Why an expression or zone is not usable. `Display` is shown to admins as is.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("invalid cron expression `{expr}`: {reason}")]
    InvalidCron { expr: String, reason: String },
    #[error("invalid interval `{0}`: use @every N followed by s, m, h or d, e.g. @every 30s, with an optional phase: @every 30s+10s")]
    InvalidInterval(String),
    #[error("unknown time zone `{0}`: use an IANA name such as UTC or Europe/London")]
    UnknownZone(String),
    #[error("`{0}` never fires")]
    NeverFires(String),
}

#[derive(Clone, Debug)]
enum Rule {
    Cron(Box<Cron>),
    /// Fixed rate: every `period_ms`, ticks at multiples of it since the epoch plus
    /// `phase_ms` (below the period).
    Every {
        period_ms: i64,
        phase_ms: i64,
    },
}

/// A parsed schedule expression in its time zone.
#[derive(Clone, Debug)]
pub struct Calendar {
    expr: String,
    zone: Tz,
    rule: Rule,
}

/// The longest interval accepted (`@every 366d`).
const MAX_PERIOD_MS: i64 = 366 * 86_400_000;

impl Calendar {
    /// Parses `expr` for zone `zone` (IANA name). A cron pattern that has no occurrence in the
    /// next 10 years (`0 0 30 2 *`) is refused.
    pub fn parse(expr: &str, zone: &str) -> Result<Calendar, CalendarError> {
        let zone_name = zone.trim();
        let tz = Tz::from_str(zone_name)
            .map_err(|_| CalendarError::UnknownZone(zone_name.to_string()))?;
        let expr = expr.split_whitespace().collect::<Vec<_>>().join(" ");
        let rule = if let Some(spec) = expr.strip_prefix("@every ") {
            let (period_ms, phase_ms) =
                parse_every(spec).ok_or_else(|| CalendarError::InvalidInterval(expr.clone()))?;
            Rule::Every {
                period_ms,
                phase_ms,
            }
        } else {
            let parser = CronParser::builder()
                .seconds(Seconds::Optional)
                .dom_and_dow(true)
                .build();
            let cron = parser
                .parse(&expr)
                .map_err(|e| CalendarError::InvalidCron {
                    expr: expr.clone(),
                    reason: e.to_string(),
                })?;
            Rule::Cron(Box::new(cron))
        };
        let cal = Calendar {
            expr: expr.clone(),
            zone: tz,
            rule,
        };
        // 2026-01-01 is an arbitrary fixed origin: "fires at least once within 10 years".
        let origin = 1_767_225_600_000;
        match cal.next_after(origin) {
            Some(t) if t - origin <= 10 * 366 * 86_400_000 => Ok(cal),
            _ => Err(CalendarError::NeverFires(expr)),
        }
    }

    /// The expression as normalised at parse time.
    pub fn expr(&self) -> &str {
        &self.expr
    }

    /// The IANA zone name.
    pub fn zone(&self) -> &str {
        self.zone.name()
    }

    /// The first fire instant strictly after `after_ms` (epoch ms, UTC), whole seconds.
    /// `None` only when nothing fires within the search horizon of `croner`.
    pub fn next_after(&self, after_ms: i64) -> Option<i64> {
        match &self.rule {
            Rule::Every {
                period_ms,
                phase_ms,
            } => {
                let next = (after_ms - phase_ms)
                    .div_euclid(*period_ms)
                    .checked_add(1)?
                    .checked_mul(*period_ms)?
                    .checked_add(*phase_ms)?;
                Some(next)
            }
            Rule::Cron(cron) => {
                // Whole seconds: an occurrence at the truncated second is not after `after_ms`.
                let secs = after_ms.div_euclid(1000);
                let start: DateTime<Tz> = Utc
                    .timestamp_opt(secs, 0)
                    .single()?
                    .with_timezone(&self.zone);
                let next = cron.find_next_occurrence(&start, false).ok()?;
                Some(next.timestamp() * 1000)
            }
        }
    }

    /// The next `n` fire instants after `after_ms` (the admin preview; same code as the engine).
    pub fn preview(&self, after_ms: i64, n: usize) -> Vec<i64> {
        let mut out = Vec::with_capacity(n);
        let mut t = after_ms;
        while out.len() < n {
            match self.next_after(t) {
                Some(next) => {
                    out.push(next);
                    t = next;
                }
                None => break,
            }
        }
        out
    }

    /// The nominal interval for "no success within 2× the interval" health checks: the fixed
    /// period, or the gap between the next two cron fires after `at_ms`.
    pub fn nominal_interval_ms(&self, at_ms: i64) -> Option<i64> {
        match &self.rule {
            Rule::Every { period_ms, .. } => Some(*period_ms),
            Rule::Cron(_) => {
                let a = self.next_after(at_ms)?;
                Some(self.next_after(a)? - a)
            }
        }
    }
}

/// `N` followed by `s`, `m`, `h` or `d` → milliseconds, 1 s to 366 days.
/// `N{s|m|h|d}`, optionally `+M{s|m|h|d}` (a phase shorter than the period): both in ms.
fn parse_every(spec: &str) -> Option<(i64, i64)> {
    match spec.split_once('+') {
        None => Some((parse_period(spec)?, 0)),
        Some((period, phase)) => {
            let period = parse_period(period)?;
            let phase = match phase.trim() {
                p if p.trim_end_matches(['s', 'm', 'h', 'd']).trim() == "0" => 0,
                p => parse_period(p)?,
            };
            (phase < period).then_some((period, phase))
        }
    }
}

/// The phase of a hosted child's `@every` schedules: whole seconds below the period, spread by
/// the child's id, so children's ticks of one schedule fall on different seconds. `expr`
/// other than a plain `@every` comes back as it is.
pub fn with_phase(expr: &str, seed: i64) -> String {
    let Some(spec) = expr.trim().strip_prefix("@every ") else {
        return expr.to_string();
    };
    let Some((period_ms, 0)) = parse_every(spec) else {
        return expr.to_string();
    };
    let slots = (period_ms / 1000).max(1);
    // A multiplicative hash: consecutive ids land far apart.
    let phase = (seed.unsigned_abs().wrapping_mul(2_654_435_761) % slots as u64) as i64;
    match phase {
        0 => expr.to_string(),
        p => format!("@every {}+{p}s", spec.trim()),
    }
}

fn parse_period(spec: &str) -> Option<i64> {
    let spec = spec.trim();
    let unit = spec.chars().last()?;
    let n: i64 = spec[..spec.len() - unit.len_utf8()].trim().parse().ok()?;
    let ms = match unit {
        's' => 1_000,
        'm' => 60_000,
        'h' => 3_600_000,
        'd' => 86_400_000,
        _ => return None,
    };
    let period = n.checked_mul(ms)?;
    (n > 0 && period <= MAX_PERIOD_MS).then_some(period)
}

#[cfg(test)]
mod tests {
    //! Calendars are checked against dates computed here independently of `croner`: with
    //! chrono's date arithmetic and chrono-tz's offset rules.

    use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Timelike, Weekday};
    use chrono_tz::Europe::London;
    use proptest::prelude::*;

    use super::*;

    fn ms(dt: DateTime<Utc>) -> i64 {
        dt.timestamp_millis()
    }

    fn utc(ms: i64) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(ms)
            .single()
            .expect("valid instant")
    }

    fn london(y: i32, m: u32, d: u32, h: u32, min: u32) -> i64 {
        let naive = NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(h, min, 0))
            .expect("date");
        London
            .from_local_datetime(&naive)
            .earliest()
            .expect("exists")
            .timestamp_millis()
    }

    /// All fires in `[from, to)`.
    fn fires(cal: &Calendar, from: i64, to: i64) -> Vec<i64> {
        let mut out = Vec::new();
        let mut t = from - 1;
        while let Some(n) = cal.next_after(t) {
            if n >= to {
                break;
            }
            out.push(n);
            t = n;
        }
        out
    }

    const Y2026: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
    const Y2036: i64 = 2_082_758_400_000; // 2036-01-01T00:00:00Z

    #[test]
    fn first_monday_of_the_month_for_ten_years() {
        let cal = Calendar::parse("0 9 * * MON#1", "Europe/London").expect("valid");
        let got = fires(&cal, Y2026, Y2036);
        let mut expected = Vec::new();
        for y in 2026..2036 {
            for m in 1..=12 {
                let first_monday = (1..=7)
                    .map(|d| NaiveDate::from_ymd_opt(y, m, d).expect("date"))
                    .find(|d| d.weekday() == Weekday::Mon)
                    .expect("a Monday in the first week");
                expected.push(london(y, m, first_monday.day(), 9, 0));
            }
        }
        assert_eq!(got.len(), 120);
        assert_eq!(got, expected);
    }

    #[test]
    fn first_monday_after_the_fifteenth_uses_and_semantics() {
        let cal = Calendar::parse("0 2 16-22 * MON", "Europe/London").expect("valid");
        let got = fires(&cal, Y2026, Y2036);
        let mut expected = Vec::new();
        for y in 2026..2036 {
            for m in 1..=12 {
                let day = (16..=22)
                    .map(|d| NaiveDate::from_ymd_opt(y, m, d).expect("date"))
                    .find(|d| d.weekday() == Weekday::Mon)
                    .expect("a Monday between the 16th and the 22nd");
                expected.push(london(y, m, day.day(), 2, 0));
            }
        }
        assert_eq!(
            got.len(),
            120,
            "once a month, not every Monday plus every day 16–22"
        );
        assert_eq!(got, expected);
        for t in got {
            let local = utc(t).with_timezone(&London);
            assert!(
                local.weekday() == Weekday::Mon && local.day() != 15,
                "{local}"
            );
        }
    }

    #[test]
    fn a_daily_job_fires_once_per_local_date_for_ten_years_dst_included() {
        let cal = Calendar::parse("0 2 * * *", "Europe/London").expect("valid");
        let got = fires(&cal, Y2026, Y2036);
        let days = (NaiveDate::from_ymd_opt(2036, 1, 1).expect("d")
            - NaiveDate::from_ymd_opt(2026, 1, 1).expect("d"))
        .num_days();
        assert_eq!(got.len() as i64, days, "one run per local date");
        let mut dates: Vec<NaiveDate> = got
            .iter()
            .map(|t| utc(*t).with_timezone(&London).date_naive())
            .collect();
        dates.dedup();
        assert_eq!(dates.len() as i64, days, "no date twice");
        for t in &got {
            let local = utc(*t).with_timezone(&London);
            // 02:00 local, or 03:00 on spring-forward days when 02:00 does not exist? London
            // jumps 01:00 → 02:00, so 02:00 always exists.
            assert_eq!((local.hour(), local.minute()), (2, 0), "{local}");
        }
    }

    #[test]
    fn a_time_in_the_spring_forward_gap_fires_once_right_after_it() {
        // 2026-03-29: London jumps from 01:00 GMT to 02:00 BST; 01:30 does not exist.
        let cal = Calendar::parse("30 1 * * *", "Europe/London").expect("valid");
        let day = fires(&cal, london(2026, 3, 29, 0, 0), london(2026, 3, 30, 0, 0));
        assert_eq!(day.len(), 1);
        assert_eq!(
            utc(day[0]).to_rfc3339(),
            "2026-03-29T01:00:00+00:00",
            "the first instant after the gap"
        );
    }

    #[test]
    fn a_time_in_the_repeated_hour_fires_once_whatever_instant_the_computation_starts_from() {
        // 2026-10-25: 01:00–02:00 happens twice (BST 00:00–01:00Z, then GMT 01:00–02:00Z).
        let cal = Calendar::parse("30 1 * * *", "Europe/London").expect("valid");
        let day_start = london(2026, 10, 25, 0, 0);
        let day_end = london(2026, 10, 26, 0, 0);
        assert_eq!(
            fires(&cal, day_start, day_end),
            vec![ms(Utc
                .with_ymd_and_hms(2026, 10, 25, 0, 30, 0)
                .single()
                .expect("t"))]
        );
        // The engine advances its cursor from the previous tick (the day before) or from the
        // moment the schedule was created; either way that local date yields exactly one tick.
        let previous_tick = london(2026, 10, 24, 1, 30);
        for minutes in (0..120).step_by(5) {
            let start = ms(Utc
                .with_ymd_and_hms(2026, 10, 25, 0, 0, 0)
                .single()
                .expect("t"))
                + minutes * 60_000;
            let from_cursor = cal.next_after(previous_tick).expect("next");
            let from_start = cal.next_after(start).expect("next");
            let on_day = [from_cursor, from_start]
                .into_iter()
                .filter(|t| {
                    utc(*t).with_timezone(&London).date_naive()
                        == NaiveDate::from_ymd_opt(2026, 10, 25).expect("d")
                })
                .collect::<std::collections::BTreeSet<_>>();
            assert!(on_day.len() <= 1, "start +{minutes} min: {on_day:?}");
            assert_eq!(utc(from_cursor).to_rfc3339(), "2026-10-25T00:30:00+00:00");
        }
    }

    #[test]
    fn every_thirty_minutes_follows_real_time_through_both_dst_changes() {
        let cal = Calendar::parse("*/30 * * * *", "Europe/London").expect("valid");
        for (from, to) in [
            (london(2026, 3, 28, 22, 0), london(2026, 3, 29, 6, 0)),
            (london(2026, 10, 24, 22, 0), london(2026, 10, 25, 6, 0)),
        ] {
            let got = fires(&cal, from, to);
            assert!(
                got.windows(2).all(|w| w[1] - w[0] == 1_800_000),
                "30 min of real time apart: {got:?}"
            );
        }
    }

    #[test]
    fn seconds_field_and_fixed_rate_intervals() {
        let every_second = Calendar::parse("* * * * * *", "UTC").expect("valid");
        assert_eq!(
            every_second.preview(Y2026 + 500, 3),
            vec![Y2026 + 1_000, Y2026 + 2_000, Y2026 + 3_000]
        );
        let at_15s = Calendar::parse("15 * * * * *", "UTC").expect("valid");
        assert_eq!(at_15s.next_after(Y2026), Some(Y2026 + 15_000));
        // A phase shifts every tick; it must stay below the period.
        let shifted = Calendar::parse("@every 5s+3s", "UTC").expect("valid");
        assert_eq!(
            shifted.preview(Y2026, 3),
            vec![Y2026 + 3_000, Y2026 + 8_000, Y2026 + 13_000]
        );
        assert_eq!(shifted.next_after(Y2026 + 3_000), Some(Y2026 + 8_000));
        assert_eq!(shifted.next_after(Y2026 - 1), Some(Y2026 + 3_000));
        for bad in ["@every 5s+5s", "@every 5s+7s", "@every 5s+", "@every 5s+x"] {
            assert!(Calendar::parse(bad, "UTC").is_err(), "{bad}");
        }
        // Children's phases: plain intervals only, below the period, spread over ids.
        let phases: std::collections::BTreeSet<String> =
            (1..=50).map(|id| with_phase("@every 5s", id)).collect();
        assert_eq!(phases.len(), 5, "{phases:?}");
        for p in &phases {
            let cal = Calendar::parse(p, "UTC").expect("a phased interval parses");
            assert_eq!(cal.nominal_interval_ms(Y2026), Some(5_000));
        }
        assert_eq!(with_phase("0 * * * *", 7), "0 * * * *");
        assert_eq!(with_phase("@every 5s+3s", 7), "@every 5s+3s");
        let every = Calendar::parse("@every 30s", "UTC").expect("valid");
        assert_eq!(
            every.preview(Y2026 + 1, 2),
            vec![Y2026 + 30_000, Y2026 + 60_000]
        );
        assert_eq!(
            every.next_after(Y2026),
            Some(Y2026 + 30_000),
            "strictly after"
        );
        assert_eq!(every.nominal_interval_ms(Y2026), Some(30_000));
        assert_eq!(
            Calendar::parse("0 * * * *", "UTC")
                .expect("valid")
                .nominal_interval_ms(Y2026),
            Some(3_600_000)
        );
        assert_eq!(
            Calendar::parse("@daily", "UTC")
                .expect("valid")
                .next_after(Y2026),
            Some(Y2026 + 86_400_000)
        );
    }

    #[test]
    fn invalid_expressions_and_zones_are_refused_clearly() {
        for (expr, zone) in [
            ("61 * * * *", "UTC"),
            ("* * *", "UTC"),
            ("0 2 * * FUNDAY", "UTC"),
            ("0 0 30 2 *", "UTC"),
            ("@every 0s", "UTC"),
            ("@every 5x", "UTC"),
            ("@every 400d", "UTC"),
            ("0 2 * * *", "Mars/Olympus"),
            ("", "UTC"),
        ] {
            let err = Calendar::parse(expr, zone).expect_err(expr);
            assert!(!err.to_string().is_empty());
        }
        assert!(matches!(
            Calendar::parse("0 0 30 2 *", "UTC"),
            Err(CalendarError::NeverFires(_))
        ));
        assert!(matches!(
            Calendar::parse("0 2 * * *", "Mars/Olympus"),
            Err(CalendarError::UnknownZone(_))
        ));
    }

    proptest! {
        #[test]
        fn next_is_strictly_later_and_fixed_times_fire_at_most_once_per_local_date(
            start in Y2026..Y2036,
            pick in 0usize..6,
            zone in prop::sample::select(vec!["UTC", "Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]),
        ) {
            let exprs = ["30 1 * * *", "0 2 * * *", "0 9 * * MON#1", "0 2 16-22 * MON", "*/30 * * * *", "45 3 L * *"];
            let cal = Calendar::parse(exprs[pick], zone).expect("valid");
            let tz: Tz = zone.parse().expect("zone");
            let run = cal.preview(start, 40);
            prop_assert_eq!(run.len(), 40);
            prop_assert!(run[0] > start);
            prop_assert!(run.windows(2).all(|w| w[1] > w[0]));
            if pick < 4 || pick == 5 {
                let dates: Vec<NaiveDateTime> = run.iter().map(|t| utc(*t).with_timezone(&tz).naive_local()).collect();
                let mut days: Vec<NaiveDate> = dates.iter().map(NaiveDateTime::date).collect();
                let n = days.len();
                days.dedup();
                prop_assert_eq!(days.len(), n, "a fixed-time job fires at most once per local date");
            }
            // Consecutive fires of the daily jobs are about a day apart (23–25 h across DST).
            if pick < 2 {
                prop_assert!(run.windows(2).all(|w| (w[1] - w[0]) >= Duration::hours(23).num_milliseconds() && (w[1] - w[0]) <= Duration::hours(25).num_milliseconds()));
            }
        }
    }
}
