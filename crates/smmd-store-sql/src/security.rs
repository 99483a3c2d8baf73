//! Account security on SQL ([`smmd_store::SecurityStore`], migration 0020): tokens sent by
//! e-mail with their outbox row, two-factor secrets, accepted steps and backup codes, and the
//! sessions' second factor.

use smmd_domain::UserId;
use smmd_store::*;

use crate::rows::get;
use crate::{found, SqlResultExt, SqlStore};

/// One hour in ms: the window of [`NewAccountToken::per_hour`].
const HOUR_MS: i64 = 3_600_000;

async fn issue_account_token(s: &SqlStore, t: NewAccountToken) -> StoreResult<TokenIssue> {
    let mut tx = s.begin().await?;
    let Some(row) =
        sqlx::query("SELECT id, email FROM users WHERE email_lower = $1 AND blocked_at IS NULL")
            .bind(t.email.trim().to_lowercase())
            .fetch_optional(&mut *tx)
            .await
            .db()?
    else {
        return Ok(TokenIssue::NoAccount);
    };
    let user = UserId(get(&row, "id")?);
    let email: String = get(&row, "email")?;
    let recent: i64 = get(
        &sqlx::query(
            "SELECT COUNT(*) AS n FROM account_tokens \
             WHERE user_id = $1 AND purpose = $2 AND created_at > $3",
        )
        .bind(user.0)
        .bind(t.purpose.as_str())
        .bind(t.now - HOUR_MS)
        .fetch_one(&mut *tx)
        .await
        .db()?,
        "n",
    )?;
    if recent >= t.per_hour {
        return Ok(TokenIssue::Throttled(user));
    }
    sqlx::query(
        "UPDATE account_tokens SET used_at = $1 \
         WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL",
    )
    .bind(t.now)
    .bind(user.0)
    .bind(t.purpose.as_str())
    .execute(&mut *tx)
    .await
    .db()?;
    let id: i64 = get(
        &sqlx::query(
            "INSERT INTO account_tokens (user_id, purpose, token_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(user.0)
        .bind(t.purpose.as_str())
        .bind(&t.token_hash)
        .bind(t.now)
        .bind(t.expires_at)
        .fetch_one(&mut *tx)
        .await
        .db()?,
        "id",
    )?;
    sqlx::query(
        "INSERT INTO deliveries (notification_id, user_id, channel, target, subject, payload, \
         next_at, created_at) VALUES ($1, $2, 'email', $3, $4, $5, $6, $6)",
    )
    .bind(-id)
    .bind(user.0)
    .bind(&email)
    .bind(&t.subject)
    .bind(&t.text)
    .bind(t.now)
    .execute(&mut *tx)
    .await
    .db()?;
    s.commit(tx).await?;
    Ok(TokenIssue::Issued(user))
}

/// Marks the token of this hash and purpose used if it is good at `now`; its account.
async fn use_token(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    token_hash: &str,
    purpose: TokenPurpose,
    now: i64,
) -> StoreResult<Option<UserId>> {
    let row = sqlx::query(
        "UPDATE account_tokens SET used_at = $1 \
         WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1 \
         RETURNING user_id",
    )
    .bind(now)
    .bind(token_hash)
    .bind(purpose.as_str())
    .fetch_optional(&mut **tx)
    .await
    .db()?;
    row.map(|r| get(&r, "user_id").map(UserId)).transpose()
}

async fn redeem_reset_token(
    s: &SqlStore,
    token_hash: &str,
    password_hash: &str,
    now: i64,
) -> StoreResult<Option<UserId>> {
    let mut tx = s.begin().await?;
    let Some(user) = use_token(&mut tx, token_hash, TokenPurpose::Reset, now).await? else {
        return Ok(None);
    };
    sqlx::query(
        "UPDATE users SET password_hash = $1, email_pending_since = NULL \
         WHERE id = $2 AND blocked_at IS NULL",
    )
    .bind(password_hash)
    .bind(user.0)
    .execute(&mut *tx)
    .await
    .db()
    .and_then(|d| found(&d))
    .or_else(|e| match e {
        // Blocked since the mail was sent: the token is spent and nothing else changes.
        StoreError::NotFound => Ok(()),
        e => Err(e),
    })?;
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user.0)
        .execute(&mut *tx)
        .await
        .db()?;
    s.commit(tx).await?;
    Ok(Some(user))
}

