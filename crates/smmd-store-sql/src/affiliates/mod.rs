//! The affiliate program on SQL (issue 17, `docs/affiliates.md`): settings, affiliate accounts,
//! referrals, commissions and the affiliate ledger (migration 0016).
//!
//! Two hooks run inside other use cases' transactions: [`on_charge`] in an order's placement
//! (a referred user's order creates its commission) and [`on_refund`] beside every refund
//! ledger entry (the commission is lowered before approval, clawed back after). [`post`] is
//! the only code that changes an affiliate balance, always with its ledger row.

use smmd_domain::affiliate::commission::{self, CommissionStatus, OnRefund};
use smmd_domain::affiliate::eligibility::ReturningRule;
use smmd_domain::affiliate::referral::Flag;
use smmd_domain::affiliate::{EntryKind, Settings};
use smmd_domain::clock::DAY_MS;
use smmd_domain::{Money, OrderId, UserId};
use smmd_store::{
    AffiliateAccount, AffiliateEntry, AffiliateMismatch, Commission, NewAudit, NewReferral,
    Referral, ReferralStatus, ReleaseReport, StoreError, StoreResult,
};
use sqlx::{Any, AnyConnection, Transaction};

use crate::rows::{get, money};
use crate::{flag, Row, SqlResultExt, SqlStore};

mod logins;
mod release;

use logins::*;
use release::*;

const ACCOUNT_COLS: &str = "user_id, code, balance, on_hold, clicks, created_at";
pub(crate) const COMMISSION_COLS: &str =
    "id, order_id, affiliate_id, referred_id, rate_bp, charge, refunded, \
     amount, status, credited, clawed, approve_at, approved_at, created_at";
const ENTRY_COLS: &str =
    "id, user_id, amount, balance_after, kind, idem_key, reason, commission_id, created_at";
pub(crate) const REFERRAL_COLS: &str = "user_id, affiliate_id, status, flags, ip, created_at";

fn bad(what: &str, value: &str) -> StoreError {
    StoreError::Other(anyhow::anyhow!("unknown {what} `{value}` in the database"))
}

fn account_row(row: &Row) -> StoreResult<AffiliateAccount> {
    Ok(AffiliateAccount {
        user_id: UserId(get(row, "user_id")?),
        code: get(row, "code")?,
        balance: money(row, "balance")?,
        on_hold: get::<i64>(row, "on_hold")? != 0,
        clicks: get(row, "clicks")?,
        created_at: get(row, "created_at")?,
    })
}

pub(crate) fn commission_row(row: &Row) -> StoreResult<Commission> {
    let status: String = get(row, "status")?;
    Ok(Commission {
        id: get(row, "id")?,
        order_id: OrderId(get(row, "order_id")?),
        affiliate_id: UserId(get(row, "affiliate_id")?),
        referred_id: UserId(get(row, "referred_id")?),
        rate_bp: get(row, "rate_bp")?,
        charge: money(row, "charge")?,
        refunded: money(row, "refunded")?,
        amount: money(row, "amount")?,
        status: CommissionStatus::parse(&status)
            .ok_or_else(|| bad("commission status", &status))?,
        credited: money(row, "credited")?,
        clawed: money(row, "clawed")?,
        approve_at: get(row, "approve_at")?,
        approved_at: get(row, "approved_at")?,
        created_at: get(row, "created_at")?,
    })
}

fn entry_row(row: &Row) -> StoreResult<AffiliateEntry> {
    let kind: String = get(row, "kind")?;
    Ok(AffiliateEntry {
        id: get(row, "id")?,
        user_id: UserId(get(row, "user_id")?),
        amount: money(row, "amount")?,
        balance_after: money(row, "balance_after")?,
        kind: EntryKind::parse(&kind).ok_or_else(|| bad("affiliate ledger kind", &kind))?,
        key: get(row, "idem_key")?,
        reason: get(row, "reason")?,
        commission_id: get(row, "commission_id")?,
        created_at: get(row, "created_at")?,
    })
}

pub(crate) fn referral_row(row: &Row) -> StoreResult<Referral> {
    let status: String = get(row, "status")?;
    let flags: String = get(row, "flags")?;
    Ok(Referral {
        user_id: UserId(get(row, "user_id")?),
        affiliate_id: UserId(get(row, "affiliate_id")?),
        status: ReferralStatus::parse(&status).ok_or_else(|| bad("referral status", &status))?,
        flags: flags
            .split(',')
            .filter(|f| !f.is_empty())
            .map(str::to_string)
            .collect(),
        ip: get(row, "ip")?,
        created_at: get(row, "created_at")?,
    })
}

