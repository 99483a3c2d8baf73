//! `smmd affiliates …`: the operator's commands for the affiliate program — settings, payout
//! runs (list, show, run now), payouts (list, the pending CSV, decisions, a mark-paid file),
//! payout methods to review, commissions in review, holds and the report. Each is a thin
//! adapter over `smmd_app::payouts` (as the admin REST routes are), acting as `cli` in the
//! audit log.

use clap::Subcommand;
use smmd_app::payouts;
use smmd_app::{Actor, App};
use smmd_domain::affiliate::calendar::{Date, RunKind};
use smmd_domain::affiliate::PayoutStatus;
use smmd_domain::UserId;
use smmd_store::PayoutQuery;

#[derive(Subcommand)]
pub enum AffiliatesCommand {
    /// The program settings.
    Settings,
    /// Payout runs, newest first.
    Runs,
    /// One run with every candidate and its reason.
    Run { id: i64 },
    /// Start today's run of a kind by hand (`all` or `returning`).
    RunNow {
        #[arg(long, default_value = "all")]
        kind: String,
    },
    /// Payouts newest first (`--status pending` for the ones to pay).
    Payouts {
        #[arg(long)]
        status: Option<String>,
    },
    /// Decide a payout: mark_paid (text = reference), reject_return, reject_fraud (with
    /// --confirm), returned (text = reason).
    Decide {
        id: i64,
        decision: String,
        text: String,
        #[arg(long)]
        confirm: bool,
    },
    /// Mark payouts paid from a CSV file with `payout_id` and `reference` columns.
    MarkPaid { file: std::path::PathBuf },
    /// Payout methods waiting for approval (whole details).
    Methods,
    /// Approve (or `--reject` with a reason) a submitted payout method.
    Method {
        id: i64,
        #[arg(long)]
        reject: bool,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Put an affiliate's payouts on hold, or `--off` to lift it.
    Hold {
        user: i64,
        #[arg(long)]
        off: bool,
    },
    /// Earned, approved, clawed back, paid, forfeited over the last `--days` days.
    Report {
        #[arg(long, default_value_t = 30)]
        days: i64,
    },
}

/// Runs one `smmd affiliates` command.
pub async fn run(app: App<'_>, cmd: AffiliatesCommand) -> anyhow::Result<()> {
    let actor = Actor::cli();
    match cmd {
        AffiliatesCommand::Settings => {
            let s = app.store.affiliate_settings().await?;
            println!("{}", serde_json::to_string_pretty(&s)?);
        }
        AffiliatesCommand::Runs => {
            for r in app.store.payout_runs(None, 100).await? {
                println!(
                    "#{:<5} {} {:<9} {:<7} {:>5} candidates {:>5} payouts {:>14} {}",
                    r.id,
                    r.date,
                    r.kind.as_str(),
                    r.status.as_str(),
                    r.candidates,
                    r.payouts,
                    r.total,
                    r.note
                );
            }
        }
        AffiliatesCommand::Run { id } => {
            let (r, items) = payouts::run_with_items(app, id).await?;
            println!(
                "run #{} {} {} {}",
                r.id,
                r.date,
                r.kind.as_str(),
                r.status.as_str()
            );
            for i in items {
                println!(
                    "user {:<8} {:>14} {}",
                    i.user_id.0,
                    i.amount,
                    i.reason
                        .unwrap_or_else(|| format!("paid (payout #{})", i.payout_id.unwrap_or(0)))
                );
            }
        }
        AffiliatesCommand::RunNow { kind } => {
            let kind =
                RunKind::parse(&kind).ok_or_else(|| anyhow::anyhow!("kind is all or returning"))?;
            let r = payouts::run_now(app, &actor, kind).await?;
            println!(
                "{} payouts, {} (checked {}, skipped {})",
                r.created, r.paid_out, r.checked, r.skipped
            );
        }
        AffiliatesCommand::Payouts { status } => {
            let status = match status {
                None => None,
                Some(s) => Some(
                    PayoutStatus::parse(&s).ok_or_else(|| anyhow::anyhow!("unknown status {s}"))?,
                ),
            };
            let list = app
                .store
                .payouts(&PayoutQuery {
                    status,
                    limit: 1_000,
                    ..PayoutQuery::default()
                })
                .await?;
            for p in list {
                println!(
                    "#{:<6} user {:<7} {:>14} {:<18} {} {} {}",
                    p.id,
                    p.user_id.0,
                    p.amount,
                    p.status.as_str(),
                    p.method_kind,
                    p.masked(),
                    Date::of(p.created_at)
                );
            }
        }
        AffiliatesCommand::Decide {
            id,
            decision,
            text,
            confirm,
        } => {
            let d = payouts::parse_decision(&decision).ok_or_else(|| {
                anyhow::anyhow!("decision is mark_paid, reject_return, reject_fraud or returned")
            })?;
            let p = payouts::decide_payout(app, &actor, id, d, &text, confirm).await?;
            println!("payout #{} is {}", p.id, p.status.as_str());
        }
        AffiliatesCommand::MarkPaid { file } => {
            let text = std::fs::read_to_string(&file)?;
            let rows = payouts::parse_mark_paid(&text)?;
            let done = payouts::mark_paid_bulk(app, &actor, &rows).await?;
            println!("paid {:?}; already paid {:?}", done.paid, done.unchanged);
        }
        AffiliatesCommand::Methods => {
            for m in app.store.submitted_payout_methods(500).await? {
                println!(
                    "#{:<6} user {:<7} {:<12} {}",
                    m.id,
                    m.user_id.0,
                    m.kind.as_str(),
                    m.details
                );
            }
        }
        AffiliatesCommand::Method { id, reject, reason } => {
            let m = payouts::decide_method(app, &actor, id, !reject, &reason).await?;
            println!("method #{} is {}", m.id, m.status.as_str());
        }
        AffiliatesCommand::Hold { user, off } => {
            payouts::set_hold(app, &actor, UserId(user), !off).await?;
            println!(
                "user {user}: payouts {}",
                if off { "released" } else { "on hold" }
            );
        }
        AffiliatesCommand::Report { days } => {
            let to = app.now() + 1;
            let r = payouts::report(app, to - days.max(1) * 86_400_000, to).await?;
            println!("earned:       {}", r.earned);
            println!("approved:     {}", r.approved);
            println!("clawed back:  {}", r.clawed_back);
            println!("paid:         {}", r.paid);
            println!("forfeited:    {}", r.forfeited);
            println!("transferred:  {}", r.transferred);
            println!("pending now:  {}", r.pending_now);
            println!("balances now: {}", r.balances_now);
            println!("net revenue:  {}", r.net_revenue);
            match r.cost_bp {
                Some(bp) => println!(
                    "program cost: {}.{:02} % of net revenue",
                    bp / 100,
                    bp % 100
                ),
                None => println!("program cost: - (no revenue)"),
            }
        }
    }
    Ok(())
}
