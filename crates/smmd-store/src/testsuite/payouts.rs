//! Conformance cases of affiliate payouts (`docs/affiliates.md`): the eligibility matrix of a
//! payout run against a model kept by the test, one payout per candidate whatever the triggers,
//! the decisions and their gapless numbers, and concurrent transfers to the wallet.

use super::*;
use futures::StreamExt;
use smmd_domain::affiliate::calendar::{run_at, Date, RunKind};
use smmd_domain::affiliate::eligibility::Blocker;
use smmd_domain::affiliate::method::MethodKind;
use smmd_domain::affiliate::{Decision, EntryKind, PayoutStatus};
use smmd_domain::clock::DAY_MS;

/// A small deterministic generator (SplitMix64): the matrix is the same on every run.
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// 0..n.
    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub(super) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// The run of `kind` in `year`-`month`.
pub(super) fn scheduled(kind: RunKind, year: i32, month: u32) -> NewPayoutRun {
    let at = run_at(kind, year, month);
    NewPayoutRun {
        kind,
        date: Date::of(at),
        scheduled_at: at,
    }
}

/// Steps `run` to its end at `now`, `limit` candidates a step; returns the run and the
/// payouts this call created.
pub(super) async fn run_to_end(
    store: &Arc<dyn Store>,
    run: &NewPayoutRun,
    limit: i64,
    now: i64,
) -> (PayoutRun, i64) {
    let (mut after, mut created) = (0, 0);
    loop {
        let step = store
            .run_payouts(run, after, limit, now)
            .await
            .expect("run step");
        created += step.created;
        after = step.cursor;
        if !step.more {
            return (step.run, created);
        }
    }
}

/// An affiliate with an account and an approved method (approved at `at`).
pub(super) async fn affiliate(store: &Arc<dyn Store>, email: &str, at: i64) -> User {
    let u = user(store, email, "0").await;
    let code: String = format!("{:0>8}", u.id.0)
        .chars()
        .map(|c| (b'A' + c.to_digit(10).unwrap_or(0) as u8) as char)
        .collect();
    store
        .affiliate_account(u.id, &code, at)
        .await
        .expect("account");
    approve_method(store, u.id, at).await;
    u
}

pub(super) async fn approve_method(store: &Arc<dyn Store>, user: UserId, at: i64) -> PayoutMethod {
    let m = store
        .submit_payout_method(user, MethodKind::Paypal, "payee@example.com", at)
        .await
        .expect("submit");
    store
        .decide_payout_method(m.id, true, "", at, None)
        .await
        .expect("approve")
}

pub(super) async fn adjust(
    store: &Arc<dyn Store>,
    user: UserId,
    amount: Money,
    key: &str,
    at: i64,
) {
    store
        .adjust_affiliate_balance(user, amount, key, "test", at, None)
        .await
        .expect("adjust");
}

