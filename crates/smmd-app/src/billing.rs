//! Hourly billing's use cases (`docs/billing.md`): plans (create, edit, deactivate), the billing
//! settings and pause, renting a plan, the renter's cancel, admin actions on rentals (suspend,
//! unsuspend, terminate, change plan, credit hours), the plan preview, and collection of dues
//! after a deposit. Input is checked here (codes, prices, cap modes, entitlement settings,
//! ranges); the store's transaction does the rest with the rules of `smmd_domain::billing`.
//! Money is a decimal string in the panel currency on the way in, micro-units inside.

use smmd_domain::billing::charge::{charge_for_hours, hour_charge, CapMode, Month};
use smmd_domain::billing::entitlement::Entitlement;
use smmd_domain::{Money, UserId};
use smmd_store::{
    BillReport, BillingSettings, BillingSettingsPatch, HourStatus, NewPlan, Plan, PlanPatch,
    Rental, RentalAction,
};

use crate::audit::{self, Actor};
use crate::error::{ErrorCode, Refusal, UseCaseError};
use crate::App;

fn invalid(message: impl Into<String>) -> Refusal {
    Refusal::new(ErrorCode::InvalidPlan, message)
}

/// A plan as an admin enters it. `price` and `setup_fee` are decimals in the panel currency;
/// `cap_mode` `h730` / `h672` / `calendar` (default: the settings' default); `settings` the
/// entitlement's JSON object (default `{}`).
#[derive(Clone, Debug, Default)]
pub struct PlanInput {
    pub code: String,
    pub name: String,
    pub description: String,
    pub price: String,
    pub cap_mode: Option<String>,
    pub setup_fee: Option<String>,
    pub entitlement: String,
    pub settings: Option<String>,
}

/// Most characters in a plan's name and description.
pub const MAX_PLAN_NAME: usize = 100;
pub const MAX_PLAN_DESCRIPTION: usize = 1_000;

fn price(text: &str) -> Result<Money, Refusal> {
    let p = Money::parse(text.trim()).map_err(|e| invalid(format!("price: {e}")))?;
    if !p.is_positive() || p > Money::MAX_AMOUNT {
        return Err(invalid("The monthly price is above zero"));
    }
    Ok(p)
}

fn setup_fee(text: &str) -> Result<Money, Refusal> {
    let f = Money::parse(text.trim()).map_err(|e| invalid(format!("setup fee: {e}")))?;
    if f.is_negative() || f > Money::MAX_AMOUNT {
        return Err(invalid("The setup fee is zero or more"));
    }
    Ok(f)
}

fn cap_mode(text: &str) -> Result<CapMode, Refusal> {
    CapMode::parse(text.trim()).ok_or_else(|| {
        invalid(format!(
            "Unknown cap mode `{text}`: use h730, h672 or calendar"
        ))
    })
}

fn text_field(name: &str, text: &str, max: usize, required: bool) -> Result<String, Refusal> {
    let t = text.trim();
    if (required && t.is_empty()) || t.chars().count() > max || t.chars().any(char::is_control) {
        return Err(invalid(format!("The {name} has 1 to {max} characters")));
    }
    Ok(t.to_string())
}

fn code(text: &str) -> Result<String, Refusal> {
    let c = text.trim();
    let ok = (1..=40).contains(&c.len())
        && c.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !ok {
        return Err(invalid(
            "The code has 1 to 40 characters: lowercase letters, digits, - and _",
        ));
    }
    Ok(c.to_string())
}

