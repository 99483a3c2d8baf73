//! Stuck-order ladder use cases (issue 20, rules in [`smmd_domain::stuck`]; the ladder itself
//! runs in `smmd-fulfil`'s status sync): an admin sets a service's or a category's "stuck after"
//! (percent of the average completion time) and floor, and reads the queue of active orders on
//! the ladder with their steps and the counts per provider.

use smmd_domain::stuck::{check_override, StuckOverride};
use smmd_domain::ServiceId;
use smmd_store::StuckQueue;

use crate::audit::Actor;
use crate::catalog::CategoryRef;
use crate::error::{ErrorCode, Refusal, UseCaseError};
use crate::App;

/// Most orders the queue lists.
pub const QUEUE_LIMIT: i64 = 500;

fn checked(rule: StuckOverride) -> Result<String, UseCaseError> {
    check_override(rule).map_err(|m| Refusal::new(ErrorCode::InvalidStuckRule, m))?;
    Ok(format!(
        "stuck after {}, floor {}",
        rule.after_pct
            .map_or("from the next level".to_string(), |p| format!("{p} %")),
        rule.floor_minutes
            .map_or("from the next level".to_string(), |m| format!("{m} min"))
    ))
}

/// Sets service `id`'s own "stuck after" (percent of the average time, 100–10000) and floor
/// (minutes, 1–129600); `None` = its category's. Audited as `service.stuck`.
///
/// Errors: `invalid_stuck_rule`, `not_found`; nothing written.
pub async fn set_service_stuck(
    app: App<'_>,
    actor: &Actor,
    id: ServiceId,
    rule: StuckOverride,
) -> Result<(), UseCaseError> {
    let detail = checked(rule)?;
    let audit = actor.audit(
        "service.stuck",
        format!("service:{}", id.0),
        detail,
        app.now(),
    );
    app.store.set_service_stuck(id, rule, Some(audit)).await?;
    Ok(())
}

/// Sets a category's own "stuck after" and floor (`None` = the panel default), audited as
/// `category.stuck`.
///
/// Errors: `invalid_stuck_rule`, `not_found`; nothing written.
pub async fn set_category_stuck(
    app: App<'_>,
    actor: &Actor,
    category: CategoryRef<'_>,
    rule: StuckOverride,
) -> Result<(), UseCaseError> {
    let detail = checked(rule)?;
    let c = crate::catalog::find_category(app, category).await?;
    let audit = actor.audit(
        "category.stuck",
        format!("category:{}", c.id.0),
        detail,
        app.now(),
    );
    app.store
        .set_category_stuck(&c.name, rule, Some(audit))
        .await?;
    Ok(())
}

/// The active orders on the ladder (oldest first, at most [`QUEUE_LIMIT`]) with every step
/// taken and what came of it, and how many per provider.
pub async fn queue(app: App<'_>) -> Result<StuckQueue, UseCaseError> {
    Ok(app.store.stuck_queue(QUEUE_LIMIT).await?)
}
