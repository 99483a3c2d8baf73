//! The owner's alert channels on SQL ([`smmd_store::AlertChannelStore`], migration 0022): one
//! row per channel with its sealed secret, chat id and the alert kinds it hears.

use smmd_domain::alert::{AlertChannel, AlertKind};
use smmd_store::*;

use crate::rows::get;
use crate::{SqlResultExt, SqlStore};

/// The kinds as stored: their texts joined by commas, in [`AlertKind::ALL`] order.
fn kinds_text(kinds: &[AlertKind]) -> String {
    AlertKind::ALL
        .iter()
        .filter(|k| kinds.contains(k))
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

async fn alert_channels(s: &SqlStore) -> StoreResult<Vec<AlertChannelConfig>> {
    let rows = sqlx::query(
        "SELECT channel, secret_enc, chat_id, kinds, updated_at FROM alert_channels ORDER BY channel DESC",
    )
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter()
        .filter_map(|row| {
            let text: String = match get(row, "channel") {
                Ok(t) => t,
                Err(e) => return Some(Err(e)),
            };
            // A channel of a newer version is left alone.
            let channel = AlertChannel::parse(&text)?;
            Some((|| {
                let kinds: String = get(row, "kinds")?;
                Ok(AlertChannelConfig {
                    channel,
                    secret_enc: get(row, "secret_enc")?,
                    chat_id: get(row, "chat_id")?,
                    kinds: kinds.split(',').filter_map(AlertKind::parse).collect(),
                    updated_at: get(row, "updated_at")?,
                })
            })())
        })
        .collect()
}

async fn save_alert_channel(
    s: &SqlStore,
    c: &AlertChannelConfig,
    audit: Option<NewAudit>,
) -> StoreResult<()> {
    let mut tx = s.begin().await?;
    sqlx::query(
        "INSERT INTO alert_channels (channel, secret_enc, chat_id, kinds, updated_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (channel) DO UPDATE SET \
         secret_enc = excluded.secret_enc, chat_id = excluded.chat_id, kinds = excluded.kinds, \
         updated_at = excluded.updated_at",
    )
    .bind(c.channel.as_str())
    .bind(&c.secret_enc)
    .bind(&c.chat_id)
    .bind(kinds_text(&c.kinds))
    .bind(c.updated_at)
    .execute(&mut *tx)
    .await
    .db()?;
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    s.commit(tx).await
}

async fn remove_alert_channel(
    s: &SqlStore,
    channel: AlertChannel,
    audit: Option<NewAudit>,
) -> StoreResult<bool> {
    let mut tx = s.begin().await?;
    let done = sqlx::query("DELETE FROM alert_channels WHERE channel = $1")
        .bind(channel.as_str())
        .execute(&mut *tx)
        .await
        .db()?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    s.commit(tx).await?;
    Ok(true)
}

mod imp {
    use super::*;

    #[async_trait::async_trait]
    impl AlertChannelStore for SqlStore {
        async fn alert_channels(&self) -> StoreResult<Vec<AlertChannelConfig>> {
            super::alert_channels(self).await
        }

        async fn save_alert_channel(
            &self,
            config: &AlertChannelConfig,
            audit: Option<NewAudit>,
        ) -> StoreResult<()> {
            super::save_alert_channel(self, config, audit).await
        }

        async fn remove_alert_channel(
            &self,
            channel: AlertChannel,
            audit: Option<NewAudit>,
        ) -> StoreResult<bool> {
            super::remove_alert_channel(self, channel, audit).await
        }
    }
}