async fn redeem_verify_token(
    s: &SqlStore,
    token_hash: &str,
    now: i64,
) -> StoreResult<Option<UserId>> {
    let mut tx = s.begin().await?;
    let Some(user) = use_token(&mut tx, token_hash, TokenPurpose::Verify, now).await? else {
        return Ok(None);
    };
    sqlx::query("UPDATE users SET email_pending_since = NULL WHERE id = $1")
        .bind(user.0)
        .execute(&mut *tx)
        .await
        .db()?;
    s.commit(tx).await?;
    Ok(Some(user))
}

async fn set_email_pending(s: &SqlStore, user: UserId, since: Option<i64>) -> StoreResult<()> {
    let done = sqlx::query("UPDATE users SET email_pending_since = $1 WHERE id = $2")
        .bind(since)
        .bind(user.0)
        .execute(&s.write)
        .await
        .db()?;
    found(&done)
}

async fn two_factor(s: &SqlStore, user: UserId) -> StoreResult<TwoFactor> {
    let row = sqlx::query(
        "SELECT totp_secret, totp_last_step, \
         (SELECT COUNT(*) FROM backup_codes b WHERE b.user_id = u.id AND b.used_at IS NULL) AS left_codes \
         FROM users u WHERE id = $1",
    )
    .bind(user.0)
    .fetch_optional(&s.read)
    .await
    .db()?
    .ok_or(StoreError::NotFound)?;
    Ok(TwoFactor {
        secret: get(&row, "totp_secret")?,
        last_step: get(&row, "totp_last_step")?,
        backup_codes_left: get(&row, "left_codes")?,
    })
}

async fn insert_codes(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    user: UserId,
    hashes: &[String],
) -> StoreResult<()> {
    sqlx::query("DELETE FROM backup_codes WHERE user_id = $1")
        .bind(user.0)
        .execute(&mut **tx)
        .await
        .db()?;
    for h in hashes {
        sqlx::query("INSERT INTO backup_codes (user_id, code_hash) VALUES ($1, $2)")
            .bind(user.0)
            .bind(h)
            .execute(&mut **tx)
            .await
            .db()?;
    }
    Ok(())
}

async fn enable_two_factor(
    s: &SqlStore,
    user: UserId,
    secret: &str,
    step: i64,
    hashes: &[String],
    audit: Option<NewAudit>,
) -> StoreResult<bool> {
    let mut tx = s.begin().await?;
    let done = sqlx::query(
        "UPDATE users SET totp_secret = $1, totp_last_step = $2 \
         WHERE id = $3 AND totp_secret IS NULL",
    )
    .bind(secret)
    .bind(step)
    .bind(user.0)
    .execute(&mut *tx)
    .await
    .db()?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    insert_codes(&mut tx, user, hashes).await?;
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    s.commit(tx).await?;
    Ok(true)
}

async fn disable_two_factor(
    s: &SqlStore,
    user: UserId,
    audit: Option<NewAudit>,
) -> StoreResult<()> {
    let mut tx = s.begin().await?;
    let done = sqlx::query("UPDATE users SET totp_secret = NULL WHERE id = $1")
        .bind(user.0)
        .execute(&mut *tx)
        .await
        .db()?;
    found(&done)?;
    insert_codes(&mut tx, user, &[]).await?;
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    s.commit(tx).await
}

async fn replace_backup_codes(
    s: &SqlStore,
    user: UserId,
    hashes: &[String],
    audit: Option<NewAudit>,
) -> StoreResult<()> {
    let mut tx = s.begin().await?;
    insert_codes(&mut tx, user, hashes).await?;
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    s.commit(tx).await
}