pub(crate) async fn settings_in(conn: &mut AnyConnection) -> StoreResult<Settings> {
    let row = sqlx::query("SELECT * FROM affiliate_settings WHERE id = 1")
        .fetch_one(&mut *conn)
        .await
        .db()?;
    let rule: String = get(&row, "returning_rule")?;
    Ok(Settings {
        enabled: get::<i64>(&row, "enabled")? != 0,
        rate_bp: get(&row, "rate_bp")?,
        first_months: get(&row, "first_months")?,
        hold_days: get(&row, "hold_days")?,
        clawback_days: get(&row, "clawback_days")?,
        min_payout: money(&row, "min_payout")?,
        attribution_days: get(&row, "attribution_days")?,
        cool_down_days: get(&row, "cool_down_days")?,
        returning_rule: ReturningRule::parse(&rule).ok_or_else(|| bad("returning rule", &rule))?,
    })
}

async fn settings(s: &SqlStore) -> StoreResult<Settings> {
    let mut conn = s.read.acquire().await.db()?;
    settings_in(&mut conn).await
}

async fn update_settings(
    s: &SqlStore,
    v: &Settings,
    now: i64,
    audit: Option<NewAudit>,
) -> StoreResult<Settings> {
    v.validate()
        .map_err(|e| StoreError::Other(anyhow::anyhow!("invalid affiliate settings: {e}")))?;
    let mut tx = s.begin().await?;
    sqlx::query(
        "UPDATE affiliate_settings SET enabled = $1, rate_bp = $2, first_months = $3, hold_days = $4, \
         clawback_days = $5, min_payout = $6, attribution_days = $7, cool_down_days = $8, \
         returning_rule = $9, updated_at = $10 WHERE id = 1",
    )
    .bind(flag(v.enabled))
    .bind(v.rate_bp)
    .bind(v.first_months)
    .bind(v.hold_days)
    .bind(v.clawback_days)
    .bind(v.min_payout.micros())
    .bind(v.attribution_days)
    .bind(v.cool_down_days)
    .bind(v.returning_rule.as_str())
    .bind(now)
    .execute(&mut *tx)
    .await
    .db()?;
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    let saved = settings_in(&mut tx).await?;
    s.commit(tx).await?;
    Ok(saved)
}