/// Adds a plan, audited (`plan.create`).
///
/// Errors: `invalid_plan` (code, name, price ≤ 0, unknown cap mode, negative setup fee,
/// unknown entitlement, settings the entitlement refuses), `plan_code_taken`.
pub async fn create_plan(
    app: App<'_>,
    actor: &Actor,
    input: PlanInput,
) -> Result<Plan, UseCaseError> {
    let settings = app.store.billing_settings().await?;
    let entitlement = Entitlement::parse(input.entitlement.trim()).ok_or_else(|| {
        invalid(format!(
            "Unknown entitlement `{}`: use reseller_tier or child_panel",
            input.entitlement
        ))
    })?;
    let plan = NewPlan {
        code: code(&input.code)?,
        name: text_field("name", &input.name, MAX_PLAN_NAME, true)?,
        description: text_field(
            "description",
            &input.description,
            MAX_PLAN_DESCRIPTION,
            false,
        )?,
        price: price(&input.price)?,
        cap_mode: match &input.cap_mode {
            Some(m) => cap_mode(m)?,
            None => settings.default_cap_mode,
        },
        setup_fee: match &input.setup_fee {
            Some(f) => setup_fee(f)?,
            None => Money::ZERO,
        },
        entitlement: entitlement.as_str().to_string(),
        settings: entitlement
            .validate(input.settings.as_deref().unwrap_or("{}"))
            .map_err(invalid)?,
    };
    let now = app.now();
    let audit = actor.audit(
        "plan.create",
        format!("plan:{}", plan.code),
        format!(
            "{} at {} a month ({})",
            plan.name,
            plan.price,
            plan.cap_mode.as_str()
        ),
        now,
    );
    Ok(app.store.create_plan(&plan, now, Some(audit)).await?)
}

/// An edit of a plan; `None` leaves a field. Decimals as in [`PlanInput`].
#[derive(Clone, Debug, Default)]
pub struct PlanEdit {
    pub name: Option<String>,
    pub description: Option<String>,
    pub price: Option<String>,
    pub cap_mode: Option<String>,
    pub setup_fee: Option<String>,
    pub settings: Option<String>,
    pub active: Option<bool>,
}