/// The notices of the feed whose kind starts with `prefix`, once at least `n` of them are
/// readable (on PostgreSQL another database's transaction on the same server can hold the
/// feed's horizon for a moment), oldest first.
pub(super) async fn notices_until(
    store: &Arc<dyn Store>,
    prefix: &str,
    n: usize,
) -> Vec<BillingNotice> {
    let started = std::time::Instant::now();
    loop {
        let (mut all, _) = store
            .billing_notices_after(FeedPos::default(), 10_000)
            .await
            .expect("notices");
        all.retain(|x| x.kind.starts_with(prefix));
        if all.len() >= n || started.elapsed() > std::time::Duration::from_secs(10) {
            return all;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Σ affiliate ledger = balance for every affiliate.
pub(super) async fn assert_affiliate_ledger_sound(store: &Arc<dyn Store>) {
    assert_eq!(
        store.affiliate_mismatches().await.expect("mismatches"),
        vec![]
    );
}

/// What the test knows of one affiliate.
#[derive(Clone, Debug)]
struct Model {
    id: UserId,
    active: bool,
    invoices: i64,
    open: bool,
    approved_at: Option<i64>,
    on_hold: bool,
    balance: Money,
}

/// The rule as `docs/affiliates.md` states it, written out again here as the oracle.
fn oracle(kind: RunKind, a: &Model, now: i64) -> Result<Money, &'static str> {
    let min = m("100");
    if !a.active {
        Err("account_inactive")
    } else if kind == RunKind::Returning && a.invoices == 0 {
        Err("first_time_waits_for_first_monday")
    } else if a.approved_at.is_none() {
        Err("no_approved_method")
    } else if a.approved_at.is_some_and(|t| now - t < 7 * DAY_MS) {
        Err("method_cooling_down")
    } else if a.open {
        Err("previous_payout_open")
    } else if a.on_hold {
        Err("on_hold")
    } else if a.balance < min {
        Err("below_minimum")
    } else {
        Ok(a.balance)
    }
}

/// Runs `run` and checks every item against the oracle; updates the model with the payouts.
/// Returns the reasons its items named.
async fn run_and_check(
    store: &Arc<dyn Store>,
    run: &NewPayoutRun,
    models: &mut [Model],
) -> std::collections::BTreeSet<String> {
    let now = run.scheduled_at + 60_000;
    let (done, created) = run_to_end(store, run, 37, now).await;
    assert_eq!(done.status, RunStatus::Done);
    let mut items = Vec::new();
    let mut after = 0;
    loop {
        let page = store
            .payout_run_items(done.id, after, 500)
            .await
            .expect("items");
        let Some(last) = page.last() else { break };
        after = last.user_id.0;
        items.extend(page);
    }
    let candidates: Vec<&Model> = models.iter().filter(|a| a.balance != Money::ZERO).collect();
    assert_eq!(items.len(), candidates.len(), "one item per candidate");
    assert_eq!(done.candidates, candidates.len() as i64);
    let mut paid = 0;
    for (item, a) in items.iter().zip(candidates) {
        assert_eq!(item.user_id, a.id);
        let want = oracle(run.kind, a, now);
        let got = match &item.reason {
            None => Ok(item.amount),
            Some(r) => Err(r.as_str()),
        };
        assert_eq!(got, want, "{a:?} in the {} run", run.kind.as_str());
        if want.is_err() {
            assert_eq!((item.amount, item.payout_id), (a.balance, None));
        } else {
            paid += 1;
        }
    }
    assert_eq!((done.payouts, created), (paid, paid));
    let reasons = items
        .iter()
        .map(|i| i.reason.clone().unwrap_or_else(|| "paid".into()))
        .collect();
    for a in models.iter_mut() {
        let Some(item) = items.iter().find(|i| i.user_id == a.id) else {
            continue;
        };
        if let Some(pid) = item.payout_id {
            let p = store.payout(pid).await.expect("read").expect("payout");
            assert_eq!(
                (p.user_id, p.amount, p.status, p.method_kind.as_str()),
                (a.id, a.balance, PayoutStatus::Pending, "paypal")
            );
            let entry = &store.affiliate_ledger(a.id, 1).await.expect("ledger")[0];
            assert_eq!(
                (
                    entry.kind,
                    entry.amount,
                    entry.balance_after,
                    entry.key.clone()
                ),
                (
                    EntryKind::Payout,
                    -a.balance,
                    Money::ZERO,
                    format!("payout:{}:{}", done.id, a.id.0)
                )
            );
            a.balance = Money::ZERO;
            a.invoices += 1;
            a.open = true;
        }
    }
    reasons
}

pub async fn payout_runs_pay_exactly_the_eligible_and_name_the_first_reason(store: Arc<dyn Store>) {
    const N: usize = 2_000;
    let mut rng = Rng::new(17);
    // Phase 1: a third of the affiliates had a payout in February (left pending, paid, or
    // rejected and returned), so they count as returning.
    let feb = scheduled(RunKind::All, 2026, 2);
    let plans: Vec<(usize, u64)> = (0..N).map(|i| (i, rng.below(6))).collect();
    // A sixth has no payout method yet.
    let mut models: Vec<Model> = futures::stream::iter(plans.iter().copied())
        .map(|(i, prior)| {
            let store = store.clone();
            async move {
                let email = format!("p{i}@x.io");
                let u = if prior == 5 {
                    let u = user(&store, &email, "0").await;
                    store
                        .affiliate_account(u.id, &format!("NOMETH{i:0>4}").replace('0', "Z"), NOW)
                        .await
                        .expect("account");
                    u
                } else {
                    affiliate(&store, &email, NOW).await
                };
                if prior < 3 {
                    adjust(&store, u.id, m("150"), &format!("seed:{i}"), NOW).await;
                }
                Model {
                    id: u.id,
                    active: true,
                    invoices: 0,
                    open: false,
                    approved_at: (prior != 5).then_some(NOW),
                    on_hold: false,
                    balance: if prior < 3 { m("150") } else { Money::ZERO },
                }
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    models.sort_by_key(|a| a.id);
    let mut seen = run_and_check(&store, &feb, &mut models).await;
    let decided_at = feb.scheduled_at + DAY_MS;
    for a in models.iter_mut().filter(|a| a.open) {
        let p = store
            .payouts(&PayoutQuery {
                user: Some(a.id),
                limit: 1,
                ..PayoutQuery::default()
            })
            .await
            .expect("payouts")[0]
            .clone();
        match rng.below(3) {
            0 => {}
            1 => {
                store
                    .decide_payout(p.id, Decision::MarkPaid, "REF", decided_at, None)
                    .await
                    .expect("paid");
                a.open = false;
            }
            _ => {
                store
                    .decide_payout(p.id, Decision::RejectReturn, "wrong", decided_at, None)
                    .await
                    .expect("rejected");
                a.open = false;
                a.balance = p.amount;
            }
        }
    }
    // Phase 2: every threshold around the March mid-month run.
    let mar = scheduled(RunKind::Returning, 2026, 3);
    let targets = ["-5", "0", "99.999999", "100", "100.000001", "250"];
    for (i, a) in models.iter_mut().enumerate() {
        if rng.chance(40) {
            let at = mar.scheduled_at + 60_000 - rng.below(11) as i64 * DAY_MS + 1;
            approve_method(&store, a.id, at).await;
            a.approved_at = Some(at);
        }
        let target = m(targets[rng.below(targets.len() as u64) as usize]);
        if target != a.balance {
            let delta = target.checked_sub(a.balance).expect("delta");
            adjust(&store, a.id, delta, &format!("target:{i}"), decided_at).await;
            a.balance = target;
        }
        if rng.chance(10) {
            store
                .set_affiliate_hold(a.id, true, None)
                .await
                .expect("hold");
            a.on_hold = true;
        }
        if rng.chance(8) {
            store
                .set_user_blocked(a.id, true, decided_at, None)
                .await
                .expect("block");
            a.active = false;
        }
    }
    seen.extend(run_and_check(&store, &mar, &mut models).await);
    // Phase 3: the April first-Monday run pays first-timers too.
    let apr = scheduled(RunKind::All, 2026, 4);
    seen.extend(run_and_check(&store, &apr, &mut models).await);
    // The matrix reached every reason and paid some in each kind.
    let mut all: Vec<&str> = Blocker::REASONS.to_vec();
    all.push("paid");
    all.sort_unstable();
    assert_eq!(seen.iter().map(String::as_str).collect::<Vec<_>>(), all);
    let reasons: std::collections::HashSet<_> = store
        .payout_runs(None, 10)
        .await
        .expect("runs")
        .into_iter()
        .map(|r| (r.kind, r.date))
        .collect();
    assert_eq!(reasons.len(), 3);
    assert_affiliate_ledger_sound(&store).await;
}

pub async fn a_payout_run_pays_once_whatever_the_triggers(store: Arc<dyn Store>) {
    let jan = scheduled(RunKind::All, 2026, 1);
    let mut eligible = Vec::new();
    for i in 0..40 {
        let a = affiliate(&store, &format!("t{i}@x.io"), NOW - 30 * DAY_MS).await;
        let amount = if i % 2 == 0 { m("120") } else { m("20") };
        adjust(&store, a.id, amount, &format!("t:{i}"), NOW).await;
        if i % 2 == 0 {
            eligible.push(a.id);
        }
    }
    let now = jan.scheduled_at + 60_000;
    // Five triggers at once, each stepping the same run to its end.
    let created: i64 = futures::future::join_all((0..5).map(|_| {
        let store = store.clone();
        async move { run_to_end(&store, &jan, 7, now).await.1 }
    }))
    .await
    .into_iter()
    .sum();
    assert_eq!(created, eligible.len() as i64);
    let payouts = store
        .payouts(&PayoutQuery {
            limit: 1_000,
            ..PayoutQuery::default()
        })
        .await
        .expect("payouts");
    let mut paid: Vec<UserId> = payouts.iter().map(|p| p.user_id).collect();
    paid.sort();
    assert_eq!(paid, eligible);
    let ledger_before: Vec<_> = {
        let mut all = Vec::new();
        for u in &eligible {
            all.extend(store.affiliate_ledger(*u, 100).await.expect("ledger"));
        }
        all
    };
    // A sixth trigger after the run is done, and a skip of the same run: nothing changes.
    let (again, created) = run_to_end(&store, &jan, 7, now + 1).await;
    assert_eq!(
        (again.status, created, again.payouts),
        (RunStatus::Done, 0, 20)
    );
    assert_eq!(again.total, m("2400"));
    let skipped = store
        .skip_payout_run(&jan, "late", now)
        .await
        .expect("skip");
    assert_eq!((skipped.id, skipped.status), (again.id, RunStatus::Done));
    let mut ledger_after = Vec::new();
    for u in &eligible {
        ledger_after.extend(store.affiliate_ledger(*u, 100).await.expect("ledger"));
    }
    assert_eq!(ledger_before, ledger_after);
    // A run recorded as skipped pays nobody, even when triggered afterwards.
    let feb = scheduled(RunKind::All, 2026, 2);
    let s = store
        .skip_payout_run(
            &feb,
            "missed its catch-up window",
            feb.scheduled_at + 4 * DAY_MS,
        )
        .await
        .expect("skip");
    assert_eq!(
        (s.status, s.note.as_str()),
        (RunStatus::Skipped, "missed its catch-up window")
    );
    let step = store
        .run_payouts(&feb, 0, 100, feb.scheduled_at + 4 * DAY_MS)
        .await
        .expect("step");
    assert_eq!((step.checked, step.created, step.more), (0, 0, false));
    let odd = store
        .payout_candidate(UserId(eligible[0].0 + 1))
        .await
        .expect("candidate")
        .expect("affiliate");
    assert_eq!(odd.balance, m("20"));
    assert_affiliate_ledger_sound(&store).await;
}

pub async fn payout_decisions_follow_the_diagram_with_gapless_numbers(store: Arc<dyn Store>) {
    let jan = scheduled(RunKind::All, 2026, 1);
    let mut users = Vec::new();
    for i in 0..4 {
        let a = affiliate(&store, &format!("d{i}@x.io"), NOW - 30 * DAY_MS).await;
        adjust(&store, a.id, m("100"), &format!("d:{i}"), NOW).await;
        users.push(a.id);
    }
    run_to_end(&store, &jan, 100, jan.scheduled_at).await;
    let mut ids = Vec::new();
    for u in &users {
        ids.push(
            store
                .payouts(&PayoutQuery {
                    user: Some(*u),
                    limit: 1,
                    ..PayoutQuery::default()
                })
                .await
                .expect("p")[0]
                .id,
        );
    }
    let t = jan.scheduled_at + DAY_MS;
    let paid = store
        .decide_payout(ids[0], Decision::MarkPaid, "TX-1", t, None)
        .await
        .expect("paid");
    assert_eq!(
        (paid.status, paid.number, paid.reference.as_deref()),
        (PayoutStatus::Paid, Some(1), Some("TX-1"))
    );
    // The same mark-paid again is a no-op; another reference is refused and uses no number.
    assert_eq!(
        store
            .decide_payout(ids[0], Decision::MarkPaid, "TX-1", t + 1, None)
            .await
            .expect("replay"),
        paid
    );
    assert!(matches!(
        store
            .decide_payout(ids[0], Decision::MarkPaid, "TX-9", t, None)
            .await,
        Err(PayoutError::NotAllowed(_))
    ));
    assert!(matches!(
        store
            .decide_payout(ids[0], Decision::RejectFraud, "x", t, None)
            .await,
        Err(PayoutError::NotAllowed(_))
    ));
    let second = store
        .decide_payout(ids[1], Decision::MarkPaid, "TX-2", t, None)
        .await
        .expect("paid");
    assert_eq!(second.number, Some(2));
    // Reject & return: the money goes back once.
    let back = store
        .decide_payout(ids[2], Decision::RejectReturn, "wrong address", t, None)
        .await
        .expect("rejected");
    assert_eq!(
        (back.status, back.number, back.reason.as_str()),
        (PayoutStatus::RejectedReturned, None, "wrong address")
    );
    let entry = &store.affiliate_ledger(users[2], 1).await.expect("l")[0];
    assert_eq!(
        (
            entry.kind,
            entry.amount,
            entry.balance_after,
            entry.key.clone()
        ),
        (
            EntryKind::PayoutReturn,
            m("100"),
            m("100"),
            format!("payout_return:{}", ids[2])
        )
    );
    assert!(matches!(
        store
            .decide_payout(ids[2], Decision::RejectReturn, "again", t, None)
            .await,
        Err(PayoutError::NotAllowed(_))
    ));
    // Fraud: the money stays out.
    let fraud = store
        .decide_payout(ids[3], Decision::RejectFraud, "self-referral ring", t, None)
        .await
        .expect("fraud");
    assert_eq!(fraud.status, PayoutStatus::RejectedForfeited);
    assert_eq!(
        store
            .payout_candidate(users[3])
            .await
            .expect("c")
            .expect("a")
            .balance,
        Money::ZERO
    );
    // Paid, then bounced: returned, the money back, the number kept.
    let returned = store
        .decide_payout(ids[1], Decision::Returned, "bounced", t + 2, None)
        .await
        .expect("returned");
    assert_eq!(
        (returned.status, returned.number),
        (PayoutStatus::Returned, Some(2))
    );
    assert_eq!(
        store
            .payout_candidate(users[1])
            .await
            .expect("c")
            .expect("a")
            .balance,
        m("100")
    );
    assert!(matches!(
        store
            .decide_payout(999_999, Decision::MarkPaid, "x", t, None)
            .await,
        Err(PayoutError::NotFound)
    ));
    // Each payout and each decision became a notice for its affiliate (in-app, e-mail,
    // webhook through notifications.deliver), written with it: refused decisions wrote none.
    let all = notices_until(&store, "payout.", 9).await;
    let of = |u: UserId| -> Vec<String> {
        all.iter()
            .filter(|n| n.user_id == u)
            .map(|n| n.kind.clone())
            .collect()
    };
    assert_eq!(of(users[0]), ["payout.created", "payout.paid"]);
    assert_eq!(
        of(users[1]),
        ["payout.created", "payout.paid", "payout.returned"]
    );
    assert_eq!(of(users[2]), ["payout.created", "payout.rejected"]);
    assert_eq!(of(users[3]), ["payout.created", "payout.rejected"]);
    assert!(all
        .iter()
        .any(|n| n.user_id == users[0] && n.detail.contains("reference TX-1")));
    assert_affiliate_ledger_sound(&store).await;
}

pub async fn concurrent_transfers_move_the_balance_once(store: Arc<dyn Store>) {
    let a = affiliate(&store, "mover@x.io", NOW).await;
    adjust(&store, a.id, m("80"), "seed", NOW).await;
    let results = futures::future::join_all((0..50).map(|i| {
        let store = store.clone();
        async move {
            store
                .transfer_to_wallet(a.id, m("80"), &format!("req-{i}"), NOW + 1)
                .await
        }
    }))
    .await;
    let ok: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(ok.len(), 1, "exactly one full-balance transfer");
    for r in &results {
        if let Err(e) = r {
            assert!(
                matches!(e, PayoutError::InsufficientBalance { balance } if *balance == Money::ZERO),
                "{e}"
            );
        }
    }
    let (t, entry) = ok[0];
    assert!(!t.replayed);
    let entry = entry.clone().expect("wallet entry");
    assert_eq!(
        (entry.kind, entry.amount, entry.balance_after),
        (LedgerKind::AffiliateTransfer, m("80"), m("80"))
    );
    assert_eq!(balance(&store, a.id).await, m("80"));
    // The same request replayed returns the stored transfer and moves nothing.
    let (again, none) = store
        .transfer_to_wallet(a.id, m("80"), &t.request_id, NOW + 2)
        .await
        .expect("replay");
    assert_eq!(
        (again.replayed, again.amount, again.created_at, none),
        (true, m("80"), NOW + 1, None)
    );
    assert!(matches!(
        store
            .transfer_to_wallet(a.id, m("1"), &t.request_id, NOW + 2)
            .await,
        Err(PayoutError::RequestReused { amount }) if amount == m("80")
    ));
    // A refused transfer leaves no request behind: the same id works once money is there.
    adjust(&store, a.id, m("5"), "more", NOW + 3).await;
    assert!(matches!(
        store.transfer_to_wallet(a.id, m("6"), "late", NOW + 4).await,
        Err(PayoutError::InsufficientBalance { balance }) if balance == m("5")
    ));
    let (late, _) = store
        .transfer_to_wallet(a.id, m("5"), "late", NOW + 5)
        .await
        .expect("late transfer");
    assert_eq!((late.amount, late.replayed), (m("5"), false));
    let stranger = user(&store, "nobody@x.io", "0").await;
    assert!(matches!(
        store
            .transfer_to_wallet(stranger.id, m("1"), "x", NOW)
            .await,
        Err(PayoutError::NoAccount)
    ));
    assert_eq!(balance(&store, a.id).await, m("85"));
    assert_ledger_consistent(&store).await;
    assert_affiliate_ledger_sound(&store).await;
}