async fn account(
    s: &SqlStore,
    user: UserId,
    new_code: &str,
    now: i64,
) -> StoreResult<AffiliateAccount> {
    let select = format!("SELECT {ACCOUNT_COLS} FROM affiliates WHERE user_id = $1");
    if let Some(row) = sqlx::query(&select)
        .bind(user.0)
        .fetch_optional(&s.write)
        .await
        .db()?
    {
        return account_row(&row);
    }
    let mut tx = s.begin().await?;
    sqlx::query(
        "INSERT INTO affiliates (user_id, code, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(user.0)
    .bind(new_code)
    .bind(now)
    .execute(&mut *tx)
    .await
    .db()?;
    let row = sqlx::query(&select)
        .bind(user.0)
        .fetch_one(&mut *tx)
        .await
        .db()?;
    s.commit(tx).await?;
    account_row(&row)
}

async fn by_code(s: &SqlStore, code: &str) -> StoreResult<Option<AffiliateAccount>> {
    let row = sqlx::query(&format!(
        "SELECT {ACCOUNT_COLS} FROM affiliates WHERE code = $1"
    ))
    .bind(code)
    .fetch_optional(&s.read)
    .await
    .db()?;
    row.as_ref().map(account_row).transpose()
}

async fn click(s: &SqlStore, code: &str) -> StoreResult<bool> {
    let done = sqlx::query("UPDATE affiliates SET clicks = clicks + 1 WHERE code = $1")
        .bind(code)
        .execute(&s.write)
        .await
        .db()?;
    Ok(done.rows_affected() > 0)
}

/// In the new account's transaction: who referred it.
pub(crate) async fn insert_referral(
    tx: &mut Transaction<'static, Any>,
    user: UserId,
    r: &NewReferral,
    now: i64,
) -> StoreResult<()> {
    let flags: Vec<&str> = r.flags.iter().map(|f| f.as_str()).collect();
    let status = if flags.is_empty() {
        ReferralStatus::Clean
    } else {
        ReferralStatus::Flagged
    };
    sqlx::query(
        "INSERT INTO referrals (user_id, affiliate_id, status, flags, ip, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(user.0)
    .bind(r.affiliate_id.0)
    .bind(status.as_str())
    .bind(flags.join(","))
    .bind(r.ip.as_deref())
    .bind(now)
    .execute(&mut **tx)
    .await
    .db()?;
    if status == ReferralStatus::Flagged {
        flagged_alert(tx, user, r.affiliate_id, &flags.join(", "), now).await?;
    }
    Ok(())
}

/// The admins' `referral_flagged` alert (event `referral.flagged`) for `user`'s referral by
/// `affiliate`, in the transaction that flags it; clearing the referral resolves it.
async fn flagged_alert(
    tx: &mut Transaction<'static, Any>,
    user: UserId,
    affiliate: UserId,
    flags: &str,
    now: i64,
) -> StoreResult<()> {
    let message = format!(
        "User #{} referred by affiliate #{} was flagged ({flags}); their commissions wait for \
         review under Admin → Affiliates.",
        user.0, affiliate.0
    );
    crate::fulfil::raise_alert_in(
        tx,
        smmd_domain::alert::AlertKind::ReferralFlagged.as_str(),
        &smmd_domain::alert::referral_subject(user),
        &message,
        now,
    )
    .await?;
    Ok(())
}

async fn referral(s: &SqlStore, user: UserId) -> StoreResult<Option<Referral>> {
    let row = sqlx::query(&format!(
        "SELECT {REFERRAL_COLS} FROM referrals WHERE user_id = $1"
    ))
    .bind(user.0)
    .fetch_optional(&s.read)
    .await
    .db()?;
    row.as_ref().map(referral_row).transpose()
}

/// In an order's placement transaction: the commission of a referred user's order, at the
/// program's rate, when the program is on and the order is within `first_months`. Nothing for
/// a user nobody referred (one indexed read). The **link overlap** signal: when the affiliate
/// ordered for the same `link` in the last [`LINK_OVERLAP_DAYS`], the referral is flagged
/// (an affiliate buying for their own account through a second account).
pub(crate) async fn on_charge(
    tx: &mut Transaction<'static, Any>,
    order: OrderId,
    user: UserId,
    charge: Money,
    link: Option<&str>,
    now: i64,
) -> StoreResult<()> {
    if !charge.is_positive() {
        return Ok(());
    }
    let Some(row) = sqlx::query(
        "SELECT r.affiliate_id, r.created_at, s.enabled, s.rate_bp, s.first_months \
         FROM referrals r CROSS JOIN affiliate_settings s WHERE r.user_id = $1 AND s.id = 1",
    )
    .bind(user.0)
    .fetch_optional(&mut **tx)
    .await
    .db()?
    else {
        return Ok(());
    };
    let rules = Settings {
        first_months: get(&row, "first_months")?,
        ..Settings::default()
    };
    let rate_bp: i64 = get(&row, "rate_bp")?;
    if get::<i64>(&row, "enabled")? == 0
        || rate_bp == 0
        || !rules.earns(get(&row, "created_at")?, now)
    {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO commissions (order_id, affiliate_id, referred_id, rate_bp, charge, amount, \
         status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $7)",
    )
    .bind(order.0)
    .bind(get::<i64>(&row, "affiliate_id")?)
    .bind(user.0)
    .bind(rate_bp)
    .bind(charge.micros())
    .bind(commission::commission(charge, rate_bp).micros())
    .bind(now)
    .execute(&mut **tx)
    .await
    .db()?;
    if let Some(link) = link.filter(|l| !l.is_empty()) {
        let overlap = sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM (SELECT 1 FROM orders WHERE user_id = $1 AND link = $2 \
             AND created_at >= $3 LIMIT 1) AS o",
        )
        .bind(get::<i64>(&row, "affiliate_id")?)
        .bind(link)
        .bind(now.saturating_sub(LINK_OVERLAP_DAYS * DAY_MS))
        .fetch_one(&mut **tx)
        .await
        .db()?;
        if overlap > 0 {
            flag_in(tx, user, Flag::LinkOverlap.as_str(), now).await?;
        }
    }
    Ok(())
}

/// How far back the link-overlap signal looks (days).
pub const LINK_OVERLAP_DAYS: i64 = 90;

/// Adds `flag` to `user`'s referral and makes it `flagged`; `false` when not referred or the
/// flag is there already.
pub(crate) async fn flag_in(
    tx: &mut Transaction<'static, Any>,
    user: UserId,
    flag: &str,
    now: i64,
) -> StoreResult<bool> {
    let Some((flags, affiliate)) = sqlx::query_as::<_, (String, i64)>(
        "SELECT flags, affiliate_id FROM referrals WHERE user_id = $1",
    )
    .bind(user.0)
    .fetch_optional(&mut **tx)
    .await
    .db()?
    else {
        return Ok(false);
    };
    if flags.split(',').any(|f| f == flag) {
        return Ok(false);
    }
    let flags = if flags.is_empty() {
        flag.to_string()
    } else {
        format!("{flags},{flag}")
    };
    sqlx::query(
        "UPDATE referrals SET flags = $1, status = 'flagged', updated_at = $2 WHERE user_id = $3",
    )
    .bind(&flags)
    .bind(now)
    .bind(user.0)
    .execute(&mut **tx)
    .await
    .db()?;
    // Commissions already settled wait for review too.
    sqlx::query(
        "UPDATE commissions SET status = 'review', updated_at = $1 \
         WHERE referred_id = $2 AND status = 'held'",
    )
    .bind(now)
    .bind(user.0)
    .execute(&mut **tx)
    .await
    .db()?;
    flagged_alert(tx, user, UserId(affiliate), &flags.replace(',', ", "), now).await?;
    Ok(true)
}

/// In a refund's transaction (beside its ledger entry `refund_key`): the order's commission
/// follows the refund (`smmd_domain::affiliate::commission::on_refund`). Before approval its
/// amount is lowered (void at a zero net); after approval and inside `clawback_days` a
/// `clawback` entry takes back the difference, keyed `clawback:<refund_key>`.
pub(crate) async fn on_refund(
    tx: &mut Transaction<'static, Any>,
    order: OrderId,
    refund: Money,
    refund_key: &str,
    now: i64,
) -> StoreResult<()> {
    let Some(row) = sqlx::query(&format!(
        "SELECT {COMMISSION_COLS}, (SELECT clawback_days FROM affiliate_settings WHERE id = 1) \
         AS clawback_days FROM commissions WHERE order_id = $1"
    ))
    .bind(order.0)
    .fetch_optional(&mut **tx)
    .await
    .db()?
    else {
        return Ok(());
    };
    let c = commission_row(&row)?;
    let clawback_days: i64 = get(&row, "clawback_days")?;
    let net_before = c.charge.checked_sub(c.refunded).unwrap_or(Money::ZERO);
    // A refund never exceeds what is left of the charge (the order's own rule); clamp anyway.
    let refund = refund.min(net_before).max(Money::ZERO);
    let net_after = net_before.checked_sub(refund).unwrap_or(Money::ZERO);
    let outcome = commission::on_refund(
        c.status,
        c.rate_bp,
        net_before,
        refund,
        c.credited,
        c.clawed,
        c.approved_at,
        now,
        clawback_days,
    );
    let (amount, status, clawed) = match outcome {
        OnRefund::Lower(a) => {
            let status = if net_after.is_positive() {
                c.status
            } else {
                CommissionStatus::Void
            };
            (a, status, Money::ZERO)
        }
        OnRefund::ClawBack(x) => (c.amount, c.status, x),
        OnRefund::Nothing => (c.amount, c.status, Money::ZERO),
    };
    sqlx::query(
        "UPDATE commissions SET refunded = refunded + $1, amount = $2, status = $3, \
         clawed = clawed + $4, updated_at = $5 WHERE id = $6",
    )
    .bind(refund.micros())
    .bind(amount.micros())
    .bind(status.as_str())
    .bind(clawed.micros())
    .bind(now)
    .bind(c.id)
    .execute(&mut **tx)
    .await
    .db()?;
    if clawed.is_positive() {
        post(
            tx,
            Posting {
                user: c.affiliate_id,
                amount: -clawed,
                kind: EntryKind::Clawback,
                key: &format!("clawback:{refund_key}"),
                reason: &format!("Refund of order #{}", c.order_id),
                commission_id: Some(c.id),
                now,
            },
        )
        .await?;
        crate::billing::runway::notice(
            tx,
            c.affiliate_id,
            "commission.clawed_back",
            None,
            None,
            &format!("{clawed} taken back: order #{} was refunded", c.order_id),
            now,
        )
        .await?;
    }
    Ok(())
}

/// One movement of an affiliate balance.
pub(crate) struct Posting<'a> {
    pub user: UserId,
    pub amount: Money,
    pub kind: EntryKind,
    pub key: &'a str,
    pub reason: &'a str,
    pub commission_id: Option<i64>,
    pub now: i64,
}

