//! Where users log in from and with which device cookie, for the self-referral checks at
//! sign-up (`docs/affiliates.md`), with their pruning; and the burst count of sign-ups per code
//! and address.

use super::*;

pub(super) async fn record_login(
    s: &SqlStore,
    user: UserId,
    ip: Option<&str>,
    device: Option<&str>,
    now: i64,
) -> StoreResult<()> {
    let mut tx = s.write.begin().await.db()?;
    for (table, column, value) in [
        ("login_addresses", "ip", ip),
        ("login_devices", "device", device),
    ] {
        let Some(value) = value else { continue };
        sqlx::query(&format!(
            "INSERT INTO {table} (user_id, {column}, at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, {column}) DO UPDATE SET at = excluded.at"
        ))
        .bind(user.0)
        .bind(value)
        .bind(now)
        .execute(&mut *tx)
        .await
        .db()?;
    }
    tx.commit().await.db()
}

/// The newest 50 values of `column` in `table` for `user` since `since`.
pub(super) async fn login_traces(
    s: &SqlStore,
    table: &str,
    column: &str,
    user: UserId,
    since: i64,
) -> StoreResult<Vec<String>> {
    sqlx::query_scalar(&format!(
        "SELECT {column} FROM {table} WHERE user_id = $1 AND at >= $2 ORDER BY at DESC LIMIT 50"
    ))
    .bind(user.0)
    .bind(since)
    .fetch_all(&s.read)
    .await
    .db()
}

pub(super) async fn prune_login_traces(s: &SqlStore, before: i64, batch: i64) -> StoreResult<u64> {
    let mut done = 0;
    for (table, column) in [("login_addresses", "ip"), ("login_devices", "device")] {
        done += sqlx::query(&format!(
            "DELETE FROM {table} WHERE (user_id, {column}) IN \
             (SELECT user_id, {column} FROM {table} WHERE at < $1 LIMIT $2)"
        ))
        .bind(before)
        .bind(batch.clamp(1, 100_000))
        .execute(&s.write)
        .await
        .db()?
        .rows_affected();
    }
    Ok(done)
}

pub(super) async fn referrals_from(
    s: &SqlStore,
    affiliate: UserId,
    ip: &str,
    since: i64,
) -> StoreResult<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM referrals WHERE affiliate_id = $1 AND ip = $2 AND created_at >= $3",
    )
    .bind(affiliate.0)
    .bind(ip)
    .bind(since)
    .fetch_one(&s.read)
    .await
    .db()
}
