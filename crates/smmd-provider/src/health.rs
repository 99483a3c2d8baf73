//! How a provider has been answering (issue 20, provider health): every call a
//! [`ProviderClient`](crate::ProviderClient) makes is recorded with its action, its outcome
//! kind and its latency in a rolling window kept in memory per client (per process: each
//! instance sees its own calls). [`CallWindow::snapshot`] gives the calls, the successes, the
//! failures by kind and the latency p50 / p90 over the window, for the admin Providers page and
//! Prometheus.
//!
//! Outcome kinds (stable names, also the Prometheus label): `ok`; `rejected_<kind>` for a
//! provider's refusal ([`RejectKind`]: `rejected_funds`, `rejected_service`, …); `auth`,
//! `transient`, `ambiguous`, `blocked`, `config`, `empty`, `malformed`, `too_large`.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

use crate::client::ProviderError;
use crate::decode::RejectKind;

/// How long a call stays in the window.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Most calls kept (the oldest are dropped first).
pub const MAX_CALLS: usize = 10_000;

/// The outcome kind of a call: `ok` or the failure's kind.
pub fn outcome_kind(result: Result<(), &ProviderError>) -> &'static str {
    match result {
        Ok(()) => "ok",
        Err(ProviderError::Rejected { kind, .. }) => match kind {
            RejectKind::Auth => "rejected_auth",
            RejectKind::InsufficientFunds => "rejected_funds",
            RejectKind::Link => "rejected_link",
            RejectKind::Service => "rejected_service",
            RejectKind::Quantity => "rejected_quantity",
            RejectKind::ActiveOrder => "rejected_active_order",
            RejectKind::NotFound => "rejected_not_found",
            RejectKind::Other => "rejected_other",
        },
        Err(ProviderError::Auth(_)) => "auth",
        Err(ProviderError::Transient(_)) => "transient",
        Err(ProviderError::Ambiguous(_)) => "ambiguous",
        Err(ProviderError::Blocked(_)) => "blocked",
        Err(ProviderError::Config(_)) => "config",
        Err(ProviderError::Empty) => "empty",
        Err(ProviderError::Malformed(_)) => "malformed",
        Err(ProviderError::TooLarge { .. }) => "too_large",
    }
}

#[derive(Clone, Copy, Debug)]
struct Call {
    at: Instant,
    action: &'static str,
    outcome: &'static str,
    /// `None`: refused before it left (an open circuit).
    latency_ms: Option<u64>,
}

/// One provider's recent calls.
#[derive(Debug, Default)]
pub struct CallWindow {
    calls: Mutex<VecDeque<Call>>,
}

/// The window's figures at one instant.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HealthSnapshot {
    /// Calls in the window.
    pub calls: u64,
    /// Calls answered as asked.
    pub ok: u64,
    /// Calls by outcome kind, `ok` included.
    pub outcomes: BTreeMap<&'static str, u64>,
    /// Calls by action (`add`, `status`, `services`, …).
    pub actions: BTreeMap<&'static str, u64>,
    /// Latency of the calls that reached the provider (answered, refused or failed on the
    /// way back), milliseconds; `None` with no such call. Nearest-rank percentiles.
    pub p50_ms: Option<u64>,
    pub p90_ms: Option<u64>,
}

impl HealthSnapshot {
    /// Failed calls (anything but `ok` and a provider's refusal of one request), per mille of
    /// all calls; `None` with no call.
    pub fn error_permille(&self) -> Option<u64> {
        (self.calls > 0).then(|| self.failed_calls() * 1000 / self.calls)
    }

    /// Failed calls (anything but `ok` and a provider's refusal of one request).
    pub fn failed_calls(&self) -> u64 {
        self.outcomes
            .iter()
            .filter(|(k, _)| **k != "ok" && !k.starts_with("rejected_"))
            .map(|(_, n)| n)
            .sum()
    }
}

/// The nearest-rank percentile `p` (0–100) of sorted `values`.
fn percentile(sorted: &[u64], p: u64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (sorted.len() as u64 * p).div_ceil(100).max(1);
    sorted.get(rank as usize - 1).copied()
}