/// Moves `p.user`'s affiliate balance and appends its ledger row in `tx`. The balance may go
/// negative (clawbacks); callers that need a floor check it first in the same transaction.
/// `Conflict("affiliate_ledger.key")` when the key was used (roll the transaction back).
pub(crate) async fn post(
    tx: &mut Transaction<'static, Any>,
    p: Posting<'_>,
) -> StoreResult<AffiliateEntry> {
    let balance: i64 = sqlx::query_scalar(
        "UPDATE affiliates SET balance = balance + $1 WHERE user_id = $2 RETURNING balance",
    )
    .bind(p.amount.micros())
    .bind(p.user.0)
    .fetch_one(&mut **tx)
    .await
    .db()?;
    let row = sqlx::query(&format!(
        "INSERT INTO affiliate_ledger (user_id, amount, balance_after, kind, idem_key, reason, \
         commission_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {ENTRY_COLS}"
    ))
    .bind(p.user.0)
    .bind(p.amount.micros())
    .bind(balance)
    .bind(p.kind.as_str())
    .bind(p.key)
    .bind(p.reason)
    .bind(p.commission_id)
    .bind(p.now)
    .fetch_one(&mut **tx)
    .await
    .db()?;
    entry_row(&row)
}

async fn commissions_of(
    s: &SqlStore,
    affiliate: UserId,
    before: Option<i64>,
    limit: i64,
) -> StoreResult<Vec<Commission>> {
    let rows = sqlx::query(&format!(
        "SELECT {COMMISSION_COLS} FROM commissions WHERE affiliate_id = $1 AND id < $2 \
         ORDER BY id DESC LIMIT $3"
    ))
    .bind(affiliate.0)
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit.clamp(1, 1_000))
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(commission_row).collect()
}

