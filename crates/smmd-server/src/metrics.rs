//! Prometheus metrics at `/metrics` (scheduler F12). The engine records counters and
//! histograms as runs happen (tick lag, duration, outcomes, skips by reason, reaped leases; see
//! `smmd_jobs::engine::metrics_names`) into the process-wide recorder installed by
//! [`handle`]. At scrape time this module adds gauges read from the database — the same on
//! every instance, since the database is shared: stuck leases, running and due runs, pause,
//! and per job its last success, next run and the health signal (no success within twice its
//! interval, `smmd_jobs::control::healthy`), and hourly billing's enabled, paused, lag (hours),
//! rentals by state and dues (hours, micro-units); the billing job counts hours by status and
//! the amount as it bills (`smmd_billing_hours_total`, `smmd_billing_amount_micros_total`);
//! `/api/v2` counts the requests it refuses over a key's limit
//! (`smmd_api_v2_rate_limited_total`, `crate::ratelimit`); the affiliate program's commissions
//! and payouts by status (`smmd_affiliate_commissions`, `smmd_affiliate_payouts`,
//! `smmd_affiliate_payouts_micros`) and its skipped runs by reason
//! (`smmd_affiliate_payout_runs_skipped{reason="missed"|"late"}`); and each provider's health
//! (calls by outcome, latency, circuit, canceled and stuck shares, runway: `provider_gauges`).

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

/// Histogram buckets (seconds) for lag and duration: 1 ms to 10 min.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    300.0, 600.0,
];

/// The process-wide recorder, installed on first use. `None` if another recorder was installed
/// first (then `/metrics` shows only the database gauges' absence: it answers 503).
pub fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .as_ref()
}

/// `GET /metrics`: Prometheus text format 0.0.4. With `metrics.token` set, scrapes need
/// `Authorization: Bearer <token>` (401 otherwise); 404 when `metrics.enabled = false`.
pub async fn scrape(State(st): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    if !st.config.metrics.enabled {
        return Err(AppError::new(ErrorCode::NotFound, "Metrics are disabled"));
    }
    if let Some(token) = &st.config.metrics.token {
        let sent = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        // Compared as SHA-256 digests, so the time taken says nothing about the token.
        let expected = crate::auth::token_hash(token);
        if sent.is_none_or(|s| crate::auth::token_hash(s) != expected) {
            return Err(AppError::new(
                ErrorCode::Unauthorized,
                "Send the metrics token as a Bearer token",
            ));
        }
    }
    let Some(handle) = handle() else {
        return Err(AppError::new(
            ErrorCode::MetricsUnavailable,
            "Another metrics recorder is installed in this process",
        ));
    };
    let now = st.store.db_now_ms().await?;
    let health = st.store.scheduler_health(now).await?;
    let paused = st.store.scheduler_paused().await?;
    metrics::gauge!("smmd_scheduler_stuck_leases").set(health.stuck_leases as f64);
    metrics::gauge!("smmd_scheduler_running_runs").set(health.running as f64);
    metrics::gauge!("smmd_scheduler_pending_due_runs").set(health.pending_due as f64);
    metrics::gauge!("smmd_scheduler_paused").set(f64::from(u8::from(paused)));
    for s in st.store.schedules().await? {
        let job = s.name.clone();
        let healthy = smmd_jobs::control::healthy(&s, paused, now);
        metrics::gauge!("smmd_job_enabled", "job" => job.clone())
            .set(f64::from(u8::from(s.enabled)));
        metrics::gauge!("smmd_job_healthy", "job" => job.clone()).set(f64::from(u8::from(healthy)));
        if let Some(at) = s.last_success_at {
            metrics::gauge!("smmd_job_last_success_timestamp_seconds", "job" => job.clone())
                .set(at as f64 / 1000.0);
        }
        if let Some(at) = s.next_run_at.filter(|_| s.enabled) {
            metrics::gauge!("smmd_job_next_run_timestamp_seconds", "job" => job)
                .set(at as f64 / 1000.0);
        }
    }
    let billing = st.store.billing_status().await?;
    metrics::gauge!("smmd_billing_enabled").set(f64::from(u8::from(billing.settings.enabled)));
    metrics::gauge!("smmd_billing_paused")
        .set(f64::from(u8::from(billing.settings.pause.is_some())));
    if let Some(lag) = smmd_domain::billing::lag_hours(billing.settings.watermark, now) {
        metrics::gauge!("smmd_billing_lag_hours").set(lag as f64);
    }
    for (state, n) in &billing.rentals_by_state {
        metrics::gauge!("smmd_billing_rentals", "state" => state.clone()).set(*n as f64);
    }
    metrics::gauge!("smmd_billing_hours_due").set(billing.hours_due as f64);
    metrics::gauge!("smmd_billing_due_micros").set(billing.due_total.micros() as f64);
    let aff = st.store.affiliate_figures().await?;
    for (status, n) in &aff.commissions {
        metrics::gauge!("smmd_affiliate_commissions", "status" => status.clone()).set(*n as f64);
    }
    for (status, n, total) in &aff.payouts {
        metrics::gauge!("smmd_affiliate_payouts", "status" => status.clone()).set(*n as f64);
        metrics::gauge!("smmd_affiliate_payouts_micros", "status" => status.clone())
            .set(total.micros() as f64);
    }
    for (reason, n) in &aff.skipped_runs {
        metrics::gauge!("smmd_affiliate_payout_runs_skipped", "reason" => reason.clone())
            .set(*n as f64);
    }
    provider_gauges(&st).await?;
    handle.run_upkeep();
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response())
}

