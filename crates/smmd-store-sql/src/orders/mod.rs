//! Orders and refills: placement (debit + ledger + row in one transaction), guarded state
//! changes with their refunds, cancels and refill requests.
//!
//! Placement inserts the order first, then debits: the active-link rule is a partial unique index
//! (so a concurrent duplicate waits for, then fails against, the first one's commit), and the
//! conditional debit takes the user's row lock (PostgreSQL) only for the last two statements.

use smmd_domain::cancel::{check_cancel, CancelFacts, CancelPath};
use smmd_domain::order::{EventKind, OrderEvent};
use smmd_domain::refill::{check_refill, RefillError, RefillFacts, RefillStatus};
use smmd_domain::service::{OrderError, OrderSpec};
use smmd_domain::{OrderId, RefillId, UserId};
use smmd_store::*;
use sqlx::{Any, Transaction};

use crate::events;
use crate::queries::{archived_owner, first_of_both, Filter, ORDER_TABLES, REFILL_TABLES};
use crate::rows::{self, ORDER_COLS, REFILL_COLS};
use crate::wallet::{post, Posting};
use crate::{flag, Dialect, Row, SqlResultExt, SqlStore};

pub(crate) mod context;
pub(crate) mod group;
mod group_pg;
mod update;
use update::{apply_in_tx, lock_order};
pub(crate) use update::{apply_order_update, apply_order_updates};

/// `SELECT {cols} FROM {table}` of `user` (`$1`) among the ids in `$2` ([`Dialect::id_list`]).
fn owned_by_ids_sql(s: &SqlStore, cols: &str, table: &str) -> String {
    format!(
        "SELECT {cols} FROM {table} WHERE user_id = $1 AND {}",
        s.dialect.id_in("id", 2)
    )
}

/// Rows of `SELECT {cols} FROM {table} WHERE user_id = $1` whose `id` is among `ids`, from the
/// live and the archive table, each in one query with the list bound as a single parameter
/// ([`Dialect::id_in`]).
async fn owned_by_ids(
    s: &SqlStore,
    cols: &str,
    tables: [&str; 2],
    user: UserId,
    ids: &[i64],
) -> StoreResult<Vec<Row>> {
    let mut out = Vec::new();
    let list = s.dialect.id_list(ids.iter().copied());
    for table in tables {
        if out.len() == ids.len() {
            break;
        }
        let sql = owned_by_ids_sql(s, cols, table);
        out.extend(
            sqlx::query(&sql)
                .bind(user.0)
                .bind(&list)
                .fetch_all(&s.read)
                .await
                .db()?,
        );
    }
    Ok(out)
}

/// A new order's row, computed once from the service, the spec and the placement for either
/// writer (this module's transaction or the SQLite group commit, [`group`]): the values of
/// `$1`…`$19` of [`INSERT_ORDER`], in that order, except the reference (`$17`), which is built
/// from the id when the writer knows it ([`NewOrder::reference`]), and the id (`$20`).
#[derive(Debug)]
pub(crate) struct NewOrder {
    pub user: UserId,
    pub service: i64,
    pub link: Option<String>,
    /// The active-link rule's key: the link when the service enforces the rule.
    pub link_key: Option<String>,
    pub quantity: i64,
    pub runs: Option<i64>,
    pub interval: Option<i64>,
    pub total_quantity: i64,
    /// Micro-units of the panel's currency.
    pub charge: i64,
    /// The spec's extras as JSON.
    pub extras: String,
    pub guarantee_days: i64,
    pub refill: i64,
    pub cancel: i64,
    pub provider_id: Option<i64>,
    /// Epoch milliseconds (`created_at`, `updated_at`).
    pub now: i64,
    pub provider_service_id: Option<String>,
    /// The random part of the public reference (`smmd_domain::reference`).
    pub reference_tail: u16,
    pub request_key: Option<String>,
    pub panel: Option<i64>,
}

impl NewOrder {
    pub(crate) fn new(
        user: UserId,
        svc: &Service,
        spec: &OrderSpec,
        placement: Placement<'_>,
        now: i64,
    ) -> StoreResult<NewOrder> {
        Ok(NewOrder {
            user,
            service: svc.id.0,
            link: spec.link.clone(),
            link_key: spec.link.clone().filter(|_| svc.link_rule),
            quantity: spec.quantity,
            runs: spec.runs,
            interval: spec.interval,
            total_quantity: spec.total_quantity,
            charge: spec.charge.micros(),
            extras: serde_json::to_string(&spec.extras).map_err(|e| StoreError::Other(e.into()))?,
            guarantee_days: if svc.refill { svc.guarantee_days } else { 0 },
            refill: flag(svc.refill),
            cancel: flag(svc.cancel),
            provider_id: svc.provider_id.map(|p| p.0),
            now,
            provider_service_id: svc.provider_service_id.clone(),
            reference_tail: rand::random(),
            request_key: placement.request_key.map(str::to_string),
            panel: placement.panel,
        })
    }

