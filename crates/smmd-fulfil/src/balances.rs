//! `providers.check_balances`: read every enabled provider's balance, keep it (latest on the
//! provider, history in `provider_balances`), and keep one admin alert per provider open while
//! the balance is under its threshold.

use smmd_domain::alert::{provider_subject, AlertKind};
use smmd_domain::Money;
use smmd_store::Provider;

use crate::catalog::cost_micros;
use crate::{bump, Fulfil, Report};

/// Counters: `checked`, `low`, `provider_errors`.
pub async fn run(f: &Fulfil) -> anyhow::Result<Report> {
    let mut report = Report::new();
    for p in f.store.providers().await?.into_iter().filter(|p| p.enabled) {
        match check(f, &p).await {
            Ok((_, low)) => {
                bump(&mut report, "checked", 1);
                if low {
                    bump(&mut report, "low", 1);
                }
            }
            Err(CheckError::Store(e)) => return Err(e.into()),
            Err(CheckError::Provider(e)) => {
                tracing::warn!(provider = p.id.0, error = %e, "balance check failed");
                bump(&mut report, "provider_errors", 1);
            }
        }
    }
    Ok(report)
}

/// Why one balance check failed.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The provider could not be asked or answered badly (nothing recorded).
    #[error("{0}")]
    Provider(String),
    #[error(transparent)]
    Store(#[from] smmd_store::StoreError),
}

/// Reads and records one provider's balance and opens or resolves its low-balance alert.
/// Returns the balance (provider currency, rounded up to micro-units) and its currency, and
/// whether it is under the provider's threshold.
pub async fn check(f: &Fulfil, p: &Provider) -> Result<((Money, String), bool), CheckError> {
    let now = f.clock.now_ms();
    let subject = provider_subject(p.id);
    let client = f
        .clients
        .get(p)
        .map_err(|e| CheckError::Provider(e.to_string()))?;
    let b = client
        .balance()
        .await
        .map_err(|e| CheckError::Provider(e.to_string()))?;
    // Rounded up like costs; a balance's last micro-unit never matters for the alert.
    let amount = cost_micros(&b.amount)
        .ok_or_else(|| CheckError::Provider(format!("unreadable balance {}", b.amount)))?;
    let currency = b.currency.unwrap_or_else(|| p.currency.clone());
    f.store
        .record_provider_balance(p.id, amount, &currency, now)
        .await?;
    let low = match p.balance_alert_below {
        Some(limit) if amount < limit => {
            let msg = format!(
                "Provider {} balance is {amount} {currency}, below {limit} {currency}",
                p.name
            );
            f.store
                .raise_alert(AlertKind::ProviderBalanceLow, &subject, &msg, now)
                .await?;
            true
        }
        _ => {
            f.store
                .resolve_alert(AlertKind::ProviderBalanceLow, &subject, now)
                .await?;
            false
        }
    };
    Ok(((amount, currency), low))
}
