//! `smmd billing …`: the operator's commands for hourly billing — status, a run now, enabling
//! or pausing it, plans and rentals. Each is a thin adapter over `smmd_app::billing` (as the
//! admin REST routes are), acting as `cli` in the audit log.

use clap::Subcommand;
use smmd_app::billing::{self, PlanEdit, PlanInput, SettingsInput};
use smmd_app::{Actor, App};
use smmd_domain::billing::lag_hours;
use smmd_domain::UserId;
use smmd_store::RentalAction;

#[derive(Subcommand)]
pub enum BillingCommand {
    /// Watermark, lag, rentals by state, dues and pause.
    Status,
    /// Reconcile every rental to now (what the `billing.rentals` job does).
    Run,
    /// Turn hourly billing on (plans can be rented) or off (hours are waived).
    Enable,
    Disable,
    /// Pause billing: hours from now are waived, nothing can be rented.
    Pause {
        #[arg(long)]
        reason: String,
    },
    /// Resume billing after a pause.
    Resume {
        #[arg(long)]
        reason: String,
    },
    /// Plans: list, add, deactivate.
    #[command(subcommand)]
    Plans(PlanCommand),
    /// Rentals: list, suspend, unsuspend, terminate.
    #[command(subcommand)]
    Rentals(RentalCommand),
}

#[derive(Subcommand)]
pub enum PlanCommand {
    /// Every plan with its price and cap.
    List,
    /// Add a plan.
    Add {
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        /// Monthly price, panel currency (e.g. 25.00).
        #[arg(long)]
        price: String,
        /// h730 (default), h672 or calendar.
        #[arg(long)]
        cap_mode: Option<String>,
        #[arg(long)]
        setup_fee: Option<String>,
        #[arg(long, default_value = "reseller_tier")]
        entitlement: String,
        /// The entitlement's settings, JSON (e.g. '{"discount_bp": 1000}').
        #[arg(long)]
        settings: Option<String>,
    },
    /// Stop offering a plan; its rentals go on.
    Deactivate { id: i64 },
}

#[derive(Subcommand)]
pub enum RentalCommand {
    /// Rentals newest first.
    List {
        /// active, grace, suspended, terminated or canceled.
        #[arg(long)]
        state: Option<String>,
        #[arg(long)]
        user: Option<i64>,
    },
    Suspend {
        id: i64,
        #[arg(long)]
        reason: String,
    },
    Unsuspend {
        id: i64,
        #[arg(long)]
        reason: String,
    },
    Terminate {
        id: i64,
        #[arg(long)]
        reason: String,
    },
}

