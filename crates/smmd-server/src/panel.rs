//! Use cases shared by every interface (reseller API v2, REST, pages, CLI, demo): they combine
//! the pure domain with the store so each rule runs in one place.

use smmd_domain::service::{validate_order, OrderError, OrderInput};
use smmd_domain::{Clock, Money, ServiceId, UserId};
use smmd_store::{
    BalanceChange, BalanceError, LedgerEntry, LedgerKind, NewUser, NotificationSettings, Order,
    PlaceOrderError, Role, Store, StoreError, User,
};

use crate::auth;

/// Places an order for `user` on service `service_id` from raw input: the service must exist and
/// be enabled, the input must validate for its type (domain), then the store debits and records
/// it in one transaction. `request_key` is the REST `Idempotency-Key` (see
/// [`Store::place_order`]).
pub async fn place_order(
    store: &dyn Store,
    clock: &dyn Clock,
    user: UserId,
    service_id: i64,
    input: &OrderInput,
    request_key: Option<&str>,
) -> Result<Order, PlaceOrderError> {
    let service = store
        .service(ServiceId(service_id))
        .await?
        .filter(|s| s.enabled)
        .ok_or(OrderError::IncorrectService)?;
    let spec = validate_order(&service.rules(), input)?;
    store
        .place_order(user, &service, &spec, request_key, clock.now_ms())
        .await
}

/// Creates an account with an argon2id password and a fresh API key; returns the key once.
pub async fn register(
    store: &dyn Store,
    clock: &dyn Clock,
    email: &str,
    password: &str,
    role: Role,
) -> Result<(User, String), RegisterError> {
    let email = email.trim();
    if !valid_email(email) {
        return Err(RegisterError::InvalidEmail);
    }
    if password.chars().count() < 8 || password.len() > 1024 {
        return Err(RegisterError::WeakPassword);
    }
    let api_key = auth::new_api_key();
    let user = store
        .create_user(NewUser {
            email: email.to_string(),
            password_hash: auth::hash_password(password)?,
            role,
            api_key_hash: Some(auth::token_hash(&api_key)),
            now: clock.now_ms(),
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict("users.email") => RegisterError::EmailTaken,
            e => RegisterError::Store(e),
        })?;
    Ok((user, api_key))
}

/// Why an account was not created.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("Enter a valid e-mail address")]
    InvalidEmail,
    #[error("Password must be 8 to 1024 characters long")]
    WeakPassword,
    #[error("An account with this e-mail already exists")]
    EmailTaken,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// A deliberately simple check: one `@`, something on both sides, a dot in the domain, no spaces.
pub fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Replaces the user's API key; the old one stops working. Returns the new key (shown once).
pub async fn rotate_api_key(store: &dyn Store, user: UserId) -> Result<String, StoreError> {
    let key = auth::new_api_key();
    store.set_api_key(user, &auth::token_hash(&key)).await?;
    Ok(key)
}

/// An admin credit (positive) or debit (negative) with a reason, idempotent on `key`.
pub async fn adjust_balance(
    store: &dyn Store,
    clock: &dyn Clock,
    admin: Option<UserId>,
    user: UserId,
    amount: Money,
    reason: &str,
    key: &str,
) -> Result<LedgerEntry, BalanceError> {
    let kind = if amount.is_positive() {
        LedgerKind::Deposit
    } else {
        LedgerKind::Adjustment
    };
    store
        .change_balance(BalanceChange {
            user_id: user,
            amount,
            kind,
            key: format!("admin:{key}"),
            reason: reason.trim().to_string(),
            actor_id: admin,
            now: clock.now_ms(),
        })
        .await
}

