//! Schedule independence of hourly billing (issue 16, proofs): the same random timeline of
//! rentals, top-ups, admin suspensions, plan changes, cancels and billing pauses, replayed
//! under `0 * * * *`, `*/5 * * * *`, `0 */6 * * *` and random manual triggers, ends with
//! identical hour rows, rental logs and ledger — on both backends. Billing depends on what
//! happened when, never on when the job ran. The hourly replay is also run with the store's
//! set-based path off (every user through the per-rental engine): the reference it must match;
//! and on PostgreSQL by 4 instances (stores with their own pools) all running every tick. A
//! database restored from a backup (taken after the last step, before the last day's runs)
//! and billed again ends the same too: the runs the restore lost are billed once, not twice.
//! So does a run that crashes at every hour's ledger entry (a trigger fails the write): no
//! hour row is left without its entry, and the next run bills those hours once.

use std::sync::Arc;

use smmd_app::billing::{self, PlanInput, SettingsInput};
use smmd_app::{accounts, wallet, Actor, App};
use smmd_domain::billing::HOUR_MS;
use smmd_domain::{Clock, ManualClock, UserId};
use smmd_store::prelude::*;
use smmd_store::{RentalAction, Role};
use smmd_store_sql::testing::{fresh, Backend};

/// 2027-03-30T00:00Z: the timeline crosses into April (a new line per rental).
const T0: i64 = 1_806_364_800_000;
const DAYS: i64 = 4;
const MINUTE: i64 = 60_000;

/// xorshift64*: a small, seeded generator so every replay sees the same timeline.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Clone, Copy, Debug)]
enum Step {
    Rent { user: usize, plan: usize },
    TopUp { user: usize, cents: i64 },
    Suspend { rental: usize },
    Unsuspend { rental: usize },
    ChangePlan { rental: usize, plan: usize },
    Cancel { rental: usize },
    Pause { on: bool },
}

/// The timeline: (instant, step), sorted. Rentals are named by their order of creation
/// (the n-th successful rent), so a step may name one that does not exist (then it is skipped
/// the same way in every replay).
fn timeline(seed: u64) -> Vec<(i64, Step)> {
    let mut rng = Rng(seed);
    let span = DAYS * 24 * 60;
    let mut steps: Vec<(i64, Step)> = (0..60)
        .map(|_| {
            let at = T0 + rng.below(span as u64) as i64 * MINUTE + rng.below(60_000) as i64;
            let step = match rng.below(10) {
                0..=2 => Step::Rent {
                    user: rng.below(3) as usize,
                    plan: rng.below(2) as usize,
                },
                3..=5 => Step::TopUp {
                    user: rng.below(3) as usize,
                    cents: 10 + rng.below(400) as i64,
                },
                6 if rng.below(4) == 0 => Step::Pause {
                    on: rng.below(2) == 0,
                },
                6 => Step::Suspend {
                    rental: rng.below(6) as usize,
                },
                7 => Step::Unsuspend {
                    rental: rng.below(6) as usize,
                },
                8 => Step::ChangePlan {
                    rental: rng.below(6) as usize,
                    plan: rng.below(2) as usize,
                },
                _ => Step::Cancel {
                    rental: rng.below(6) as usize,
                },
            };
            (at, step)
        })
        .collect();
    // Renting early, so the rest of the timeline has rentals to act on.
    for (i, user) in [0usize, 1, 2].into_iter().enumerate() {
        steps.push((
            T0 + (i as i64 + 1) * 7 * MINUTE,
            Step::Rent { user, plan: i % 2 },
        ));
    }
    // One sure pause of about three hours (the random ones may not come).
    steps.push((T0 + 30 * HOUR_MS + 17 * MINUTE, Step::Pause { on: true }));
    steps.push((T0 + 33 * HOUR_MS + 5 * MINUTE, Step::Pause { on: false }));
    steps.sort_by_key(|(at, _)| *at);
    steps
}

