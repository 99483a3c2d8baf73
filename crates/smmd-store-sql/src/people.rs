//! The admin's view of customers on SQL ([`smmd_store::PeopleStore`], migration 0021):
//! account search, sessions, notes and custom rates.

use smmd_domain::custom_rate::{CustomPrice, CustomRate};
use smmd_domain::{Money, ServiceId, UserId};
use smmd_store::*;

use crate::queries::{like_pattern, Arg, Filter};
use crate::rows::{self, get, USER_COLS};
use crate::{SqlResultExt, SqlStore};

/// The columns of a [`UserSummary`]: the user's, when it was blocked, and its orders.
fn summary_cols() -> String {
    format!(
        "{}, u.blocked_at, \
         (SELECT COUNT(*) FROM orders o WHERE o.user_id = u.id) \
         + (SELECT COUNT(*) FROM orders_archive a WHERE a.user_id = u.id) AS order_count",
        rows::qualified(USER_COLS, "u")
    )
}

fn summary(row: &sqlx::any::AnyRow) -> StoreResult<UserSummary> {
    Ok(UserSummary {
        user: rows::user(row)?,
        blocked_at: get(row, "blocked_at")?,
        orders: get(row, "order_count")?,
    })
}

async fn search_users(s: &SqlStore, q: &UserQuery) -> StoreResult<Vec<UserSummary>> {
    let mut f = Filter::default();
    if let Some(text) = q.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        match text.trim_start_matches('#').parse::<i64>() {
            Ok(id) => f.push("u.id = ?", Arg::Int(id)),
            Err(_) => f.push(
                "u.email_lower LIKE ? ESCAPE '\\'",
                Arg::Text(like_pattern(text)),
            ),
        }
    }
    if let Some(role) = q.role {
        f.push("u.role = ?", Arg::Text(role.as_str().to_string()));
    }
    match q.blocked {
        Some(true) => f.raw("u.blocked_at IS NOT NULL"),
        Some(false) => f.raw("u.blocked_at IS NULL"),
        None => {}
    }
    f.int("u.id < ?", q.before.map(|b| b.0));
    let sql = format!(
        "SELECT {} FROM users u WHERE {} ORDER BY u.id DESC LIMIT {}",
        summary_cols(),
        f.sql(),
        q.limit.clamp(1, 500)
    );
    let rows = f.bind(sqlx::query(&sql)).fetch_all(&s.read).await.db()?;
    rows.iter().map(summary).collect()
}

async fn user_summary(s: &SqlStore, user: UserId) -> StoreResult<Option<UserSummary>> {
    let sql = format!("SELECT {} FROM users u WHERE u.id = $1", summary_cols());
    let row = sqlx::query(&sql)
        .bind(user.0)
        .fetch_optional(&s.read)
        .await
        .db()?;
    row.as_ref().map(summary).transpose()
}

async fn user_sessions(s: &SqlStore, user: UserId, now: i64) -> StoreResult<Vec<SessionSummary>> {
    let rows = sqlx::query(
        "SELECT created_at, expires_at, factor_at, pending_factor FROM sessions \
         WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at DESC LIMIT 100",
    )
    .bind(user.0)
    .bind(now)
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter()
        .map(|r| {
            Ok(SessionSummary {
                created_at: get(r, "created_at")?,
                expires_at: get(r, "expires_at")?,
                factor_at: get(r, "factor_at")?,
                pending_factor: get::<i64>(r, "pending_factor")? != 0,
            })
        })
        .collect()
}

async fn end_user_sessions(
    s: &SqlStore,
    user: UserId,
    audit: Option<NewAudit>,
) -> StoreResult<u64> {
    let mut tx = s.begin().await?;
    let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user.0)
        .execute(&mut *tx)
        .await
        .db()?;
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    s.commit(tx).await?;
    Ok(done.rows_affected())
}

fn note(r: &sqlx::any::AnyRow) -> StoreResult<UserNote> {
    Ok(UserNote {
        id: get(r, "id")?,
        user_id: UserId(get(r, "user_id")?),
        author: get(r, "author")?,
        body: get(r, "body")?,
        created_at: get(r, "created_at")?,
    })
}

