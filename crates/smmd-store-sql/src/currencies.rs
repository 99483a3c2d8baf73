//! Exchange rates and display currencies on SQL ([`smmd_store::CurrencyStore`], migration
//! 0025): one `currency_rates` row per currency; `users.display_currency`.

use smmd_domain::UserId;
use smmd_store::*;

use crate::rows::get;
use crate::{found, SqlResultExt, SqlStore};

async fn currency_rates(s: &SqlStore) -> StoreResult<Vec<CurrencyRate>> {
    let rows = sqlx::query(
        "SELECT currency, per_eur, pinned, feed_per_eur, feed_date, updated_at FROM currency_rates \
         ORDER BY currency",
    )
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter()
        .map(|row| {
            Ok(CurrencyRate {
                currency: get(row, "currency")?,
                per_eur: get(row, "per_eur")?,
                pinned: get::<i64>(row, "pinned")? != 0,
                feed_per_eur: get(row, "feed_per_eur")?,
                feed_date: get(row, "feed_date")?,
                updated_at: get(row, "updated_at")?,
            })
        })
        .collect()
}

async fn save_feed_rates(
    s: &SqlStore,
    rates: &[FeedRate],
    feed_date: &str,
    now: i64,
) -> StoreResult<u64> {
    let mut tx = s.begin().await?;
    let mut changed = 0;
    for (currency, per_eur) in rates {
        let done = sqlx::query(
            "INSERT INTO currency_rates \
             (currency, per_eur, pinned, feed_per_eur, feed_date, updated_at) \
             VALUES ($1, $2, 0, $3, $4, $5) ON CONFLICT (currency) DO UPDATE SET \
             per_eur = CASE WHEN currency_rates.pinned = 1 THEN currency_rates.per_eur \
             ELSE excluded.per_eur END, feed_per_eur = excluded.feed_per_eur, \
             feed_date = excluded.feed_date, updated_at = excluded.updated_at",
        )
        .bind(currency)
        .bind(per_eur)
        .bind(per_eur)
        .bind(feed_date)
        .bind(now)
        .execute(&mut *tx)
        .await
        .db()?;
        changed += done.rows_affected();
    }
    s.commit(tx).await?;
    Ok(changed)
}

async fn pin_rate(
    s: &SqlStore,
    currency: &str,
    per_eur: i64,
    now: i64,
    audit: Option<NewAudit>,
) -> StoreResult<()> {
    let mut tx = s.begin().await?;
    sqlx::query(
        "INSERT INTO currency_rates (currency, per_eur, pinned, updated_at) \
         VALUES ($1, $2, 1, $3) ON CONFLICT (currency) DO UPDATE SET \
         per_eur = excluded.per_eur, pinned = 1, updated_at = excluded.updated_at",
    )
    .bind(currency)
    .bind(per_eur)
    .bind(now)
    .execute(&mut *tx)
    .await
    .db()?;
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    s.commit(tx).await
}

async fn unpin_rate(
    s: &SqlStore,
    currency: &str,
    now: i64,
    audit: Option<NewAudit>,
) -> StoreResult<bool> {
    let mut tx = s.begin().await?;
    // Back to the feed's last rate, or gone when the feed never quoted the currency.
    let back = sqlx::query(
        "UPDATE currency_rates SET pinned = 0, per_eur = feed_per_eur, updated_at = $2 \
         WHERE currency = $1 AND pinned = 1 AND feed_per_eur IS NOT NULL",
    )
    .bind(currency)
    .bind(now)
    .execute(&mut *tx)
    .await
    .db()?;
    let gone = sqlx::query(
        "DELETE FROM currency_rates WHERE currency = $1 AND pinned = 1 AND feed_per_eur IS NULL",
    )
    .bind(currency)
    .execute(&mut *tx)
    .await
    .db()?;
    if back.rows_affected() + gone.rows_affected() == 0 {
        return Ok(false);
    }
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    s.commit(tx).await?;
    Ok(true)
}

async fn set_display_currency(
    s: &SqlStore,
    user: UserId,
    currency: Option<&str>,
) -> StoreResult<()> {
    let mut tx = s.begin().await?;
    let done = sqlx::query("UPDATE users SET display_currency = $1 WHERE id = $2")
        .bind(currency)
        .bind(user.0)
        .execute(&mut *tx)
        .await
        .db()?;
    found(&done)?;
    s.commit(tx).await
}

mod imp {
    use super::*;

    #[async_trait::async_trait]
    impl CurrencyStore for SqlStore {
        async fn currency_rates(&self) -> StoreResult<Vec<CurrencyRate>> {
            super::currency_rates(self).await
        }

        async fn save_feed_rates(
            &self,
            rates: &[FeedRate],
            feed_date: &str,
            now: i64,
        ) -> StoreResult<u64> {
            super::save_feed_rates(self, rates, feed_date, now).await
        }

        async fn pin_rate(
            &self,
            currency: &str,
            per_eur: i64,
            now: i64,
            audit: Option<NewAudit>,
        ) -> StoreResult<()> {
            super::pin_rate(self, currency, per_eur, now, audit).await
        }

        async fn unpin_rate(
            &self,
            currency: &str,
            now: i64,
            audit: Option<NewAudit>,
        ) -> StoreResult<bool> {
            super::unpin_rate(self, currency, now, audit).await
        }

        async fn set_display_currency(
            &self,
            user: UserId,
            currency: Option<&str>,
        ) -> StoreResult<()> {
            super::set_display_currency(self, user, currency).await
        }
    }
}
