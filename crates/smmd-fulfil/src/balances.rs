//! `providers.check_balances`: read every enabled provider's balance, keep it (latest on the
//! provider, history in `provider_balances`), and keep one admin alert per provider open while
//! the balance is under its threshold.

use crate::catalog::cost_micros;
use crate::{bump, Fulfil, Report};

/// Counters: `checked`, `low`, `provider_errors`.
pub async fn run(f: &Fulfil) -> anyhow::Result<Report> {
    let mut report = Report::new();
    for p in f.store.providers().await?.into_iter().filter(|p| p.enabled) {
        let now = f.clock.now_ms();
        let subject = format!("provider:{}", p.id.0);
        let read = async {
            let client = f.clients.get(&p)?;
            anyhow::Ok(client.balance().await?)
        };
        let b = match read.await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(provider = p.id.0, error = %e, "balance check failed");
                bump(&mut report, "provider_errors", 1);
                continue;
            }
        };
        // Rounded up like costs; a balance's last micro-unit never matters for the alert.
        let Some(amount) = cost_micros(&b.amount) else {
            bump(&mut report, "provider_errors", 1);
            continue;
        };
        let currency = b.currency.unwrap_or_else(|| p.currency.clone());
        f.store
            .record_provider_balance(p.id, amount, &currency, now)
            .await?;
        bump(&mut report, "checked", 1);
        match p.balance_alert_below {
            Some(limit) if amount < limit => {
                let msg = format!(
                    "Provider {} balance is {amount} {currency}, below {limit} {currency}",
                    p.name
                );
                f.store
                    .raise_alert("provider_balance_low", &subject, &msg, now)
                    .await?;
                bump(&mut report, "low", 1);
            }
            _ => {
                f.store
                    .resolve_alert("provider_balance_low", &subject, now)
                    .await?;
            }
        }
    }
    Ok(report)
}