/// Runs one `smmd billing` command.
pub async fn run(app: App<'_>, cmd: BillingCommand) -> anyhow::Result<()> {
    let actor = Actor::cli();
    let set = |enabled: bool| SettingsInput {
        enabled: Some(enabled),
        ..Default::default()
    };
    match cmd {
        BillingCommand::Status => {
            let s = app.store.billing_status().await?;
            let lag = lag_hours(s.settings.watermark, app.now());
            println!("enabled:   {}", s.settings.enabled);
            match &s.settings.pause {
                Some(p) => println!("paused:    since {} ({})", crate::time(p.from_at), p.reason),
                None => println!("paused:    no"),
            }
            println!(
                "watermark: {} (lag {} h)",
                s.settings.watermark.map_or("never".into(), crate::time),
                lag.map_or("-".into(), |l| l.to_string())
            );
            for (state, n) in &s.rentals_by_state {
                println!("rentals:   {state} {n}");
            }
            println!(
                "dues:      {} hour(s), {} (oldest {})",
                s.hours_due,
                s.due_total,
                s.oldest_due_hour.map_or("-".into(), crate::time)
            );
        }
        BillingCommand::Run => {
            let (r, failed) = smmd_jobs::billing::run(app.store, app.now())
                .await
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            println!(
                "rentals {}, hours paid {}, due {}, waived {}, amount {}, collected {} ({} h), \
                 suspended {}, terminated {}, resumed {}, failed {failed}",
                r.rentals,
                r.hours_paid,
                r.hours_due,
                r.hours_waived,
                r.amount,
                r.collected,
                r.hours_collected,
                r.suspended,
                r.terminated,
                r.resumed
            );
        }
        BillingCommand::Enable => {
            billing::update_settings(app, &actor, set(true)).await?;
            println!("hourly billing enabled");
        }
        BillingCommand::Disable => {
            billing::update_settings(app, &actor, set(false)).await?;
            println!("hourly billing disabled: hours from now are waived");
        }
        BillingCommand::Pause { reason } => {
            billing::set_pause(app, &actor, true, &reason).await?;
            println!("billing paused");
        }
        BillingCommand::Resume { reason } => {
            billing::set_pause(app, &actor, false, &reason).await?;
            println!("billing resumed");
        }
        BillingCommand::Plans(PlanCommand::List) => {
            let settings = app.store.billing_settings().await?;
            println!("ID  CODE              PRICE/MONTH   CAP       SETUP     ACTIVE  PREVIEW");
            for p in app.store.plans(true).await? {
                let preview = billing::preview(&p, &settings, app.now());
                println!(
                    "{:<3} {:<17} {:<13} {:<9} {:<9} {:<7} {}",
                    p.id,
                    p.code,
                    p.price.to_string(),
                    p.cap_mode.as_str(),
                    p.setup_fee.to_string(),
                    if p.active { "yes" } else { "no" },
                    preview.summary
                );
            }
        }
        BillingCommand::Plans(PlanCommand::Add {
            code,
            name,
            price,
            cap_mode,
            setup_fee,
            entitlement,
            settings,
        }) => {
            let p = billing::create_plan(
                app,
                &actor,
                PlanInput {
                    code,
                    name,
                    description: String::new(),
                    price,
                    cap_mode,
                    setup_fee,
                    entitlement,
                    settings,
                },
            )
            .await?;
            println!("plan {} added: {} ({})", p.id, p.code, p.price);
        }
        BillingCommand::Plans(PlanCommand::Deactivate { id }) => {
            let edit = PlanEdit {
                active: Some(false),
                ..Default::default()
            };
            let p = billing::edit_plan(app, &actor, id, edit).await?;
            println!("plan {} ({}) is no longer offered", p.id, p.code);
        }
        BillingCommand::Rentals(cmd) => rentals(app, &actor, cmd).await?,
    }
    Ok(())
}

async fn rentals(app: App<'_>, actor: &Actor, cmd: RentalCommand) -> anyhow::Result<()> {
    let (id, action, reason) = match cmd {
        RentalCommand::List { state, user } => {
            println!("ID    USER  PLAN  STATE                  SINCE                    DUE FROM");
            for r in app
                .store
                .rentals(user.map(UserId), state.as_deref(), 200)
                .await?
            {
                let state = match r.state.reason() {
                    Some(reason) => format!("{} ({})", r.state.as_str(), reason.as_str()),
                    None => r.state.as_str().to_string(),
                };
                println!(
                    "{:<5} {:<5} {:<5} {:<22} {:<24} {}",
                    r.id,
                    r.user_id.0,
                    r.plan_id,
                    state,
                    crate::time(r.state_at),
                    r.first_due_hour.map_or("-".into(), crate::time)
                );
            }
            return Ok(());
        }
        RentalCommand::Suspend { id, reason } => (id, RentalAction::Suspend, reason),
        RentalCommand::Unsuspend { id, reason } => (id, RentalAction::Unsuspend, reason),
        RentalCommand::Terminate { id, reason } => (id, RentalAction::Terminate, reason),
    };
    let r = billing::admin_action(app, actor, id, action, &reason).await?;
    println!("rental {} is {}", r.id, r.state.as_str());
    Ok(())
}
