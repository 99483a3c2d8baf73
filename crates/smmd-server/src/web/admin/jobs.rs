//! Admin pages of the scheduler: every job with its expression, zone, next run, last run and
//! health (`/admin/jobs`), and one job (`/admin/jobs/{name}`) with its next fire times, run
//! history, "run now", and the edit form (expression, zone, enabled, policies) — all through
//! the admin jobs API, so an edit is validated, versioned and audited the same way.

use smmd_jobs::control::{self, JobView};
use smmd_store::RunRecord;

use super::*;

fn state_badge(j: &JobView) -> Markup {
    html! {
        @if j.paused { span.status.s-needs_review { "Paused" } }
        @else if !j.schedule.enabled { span.status.s-canceled { "Disabled" } }
        @else if !j.healthy { span.status.s-canceled { "Unhealthy" } }
        @else { span.status.s-completed { "Healthy" } }
    }
}

fn run_cell(st: &AppState, r: Option<&RunRecord>) -> Markup {
    html! {
        @match r {
            None => span.muted { "never" },
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
                h1 { "Jobs" }
                @if paused {
                    (api_form("POST", "/api/admin/jobs/resume", "Scheduler resumed", html! { button.small type="submit" { "Resume all jobs" } }))
                } @else {
                    (api_form("POST", "/api/admin/jobs/pause", "Scheduler paused", html! { button.small.secondary type="submit" { "Pause all jobs" } }))
                }
            }
            @if paused { div.flash.err { "The scheduler is paused: no job starts until it is resumed." } }
            table.admin {
                thead { tr { th { "Job" } th { "Schedule" } th { "Next run" } th { "Last run" } th { "State" } } }
                tbody { @for j in &jobs {
                    tr #(format!("job-{}", j.schedule.name)) {
                        td data-label="Job" { a href=(format!("/admin/jobs/{}", j.schedule.name)) { b { (j.schedule.name) } } }
                        td data-label="Schedule" { code { (j.schedule.expr) } br; span.hint { (j.schedule.zone) } }
                        td data-label="Next run" { (j.preview.first().map(|t| when(&st, *t)).unwrap_or_else(|| "—".into())) }
                        td data-label="Last run" { (run_cell(&st, j.last_run.as_ref())) }
                        td data-label="State" { (state_badge(j)) }
                    }
                } }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&st, &u, "Jobs", "admin-jobs", content),
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
                    "Not found",
                    "admin-jobs",
                    html! { div.card { h1 { "No such job" } p { a href="/admin/jobs" { "All jobs" } } } },
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
                div { b { "Schedule" } code { (s.expr) } }
                div { b { "Zone" } (s.zone) }
                div { b { "Misfire" } (s.misfire) }
                div { b { "Overlap" } (s.overlap) }
                div { b { "Attempts" } (s.max_attempts) }
                div { b { "Timeout" } (s.timeout_ms / 1000) " s" }
                div { b { "Last success" } (s.last_success_at.map(|t| when(&st, t)).unwrap_or_else(|| "—".into())) }
                div { b { "Version" } (s.version) }
            }
            (api_form("POST", &format!("{path}/trigger"), "Run queued", html! {
                input type="hidden" name="request_key" value=(format!("page:{}", auth::random_hex(12)));
                button #run-now type="submit" { "Run now" }
            }))
        }
        div.grid2 {
            div.card {
                h2 { "Edit" }
                (api_form("PATCH", &path, "Schedule saved", html! {
                    label for="job-expression" { "Expression" span.hint { " cron with optional seconds (" code { "0 */5 * * * *" } ", " code { "MON#1" } ", " code { "L" } ") or " code { "@every 30s" } } }
                    input #job-expression type="text" name="expression" value=(s.expr) required;
                    label for="job-zone" { "Time zone" span.hint { " IANA, e.g. Europe/London" } }
                    input #job-zone type="text" name="zone" value=(s.zone) required;
                    div.row {
                        label { "Misfire" select name="misfire" {
                            @for m in ["skip", "fire_once", "fire_all"] { option value=(m) selected[s.misfire == m] { (m) } }
                        } }
                        label { "Overlap" select name="overlap" {
                            @for m in ["skip", "buffer_one"] { option value=(m) selected[s.overlap == m] { (m) } }
                        } }
                    }
                    div.row {
                        label { "Attempts" input type="number" name="max_attempts" data-type="int" min="1" max="100" value=(s.max_attempts); }
                        label { "Timeout (ms)" input type="number" name="timeout_ms" data-type="int" min="1000" max="86400000" value=(s.timeout_ms); }
                    }
                    label.check { input type="checkbox" name="enabled" checked[s.enabled]; " Enabled" }
                    button #save-job type="submit" { "Save" }
                }))
            }
            div.card {
                h2 { "Next runs" }
                @if j.preview.is_empty() { p.muted { "None: the job is disabled." } }
                ol #next-runs { @for t in &j.preview { li { (when(&st, *t)) } } }
            }
        }
        div.card #history {
            h2 { "History" }
            @if runs.is_empty() { p.muted { "No runs yet." } }
            @else {
                table.admin {
                    thead { tr { th { "Run" } th { "Scheduled for" } th { "State" } th { "Attempt" } th { "Took" } th { "Counters or error" } } }
                    tbody { @for r in &runs {
                        tr {
                            td data-label="Run" { "#" (r.id) br; span.hint { (r.kind) } }
                            td data-label="Scheduled for" { (when(&st, r.scheduled_for)) }
                            td data-label="State" { (status_badge(r.state.as_str())) @if let Some(why) = &r.reason { br; span.hint { (why) } } }
                            td data-label="Attempt" { (r.attempt) }
                            td data-label="Took" { @if let (Some(a), Some(b)) = (r.started_at, r.finished_at) { (b - a) " ms" } @else { "—" } }
                            td data-label="Counters or error" {
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
        Ok(_) => html! { span.hint { "nothing to count" } },
        Err(_) => html! { code.wrap { (json) } },
    }
}