/// Per provider (labels `provider` = its id, `name`): this process's calls over the last 15
/// minutes by outcome (`smmd_provider_calls`), their latency p50 / p90
/// (`smmd_provider_latency_ms{quantile}`), the circuit (`smmd_provider_circuit_open`), and over
/// the last 24 hours the orders sent, the canceled and stuck shares (per mille) and the
/// balance's runway (hours) (`smmd_app::providers::health`).
async fn provider_gauges(st: &AppState) -> Result<(), AppError> {
    let clients = st.fulfil.as_ref().map(|f| &f.clients);
    for h in smmd_app::providers::health(st.app(), clients).await? {
        let id = h.provider_id.0.to_string();
        let name = h.name.clone();
        let labels = [("provider", id.clone()), ("name", name.clone())];
        if let Some(c) = &h.calls {
            for (outcome, n) in &c.outcomes {
                metrics::gauge!("smmd_provider_calls", "provider" => id.clone(), "name" => name.clone(), "outcome" => *outcome)
                    .set(*n as f64);
            }
            for (q, v) in [("0.5", c.p50_ms), ("0.9", c.p90_ms)] {
                if let Some(v) = v {
                    metrics::gauge!("smmd_provider_latency_ms", "provider" => id.clone(), "name" => name.clone(), "quantile" => q)
                        .set(v as f64);
                }
            }
        }
        metrics::gauge!("smmd_provider_circuit_open", &labels)
            .set(f64::from(u8::from(h.circuit_open)));
        metrics::gauge!("smmd_provider_orders_24h", &labels).set(h.orders as f64);
        metrics::gauge!("smmd_provider_taken_over_24h", &labels).set(h.taken_over as f64);
        for r in smmd_domain::failover::Reason::ALL {
            metrics::gauge!("smmd_provider_failing", "provider" => id.clone(), "name" => name.clone(), "reason" => r.as_str())
                .set(f64::from(u8::from(h.route_state == r.as_str())));
        }
        if let Some(v) = h.cancel_permille {
            metrics::gauge!("smmd_provider_canceled_permille", &labels).set(v as f64);
        }
        if let Some(v) = h.stuck_permille {
            metrics::gauge!("smmd_provider_stuck_permille", &labels).set(v as f64);
        }
        if let Some(v) = h.runway_hours {
            metrics::gauge!("smmd_provider_runway_hours", &labels).set(v as f64);
        }
    }
    Ok(())
}