    /// The public reference of this order once it has id `id`.
    pub(crate) fn reference(&self, id: OrderId) -> String {
        smmd_domain::reference::reference(id.0, self.reference_tail)
    }

    /// The order's charge as the ledger names it: `(key, reason)`.
    pub(crate) fn charge_entry(id: OrderId) -> (String, String) {
        (
            smmd_domain::ledger::charge_key(id.0),
            format!("Order #{id}"),
        )
    }
}

/// The order row of a placement, `$1`…`$19` from [`NewOrder`], the id `$20` taken before (so
/// that the reference `$17` can be built from it: [`next_order_id`]). The unique index
/// `orders_active_link` refuses a second active order for the same (user, service, link) when
/// the service enforces the rule (`link_key` set); `request_key` is unique per user.
pub(crate) const INSERT_ORDER: &str =
    "INSERT INTO orders (id, user_id, service_id, status, link, link_key, quantity, runs, interval_minutes, total_quantity, \
     charge, extras, guarantee_days, refill, cancel, provider_id, provider_service_id, created_at, updated_at, \
     reference, request_key, panel_id) \
     VALUES ($20, $1, $2, 'queued', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $16, $15, $15, $17, $18, $19)";

/// The id the next order inserted into `orders` gets on SQLite, read inside the writing
/// transaction before the insert (which then names it), so that its reference can be built
/// from it: one past `orders`' AUTOINCREMENT counter (the number SQLite would choose: the
/// counter is never below an id ever used, archived orders' included). The transaction
/// writes, and SQLite has one writer, so nobody takes it in between.
pub(crate) const NEXT_ORDER_ID_SQLITE: &str =
    "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'orders'), 0) + 1";

/// The next order's id on a transaction of either backend: [`NEXT_ORDER_ID_SQLITE`], or on
/// PostgreSQL the next value of the identity's sequence, taken for good (as an insert would;
/// a rolled-back placement leaves a gap either way).
async fn next_order_id(
    tx: &mut Transaction<'static, Any>,
    dialect: Dialect,
) -> StoreResult<OrderId> {
    let sql = match dialect {
        Dialect::Sqlite => NEXT_ORDER_ID_SQLITE,
        Dialect::Postgres => "SELECT nextval(pg_get_serial_sequence('orders', 'id'))",
    };
    let id: i64 = sqlx::query_scalar(sql).fetch_one(&mut **tx).await.db()?;
    Ok(OrderId(id))
}

/// A placement's store error as the caller sees it: a second active order for the link is the
/// customer's error (`ActiveOrderWithLink`), everything else the store's.
pub(crate) fn placement_error(e: StoreError) -> PlaceOrderError {
    match e {
        StoreError::Conflict("orders.active_link") => {
            PlaceOrderError::Rejected(OrderError::ActiveOrderWithLink)
        }
        e => PlaceOrderError::Store(e),
    }
}

/// Places an order: debit, ledger row, order row and its `placed` event in one transaction.
/// Concurrent placements share one transaction: on SQLite each in a savepoint of its own
/// ([`group`]), on PostgreSQL each in a subtransaction of one statement ([`group_pg`]). A
/// referred user's order, and every order of a store without a batch writer (a hosted
/// child's), takes [`place_alone`]. Errors: `AmountTooLarge` for a charge above
/// [`smmd_domain::Money::MAX_AMOUNT`], the refusals of the statements, the store's failures.
pub(crate) async fn place_order(
    s: &SqlStore,
    user: UserId,
    svc: &Service,
    spec: &OrderSpec,
    placement: Placement<'_>,
    now: i64,
) -> Result<Order, PlaceOrderError> {
    if spec.charge > smmd_domain::Money::MAX_AMOUNT {
        return Err(OrderError::AmountTooLarge.into());
    }
    let new = NewOrder::new(user, svc, spec, placement, now)?;
    let new = match s.placer() {
        Some(placer) => match placer.place(new).await? {
            group::Placed::Order(order) => return Ok(*order),
            group::Placed::Alone(new) => *new,
        },
        None => new,
    };
    place_alone(s, new, spec).await
}