/// When the job runs under each schedule.
fn runs(schedule: &str, seed: u64) -> Vec<i64> {
    let end = T0 + DAYS * 24 * HOUR_MS;
    let every = |step: i64| {
        (0..)
            .map(move |i| T0 + i * step)
            .take_while(move |t| *t <= end)
    };
    match schedule {
        "0 * * * *" | ENGINE_ONLY | FOUR_INSTANCES | RESTORED | CRASHED => every(HOUR_MS).collect(),
        "*/5 * * * *" => every(5 * MINUTE).collect(),
        "0 */6 * * *" => every(6 * HOUR_MS).collect(),
        _ => {
            let mut rng = Rng(seed ^ 0x9e37_79b9_7f4a_7c15);
            let mut at: Vec<i64> = (0..40)
                .map(|_| T0 + rng.below((end - T0) as u64) as i64)
                .collect();
            at.sort_unstable();
            at
        }
    }
}

/// Everything billing wrote, without the instants of writing (`paid_at`, `created_at`).
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    hours: Vec<String>,
    logs: Vec<String>,
    ledger: Vec<String>,
    balances: Vec<String>,
}

/// The reference replay: the hourly schedule with the set-based path off.
const ENGINE_ONLY: &str = "0 * * * * (engine only)";
/// The hourly schedule run by 4 instances at once (PostgreSQL): four stores on the database,
/// each with its own pool, all running the job at every tick.
const FOUR_INSTANCES: &str = "0 * * * * on 4 instances at once";
/// The hourly schedule on a restored database: a backup is taken after the timeline's last
/// step, the hourly runs go on on the original up to the end (the work a restore loses), and
/// the last run bills the backup, opened as the panel's database.
const RESTORED: &str = "0 * * * * then restored from a backup";
/// The hourly schedule where the run at +40 h crashes as it writes each `rent` ledger entry
/// (a trigger fails the insert; its transaction rolls back as if the process had died).
const CRASHED: &str = "0 * * * * with a run crashing at its ledger entries";
const CRASH_AT: i64 = T0 + 40 * HOUR_MS;

/// Paid hours without their `rent` entry, plus `rent` entries without a paid hour.
const UNMATCHED: &str = "SELECT (SELECT COUNT(*) FROM rental_hours h WHERE h.status = 'paid' \
     AND h.amount > 0 AND NOT EXISTS (SELECT 1 FROM ledger l \
     WHERE l.idem_key = 'rent:' || h.rental_id || ':' || h.hour)) \
     + (SELECT COUNT(*) FROM ledger l WHERE l.kind = 'rent' AND l.idem_key NOT LIKE 'rent:%:setup' \
     AND NOT EXISTS (SELECT 1 FROM rental_hours h WHERE h.status = 'paid' \
     AND l.idem_key = 'rent:' || h.rental_id || ':' || h.hour))";

/// Makes every `rent` ledger insert fail, or stops doing so.
async fn crash_rent_entries(db: &smmd_store_sql::testing::TestDb, on: bool, backend: Backend) {
    match (backend, on) {
        (Backend::Sqlite, true) => {
            db.execute(
                "CREATE TRIGGER crash_at_rent BEFORE INSERT ON ledger WHEN NEW.kind = 'rent' \
                 BEGIN SELECT RAISE(ABORT, 'crash at the ledger entry'); END",
            )
            .await
        }
        (Backend::Sqlite, false) => db.execute("DROP TRIGGER crash_at_rent").await,
        (Backend::Postgres, true) => {
            db.execute(
                "CREATE FUNCTION crash_at_rent() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN IF NEW.kind = 'rent' THEN RAISE EXCEPTION 'crash at the ledger entry'; \
                 END IF; RETURN NEW; END; $$",
            )
            .await;
            db.execute(
                "CREATE TRIGGER crash_at_rent BEFORE INSERT ON ledger FOR EACH ROW \
                 EXECUTE FUNCTION crash_at_rent()",
            )
            .await
        }
        (Backend::Postgres, false) => {
            db.execute("DROP TRIGGER crash_at_rent ON ledger").await;
            db.execute("DROP FUNCTION crash_at_rent()").await
        }
    }
}