/// Map a free-form action name onto the stable set (anything else counts as `other`).
fn action_name(action: &str) -> &'static str {
    match action {
        "add" => "add",
        "status" => "status",
        "services" => "services",
        "balance" => "balance",
        "refill" => "refill",
        "refill_status" => "refill_status",
        "cancel" => "cancel",
        _ => "other",
    }
}

impl CallWindow {
    /// Records one call that ended at `now`; `latency` is `None` for a call refused before it
    /// left (an open circuit).
    pub fn record(
        &self,
        now: Instant,
        action: &str,
        outcome: &'static str,
        latency: Option<Duration>,
    ) {
        let mut calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        Self::expire(&mut calls, now);
        if calls.len() >= MAX_CALLS {
            calls.pop_front();
        }
        calls.push_back(Call {
            at: now,
            action: action_name(action),
            outcome,
            latency_ms: latency.map(|l| u64::try_from(l.as_millis()).unwrap_or(u64::MAX)),
        });
    }

    fn expire(calls: &mut VecDeque<Call>, now: Instant) {
        while calls
            .front()
            .is_some_and(|c| now.saturating_duration_since(c.at) > WINDOW)
        {
            calls.pop_front();
        }
    }

    /// The figures over the calls of the last [`WINDOW`] before `now`.
    pub fn snapshot(&self, now: Instant) -> HealthSnapshot {
        let mut calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        Self::expire(&mut calls, now);
        let mut s = HealthSnapshot::default();
        let mut latencies = Vec::with_capacity(calls.len());
        for c in calls.iter() {
            s.calls += 1;
            *s.outcomes.entry(c.outcome).or_default() += 1;
            *s.actions.entry(c.action).or_default() += 1;
            if c.outcome == "ok" {
                s.ok += 1;
            }
            latencies.extend(c.latency_ms);
        }
        latencies.sort_unstable();
        s.p50_ms = percentile(&latencies, 50);
        s.p90_ms = percentile(&latencies, 90);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<u64> = (1..=10).collect();
        assert_eq!(percentile(&v, 50), Some(5));
        assert_eq!(percentile(&v, 90), Some(9));
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!(percentile(&[], 50), None);
    }

    #[test]
    fn the_window_counts_outcomes_and_forgets_old_calls() {
        let w = CallWindow::default();
        let t0 = Instant::now();
        for i in 0..8u64 {
            w.record(
                t0,
                "status",
                "ok",
                Some(Duration::from_millis(10 * (i + 1))),
            );
        }
        let refused = ProviderError::Rejected {
            kind: RejectKind::InsufficientFunds,
            message: "Not enough funds on balance".into(),
        };
        w.record(
            t0,
            "add",
            outcome_kind(Err(&refused)),
            Some(Duration::from_millis(90)),
        );
        let down = ProviderError::Transient("HTTP 502".into());
        w.record(
            t0,
            "add",
            outcome_kind(Err(&down)),
            Some(Duration::from_millis(100)),
        );
        // An open circuit's refusal counts as a call, not as a latency.
        w.record(t0, "status", outcome_kind(Err(&down)), None);
        let s = w.snapshot(t0);
        assert_eq!((s.calls, s.ok), (11, 8));
        assert_eq!(s.outcomes["rejected_funds"], 1);
        assert_eq!(s.outcomes["transient"], 2);
        assert_eq!((s.actions["status"], s.actions["add"]), (9, 2));
        assert_eq!((s.p50_ms, s.p90_ms), (Some(50), Some(90)));
        // A refusal is the provider working; a 502 and an open circuit are not.
        assert_eq!(s.error_permille(), Some(181));
        // Fifteen minutes later they are gone.
        let later = t0 + WINDOW + Duration::from_secs(1);
        assert_eq!(w.snapshot(later), HealthSnapshot::default());
    }

    #[test]
    fn the_window_keeps_at_most_its_cap() {
        let w = CallWindow::default();
        let t0 = Instant::now();
        for _ in 0..(MAX_CALLS + 5) {
            w.record(t0, "status", "ok", Some(Duration::from_millis(1)));
        }
        assert_eq!(w.snapshot(t0).calls, MAX_CALLS as u64);
    }
}