/// Edits (or deactivates, `active: false`) a plan, audited (`plan.edit`). A new price or cap
/// mode reaches existing rentals from their next calendar month.
///
/// Errors: `invalid_plan`, `not_found`.
pub async fn edit_plan(
    app: App<'_>,
    actor: &Actor,
    id: i64,
    edit: PlanEdit,
) -> Result<Plan, UseCaseError> {
    let Some(current) = app
        .store
        .plans(true)
        .await?
        .into_iter()
        .find(|p| p.id == id)
    else {
        return Err(Refusal::new(ErrorCode::NotFound, "No such plan").into());
    };
    let entitlement = Entitlement::parse(&current.entitlement)
        .ok_or_else(|| invalid("The plan's entitlement is unknown to this build"))?;
    let patch = PlanPatch {
        name: edit
            .name
            .map(|n| text_field("name", &n, MAX_PLAN_NAME, true))
            .transpose()?,
        description: edit
            .description
            .map(|d| text_field("description", &d, MAX_PLAN_DESCRIPTION, false))
            .transpose()?,
        price: edit.price.as_deref().map(price).transpose()?,
        cap_mode: edit.cap_mode.as_deref().map(cap_mode).transpose()?,
        setup_fee: edit.setup_fee.as_deref().map(setup_fee).transpose()?,
        settings: edit
            .settings
            .as_deref()
            .map(|s| entitlement.validate(s).map_err(invalid))
            .transpose()?,
        active: edit.active,
    };
    let now = app.now();
    let detail = [
        patch.price.map(|p| format!("price {p}")),
        patch.cap_mode.map(|m| format!("cap {}", m.as_str())),
        patch.active.map(|a| format!("active {a}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ");
    let audit = actor.audit("plan.edit", format!("plan:{}", current.code), detail, now);
    Ok(app.store.update_plan(id, &patch, now, Some(audit)).await?)
}

/// What renting a plan costs, from the function that charges: the first hour, an hour at
/// most, a full month at most (the cap), and the sentence the confirmation states.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanPreview {
    pub plan_id: i64,
    /// This month's D for the plan's cap mode.
    pub divisor: i64,
    pub first_hour: Money,
    pub setup_fee: Money,
    /// `setup_fee + first_hour`: what the wallet needs to rent now.
    pub due_now: Money,
    /// What a whole calendar month costs at most (the plan's price).
    pub month_cap: Money,
    /// "billed hourly, 0.1/h, never more than 73 per calendar month".
    pub summary: String,
}

/// The preview of `plan` at `now` (epoch ms).
pub fn preview(plan: &Plan, settings: &BillingSettings, now: i64) -> PlanPreview {
    let month = Month::of(now);
    let divisor = match plan.cap_mode {
        CapMode::H730 => settings.hours_per_month,
        other => other.divisor(month),
    };
    let first_hour = hour_charge(plan.price, divisor, 1);
    PlanPreview {
        plan_id: plan.id,
        divisor,
        first_hour,
        setup_fee: plan.setup_fee,
        due_now: plan
            .setup_fee
            .checked_add(first_hour)
            .unwrap_or(Money::MAX_AMOUNT),
        month_cap: charge_for_hours(plan.price, divisor, divisor),
        summary: format!(
            "billed hourly, {first_hour}/h, never more than {} per calendar month",
            plan.price
        ),
    }
}

/// Rents `plan_id` for `user` now: the setup fee and the current hour are paid at once.
///
/// Errors: `billing_disabled`, `billing_paused`, `not_found`, `plan_inactive`,
/// `insufficient_funds` (the message says how much is needed), `invalid_panel` (a
/// `child_panel` plan).
pub async fn rent(app: App<'_>, user: UserId, plan_id: i64) -> Result<Rental, UseCaseError> {
    // A child panel is rented with its domain and admin (`crate::panels::rent`), never bare.
    let child_panel = app
        .store
        .plans(true)
        .await?
        .iter()
        .any(|p| p.id == plan_id && p.entitlement == Entitlement::ChildPanel.as_str());
    if child_panel {
        return Err(UseCaseError::refused(
            ErrorCode::InvalidPanel,
            "A child panel plan is rented with its domain and admin: use the Child panels page (POST /api/panels)",
        ));
    }
    Ok(app.store.rent(user, plan_id, app.now()).await?)
}

/// The renter cancels their rental now; the current hour stays paid.
///
/// Errors: `not_found` (no such rental of theirs), `invalid_rental_action` (already ended).
pub async fn cancel(app: App<'_>, user: UserId, rental: i64) -> Result<Rental, UseCaseError> {
    Ok(app
        .store
        .rental_action(
            rental,
            RentalAction::Cancel,
            Some(user),
            Some(user),
            app.now(),
            None,
        )
        .await?)
}

/// An admin's action on a rental, with a reason, audited (`rental.suspend`, …).
///
/// Errors: `reason_required`, `not_found`, `invalid_rental_action`, `plan_inactive`.
pub async fn admin_action(
    app: App<'_>,
    actor: &Actor,
    rental: i64,
    action: RentalAction,
    reason: &str,
) -> Result<Rental, UseCaseError> {
    let reason = audit::reason(reason)?;
    let name = match action {
        RentalAction::Cancel => "rental.cancel",
        RentalAction::Suspend => "rental.suspend",
        RentalAction::Unsuspend => "rental.unsuspend",
        RentalAction::Terminate => "rental.terminate",
        RentalAction::ChangePlan { .. } => "rental.change_plan",
    };
    let now = app.now();
    let audit = actor.audit(name, format!("rental:{rental}"), reason.to_string(), now);
    Ok(app
        .store
        .rental_action(rental, action, None, actor.id, now, Some(audit))
        .await?)
}

/// Most hours one credit names.
pub const MAX_CREDIT_HOURS: usize = 744;

/// Credits billed, paid hours of a rental (their starts, epoch ms), audited (`rental.credit`).
/// Crediting an hour twice changes nothing; returns what this call credited.
///
/// Errors: `reason_required`, `not_found`, `hour_not_billed`, `invalid_billing_settings` (no
/// hours, or more than 744).
pub async fn credit_hours(
    app: App<'_>,
    actor: &Actor,
    rental: i64,
    hours: &[i64],
    reason: &str,
) -> Result<Money, UseCaseError> {
    let reason = audit::reason(reason)?;
    if hours.is_empty() || hours.len() > MAX_CREDIT_HOURS {
        return Err(Refusal::new(
            ErrorCode::HourNotBilled,
            format!("Name 1 to {MAX_CREDIT_HOURS} billed hours"),
        )
        .into());
    }
    let now = app.now();
    let audit = actor.audit(
        "rental.credit",
        format!("rental:{rental}"),
        format!("{} hour(s): {reason}", hours.len()),
        now,
    );
    Ok(app
        .store
        .credit_rental_hours(rental, hours, actor.id, now, Some(audit))
        .await?)
}

/// The settings as an admin edits them; `None` leaves a field.
#[derive(Clone, Debug, Default)]
pub struct SettingsInput {
    pub enabled: Option<bool>,
    pub hours_per_month: Option<i64>,
    pub default_cap_mode: Option<String>,
    pub suspend_after_hours: Option<i64>,
    pub terminate_after_days: Option<i64>,
    pub warn_hours: Option<[i64; 2]>,
    pub statement_grace_days: Option<i64>,
    pub rent_reserve_hours: Option<i64>,
}

fn in_range(name: &str, v: Option<i64>, lo: i64, hi: i64) -> Result<Option<i64>, Refusal> {
    match v {
        Some(x) if !(lo..=hi).contains(&x) => Err(Refusal::new(
            ErrorCode::InvalidBillingSettings,
            format!("{name} is {lo} to {hi}"),
        )),
        other => Ok(other),
    }
}

/// Edits the billing settings, audited (`billing.settings`). Enabling billing lets plans be
/// rented; disabling it opens a pause whose hours are waived.
///
/// Errors: `invalid_billing_settings` (hours_per_month 672–744, suspend 1–8760 h, terminate
/// 1–3650 days, warnings 0–8760 h with the first above the second, statement grace 0–28 days,
/// reserve 0–8760 h, an unknown cap mode).
pub async fn update_settings(
    app: App<'_>,
    actor: &Actor,
    input: SettingsInput,
) -> Result<BillingSettings, UseCaseError> {
    let bad = |m: String| Refusal::new(ErrorCode::InvalidBillingSettings, m);
    let warn_hours = match input.warn_hours {
        Some([high, low]) if !(0..=8760).contains(&high) || !(0..=8760).contains(&low) => {
            return Err(bad("Runway warnings are 0 to 8760 hours".into()).into())
        }
        Some([high, low]) if high != 0 && low >= high => {
            return Err(bad("The first runway warning is above the second".into()).into())
        }
        other => other,
    };
    let patch = BillingSettingsPatch {
        enabled: input.enabled,
        hours_per_month: in_range("hours_per_month", input.hours_per_month, 672, 744)?,
        default_cap_mode: input
            .default_cap_mode
            .as_deref()
            .map(|m| cap_mode(m).map_err(|r| bad(r.message)))
            .transpose()?,
        suspend_after_hours: in_range("suspend_after_hours", input.suspend_after_hours, 1, 8760)?,
        terminate_after_days: in_range(
            "terminate_after_days",
            input.terminate_after_days,
            1,
            3650,
        )?,
        warn_hours,
        statement_grace_days: in_range("statement_grace_days", input.statement_grace_days, 0, 28)?,
        rent_reserve_hours: in_range("rent_reserve_hours", input.rent_reserve_hours, 0, 8760)?,
    };
    let now = app.now();
    let audit = actor.audit(
        "billing.settings",
        "billing".into(),
        format!("{patch:?}"),
        now,
    );
    Ok(app
        .store
        .update_billing_settings(&patch, actor.id, now, Some(audit))
        .await?)
}

/// Pauses billing (hours from now are waived, nothing can be rented) or resumes it, audited
/// (`billing.pause` / `billing.resume`) with a reason.
pub async fn set_pause(
    app: App<'_>,
    actor: &Actor,
    paused: bool,
    reason: &str,
) -> Result<BillingSettings, UseCaseError> {
    let reason = audit::reason(reason)?;
    let now = app.now();
    let action = if paused {
        "billing.pause"
    } else {
        "billing.resume"
    };
    let audit = actor.audit(action, "billing".into(), reason.to_string(), now);
    Ok(app
        .store
        .set_billing_pause(paused, reason, actor.id, now, Some(audit))
        .await?)
}

/// Around a deposit: `before` it, bills the user's rentals up to now with the balance as it
/// was (so the hours a punctual hourly run would have billed before the money arrived are
/// billed the same way, whatever the schedule); after it, collects their dues oldest first (a
/// rental whose dues are all paid returns to `active`). A failure is logged, never the
/// deposit's: the next `billing.rentals` run reconciles anyway.
pub async fn bill_user(app: App<'_>, user: UserId) -> BillReport {
    match app.store.bill_user(user, app.now()).await {
        Ok(report) => report,
        Err(e) => {
            tracing::warn!(user = user.0, error = %e, "billing a user's rentals failed");
            BillReport::default()
        }
    }
}

/// One rental as its renter (or an admin) sees it this month.
#[derive(Clone, Debug)]
pub struct RentalView {
    pub rental: Rental,
    pub plan: Option<Plan>,
    /// Billed this calendar month (paid and due, less credits), micro-units.
    pub month_cost: Money,
    /// Unpaid hours and their sum.
    pub hours_due: i64,
    pub dues: Money,
    /// What its next hour costs at most (`⌈P/D⌉`; zero past the month's cap or when it is not
    /// billed by the hour now).
    pub hourly: Money,
}

/// The customer's Billing page: what can be rented (with the preview), their rentals, their
/// hourly burn and runway, their dues.
#[derive(Clone, Debug)]
pub struct Overview {
    pub settings: BillingSettings,
    pub balance: Money,
    pub plans: Vec<(Plan, PlanPreview)>,
    pub rentals: Vec<RentalView>,
    /// Σ hourly of the live rentals.
    pub hourly: Money,
    /// Whole hours the balance pays at that rate (`None`: nothing is billed by the hour).
    pub runway_hours: Option<i64>,
    pub dues: Money,
}

/// A rental with its month's figures, as of `now`; `plans` and `settings` are read once by
/// the caller for a whole list.
pub async fn rental_view(
    app: App<'_>,
    rental: Rental,
    plans: &[Plan],
    settings: &BillingSettings,
) -> Result<RentalView, UseCaseError> {
    let now = app.now();
    let month = Month::of(now);
    let rows = app
        .store
        .rental_hours(rental.id, month.start_ms(), month.end_ms(), 800)
        .await?;
    let mut view = RentalView {
        plan: plans.iter().find(|p| p.id == rental.plan_id).cloned(),
        month_cost: Money::ZERO,
        hours_due: 0,
        dues: Money::ZERO,
        hourly: Money::ZERO,
        rental,
    };
    let mut charged_on_plan = 0;
    for h in &rows {
        if matches!(h.status, HourStatus::Paid | HourStatus::Due) {
            let net = h.amount.checked_sub(h.credited).unwrap_or(Money::ZERO);
            view.month_cost = view.month_cost.saturating_add(net);
        }
        if h.plan_id == view.rental.plan_id && h.k > 0 {
            charged_on_plan += 1;
        }
    }
    if view.rental.first_due_hour.is_some() {
        let dues = app
            .store
            .rental_hours(view.rental.id, 0, i64::MAX, 100_000)
            .await?;
        for h in dues.iter().filter(|h| h.status == HourStatus::Due) {
            view.hours_due += 1;
            view.dues = view.dues.saturating_add(h.amount);
        }
    }
    if let (Some(plan), true) = (&view.plan, view.rental.state.is_billable()) {
        let divisor = preview(plan, settings, now).divisor;
        view.hourly = hour_charge(plan.price, divisor, charged_on_plan + 1);
    }
    Ok(view)
}

/// The customer's billing overview at now.
pub async fn overview(app: App<'_>, user: UserId) -> Result<Overview, UseCaseError> {
    let now = app.now();
    let settings = app.store.billing_settings().await?;
    let all_plans = app.store.plans(true).await?;
    let balance = app
        .store
        .user(user)
        .await?
        .map(|u| u.balance)
        .unwrap_or(Money::ZERO);
    let mut rentals = Vec::new();
    for r in app.store.rentals(Some(user), None, 100).await? {
        rentals.push(rental_view(app, r, &all_plans, &settings).await?);
    }
    let hourly = rentals
        .iter()
        .fold(Money::ZERO, |sum, r| sum.saturating_add(r.hourly));
    let dues = rentals
        .iter()
        .fold(Money::ZERO, |sum, r| sum.saturating_add(r.dues));
    Ok(Overview {
        plans: all_plans
            .into_iter()
            .filter(|p| p.active)
            .map(|p| {
                let preview = preview(&p, &settings, now);
                (p, preview)
            })
            .collect(),
        runway_hours: smmd_domain::billing::rental::runway_hours(balance, hourly),
        settings,
        balance,
        rentals,
        hourly,
        dues,
    })
}