async fn user_notes(s: &SqlStore, user: UserId, limit: i64) -> StoreResult<Vec<UserNote>> {
    let rows = sqlx::query(
        "SELECT id, user_id, author, body, created_at FROM user_notes \
         WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(user.0)
    .bind(limit.clamp(1, 500))
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(note).collect()
}

async fn add_user_note(s: &SqlStore, n: NewUserNote) -> StoreResult<UserNote> {
    let mut tx = s.begin().await?;
    let exists = sqlx::query("SELECT id FROM users WHERE id = $1")
        .bind(n.user_id.0)
        .fetch_optional(&mut *tx)
        .await
        .db()?;
    if exists.is_none() {
        return Err(StoreError::NotFound);
    }
    let row = sqlx::query(
        "INSERT INTO user_notes (user_id, author_id, author, body, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id, user_id, author, body, created_at",
    )
    .bind(n.user_id.0)
    .bind(n.author_id.map(|a| a.0))
    .bind(&n.author)
    .bind(&n.body)
    .bind(n.now)
    .fetch_one(&mut *tx)
    .await
    .db()?;
    let out = note(&row)?;
    s.commit(tx).await?;
    Ok(out)
}

/// The columns of a custom rate as [`custom_rate`] reads them.
pub(crate) const CUSTOM_RATE_COLS: &str = "service_id, discount_bp, fixed_rate";

/// A custom rate from its columns: `service_id` 0 is every service; a discount (basis points)
/// wins over a fixed rate (micro-units per 1000). Errors: a row with neither.
pub(crate) fn custom_rate(
    service: i64,
    discount: Option<i64>,
    fixed: Option<i64>,
) -> StoreResult<CustomRate> {
    let price = match (discount, fixed) {
        (Some(bp), _) => CustomPrice::Discount(bp),
        (None, Some(m)) => CustomPrice::Fixed(Money::from_micros(m)),
        (None, None) => {
            return Err(StoreError::Other(anyhow::anyhow!(
                "custom rate without a price"
            )))
        }
    };
    Ok(CustomRate {
        service_id: (service != 0).then_some(service),
        price,
    })
}

/// The statement of [`custom_rates`], built once (every `add` on SQLite runs it).
static CUSTOM_RATES: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!("SELECT {CUSTOM_RATE_COLS} FROM custom_rates WHERE user_id = $1 ORDER BY service_id")
});

async fn custom_rates(s: &SqlStore, user: UserId) -> StoreResult<Vec<CustomRate>> {
    let sql = CUSTOM_RATES.as_str();
    fn decode(r: &(impl crate::rows::Cols + ?Sized)) -> StoreResult<CustomRate> {
        custom_rate(
            get(r, "service_id")?,
            get(r, "discount_bp")?,
            get(r, "fixed_rate")?,
        )
    }
    if let Some(direct) = &s.direct {
        return direct.all(sql, &[&user.0], |r| decode(r));
    }
    let rows = sqlx::query(sql)
        .bind(user.0)
        .fetch_all(&s.read)
        .await
        .db()?;
    rows.iter().map(decode).collect()
}

async fn set_custom_rate(
    s: &SqlStore,
    user: UserId,
    service: Option<ServiceId>,
    price: Option<CustomPrice>,
    now: i64,
    audit: Option<NewAudit>,
) -> StoreResult<()> {
    let mut tx = s.begin().await?;
    let account = sqlx::query("SELECT id FROM users WHERE id = $1")
        .bind(user.0)
        .fetch_optional(&mut *tx)
        .await
        .db()?;
    if account.is_none() {
        return Err(StoreError::NotFound);
    }
    if let Some(svc) = service {
        let exists = sqlx::query("SELECT id FROM services WHERE id = $1")
            .bind(svc.0)
            .fetch_optional(&mut *tx)
            .await
            .db()?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
    }
    let service_id = service.map_or(0, |s| s.0);
    sqlx::query("DELETE FROM custom_rates WHERE user_id = $1 AND service_id = $2")
        .bind(user.0)
        .bind(service_id)
        .execute(&mut *tx)
        .await
        .db()?;
    if let Some(price) = price {
        let (bp, fixed) = match price {
            CustomPrice::Discount(bp) => (Some(bp), None),
            CustomPrice::Fixed(m) => (None, Some(m.micros())),
        };
        sqlx::query(
            "INSERT INTO custom_rates (user_id, service_id, discount_bp, fixed_rate, updated_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(user.0)
        .bind(service_id)
        .bind(bp)
        .bind(fixed)
        .bind(now)
        .execute(&mut *tx)
        .await
        .db()?;
    }
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    s.commit(tx).await
}

mod imp {
    use smmd_domain::custom_rate::{CustomPrice, CustomRate};
    use smmd_domain::{ServiceId, UserId};
    use smmd_store::*;

    use crate::SqlStore;

    #[async_trait::async_trait]
    impl PeopleStore for SqlStore {
        async fn search_users(&self, q: &UserQuery) -> StoreResult<Vec<UserSummary>> {
            super::search_users(self, q).await
        }

        async fn user_summary(&self, user: UserId) -> StoreResult<Option<UserSummary>> {
            super::user_summary(self, user).await
        }

        async fn user_sessions(&self, user: UserId, now: i64) -> StoreResult<Vec<SessionSummary>> {
            super::user_sessions(self, user, now).await
        }

        async fn end_user_sessions(
            &self,
            user: UserId,
            audit: Option<NewAudit>,
        ) -> StoreResult<u64> {
            super::end_user_sessions(self, user, audit).await
        }

        async fn user_notes(&self, user: UserId, limit: i64) -> StoreResult<Vec<UserNote>> {
            super::user_notes(self, user, limit).await
        }

        async fn add_user_note(&self, note: NewUserNote) -> StoreResult<UserNote> {
            super::add_user_note(self, note).await
        }

        async fn custom_rates(&self, user: UserId) -> StoreResult<Vec<CustomRate>> {
            super::custom_rates(self, user).await
        }

        async fn set_custom_rate(
            &self,
            user: UserId,
            service: Option<ServiceId>,
            price: Option<CustomPrice>,
            now: i64,
            audit: Option<NewAudit>,
        ) -> StoreResult<()> {
            super::set_custom_rate(self, user, service, price, now, audit).await
        }
    }
}