/// Places one order in a transaction of its own.
async fn place_alone(
    s: &SqlStore,
    new: NewOrder,
    spec: &OrderSpec,
) -> Result<Order, PlaceOrderError> {
    let (user, now) = (new.user, new.now);
    let mut tx = s.begin().await?;
    // 1. The order row.
    let id = next_order_id(&mut tx, s.dialect).await?;
    let reference = new.reference(id);
    let row = sqlx::query(&format!("{INSERT_ORDER} RETURNING {ORDER_COLS}"))
        .bind(new.user.0)
        .bind(new.service)
        .bind(new.link)
        .bind(new.link_key)
        .bind(new.quantity)
        .bind(new.runs)
        .bind(new.interval)
        .bind(new.total_quantity)
        .bind(new.charge)
        .bind(new.extras)
        .bind(new.guarantee_days)
        .bind(new.refill)
        .bind(new.cancel)
        .bind(new.provider_id)
        .bind(new.now)
        .bind(new.provider_service_id)
        .bind(reference)
        .bind(new.request_key)
        .bind(new.panel)
        .bind(id.0)
        .fetch_one(&mut *tx)
        .await
        .map_err(crate::map_err)
        .map_err(placement_error)?;
    let placed = rows::order(&row)?;
    // 2. The conditional debit and its ledger row, last, so the user's row lock (PostgreSQL) is
    //    held only for the debit, one insert and the commit.
    if spec.charge.is_positive() {
        let (key, reason) = NewOrder::charge_entry(placed.id);
        let posted = post(
            &mut tx,
            s.dialect,
            Posting {
                user_id: user,
                amount: -spec.charge,
                kind: LedgerKind::Charge,
                key: &key,
                reason: &reason,
                order_id: Some(placed.id),
                actor_id: None,
                now,
            },
        )
        .await;
        match posted {
            Ok(_) => {}
            Err(BalanceError::InsufficientFunds) => {
                return Err(OrderError::InsufficientFunds.into())
            }
            Err(BalanceError::Store(e)) => return Err(e.into()),
            Err(other) => {
                return Err(StoreError::Other(anyhow::anyhow!("charging order: {other}")).into())
            }
        }
        // 3. A referred user's order earns its affiliate a commission, in this transaction.
        crate::affiliates::on_charge(
            &mut tx,
            placed.id,
            user,
            spec.charge,
            spec.link.as_deref(),
            now,
        )
        .await?;
    }
    events::record(
        &mut tx,
        events::Event {
            order_id: placed.id,
            user_id: user,
            kind: EventKind::Placed,
            status: placed.status.as_str(),
            amount: Some(-spec.charge),
            detail: "",
            now,
        },
    )
    .await?;
    s.commit(tx).await?;
    Ok(placed)
}

pub(crate) async fn import_orders(s: &SqlStore, list: &[ImportedOrder]) -> StoreResult<()> {
    let mut tx = s.begin().await?;
    for o in list {
        sqlx::query(
            "INSERT INTO orders (id, user_id, service_id, status, link, quantity, total_quantity, charge, start_count, \
             remains, created_at, updated_at, completed_at, refill, guarantee_days, cancel, reference) \
             SELECT $1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10, $10, $11, s.refill, s.guarantee_days, s.cancel, $12 \
             FROM services s WHERE s.id = $3",
        )
        .bind(o.id.0)
        .bind(o.user_id.0)
        .bind(o.service_id.0)
        .bind(o.status.as_str())
        .bind(o.link.as_deref())
        .bind(o.quantity)
        .bind(o.charge.micros())
        .bind(o.start_count)
        .bind(o.remains)
        .bind(o.created_at)
        .bind(o.completed_at)
        .bind(smmd_domain::reference::reference(o.id.0, rand::random()))
        .execute(&mut *tx)
        .await
        .db()?;
    }
    if s.dialect == Dialect::Postgres {
        // Explicit ids do not advance the identity sequence; move it past them.
        sqlx::query(
            "SELECT setval(pg_get_serial_sequence('orders', 'id'), (SELECT MAX(id) FROM orders))",
        )
        .execute(&mut *tx)
        .await
        .db()?;
    }
    s.commit(tx).await
}

/// An order by id, live or archived.
pub(crate) async fn order(s: &SqlStore, id: OrderId) -> StoreResult<Option<Order>> {
    let mut f = Filter::default();
    f.int("id = ?", Some(id.0));
    let row = first_of_both(s, ORDER_COLS, ORDER_TABLES, &f).await?;
    row.as_ref().map(rows::order).transpose()
}

