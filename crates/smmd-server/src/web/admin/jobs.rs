//! Admin pages of the scheduler: every job with its expression, zone, next run, last run and
//! health (`/admin/jobs`), and one job (`/admin/jobs/{name}`) with its next fire times, run
//! history, &t("adm-run-now"), and the edit form (expression, zone, enabled, policies) — all through
//! the admin jobs API, so an edit is validated, versioned and audited the same way.

use smmd_jobs::control::{self, JobView};
use smmd_store::RunRecord;

use super::*;

fn state_badge(j: &JobView) -> Markup {
    html! {
        @if j.paused { span.status.s-needs_review { (t("adm-paused")) } }
        @else if !j.schedule.enabled { span.status.s-canceled { (t("adm-disabled")) } }
        @else if !j.healthy { span.status.s-canceled { (t("adm-unhealthy")) } }
        @else { span.status.s-completed { (t("adm-healthy")) } }
    }
}

fn run_cell(st: &AppState, r: Option<&RunRecord>) -> Markup {
    html! {
        @match r {
            None => span.muted { (t("adm-never")) },
            Some(r) => {
                (status_badge(r.state.as_str())) " " span.hint { (when(st, r.scheduled_for)) }
                @if let Some(e) = &r.error { br; span.hint.err { (e) } }
            }
        }
    }
}

/// `/admin/jobs`: every schedule, with pause/resume of the whole scheduler.
pub(super) async fn jobs_page(State(st): State<AppState>, AdminPage(u): AdminPage) -> Response {
    let jobs = match control::list(st.store.as_ref(), st.clock.now_ms()).await {
        Ok(j) => j,
        Err(e) => return page_error(e),
    };
    let paused = jobs.first().is_some_and(|j| j.paused);
    let content = html! {
        div.card {
            div.card-head {
                h1 { (t("nav-jobs")) }
                @if paused {
                    (api_form("POST", "/api/admin/jobs/resume", &t("adm-scheduler-resumed"), html! { button.small type="submit" { (t("adm-resume-all-jobs")) } }))
                } @else {
                    (api_form("POST", "/api/admin/jobs/pause", &t("adm-scheduler-paused"), html! { button.small.secondary type="submit" { (t("adm-pause-all-jobs")) } }))
                }
            }
            @if paused { div.flash.err { (t("adm-the-scheduler-is-paused-no")) } }
            table.admin {
                thead { tr { th { (t("adm-job")) } th { (t("adm-schedule")) } th { (t("adm-next-run")) } th { (t("adm-last-run")) } th { (t("state")) } } }
                tbody { @for j in &jobs {
                    tr #(format!("job-{}", j.schedule.name)) {
                        td data-label=(t("adm-job")) { a href=(format!("/admin/jobs/{}", j.schedule.name)) { b { (j.schedule.name) } } }
                        td data-label=(t("adm-schedule")) { code { (j.schedule.expr) } br; span.hint { (j.schedule.zone) } }
                        td data-label=(t("adm-next-run")) { (j.preview.first().map(|t| when(&st, *t)).unwrap_or_else(|| "—".into())) }
                        td data-label=(t("adm-last-run")) { (run_cell(&st, j.last_run.as_ref())) }
                        td data-label=(t("state")) { (state_badge(j)) }
                    }
                } }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&st, &u, &t("nav-jobs"), "admin-jobs", content),
    )
}

