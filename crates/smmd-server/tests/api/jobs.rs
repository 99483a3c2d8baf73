//! Admin jobs API: admins only; list, show with a 10-tick preview, validated edits with clear
//! errors, run-now idempotent on its key and obeying overlap, history, pause and resume.

use serde_json::{json, Value};
use smmd_domain::Clock;
use smmd_jobs::control::{self, DEFAULT_JOBS};
use smmd_store::Role;

use crate::helpers::{TestApp, T0};

pub async fn admins_operate_jobs_through_the_api(app: TestApp) {
    control::ensure_defaults(app.store.as_ref(), DEFAULT_JOBS, "UTC", T0)
        .await
        .expect("defaults");
    let (_, admin) = smmd_app::accounts::register(
        smmd_app::App::new(app.store.as_ref(), &app.clock as &dyn Clock),
        "ops@x.io",
        "password123",
        Role::Admin,
        None,
    )
    .await
    .expect("admin");
    let (_, user) = smmd_app::accounts::register(
        smmd_app::App::new(app.store.as_ref(), &app.clock as &dyn Clock),
        "u@x.io",
        "password123",
        Role::User,
        None,
    )
    .await
    .expect("user");
    let get = |path: &str, key: &str| app.client.get(app.url(path)).bearer_auth(key).send();

    assert_eq!(
        get("/api/admin/jobs", &user).await.expect("s").status(),
        403,
        "users cannot see jobs"
    );
    let list: Value = get("/api/admin/jobs", &admin)
        .await
        .expect("s")
        .json()
        .await
        .expect("j");
    let items = list["items"].as_array().expect("items");
    assert!(
        items.iter().any(|j| j["name"] == "billing.rentals"),
        "the billing job is listed"
    );
    let job = items
        .iter()
        .find(|j| j["name"] == "maintenance.cleanup")
        .expect("cleanup is listed");
    assert_eq!(
        (
            job["name"].as_str(),
            job["expression"].as_str(),
            job["state"].as_str()
        ),
        (
            Some("maintenance.cleanup"),
            Some("0 2 * * *"),
            Some("active")
        )
    );
    assert_eq!(job["next_run"], json!(T0 + 2 * 3_600_000));
    let show: Value = get("/api/admin/jobs/maintenance.cleanup", &admin)
        .await
        .expect("s")
        .json()
        .await
        .expect("j");
    assert_eq!(show["preview"].as_array().map(Vec::len), Some(10));
    assert_eq!(
        get("/api/admin/jobs/nope", &admin)
            .await
            .expect("s")
            .status(),
        404
    );

    let patch = |body: Value| {
        app.client
            .patch(app.url("/api/admin/jobs/maintenance.cleanup"))
            .bearer_auth(&admin)
            .json(&body)
            .send()
    };
    let bad = patch(json!({"expression": "0 2 * * FUNDAY"}))
        .await
        .expect("s");
    assert_eq!(bad.status(), 422);
    let err: Value = bad.json().await.expect("j");
    assert_eq!(err["error"]["code"], "invalid_schedule");
    assert!(
        err["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("FUNDAY")),
        "{err}"
    );
    assert_eq!(
        patch(json!({"misfire": "often"}))
            .await
            .expect("s")
            .status(),
        422
    );
    assert_eq!(
        patch(json!({"expresion": "0 3 * * *"}))
            .await
            .expect("s")
            .status(),
        422,
        "unknown fields are refused"
    );
    let ok: Value = patch(json!({"expression": "0 9 * * MON#1", "zone": "Europe/London"}))
        .await
        .expect("s")
        .json()
        .await
        .expect("j");
    assert_eq!(
        (
            ok["expression"].as_str(),
            ok["zone"].as_str(),
            ok["version"].as_i64()
        ),
        (Some("0 9 * * MON#1"), Some("Europe/London"), Some(2))
    );
    assert_eq!(
        ok["next_run"],
        json!(1_767_603_600_000_i64),
        "Monday 2026-01-05 09:00 London"
    );
    let audit = app.store.schedule_audit(None, 5).await.expect("audit");
    assert_eq!(audit[0].actor, "ops@x.io");

    let trigger = |key: &str| {
        app.client
            .post(app.url("/api/admin/jobs/maintenance.cleanup/trigger"))
            .bearer_auth(&admin)
            .header("idempotency-key", key)
            .send()
    };
    let first = trigger("k1").await.expect("s");
    assert_eq!(first.status(), 202);
    let run_id = first.json::<Value>().await.expect("j")["run_id"].clone();
    let again = trigger("k1").await.expect("s");
    assert_eq!(again.status(), 200);
    assert_eq!(
        again.json::<Value>().await.expect("j"),
        json!({"run_id": run_id, "status": "duplicate"})
    );
    assert_eq!(
        trigger("k2").await.expect("s").status(),
        409,
        "overlap: a run is already pending"
    );
    let runs: Value = get("/api/admin/jobs/maintenance.cleanup/runs?limit=10", &admin)
        .await
        .expect("s")
        .json()
        .await
        .expect("j");
    let items = runs["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(
        (items[1]["kind"].as_str(), items[1]["state"].as_str()),
        (Some("manual"), Some("pending"))
    );
    assert_eq!(
        (items[0]["state"].as_str(), items[0]["reason"].as_str()),
        (Some("skipped"), Some("overlap"))
    );
    assert_eq!(
        get("/api/admin/jobs/maintenance.cleanup/runs?limit=x", &admin)
            .await
            .expect("s")
            .status(),
        422
    );

    let post = |path: &str| app.client.post(app.url(path)).bearer_auth(&admin).send();
    assert_eq!(
        post("/api/admin/jobs/pause").await.expect("s").status(),
        204
    );
    let list: Value = get("/api/admin/jobs", &admin)
        .await
        .expect("s")
        .json()
        .await
        .expect("j");
    assert_eq!(list["items"][0]["state"], "paused");
    assert_eq!(
        post("/api/admin/jobs/resume").await.expect("s").status(),
        204
    );
    let list: Value = get("/api/admin/jobs", &admin)
        .await
        .expect("s")
        .json()
        .await
        .expect("j");
    assert_eq!(list["items"][0]["state"], "active");
    assert_eq!(
        app.client
            .post(app.url("/api/admin/jobs/pause"))
            .bearer_auth(&user)
            .send()
            .await
            .expect("s")
            .status(),
        403
    );
}

/// The OpenAPI document covers every jobs route with its method, and `/metrics` reports what
/// the engine did (outcomes, lag, duration) and the database's view (health, stuck leases).
pub async fn openapi_and_metrics_describe_the_scheduler(app: TestApp) {
    let doc: Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .expect("s")
        .json()
        .await
        .expect("j");
    for (path, method) in [
        ("/api/admin/jobs", "get"),
        ("/api/admin/jobs/{name}", "get"),
        ("/api/admin/jobs/{name}", "patch"),
        ("/api/admin/jobs/{name}/runs", "get"),
        ("/api/admin/jobs/{name}/trigger", "post"),
        ("/api/admin/jobs/pause", "post"),
        ("/api/admin/jobs/resume", "post"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is documented"
        );
    }
    let job = &doc["components"]["schemas"]["JobDto"]["properties"];
    for field in [
        "expression",
        "zone",
        "policies",
        "next_run",
        "last_run",
        "healthy",
    ] {
        assert!(job[field].is_object(), "JobDto.{field}");
    }

    // A job that succeeds once, then a due tick nobody runs: one healthy, one not. Only the
    // scheduler's own jobs: the fulfilment ones would fire on their own ticks.
    let own: Vec<_> = DEFAULT_JOBS
        .iter()
        .filter(|j| j.name.starts_with("scheduler.") || j.name.starts_with("maintenance."))
        .cloned()
        .collect();
    control::ensure_defaults(app.store.as_ref(), &own, "UTC", T0)
        .await
        .expect("defaults");
    control::edit(
        app.store.as_ref(),
        "scheduler.canary",
        control::JobEdit {
            expr: Some("@every 1m".into()),
            enabled: Some(true),
            ..control::JobEdit::default()
        },
        "test",
        T0,
    )
    .await
    .expect("enable canary");
    let engine = app
        .engine(&own, None, smmd_jobs::jobs::Maintenance::default())
        .await;
    app.clock.advance_ms(60_000);
    assert_eq!(engine.tick().await.expect("tick").executed, 1);
    let text = app.metrics().await;
    for line in [
        "smmd_job_runs_total{job=\"scheduler.canary\",outcome=\"succeeded\"} 1",
        "smmd_scheduler_stuck_leases 0",
        "smmd_scheduler_paused 0",
        "smmd_job_enabled{job=\"scheduler.canary\"} 1",
    ] {
        assert!(text.contains(line), "{line} in:\n{text}");
    }
    assert!(text.contains("smmd_job_tick_lag_seconds_bucket{job=\"scheduler.canary\""));
    assert!(text.contains(
        "smmd_job_run_duration_seconds_count{job=\"scheduler.canary\",outcome=\"succeeded\"} 1"
    ));
    // /metrics judges health by the database clock (real time), far past the manual clock's
    // last success: the canary is overdue, cleanup (daily, edited never) is judged the same way.
    assert!(
        text.contains("smmd_job_healthy{job=\"scheduler.canary\"} 0"),
        "{text}"
    );
}
