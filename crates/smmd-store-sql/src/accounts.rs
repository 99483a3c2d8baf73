//! Accounts and sessions. E-mails are unique case-insensitively (`email_lower`); API keys and
//! session tokens are stored only as hex SHA-256 hashes computed by the caller.

use smmd_domain::UserId;
use smmd_store::{NewUser, SessionRecord, StoreResult, User, UserCredentials};
use sqlx::Row as _;

use crate::rows::{self, USER_COLS};
use crate::{SqlResultExt, SqlStore};

pub(crate) async fn create_user(s: &SqlStore, u: NewUser) -> StoreResult<User> {
    let mut tx = s.begin().await?;
    let row = sqlx::query(&format!(
        "INSERT INTO users (email, email_lower, password_hash, role, api_key_hash, balance, created_at) \
         VALUES ($1, $2, $3, $4, $5, 0, $6) RETURNING {USER_COLS}"
    ))
    .bind(u.email.trim())
    .bind(u.email.trim().to_lowercase())
    .bind(&u.password_hash)
    .bind(u.role.as_str())
    .bind(u.api_key_hash.as_deref())
    .bind(u.now)
    .fetch_one(&mut *tx)
    .await
    .db()?;
    let user = rows::user(&row)?;
    if let Some(r) = &u.referral {
        crate::affiliates::insert_referral(&mut tx, user.id, r, u.now).await?;
    }
    let mut audit = u.audit;
    if let Some(a) = audit.as_mut() {
        a.subject = format!("user:{}", user.id);
    }
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    s.commit(tx).await?;
    Ok(user)
}

/// One account's balance column: the whole of what API v2 `balance` reads.
pub(crate) async fn balance(s: &SqlStore, id: UserId) -> StoreResult<Option<smmd_domain::Money>> {
    const SQL: &str = "SELECT balance FROM users WHERE id = $1";
    if let Some(direct) = &s.direct {
        return direct.optional(SQL, &[&id.0], |r| rows::money(r, "balance"));
    }
    let row = sqlx::query(SQL)
        .bind(id.0)
        .fetch_optional(&s.read)
        .await
        .db()?;
    row.as_ref().map(|r| rows::money(r, "balance")).transpose()
}

pub(crate) async fn user(s: &SqlStore, id: UserId) -> StoreResult<Option<User>> {
    let sql = format!("SELECT {USER_COLS} FROM users WHERE id = $1");
    if let Some(direct) = &s.direct {
        return direct.optional(&sql, &[&id.0], |r| rows::user(r));
    }
    let row = sqlx::query(&sql)
        .bind(id.0)
        .fetch_optional(&s.read)
        .await
        .db()?;
    row.as_ref().map(rows::user).transpose()
}

pub(crate) async fn user_credentials(
    s: &SqlStore,
    email: &str,
) -> StoreResult<Option<UserCredentials>> {
    let row = sqlx::query(&format!(
        "SELECT {USER_COLS}, password_hash FROM users WHERE email_lower = $1 AND blocked_at IS NULL"
    ))
    .bind(email.trim().to_lowercase())
    .fetch_optional(&s.read)
    .await
    .db()?;
    match row {
        None => Ok(None),
        Some(r) => Ok(Some(UserCredentials {
            user: rows::user(&r)?,
            password_hash: r.try_get("password_hash").db()?,
        })),
    }
}

pub(crate) async fn user_by_api_key(s: &SqlStore, key_hash: &str) -> StoreResult<Option<User>> {
    let row = sqlx::query(&format!(
        "SELECT {USER_COLS} FROM users WHERE api_key_hash = $1 AND blocked_at IS NULL"
    ))
    .bind(key_hash)
    .fetch_optional(&s.read)
    .await
    .db()?;
    row.as_ref().map(rows::user).transpose()
}

/// Sets one text column of a user; `column` is always a literal from this crate.
pub(crate) async fn set_field(
    s: &SqlStore,
    id: UserId,
    column: &'static str,
    value: &str,
) -> StoreResult<()> {
    let done = sqlx::query(&format!("UPDATE users SET {column} = $1 WHERE id = $2"))
        .bind(value)
        .bind(id.0)
        .execute(&s.write)
        .await
        .db()?;
    crate::found(&done)?;
    Ok(())
}

/// Sets the password hash and ends the user's other sessions, in one transaction.
pub(crate) async fn set_password(
    s: &SqlStore,
    id: UserId,
    password_hash: &str,
    keep_session: Option<&str>,
) -> StoreResult<()> {
    let mut tx = s.begin().await?;
    let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(password_hash)
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .db()?;
    crate::found(&done)?;
    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
        .bind(id.0)
        .bind(keep_session.unwrap_or(""))
        .execute(&mut *tx)
        .await
        .db()?;
    s.commit(tx).await
}