/// `/admin/jobs/{name}`: the job's next 10 fire times, its last 50 runs, run now, and the edit
/// form (`PATCH /api/admin/jobs/{name}`).
pub(super) async fn job_page(
    State(st): State<AppState>,
    AdminPage(u): AdminPage,
    Path(name): Path<String>,
) -> Response {
    let j = match control::show(st.store.as_ref(), &name, st.clock.now_ms(), 10).await {
        Ok(j) => j,
        Err(control::ControlError::UnknownJob(_)) => {
            return html_response(
                StatusCode::NOT_FOUND,
                layout(
                    &st,
                    &u,
                    &t("not-found-title"),
                    "admin-jobs",
                    html! { div.card { h1 { (t("adm-no-such-job")) } p { a href="/admin/jobs" { (t("adm-all-jobs")) } } } },
                ),
            )
        }
        Err(e) => return page_error(e),
    };
    let runs = match st.store.schedule_runs(j.schedule.id, None, 50).await {
        Ok(r) => r,
        Err(e) => return page_error(e),
    };
    let s = &j.schedule;
    let path = format!("/api/admin/jobs/{}", s.name);
    let content = html! {
        div.card {
            div.card-head { h1 { (s.name) } (state_badge(&j)) }
            div.service-info {
                div { b { (t("adm-schedule")) } code { (s.expr) } }
                div { b { (t("adm-zone")) } (s.zone) }
                div { b { (t("adm-misfire")) } (s.misfire) }
                div { b { (t("adm-overlap")) } (s.overlap) }
                div { b { (t("attempts")) } (s.max_attempts) }
                div { b { (t("adm-timeout")) } (s.timeout_ms / 1000) " " (t("adm-s")) }
                div { b { (t("adm-last-success")) } (s.last_success_at.map(|t| when(&st, t)).unwrap_or_else(|| "—".into())) }
                div { b { (t("adm-version")) } (s.version) }
            }
            (api_form("POST", &format!("{path}/trigger"), &t("adm-run-queued"), html! {
                input type="hidden" name="request_key" value=(format!("page:{}", auth::random_hex(12)));
                button #run-now type="submit" { (t("adm-run-now-2")) }
            }))
        }
        div.grid2 {
            div.card {
                h2 { (t("adm-edit")) }
                (api_form("PATCH", &path, &t("adm-schedule-saved"), html! {
                    label for="job-expression" { (t("adm-expression")) span.hint { " " (t("adm-cron-with-optional-seconds")) code { "0 */5 * * * *" } ", " code { (t("adm-mon-1")) } ", " code { (t("adm-l")) } (t("adm-or")) " " code { (t("adm-every-30s")) } } }
                    input #job-expression type="text" name="expression" value=(s.expr) required;
                    label for="job-zone" { (t("adm-time-zone")) span.hint { " " (t("adm-iana-e-g-europe-london")) } }
                    input #job-zone type="text" name="zone" value=(s.zone) required;
                    div.row {
                        label { (t("adm-misfire")) select name="misfire" {
                            @for m in ["skip", "fire_once", "fire_all"] { option value=(m) selected[s.misfire == m] { (m) } }
                        } }
                        label { (t("adm-overlap")) select name="overlap" {
                            @for m in ["skip", "buffer_one"] { option value=(m) selected[s.overlap == m] { (m) } }
                        } }
                    }
                    div.row {
                        label { (t("attempts")) input type="number" name="max_attempts" data-type="int" min="1" max="100" value=(s.max_attempts); }
                        label { (t("adm-timeout-ms-2")) input type="number" name="timeout_ms" data-type="int" min="1000" max="86400000" value=(s.timeout_ms); }
                    }
                    label.check { input type="checkbox" name="enabled" checked[s.enabled]; " " (t("adm-enabled")) }
                    button #save-job type="submit" { (t("save")) }
                }))
            }
            div.card {
                h2 { (t("adm-next-runs")) }
                @if j.preview.is_empty() { p.muted { (t("adm-none-the-job-is-disabled")) } }
                ol #next-runs { @for t in &j.preview { li { (when(&st, *t)) } } }
            }
        }
        div.card #history {
            h2 { (t("adm-history")) }
            @if runs.is_empty() { p.muted { (t("adm-no-runs-yet")) } }
            @else {
                table.admin {
                    thead { tr { th { (t("adm-run")) } th { (t("adm-scheduled-for")) } th { (t("state")) } th { (t("adm-attempt")) } th { (t("adm-took")) } th { (t("adm-counters-or-error")) } } }
                    tbody { @for r in &runs {
                        tr {
                            td data-label=(t("adm-run")) { "#" (r.id) br; span.hint { (r.kind) } }
                            td data-label=(t("adm-scheduled-for")) { (when(&st, r.scheduled_for)) }
                            td data-label=(t("state")) { (status_badge(r.state.as_str())) @if let Some(why) = &r.reason { br; span.hint { (why) } } }
                            td data-label=(t("adm-attempt")) { (r.attempt) }
                            td data-label=(t("adm-took")) { @if let (Some(a), Some(b)) = (r.started_at, r.finished_at) { (b - a) " " (t("adm-ms")) } @else { "—" } }
                            td data-label=(t("adm-counters-or-error")) {
                                @if let Some(e) = &r.error { span.err { (e) } }
                                @else if let Some(c) = &r.counters { (counters(c)) }
                            }
                        }
                    } }
                }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&st, &u, &s.name, "admin-jobs", content),
    )
}

/// A run's counters (a JSON object from the job) as `name value` pairs that wrap like words;
/// anything else as wrapping code. Never wider than its cell.
fn counters(json: &str) -> Markup {
    match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(json) {
        Ok(map) if !map.is_empty() => html! {
            span.counters { @for (k, v) in &map {
                span { (k.replace('_', " ")) " " b { (match v { serde_json::Value::String(s) => s.clone(), v => v.to_string() }) } }
            } }
        },
        Ok(_) => html! { span.hint { (t("adm-nothing-to-count")) } },
        Err(_) => html! { code.wrap { (json) } },
    }
}
