//! Notification settings: order e-mails on or off, and a webhook URL with its signing secret.
//! A webhook URL must be public `http(s)` (a customer's webhook must not reach the panel's own
//! network) unless the owner allows private ones.

use smmd_domain::UserId;
use smmd_store::NotificationSettings;

use crate::error::{ErrorCode, UseCaseError};
use crate::{secrets, App};

/// Checks a webhook URL: `http` or `https`, a host, at most 2,000 characters, no credentials;
/// unless `allow_private`, not `localhost` nor an IP address of a special-purpose range or of
/// this host (`smmd_notify::address`: a customer's webhook must not reach the panel's network). Host names are
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
        url::Host::Ipv4(ip) => !smmd_notify::address::is_webhook_target(ip.into()),
        url::Host::Ipv6(ip) => !smmd_notify::address::is_webhook_target(ip.into()),
    };
    if private {
        return Err("The webhook URL points to a private, local or special-purpose address");
    }
    Ok(())
}

/// Saves a user's notification preferences. Setting a webhook URL for the first time creates
/// its signing secret; removing the URL removes the secret; `rotate_secret` replaces it.
///
/// Errors: `invalid_webhook_url` with the reason; nothing written.
pub async fn update_notification_settings(
    app: App<'_>,
    user: UserId,
    email: bool,
    webhook_url: Option<&str>,
    rotate_secret: bool,
    allow_private: bool,
) -> Result<NotificationSettings, UseCaseError> {
    let current = app.store.notification_settings(user).await?;
    let url = webhook_url.map(str::trim).filter(|u| !u.is_empty());
    if let Some(u) = url {
        check_webhook_url(u, allow_private)
            .map_err(|m| UseCaseError::refused(ErrorCode::InvalidWebhookUrl, m))?;
    }
    let secret = match (url, current.webhook_secret) {
        (None, _) => None,
        (Some(_), Some(s)) if !rotate_secret => Some(s),
        (Some(_), _) => Some(secrets::new_webhook_secret()),
    };
    let settings = NotificationSettings {
        email,
        webhook_url: url.map(str::to_string),
        webhook_secret: secret,
        language: current.language,
    };
    app.store.set_notification_settings(user, &settings).await?;
    Ok(settings)
}

/// Replaces the webhook signing secret of a user who has a webhook URL (the URL was checked
/// when it was saved).
///
/// Errors: `no_webhook` without a webhook URL.
pub async fn rotate_webhook_secret(
    app: App<'_>,
    user: UserId,
) -> Result<NotificationSettings, UseCaseError> {
    let current = app.store.notification_settings(user).await?;
    let Some(url) = current.webhook_url else {
        return Err(UseCaseError::refused(
            ErrorCode::NoWebhook,
            "Set a webhook URL first",
        ));
    };
    let settings = NotificationSettings {
        webhook_url: Some(url),
        webhook_secret: Some(secrets::new_webhook_secret()),
        ..current
    };
    app.store.set_notification_settings(user, &settings).await?;
    Ok(settings)
}

/// The language `language` names ([`set_language`]'s rule), `None` for the browser's.
///
/// Errors: `invalid_language`.
pub fn check_language(language: Option<&str>) -> Result<Option<smmd_i18n::Lang>, UseCaseError> {
    match language.map(str::trim).filter(|l| !l.is_empty()) {
        None => Ok(None),
        Some(code) => smmd_i18n::Lang::parse(code).map(Some).ok_or_else(|| {
            UseCaseError::refused(
                ErrorCode::InvalidLanguage,
                format!(
                    "The language is one of {}, or empty for the browser's",
                    smmd_i18n::Lang::ALL.map(|l| l.code()).join(", ")
                ),
            )
        }),
    }
}

/// Sets the language of a user's pages and e-mails: a shipped language's code (`en`, `es`,
/// `ru`, `ar`; a region is dropped, `es-MX` → `es`), or `None` / empty for the browser's.
///
/// Errors: `invalid_language` for a language smmd does not ship; nothing written.
pub async fn set_language(
    app: App<'_>,
    user: UserId,
    language: Option<&str>,
) -> Result<Option<smmd_i18n::Lang>, UseCaseError> {
    let lang = check_language(language)?;
    let current = app.store.notification_settings(user).await?;
    let settings = NotificationSettings {
        language: lang.map(|l| l.code().to_string()),
        ..current
    };
    app.store.set_notification_settings(user, &settings).await?;
    Ok(lang)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_must_be_public_http_unless_allowed() {
        for ok in [
            "https://example.com/hook",
            "http://hooks.example.org:8080/a?b=c",
            "https://8.8.8.8/x",
            "https://[2606:4700::1111]/x",
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
            // Issue 15: every special-purpose range, and IPv4 embedded in IPv6 forms.
            "https://203.0.113.9/x",
            "http://198.18.0.1/",
            "http://240.0.0.1/",
            "http://224.0.0.251/",
            "http://[64:ff9b::7f00:1]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://[::7f00:1]/",
            "http://[2002:c0a8:101::]/",
            "http://[fec0::1]/",
            "http://[ff02::1]/",
            "http://[2001:db8::1]/",
        ] {
            assert!(check_webhook_url(bad, false).is_err(), "{bad}");
        }
        assert_eq!(check_webhook_url("http://127.0.0.1:9/hook", true), Ok(()));
        assert!(check_webhook_url(&format!("https://e.com/{}", "a".repeat(2_000)), true).is_err());
    }
}