async fn commission_of_order(s: &SqlStore, order: OrderId) -> StoreResult<Option<Commission>> {
    let row = sqlx::query(&format!(
        "SELECT {COMMISSION_COLS} FROM commissions WHERE order_id = $1"
    ))
    .bind(order.0)
    .fetch_optional(&s.read)
    .await
    .db()?;
    row.as_ref().map(commission_row).transpose()
}

async fn ledger(s: &SqlStore, user: UserId, limit: i64) -> StoreResult<Vec<AffiliateEntry>> {
    let rows = sqlx::query(&format!(
        "SELECT {ENTRY_COLS} FROM affiliate_ledger WHERE user_id = $1 ORDER BY id DESC LIMIT $2"
    ))
    .bind(user.0)
    .bind(limit.clamp(1, 1_000))
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(entry_row).collect()
}

async fn stats(s: &SqlStore, affiliate: UserId) -> StoreResult<smmd_store::AffiliateStats> {
    let signups: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM referrals WHERE affiliate_id = $1")
        .bind(affiliate.0)
        .fetch_one(&s.read)
        .await
        .db()?;
    let paying: i64 = sqlx::query_scalar(
        "SELECT COUNT(DISTINCT referred_id) FROM commissions WHERE affiliate_id = $1",
    )
    .bind(affiliate.0)
    .fetch_one(&s.read)
    .await
    .db()?;
    let rows = sqlx::query(
        "SELECT status, COUNT(*) AS n, CAST(COALESCE(SUM(CASE WHEN status = 'approved' \
         THEN credited - clawed ELSE amount END), 0) AS BIGINT) AS total \
         FROM commissions WHERE affiliate_id = $1 GROUP BY status ORDER BY status",
    )
    .bind(affiliate.0)
    .fetch_all(&s.read)
    .await
    .db()?;
    let by_status = rows
        .iter()
        .map(|r| Ok((get(r, "status")?, get(r, "n")?, money(r, "total")?)))
        .collect::<StoreResult<_>>()?;
    Ok(smmd_store::AffiliateStats {
        signups,
        paying,
        by_status,
    })
}