/// Why a payment request was refused.
#[derive(Debug, thiserror::Error)]
pub enum PaymentRequestError {
    #[error("Enter an amount between {0} and {1}")]
    Amount(Money, Money),
    #[error("Choose one of the payment methods")]
    Method,
    #[error("The payment reference is longer than 200 characters")]
    Note,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Records a manual payment request after checking it against `[payments]`: the amount within
/// min–max (exact decimal, panel currency), one of the configured methods, a note of at most
/// 200 characters.
pub async fn request_payment(
    store: &dyn Store,
    clock: &dyn Clock,
    config: &crate::config::PaymentsConfig,
    user: UserId,
    amount: &str,
    method: &str,
    note: &str,
) -> Result<smmd_store::PaymentRequest, PaymentRequestError> {
    let min = Money::parse(&config.min_amount).unwrap_or(Money::from_micros(1_000_000));
    let max = Money::parse(&config.max_amount).unwrap_or(min);
    let amount = Money::parse(amount.trim())
        .ok()
        .filter(|a| *a >= min && *a <= max)
        .ok_or(PaymentRequestError::Amount(min, max))?;
    if !config.methods.iter().any(|m| m == method) {
        return Err(PaymentRequestError::Method);
    }
    let note = note.trim();
    if note.chars().count() > 200 || note.contains('\0') {
        return Err(PaymentRequestError::Note);
    }
    Ok(store
        .create_payment_request(user, amount, method, note, clock.now_ms())
        .await?)
}

/// Why notification settings were refused.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{0}")]
    WebhookUrl(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks a webhook URL: `http` or `https`, a host, at most 2,000 characters, no credentials;
/// unless `allow_private`, not `localhost` nor a loopback, private, link-local or unspecified
/// IP address (a customer's webhook must not reach the panel's own network). Host names are
/// resolved when sending, through `smmd_notify::webhook::PublicOnly`.
pub fn check_webhook_url(url: &str, allow_private: bool) -> Result<(), &'static str> {
    if url.len() > 2_000 {
        return Err("The webhook URL is longer than 2000 characters");
    }
    let parsed =
        url::Url::parse(url).map_err(|_| "Enter a full URL such as https://example.com/hook")?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("The webhook URL must start with https:// or http://");
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("Put no user name or password in the webhook URL; check the signature instead");
    }
    let host = parsed.host().ok_or("The webhook URL has no host")?;
    if allow_private {
        return Ok(());
    }
    let private = match host {
        url::Host::Domain(d) => {
            let d = d.to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        url::Host::Ipv4(ip) => !smmd_notify::webhook::is_public(ip.into()),
        url::Host::Ipv6(ip) => !smmd_notify::webhook::is_public(ip.into()),
    };
    if private {
        return Err("The webhook URL points to a private or local address");
    }
    Ok(())
}

/// A new webhook signing secret: `whsec_` and 32 random bytes in hex.
pub fn new_webhook_secret() -> String {
    format!("whsec_{}", auth::random_hex(32))
}

/// Saves a user's notification preferences. Setting a webhook URL for the first time creates
/// its signing secret; removing the URL removes the secret; `rotate_secret` replaces it.
pub async fn update_notification_settings(
    store: &dyn Store,
    user: UserId,
    email: bool,
    webhook_url: Option<&str>,
    rotate_secret: bool,
    allow_private: bool,
) -> Result<NotificationSettings, SettingsError> {
    let current = store.notification_settings(user).await?;
    let url = webhook_url.map(str::trim).filter(|u| !u.is_empty());
    if let Some(u) = url {
        check_webhook_url(u, allow_private).map_err(SettingsError::WebhookUrl)?;
    }
    let secret = match (url, current.webhook_secret) {
        (None, _) => None,
        (Some(_), Some(s)) if !rotate_secret => Some(s),
        (Some(_), _) => Some(new_webhook_secret()),
    };
    let settings = NotificationSettings {
        email,
        webhook_url: url.map(str::to_string),
        webhook_secret: secret,
    };
    store.set_notification_settings(user, &settings).await?;
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_must_be_public_http_unless_allowed() {
        for ok in [
            "https://example.com/hook",
            "http://hooks.example.org:8080/a?b=c",
            "https://203.0.113.9/x",
        ] {
            assert_eq!(check_webhook_url(ok, false), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "example.com/hook",
            "ftp://example.com/x",
            "https://user:pw@example.com/",
            "http://localhost:8080/",
            "http://api.localhost/",
            "http://127.0.0.1/",
            "http://10.1.2.3/",
            "http://192.168.0.10/",
            "http://172.16.5.5/",
            "http://169.254.169.254/latest/meta-data",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://[::1]/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://[::ffff:127.0.0.1]/",
        ] {
            assert!(check_webhook_url(bad, false).is_err(), "{bad}");
        }
        assert_eq!(check_webhook_url("http://127.0.0.1:9/hook", true), Ok(()));
        assert!(check_webhook_url(&format!("https://e.com/{}", "a".repeat(2_000)), true).is_err());
    }

    #[test]
    fn email_check_accepts_ordinary_addresses_only() {
        for ok in ["a@b.io", "first.last+tag@example.co.uk"] {
            assert!(valid_email(ok), "{ok}");
        }
        for bad in [
            "", "a", "a@b", "@b.io", "a@.io", "a@b.", "a b@c.io", "a@b@c.io",
        ] {
            assert!(!valid_email(bad), "{bad}");
        }
    }
}

/// Most lines one mass order takes.
pub const MASS_ORDER_MAX_LINES: usize = 100;

/// One readable line of a mass order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MassLine {
    /// 1-based line number in the submitted text (blank lines count).
    pub line: usize,
    pub service: i64,
    pub link: String,
    pub quantity: String,
}

/// A mass-order line read, or its 1-based number and why it could not be.
pub type MassLineResult = Result<MassLine, (usize, String)>;

/// Reads a mass order: one `service | link | quantity` per line (the PerfectPanel format),
/// blank lines skipped. Each line is read on its own: an unreadable line gives its 1-based
/// number and why, and does not stop the others. Errors: more than
/// [`MASS_ORDER_MAX_LINES`] orders, or none.
pub fn parse_mass_order(text: &str) -> Result<Vec<MassLineResult>, &'static str> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        let n = i + 1;
        out.push(match parts.as_slice() {
            [service, link, quantity] => match service.parse::<i64>() {
                Ok(service) if service > 0 => {
                    if link.is_empty() {
                        Err((n, "the link is empty".to_string()))
                    } else {
                        Ok(MassLine {
                            line: n,
                            service,
                            link: link.to_string(),
                            quantity: quantity.to_string(),
                        })
                    }
                }
                _ => Err((n, format!("`{service}` is not a service id"))),
            },
            _ => Err((n, "write it as: service id | link | quantity".to_string())),
        });
        if out.len() > MASS_ORDER_MAX_LINES {
            return Err("at most 100 orders at once");
        }
    }
    if out.is_empty() {
        return Err("write one order per line: service id | link | quantity");
    }
    Ok(out)
}