async fn accept_totp_step(s: &SqlStore, user: UserId, step: i64) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE users SET totp_last_step = $1 \
         WHERE id = $2 AND totp_secret IS NOT NULL AND totp_last_step < $1",
    )
    .bind(step)
    .bind(user.0)
    .execute(&s.write)
    .await
    .db()?;
    Ok(done.rows_affected() == 1)
}

async fn use_backup_code(s: &SqlStore, user: UserId, hash: &str, now: i64) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE backup_codes SET used_at = $1 \
         WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
    )
    .bind(now)
    .bind(user.0)
    .bind(hash)
    .execute(&s.write)
    .await
    .db()?;
    Ok(done.rows_affected() == 1)
}

async fn pass_second_factor(s: &SqlStore, token_hash: &str, now: i64) -> StoreResult<()> {
    let done =
        sqlx::query("UPDATE sessions SET pending_factor = 0, factor_at = $1 WHERE token_hash = $2")
            .bind(now)
            .bind(token_hash)
            .execute(&s.write)
            .await
            .db()?;
    found(&done)
}

async fn prune_account_tokens(s: &SqlStore, before: i64, batch: i64) -> StoreResult<u64> {
    let done = sqlx::query(
        "DELETE FROM account_tokens WHERE id IN \
         (SELECT id FROM account_tokens WHERE expires_at < $1 LIMIT $2)",
    )
    .bind(before)
    .bind(batch.clamp(1, 100_000))
    .execute(&s.write)
    .await
    .db()?;
    Ok(done.rows_affected())
}

mod imp {
    use smmd_domain::UserId;
    use smmd_store::*;

    use crate::SqlStore;

    #[async_trait::async_trait]
    impl SecurityStore for SqlStore {
        async fn issue_account_token(&self, t: NewAccountToken) -> StoreResult<TokenIssue> {
            super::issue_account_token(self, t).await
        }

        async fn redeem_reset_token(
            &self,
            token_hash: &str,
            password_hash: &str,
            now: i64,
        ) -> StoreResult<Option<UserId>> {
            super::redeem_reset_token(self, token_hash, password_hash, now).await
        }

        async fn redeem_verify_token(
            &self,
            token_hash: &str,
            now: i64,
        ) -> StoreResult<Option<UserId>> {
            super::redeem_verify_token(self, token_hash, now).await
        }

        async fn set_email_pending(&self, user: UserId, since: Option<i64>) -> StoreResult<()> {
            super::set_email_pending(self, user, since).await
        }

        async fn two_factor(&self, user: UserId) -> StoreResult<TwoFactor> {
            super::two_factor(self, user).await
        }

        async fn enable_two_factor(
            &self,
            user: UserId,
            secret: &str,
            step: i64,
            backup_code_hashes: &[String],
            audit: Option<NewAudit>,
        ) -> StoreResult<bool> {
            super::enable_two_factor(self, user, secret, step, backup_code_hashes, audit).await
        }

        async fn disable_two_factor(
            &self,
            user: UserId,
            audit: Option<NewAudit>,
        ) -> StoreResult<()> {
            super::disable_two_factor(self, user, audit).await
        }

        async fn replace_backup_codes(
            &self,
            user: UserId,
            hashes: &[String],
            audit: Option<NewAudit>,
        ) -> StoreResult<()> {
            super::replace_backup_codes(self, user, hashes, audit).await
        }

        async fn accept_totp_step(&self, user: UserId, step: i64) -> StoreResult<bool> {
            super::accept_totp_step(self, user, step).await
        }

        async fn use_backup_code(
            &self,
            user: UserId,
            code_hash: &str,
            now: i64,
        ) -> StoreResult<bool> {
            super::use_backup_code(self, user, code_hash, now).await
        }

        async fn pass_second_factor(&self, token_hash: &str, now: i64) -> StoreResult<()> {
            super::pass_second_factor(self, token_hash, now).await
        }

        async fn prune_account_tokens(&self, before: i64, batch: i64) -> StoreResult<u64> {
            super::prune_account_tokens(self, before, batch).await
        }
    }
}