async fn mismatches(s: &SqlStore) -> StoreResult<Vec<AffiliateMismatch>> {
    let rows = sqlx::query(
        "SELECT a.user_id, a.balance, CAST(COALESCE(SUM(l.amount), 0) AS BIGINT) AS total \
         FROM affiliates a LEFT JOIN affiliate_ledger l ON l.user_id = a.user_id \
         GROUP BY a.user_id, a.balance HAVING a.balance <> COALESCE(SUM(l.amount), 0)",
    )
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter()
        .map(|r| {
            Ok(AffiliateMismatch {
                user_id: UserId(get(r, "user_id")?),
                balance: money(r, "balance")?,
                ledger_sum: money(r, "total")?,
            })
        })
        .collect()
}

/// The [`AffiliateStore`](smmd_store::AffiliateStore) section on SQL.
mod section {
    use smmd_domain::affiliate::Settings;
    use smmd_domain::{OrderId, UserId};
    use smmd_store::*;

    use crate::SqlStore;

    #[async_trait::async_trait]
    impl AffiliateStore for SqlStore {
        async fn affiliate_settings(&self) -> StoreResult<Settings> {
            super::settings(self).await
        }

        async fn update_affiliate_settings(
            &self,
            settings: &Settings,
            now: i64,
            audit: Option<NewAudit>,
        ) -> StoreResult<Settings> {
            super::update_settings(self, settings, now, audit).await
        }

        async fn affiliate_account(
            &self,
            user: UserId,
            new_code: &str,
            now: i64,
        ) -> StoreResult<AffiliateAccount> {
            super::account(self, user, new_code, now).await
        }

        async fn affiliate_by_code(&self, code: &str) -> StoreResult<Option<AffiliateAccount>> {
            super::by_code(self, code).await
        }

        async fn count_referral_click(&self, code: &str) -> StoreResult<bool> {
            super::click(self, code).await
        }

        async fn referral(&self, user: UserId) -> StoreResult<Option<Referral>> {
            super::referral(self, user).await
        }

        async fn commissions_of(
            &self,
            affiliate: UserId,
            before: Option<i64>,
            limit: i64,
        ) -> StoreResult<Vec<Commission>> {
            super::commissions_of(self, affiliate, before, limit).await
        }

        async fn commission_of_order(&self, order: OrderId) -> StoreResult<Option<Commission>> {
            super::commission_of_order(self, order).await
        }

        async fn release_commissions(&self, now: i64, limit: i64) -> StoreResult<ReleaseReport> {
            super::release(self, now, limit).await
        }

        async fn affiliate_ledger(
            &self,
            user: UserId,
            limit: i64,
        ) -> StoreResult<Vec<AffiliateEntry>> {
            super::ledger(self, user, limit).await
        }

        async fn record_login(
            &self,
            user: UserId,
            ip: Option<&str>,
            device: Option<&str>,
            now: i64,
        ) -> StoreResult<()> {
            super::record_login(self, user, ip, device, now).await
        }

        async fn login_addresses(&self, user: UserId, since: i64) -> StoreResult<Vec<String>> {
            super::login_traces(self, "login_addresses", "ip", user, since).await
        }

        async fn login_devices(&self, user: UserId, since: i64) -> StoreResult<Vec<String>> {
            super::login_traces(self, "login_devices", "device", user, since).await
        }

        async fn prune_login_traces(&self, before: i64, batch: i64) -> StoreResult<u64> {
            super::prune_login_traces(self, before, batch).await
        }

        async fn referrals_from_address(
            &self,
            affiliate: UserId,
            ip: &str,
            since: i64,
        ) -> StoreResult<i64> {
            super::referrals_from(self, affiliate, ip, since).await
        }

        async fn affiliate_stats(&self, affiliate: UserId) -> StoreResult<AffiliateStats> {
            super::stats(self, affiliate).await
        }

        async fn affiliate_mismatches(&self) -> StoreResult<Vec<AffiliateMismatch>> {
            super::mismatches(self).await
        }
    }
}