#[cfg(test)]
mod mass_tests {
    use super::*;

    #[test]
    fn each_line_is_read_on_its_own() {
        let text = "1 | https://x/a | 100\n\n  2|https://x/b|  50 \nabc | https://x/c | 5\n3 | https://x/d\n4 |  | 10\n";
        let got = parse_mass_order(text).expect("readable");
        assert_eq!(
            got[0],
            Ok(MassLine {
                line: 1,
                service: 1,
                link: "https://x/a".into(),
                quantity: "100".into()
            })
        );
        assert_eq!(
            got[1]
                .as_ref()
                .map(|l| (l.line, l.service, l.quantity.as_str())),
            Ok((3, 2, "50"))
        );
        assert_eq!(got[2], Err((4, "`abc` is not a service id".into())));
        assert!(matches!(&got[3], Err((5, m)) if m.contains("service id | link | quantity")));
        assert_eq!(got[4], Err((6, "the link is empty".into())));
        assert_eq!(got.len(), 5);
    }

    #[test]
    fn empty_or_oversized_orders_are_refused_whole() {
        assert!(parse_mass_order(" \n\n").is_err());
        let many: String = (0..=MASS_ORDER_MAX_LINES)
            .map(|i| format!("1 | https://x/{i} | 100\n"))
            .collect();
        assert_eq!(parse_mass_order(&many), Err("at most 100 orders at once"));
        let enough: String = (0..MASS_ORDER_MAX_LINES)
            .map(|i| format!("1 | https://x/{i} | 100\n"))
            .collect();
        assert_eq!(parse_mass_order(&enough).map(|v| v.len()), Ok(100));
    }
}