/// The user's orders not Completed, Partial or Canceled (archived orders are all terminal).
pub(crate) async fn active_orders(s: &SqlStore, user: UserId) -> StoreResult<i64> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM orders WHERE user_id = $1 \
         AND status NOT IN ('completed', 'partial', 'canceled')",
    )
    .bind(user.0)
    .fetch_one(&s.read)
    .await
    .db()?;
    rows::get(&row, "n")
}

pub(crate) async fn orders_of_user(
    s: &SqlStore,
    user: UserId,
    ids: &[OrderId],
) -> StoreResult<Vec<Order>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = ids.iter().map(|i| i.0).collect();
    let rows = owned_by_ids(s, ORDER_COLS, ORDER_TABLES, user, &ids).await?;
    rows.iter().map(rows::order).collect()
}

/// The columns of an [`OrderStatusView`].
const STATUS_COLS: &str = "id, status, charge, refunded, start_count, remains, total_quantity";

/// One order's status row of a user, per table of [`ORDER_TABLES`]: built once, so the hot
/// `status` call formats no SQL (the statement cache is keyed by this text).
static STATUS_BY_ID: std::sync::LazyLock<[String; 2]> = std::sync::LazyLock::new(|| {
    ORDER_TABLES
        .map(|table| format!("SELECT {STATUS_COLS} FROM {table} WHERE user_id = $1 AND id = $2"))
});

pub(crate) async fn order_statuses(
    s: &SqlStore,
    user: UserId,
    ids: &[OrderId],
) -> StoreResult<Vec<OrderStatusView>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = ids.iter().map(|i| i.0).collect();
    let cols = STATUS_COLS;
    if let Some(direct) = &s.direct {
        // The same statements as `owned_by_ids`, on this thread; one order (the common
        // `status` call) by its key alone, without the list.
        // The list is built only for the multi form (a profile of one order's `status` put
        // building it for nothing at 1.3 % of the server's samples).
        let list = (ids.len() > 1).then(|| s.dialect.id_list(ids.iter().copied()));
        let mut out = Vec::with_capacity(ids.len());
        for (table, by_id) in ORDER_TABLES.iter().zip(STATUS_BY_ID.iter()) {
            if out.len() == ids.len() {
                break;
            }
            let found = match ids.as_slice() {
                [one] => direct.all(by_id, &[&user.0, one], |r| rows::status_view(r))?,
                _ => {
                    let sql = owned_by_ids_sql(s, cols, table);
                    direct.all(&sql, &[&user.0, &list], |r| rows::status_view(r))?
                }
            };
            out.extend(found);
        }
        return Ok(out);
    }
    let rows = owned_by_ids(s, cols, ORDER_TABLES, user, &ids).await?;
    rows.iter().map(rows::status_view).collect()
}

pub(crate) async fn cancel_orders(
    s: &SqlStore,
    user: UserId,
    ids: &[OrderId],
    now: i64,
    audit: Option<NewAudit>,
) -> StoreResult<Vec<(OrderId, Result<CancelOutcome, CancelError>)>> {
    let mut results = Vec::with_capacity(ids.len());
    for &id in ids {
        let mut tx = s.begin().await?;
        let result = match lock_order(s, &mut tx, id).await? {
            Some(o) if o.user_id == user => cancel_one(s, &mut tx, &o, now).await?,
            Some(_) => Err(CancelError::NotFound),
            // Only terminal orders are archived.
            None if archived_owner(&mut tx, id).await? == Some(user) => {
                Err(CancelError::AlreadyFinished)
            }
            None => Err(CancelError::NotFound),
        };
        if result.is_ok() {
            crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
            s.commit(tx).await?;
        }
        results.push((id, result));
    }
    Ok(results)
}