async fn replay(backend: Backend, seed: u64, schedule: &str) -> Option<Outcome> {
    let db = fresh(backend).await?;
    db.store.set_billing_fast_path(schedule != ENGINE_ONLY);
    let store: Arc<dyn Store> = db.store.clone();
    let mut instances: Vec<Arc<dyn Store>> = vec![store.clone()];
    if schedule == FOUR_INSTANCES {
        for _ in 0..3 {
            let other = smmd_store_sql::SqlStore::connect(
                &db.url,
                smmd_store_sql::ConnectOptions {
                    migrate: false,
                    ..Default::default()
                },
            )
            .await
            .expect("another instance");
            instances.push(Arc::new(other));
        }
    }
    let clock = ManualClock::new(T0);
    let app = App::new(store.as_ref(), &clock);
    let (admin, _) = accounts::register(app, "root@x.io", "password-1", Role::Admin, None)
        .await
        .expect("admin");
    let actor = Actor::admin(&admin);
    billing::update_settings(
        app,
        &actor,
        SettingsInput {
            enabled: Some(true),
            suspend_after_hours: Some(12),
            terminate_after_days: Some(2),
            ..Default::default()
        },
    )
    .await
    .expect("enable");
    let mut plans = Vec::new();
    for (code, price, mode) in [("pro", "73", "h730"), ("lite", "14.88", "calendar")] {
        let p = billing::create_plan(
            app,
            &actor,
            PlanInput {
                code: code.into(),
                name: code.into(),
                price: price.into(),
                cap_mode: Some(mode.into()),
                entitlement: "reseller_tier".into(),
                ..Default::default()
            },
        )
        .await
        .expect("plan");
        plans.push(p.id);
    }
    let mut users: Vec<UserId> = Vec::new();
    for i in 0..3 {
        let (u, _) = accounts::register(app, &format!("u{i}@x.io"), "password-1", Role::User, None)
            .await
            .expect("user");
        wallet::adjust_balance(
            app,
            &actor,
            u.id,
            "1.50",
            "opening",
            Some(&format!("open{i}")),
        )
        .await
        .expect("credit");
        users.push(u.id);
    }

    let mut rentals: Vec<i64> = Vec::new();
    let mut runs = runs(schedule, seed).into_iter().peekable();
    let mut n = 0;
    for (at, step) in timeline(seed) {
        while let Some(&run) = runs.peek() {
            if run > at {
                break;
            }
            clock.set_ms(run);
            let crash = schedule == CRASHED && run == CRASH_AT;
            if crash {
                crash_rent_entries(&db, true, backend).await;
            }
            let all = futures::future::join_all(
                instances
                    .iter()
                    .map(|s| smmd_jobs::billing::run(s.as_ref(), run)),
            )
            .await;
            for r in all {
                let (_, failed) = r.expect("run");
                assert_eq!(failed > 0, crash, "users failed at {run}: {failed}");
            }
            if crash {
                assert_eq!(
                    db.scalar(UNMATCHED).await,
                    0,
                    "a paid hour without its entry"
                );
                crash_rent_entries(&db, false, backend).await;
            }
            runs.next();
        }
        clock.set_ms(at);
        let rental = |i: usize| rentals.get(i).copied();
        match step {
            Step::Rent { user, plan } => {
                if let Ok(r) = billing::rent(app, users[user], plans[plan]).await {
                    rentals.push(r.id);
                }
            }
            Step::TopUp { user, cents } => {
                n += 1;
                let amount = format!("{}.{:02}", cents / 100, cents % 100);
                wallet::adjust_balance(
                    app,
                    &actor,
                    users[user],
                    &amount,
                    "top-up",
                    Some(&format!("t{n}")),
                )
                .await
                .expect("top-up");
            }
            Step::Pause { on } => {
                // Pausing a paused billing (or resuming a running one) is refused alike.
                let _ = billing::set_pause(app, &actor, on, "timeline").await;
            }
            Step::Suspend { rental: i }
            | Step::Unsuspend { rental: i }
            | Step::Cancel { rental: i }
            | Step::ChangePlan { rental: i, .. } => {
                let Some(id) = rental(i) else { continue };
                let action = match step {
                    Step::Suspend { .. } => RentalAction::Suspend,
                    Step::Unsuspend { .. } => RentalAction::Unsuspend,
                    Step::Cancel { .. } => RentalAction::Cancel,
                    Step::ChangePlan { plan, .. } => RentalAction::ChangePlan {
                        plan_id: plans[plan],
                    },
                    Step::Rent { .. } | Step::TopUp { .. } | Step::Pause { .. } => {
                        unreachable!()
                    }
                };
                // Refusals (an illegal transition, the same plan) are part of the timeline.
                let _ = billing::admin_action(app, &actor, id, action, "timeline").await;
            }
        }
    }
    let end = T0 + DAYS * 24 * HOUR_MS;
    let mut backup = None;
    if schedule == RESTORED {
        let copy = db.backup().await;
        for run in runs.by_ref().take_while(|r| *r < end) {
            clock.set_ms(run);
            smmd_jobs::billing::run(store.as_ref(), run)
                .await
                .expect("a run the restore loses");
        }
        let live = store.billing_settings().await.expect("s").watermark;
        let saved = copy.store.billing_settings().await.expect("s").watermark;
        assert!(
            saved < live,
            "the restore loses billed hours: {saved:?} < {live:?}"
        );
        backup = Some(copy);
    }
    let store: Arc<dyn Store> = match &backup {
        Some(copy) => copy.store.clone(),
        None => store,
    };
    clock.set_ms(end);
    smmd_jobs::billing::run(store.as_ref(), end)
        .await
        .expect("last run");

    let mut outcome = Outcome {
        hours: Vec::new(),
        logs: Vec::new(),
        ledger: Vec::new(),
        balances: Vec::new(),
    };
    for &id in &rentals {
        for h in store
            .rental_hours(id, 0, i64::MAX, 100_000)
            .await
            .expect("hours")
        {
            outcome.hours.push(format!(
                "{id} {} p{} k{} {} {:?} {}",
                (h.hour - T0) / HOUR_MS,
                h.plan_id,
                h.k,
                h.amount,
                h.status,
                h.credited
            ));
        }
        for e in store.rental_log(id).await.expect("log") {
            outcome.logs.push(format!(
                "{id} {} {} {:?} p{}",
                e.at, e.event, e.state, e.plan_id
            ));
        }
    }
    for &u in &users {
        let mut entries = store.ledger(u, None, 10_000).await.expect("ledger");
        entries.reverse();
        outcome.ledger.extend(
            entries
                .iter()
                .map(|e| format!("{} {} {:?} {}", e.key, e.amount, e.kind, e.balance_after)),
        );
        let user = store.user(u).await.expect("u").expect("u");
        outcome.balances.push(user.balance.to_string());
    }
    assert!(store.ledger_mismatches().await.expect("check").is_empty());
    if backup.is_none() {
        assert_eq!(db.scalar(UNMATCHED).await, 0, "paid hours ↔ rent entries");
    }
    assert!(clock.now_ms() == end);
    Some(outcome)
}

