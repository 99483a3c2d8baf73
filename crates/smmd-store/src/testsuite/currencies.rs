//! Conformance cases — exchange rates (feed, pins) and display currencies.

use crate::*;
use smmd_domain::UserId;
use std::sync::Arc;

use super::*;

fn audit(action: &str, subject: &str) -> NewAudit {
    NewAudit {
        actor_id: None,
        actor: "owner@x.io".into(),
        action: action.into(),
        subject: subject.into(),
        detail: String::new(),
        now: NOW,
    }
}

fn rate<'a>(rates: &'a [CurrencyRate], code: &str) -> Option<&'a CurrencyRate> {
    rates.iter().find(|r| r.currency == code)
}

pub async fn feed_rates_pins_and_display_currencies_round_trip(store: Arc<dyn Store>) {
    assert!(store.currency_rates().await.expect("rates").is_empty());
    // A first feed adds its currencies.
    let day1 = vec![("USD".to_string(), 1_082_400), ("GBP".to_string(), 845_500)];
    assert_eq!(
        store
            .save_feed_rates(&day1, "2026-12-01", NOW)
            .await
            .expect("feed"),
        2
    );
    let rates = store.currency_rates().await.expect("rates");
    assert_eq!(
        rates
            .iter()
            .map(|r| r.currency.as_str())
            .collect::<Vec<_>>(),
        ["GBP", "USD"]
    );
    let usd = rate(&rates, "USD").expect("usd");
    assert_eq!(
        (
            usd.per_eur,
            usd.pinned,
            usd.feed_per_eur,
            usd.feed_date.as_deref()
        ),
        (1_082_400, false, Some(1_082_400), Some("2026-12-01"))
    );

    // An admin pins USD and adds RUB, which the feed does not quote; each with its audit line.
    store
        .pin_rate(
            "USD",
            1_100_000,
            NOW + 1,
            Some(audit("currency.pin", "currency:USD")),
        )
        .await
        .expect("pin");
    store
        .pin_rate(
            "RUB",
            95_000_000,
            NOW + 1,
            Some(audit("currency.pin", "currency:RUB")),
        )
        .await
        .expect("pin rub");
    // The next feed updates GBP and records USD's feed rate, but the pinned rate stays in use.
    let day2 = vec![("USD".to_string(), 1_090_000), ("GBP".to_string(), 850_000)];
    store
        .save_feed_rates(&day2, "2026-12-02", NOW + 2)
        .await
        .expect("feed 2");
    let rates = store.currency_rates().await.expect("rates");
    let usd = rate(&rates, "USD").expect("usd");
    assert_eq!(
        (usd.per_eur, usd.pinned, usd.feed_per_eur),
        (1_100_000, true, Some(1_090_000))
    );
    assert_eq!(rate(&rates, "GBP").expect("gbp").per_eur, 850_000);
    let rub = rate(&rates, "RUB").expect("rub");
    assert_eq!(
        (rub.per_eur, rub.pinned, rub.feed_per_eur),
        (95_000_000, true, None)
    );

    // Unpinning USD brings the feed's last rate back; RUB had none, so it goes.
    assert!(store
        .unpin_rate(
            "USD",
            NOW + 3,
            Some(audit("currency.unpin", "currency:USD"))
        )
        .await
        .expect("unpin"));
    assert!(store
        .unpin_rate(
            "RUB",
            NOW + 3,
            Some(audit("currency.unpin", "currency:RUB"))
        )
        .await
        .expect("unpin rub"));
    // Not pinned (any more): nothing written, no audit line.
    assert!(!store
        .unpin_rate(
            "USD",
            NOW + 4,
            Some(audit("currency.unpin", "currency:USD"))
        )
        .await
        .expect("again"));
    assert!(!store
        .unpin_rate("XYZ", NOW + 4, None)
        .await
        .expect("unknown"));
    let rates = store.currency_rates().await.expect("rates");
    let usd = rate(&rates, "USD").expect("usd");
    assert_eq!((usd.per_eur, usd.pinned), (1_090_000, false));
    assert!(rate(&rates, "RUB").is_none());
    let log = store.audit_log(None, 20).await.expect("audit");
    let actions: Vec<&str> = log
        .iter()
        .filter(|e| e.action.starts_with("currency."))
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "currency.unpin",
            "currency.unpin",
            "currency.pin",
            "currency.pin"
        ]
    );

    // A user's display currency is stored on the account and read with it.
    let u = user(&store, "fx@x.io", "1").await;
    assert_eq!(u.display_currency, None);
    store
        .set_display_currency(u.id, Some("GBP"))
        .await
        .expect("set");
    let read = store.user(u.id).await.expect("user").expect("found");
    assert_eq!(read.display_currency.as_deref(), Some("GBP"));
    store.set_display_currency(u.id, None).await.expect("clear");
    let read = store.user(u.id).await.expect("user").expect("found");
    assert_eq!(read.display_currency, None);
    assert!(matches!(
        store
            .set_display_currency(UserId(999_999), Some("EUR"))
            .await,
        Err(StoreError::NotFound)
    ));
    assert_ledger_consistent(&store).await;
}