async fn cancel_one(
    s: &SqlStore,
    tx: &mut Transaction<'static, Any>,
    o: &Order,
    now: i64,
) -> StoreResult<Result<CancelOutcome, CancelError>> {
    let path = check_cancel(&CancelFacts {
        status: o.status,
        service_cancel: o.cancel,
        cancel_requested: o.cancel_requested,
    });
    match path {
        Err(refusal) => Ok(Err(refusal.into())),
        Ok(CancelPath::Local) => {
            let update = OrderUpdate::new(o.id, o.status, OrderEvent::LocalCancel, now);
            match apply_in_tx(s, tx, &update).await? {
                UpdateOutcome::Applied { refunded, .. } => {
                    Ok(Ok(CancelOutcome::Canceled { refunded }))
                }
                _ => Ok(Err(CancelError::AlreadyFinished)),
            }
        }
        Ok(CancelPath::Upstream) => {
            sqlx::query("UPDATE orders SET cancel_requested = 1, updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(o.id.0)
                .execute(&mut **tx)
                .await
                .db()?;
            events::record(
                tx,
                events::Event {
                    order_id: o.id,
                    user_id: o.user_id,
                    kind: EventKind::CancelRequested,
                    status: o.status.as_str(),
                    amount: None,
                    detail: "",
                    now,
                },
            )
            .await?;
            Ok(Ok(CancelOutcome::Requested))
        }
    }
}

pub(crate) async fn request_refill(
    s: &SqlStore,
    user: UserId,
    id: OrderId,
    now: i64,
) -> Result<Refill, RefillRequestError> {
    let mut tx = s.begin().await?;
    let o = match lock_order(s, &mut tx, id).await? {
        Some(o) if o.user_id == user => o,
        Some(_) => return Err(RefillRequestError::NotFound),
        // Only orders past their guarantee are archived.
        None if archived_owner(&mut tx, id).await? == Some(user) => {
            return Err(RefillError::GuaranteeExpired.into())
        }
        None => return Err(RefillRequestError::NotFound),
    };
    let active = sqlx::query("SELECT id FROM refills WHERE order_id = $1 AND status IN ('pending', 'in_progress') LIMIT 1")
        .bind(o.id.0)
        .fetch_optional(&mut *tx)
        .await
        .db()?;
    check_refill(&RefillFacts {
        service_refill: o.refill,
        status: o.status,
        completed_at_ms: o.completed_at,
        guarantee_days: o.guarantee_days,
        has_active_refill: active.is_some(),
        now_ms: now,
    })?;
    let row = sqlx::query(&format!(
        "INSERT INTO refills (order_id, user_id, status, created_at, updated_at) VALUES ($1, $2, 'pending', $3, $3) \
         RETURNING {REFILL_COLS}"
    ))
    .bind(o.id.0)
    .bind(user.0)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .map_err(crate::map_err)
    .map_err(|e| match e {
        StoreError::Conflict("refills.active") => RefillRequestError::Ineligible(RefillError::AlreadyActive),
        e => RefillRequestError::Store(e),
    })?;
    let refill = rows::refill(&row)?;
    events::record_refill(&mut tx, refill.id, now).await?;
    s.commit(tx).await?;
    Ok(refill)
}

pub(crate) async fn refills_of_user(
    s: &SqlStore,
    user: UserId,
    ids: &[RefillId],
) -> StoreResult<Vec<Refill>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = ids.iter().map(|i| i.0).collect();
    let rows = owned_by_ids(s, REFILL_COLS, REFILL_TABLES, user, &ids).await?;
    rows.iter().map(rows::refill).collect()
}