async fn same_outcome_under_every_schedule(backend: Backend) {
    for seed in [7u64, 2026] {
        let Some(hourly) = replay(backend, seed, "0 * * * *").await else {
            return;
        };
        assert!(
            hourly.hours.len() > 100,
            "the timeline bills something: {} hours",
            hourly.hours.len()
        );
        assert!(
            hourly.hours.iter().any(|h| h.contains("Due")),
            "and some hours go unpaid (seed {seed})"
        );
        assert!(
            hourly.hours.iter().any(|h| h.contains("Waived")),
            "and some fall in a pause (seed {seed})"
        );
        let mut schedules = vec![
            ENGINE_ONLY,
            "*/5 * * * *",
            "0 */6 * * *",
            "random triggers",
            RESTORED,
            CRASHED,
        ];
        if backend == Backend::Postgres {
            schedules.push(FOUR_INSTANCES);
        }
        for schedule in schedules {
            let other = replay(backend, seed, schedule).await.expect("same backend");
            assert_eq!(hourly.balances, other.balances, "{schedule}, seed {seed}");
            assert_eq!(hourly.ledger, other.ledger, "{schedule}, seed {seed}");
            assert_eq!(hourly.logs, other.logs, "{schedule}, seed {seed}");
            assert_eq!(hourly.hours, other.hours, "{schedule}, seed {seed}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_timeline_bills_the_same_under_every_schedule_sqlite() {
    same_outcome_under_every_schedule(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_timeline_bills_the_same_under_every_schedule_postgres() {
    same_outcome_under_every_schedule(Backend::Postgres).await;
}