/// Sets the role, with its audit line in the same transaction.
pub(crate) async fn set_role(
    s: &SqlStore,
    id: UserId,
    role: smmd_store::Role,
    audit: Option<smmd_store::NewAudit>,
) -> StoreResult<()> {
    let mut tx = s.begin().await?;
    let done = sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
        .bind(role.as_str())
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .db()?;
    crate::found(&done)?;
    // Every session of the user ends: the next request signs in again under the new role.
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .db()?;
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    s.commit(tx).await
}

pub(crate) async fn list_users(
    s: &SqlStore,
    after: Option<UserId>,
    limit: i64,
) -> StoreResult<Vec<User>> {
    let rows = sqlx::query(&format!(
        "SELECT {USER_COLS} FROM users WHERE id > $1 ORDER BY id LIMIT $2"
    ))
    .bind(after.map_or(0, |u| u.0))
    .bind(limit.clamp(1, 1000))
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(rows::user).collect()
}

pub(crate) async fn create_session(
    s: &SqlStore,
    token_hash: &str,
    user: UserId,
    csrf: &str,
    now: i64,
    expires_at: i64,
    pending_factor: bool,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at, pending_factor) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(token_hash)
        .bind(user.0)
        .bind(csrf)
        .bind(now)
        .bind(expires_at)
        .bind(i64::from(pending_factor))
        .execute(&s.write)
        .await
        .db()?;
    Ok(())
}

pub(crate) async fn session(
    s: &SqlStore,
    token_hash: &str,
    now: i64,
) -> StoreResult<Option<SessionRecord>> {
    let cols = crate::rows::qualified(USER_COLS, "u");
    let row = sqlx::query(&format!(
        "SELECT {cols}, s.csrf, s.pending_factor, s.factor_at FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > $2"
    ))
    .bind(token_hash)
    .bind(now)
    .fetch_optional(&s.read)
    .await
    .db()?;
    match row {
        None => Ok(None),
        Some(r) => Ok(Some(SessionRecord {
            user: rows::user(&r)?,
            csrf: rows::get(&r, "csrf")?,
            pending_factor: rows::get::<i64>(&r, "pending_factor")? != 0,
            factor_at: rows::get(&r, "factor_at")?,
        })),
    }
}

pub(crate) async fn delete_session(s: &SqlStore, token_hash: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(&s.write)
        .await
        .db()?;
    Ok(())
}

/// The [`AccountStore`](smmd_store::AccountStore) section on SQL: each method is one of the functions above.
mod section {

    use smmd_domain::UserId;
    use smmd_store::*;

    use crate::SqlStore;

    #[async_trait::async_trait]
    impl AccountStore for SqlStore {
        async fn create_user(&self, user: NewUser) -> StoreResult<User> {
            crate::accounts::create_user(self, user).await
        }

        async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
            crate::accounts::user(self, id).await
        }

        async fn balance(&self, id: UserId) -> StoreResult<Option<smmd_domain::Money>> {
            crate::accounts::balance(self, id).await
        }

        async fn user_credentials(&self, email: &str) -> StoreResult<Option<UserCredentials>> {
            crate::accounts::user_credentials(self, email).await
        }

        async fn user_by_api_key(&self, key_hash: &str) -> StoreResult<Option<User>> {
            crate::accounts::user_by_api_key(self, key_hash).await
        }

        async fn set_api_key(&self, user: UserId, key_hash: &str) -> StoreResult<()> {
            crate::accounts::set_field(self, user, "api_key_hash", key_hash).await
        }

        async fn set_password(
            &self,
            user: UserId,
            password_hash: &str,
            keep_session: Option<&str>,
        ) -> StoreResult<()> {
            crate::accounts::set_password(self, user, password_hash, keep_session).await
        }

        async fn set_role(
            &self,
            user: UserId,
            role: Role,
            audit: Option<NewAudit>,
        ) -> StoreResult<()> {
            crate::accounts::set_role(self, user, role, audit).await
        }

        async fn list_users(&self, after: Option<UserId>, limit: i64) -> StoreResult<Vec<User>> {
            crate::accounts::list_users(self, after, limit).await
        }

        async fn create_session(
            &self,
            token_hash: &str,
            user: UserId,
            csrf: &str,
            now: i64,
            expires_at: i64,
            pending_factor: bool,
        ) -> StoreResult<()> {
            crate::accounts::create_session(
                self,
                token_hash,
                user,
                csrf,
                now,
                expires_at,
                pending_factor,
            )
            .await
        }

        async fn session(&self, token_hash: &str, now: i64) -> StoreResult<Option<SessionRecord>> {
            crate::accounts::session(self, token_hash, now).await
        }

        async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
            crate::accounts::delete_session(self, token_hash).await
        }

        async fn prune_sessions(&self, now: i64, batch: i64) -> StoreResult<u64> {
            crate::schedules::prune_sessions(self, now, batch).await
        }
    }
}