pub(crate) async fn set_refill_status(
    s: &SqlStore,
    id: RefillId,
    status: RefillStatus,
    now: i64,
) -> StoreResult<()> {
    let mut tx = s.begin().await?;
    let done = sqlx::query("UPDATE refills SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(status.as_str())
        .bind(now)
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .db()?;
    crate::found(&done)?;
    events::record_refill(&mut tx, id, now).await?;
    s.commit(tx).await
}

/// The [`OrderStore`](smmd_store::OrderStore) and [`RefillStore`](smmd_store::RefillStore) sections on SQL: each method is one of the functions above.
mod section {

    use smmd_domain::service::OrderSpec;
    use smmd_domain::{OrderId, ProviderId, RefillId, ServiceId, UserId};
    use smmd_store::*;

    use crate::SqlStore;

    #[async_trait::async_trait]
    impl OrderStore for SqlStore {
        async fn order_context(
            &self,
            user: UserId,
            service: ServiceId,
        ) -> StoreResult<OrderContext> {
            super::context::order_context(self, user, service).await
        }

        async fn place_order(
            &self,
            user: UserId,
            service: &Service,
            spec: &OrderSpec,
            placement: Placement<'_>,
            now: i64,
        ) -> Result<Order, PlaceOrderError> {
            crate::orders::place_order(self, user, service, spec, placement, now).await
        }

        async fn order_by_request_key(
            &self,
            user: UserId,
            key: &str,
        ) -> StoreResult<Option<Order>> {
            crate::queries::order_by_request_key(self, user, key).await
        }

        async fn order_by_reference(&self, reference: &str) -> StoreResult<Option<Order>> {
            crate::queries::order_by_reference(self, reference).await
        }

        async fn order_log(&self, order: OrderId) -> StoreResult<Vec<OrderLogEntry>> {
            crate::events::of_order(self, order).await
        }

        async fn search_orders(&self, query: &OrderQuery) -> StoreResult<Vec<Order>> {
            crate::queries::search_orders(self, query).await
        }

        async fn order_stats(&self, since: i64) -> StoreResult<OrderStats> {
            crate::queries::order_stats(self, since).await
        }

        async fn completion_samples(
            &self,
            service: ServiceId,
            limit: i64,
        ) -> StoreResult<Vec<CompletionSample>> {
            crate::queries::completion_samples(self, service, limit).await
        }

        async fn import_orders(&self, list: &[ImportedOrder]) -> StoreResult<()> {
            crate::orders::import_orders(self, list).await
        }

        async fn order(&self, id: OrderId) -> StoreResult<Option<Order>> {
            crate::orders::order(self, id).await
        }

        async fn active_orders(&self, user: UserId) -> StoreResult<i64> {
            crate::orders::active_orders(self, user).await
        }

        async fn orders_of_user(&self, user: UserId, ids: &[OrderId]) -> StoreResult<Vec<Order>> {
            crate::orders::orders_of_user(self, user, ids).await
        }

        async fn order_statuses(
            &self,
            user: UserId,
            ids: &[OrderId],
        ) -> StoreResult<Vec<OrderStatusView>> {
            crate::orders::order_statuses(self, user, ids).await
        }

        async fn apply_order_update(&self, update: OrderUpdate) -> StoreResult<UpdateOutcome> {
            crate::orders::apply_order_update(self, update).await
        }

        async fn apply_order_updates(
            &self,
            updates: &[OrderUpdate],
        ) -> StoreResult<Vec<UpdateOutcome>> {
            crate::orders::apply_order_updates(self, updates).await
        }

        async fn cancel_orders(
            &self,
            user: UserId,
            ids: &[OrderId],
            now: i64,
            audit: Option<NewAudit>,
        ) -> StoreResult<Vec<(OrderId, Result<CancelOutcome, CancelError>)>> {
            crate::orders::cancel_orders(self, user, ids, now, audit).await
        }
    }

    #[async_trait::async_trait]
    impl RefillStore for SqlStore {
        async fn search_refills(&self, query: &RefillQuery) -> StoreResult<Vec<Refill>> {
            crate::queries::search_refills(self, query).await
        }

        async fn request_refill(
            &self,
            user: UserId,
            order: OrderId,
            now: i64,
        ) -> Result<Refill, RefillRequestError> {
            crate::orders::request_refill(self, user, order, now).await
        }

        async fn refills_of_user(
            &self,
            user: UserId,
            ids: &[RefillId],
        ) -> StoreResult<Vec<Refill>> {
            crate::orders::refills_of_user(self, user, ids).await
        }

        async fn set_refill_status(
            &self,
            id: RefillId,
            status: smmd_domain::refill::RefillStatus,
            now: i64,
        ) -> StoreResult<()> {
            crate::orders::set_refill_status(self, id, status, now).await
        }

        async fn claim_refills(
            &self,
            limit: i64,
            stale_before: i64,
            now: i64,
        ) -> StoreResult<Vec<RefillTask>> {
            crate::fulfil::claim_refills(self, limit, stale_before, now).await
        }

        async fn record_refill_sent(
            &self,
            id: RefillId,
            answer: Result<String, String>,
            now: i64,
        ) -> StoreResult<()> {
            crate::fulfil::record_refill_sent(self, id, answer, now).await
        }

        async fn refill_sync_targets(
            &self,
            provider: ProviderId,
            limit: i64,
        ) -> StoreResult<Vec<RefillSyncTarget>> {
            crate::fulfil::refill_sync_targets(self, provider, limit).await
        }

        async fn apply_refill_sync(
            &self,
            changes: &[(RefillId, smmd_domain::refill::RefillStatus)],
            checked: &[RefillId],
            now: i64,
        ) -> StoreResult<u64> {
            crate::fulfil::apply_refill_sync(self, changes, checked, now).await
        }

        async fn auto_refill_candidates(&self, now: i64, limit: i64) -> StoreResult<Vec<Order>> {
            crate::fulfil::auto_refill_candidates(self, now, limit).await
        }
    }
}
