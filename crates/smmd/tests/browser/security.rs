//! Account security in a browser (issue 18), against a demo that sends e-mail to a real SMTP
//! server (`aiosmtpd`) and asks for a code before every money or security action
//! (`security.step_up_seconds = 0`):
//!
//! - a customer who forgot their password asks for a link (the page answers the same for an
//!   unknown e-mail), receives it by e-mail, sets a new password (every session ends), and logs
//!   in with it while the old one is refused, and the link does not work twice;
//! - they turn on two-factor by scanning the key (the test computes the code, RFC 6238), get
//!   backup codes; a new API key then asks for a code: the enrolment's code is refused (a code
//!   works once), a backup code passes and the old key stops answering; logging in again asks
//!   for the code after the password.

use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::Value;

use super::smtp::Smtp;
use super::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_is_reset_by_e_mail_and_two_factor_guards_log_in_and_the_api_key() {
    let Some(smtp) = Smtp::start().await else {
        return;
    };
    let env = [
        ("SMMD__NOTIFICATIONS__SMTP_URL", smtp.url()),
        ("SMMD__SECURITY__STEP_UP_SECONDS", "0".to_string()),
    ];
    run_with("security", &env, |c, demo| async move {
        reset_then_two_factor(&c, &demo, &smtp).await
    })
    .await;
}

/// The reset link of the first reset e-mail to `to` (waits up to 20 s for it). The demo's
/// own notifications arrive at the same server: only reset e-mails count.
async fn reset_link(smtp: &Smtp, to: &str) -> String {
    for _ in 0..200 {
        let resets: Vec<(String, String, String)> = smtp
            .received()
            .into_iter()
            .filter(|(_, subject, _)| subject.starts_with("Reset your password"))
            .collect();
        if let Some((rcpt, _, body)) = resets.first() {
            assert_eq!(resets.len(), 1, "one reset e-mail: {resets:?}");
            assert!(rcpt.contains(to), "to {rcpt}");
            let link = body
                .split_whitespace()
                .find(|w| w.contains("/reset?token="))
                .unwrap_or_else(|| panic!("no link in {body}"));
            return link.to_string();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no reset e-mail arrived");
}

async fn api_balance(base: &str, key: &str) -> Value {
    reqwest::Client::new()
        .post(format!("{base}/api/v2"))
        .form(&[("key", key), ("action", "balance")])
        .send()
        .await
        .expect("api v2")
        .json()
        .await
        .expect("json")
}

async fn reset_then_two_factor(c: &Client, demo: &Demo, smtp: &Smtp) {
    let base = demo.url.clone();
    let new_password = "a much better passphrase";

    // Forgot password: from the log-in page.
    c.goto(&format!("{base}/login")).await.expect("login");
    click(c, "#forgot-link").await;
    wait_for_path(c, "/forgot").await;
    fill(c, "#email", "nobody@example.com").await;
    click(c, "button[type=submit]").await;
    wait_for_text(c, "#reset-notice", "If an account has this e-mail").await;
    let unknown = text_of(c, "#reset-notice").await;
    fill(c, "#email", &demo.user_email).await;
    click(c, "button[type=submit]").await;
    wait_for_text(c, "#reset-notice", "If an account has this e-mail").await;
    assert_eq!(
        text_of(c, "#reset-notice").await,
        unknown,
        "the answer never says whether the e-mail has an account"
    );
    shoot(c, "forgot").await;
    let link = reset_link(smtp, &demo.user_email).await;
    assert!(
        !smtp
            .received()
            .iter()
            .any(|(to, _, _)| to.contains("nobody@")),
        "nothing was sent to the unknown e-mail"
    );

    c.goto(&link).await.expect("reset link");
    shoot(c, "reset").await;
    fill(c, "#password", new_password).await;
    click(c, "button[type=submit]").await;
    wait_for_text(c, "#reset-done", "every session of the account has ended").await;
    // The link works once.
    c.goto(&link).await.expect("reset link again");
    fill(c, "#password", "yet another passphrase").await;
    click(c, "button[type=submit]").await;
    wait_for_text(c, ".flash.err", "already used").await;

    // The old password is refused, the new one logs in.
    c.goto(&format!("{base}/login")).await.expect("login");
    fill(c, "#email", &demo.user_email).await;
    fill(c, "#password", &demo.user_password).await;
    click(c, "button[type=submit]").await;
    wait_for_text(c, ".flash.err", "Wrong e-mail or password").await;
    sign_in(c, &base, &demo.user_email, new_password).await;

    // Two-factor on: the key from the page, the code computed as an authenticator app does.
    c.goto(&format!("{base}/settings/security"))
        .await
        .expect("security");
    wait_for_text(c, "#two-factor-state", "Off").await;
    assert!(
        c.find(Locator::Css("img.qr")).await.is_ok(),
        "a QR code to scan"
    );
    shoot(c, "security-setup").await;
    let now = || {
        i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("time")
                .as_millis(),
        )
        .expect("ms")
    };
    fill(c, "#enable-code", "123456").await;
    fill(c, "#enable-password", new_password).await;
    click(c, "form[action='/settings/security/enable'] button").await;
    wait_for_text(c, ".flash.err", "wrong").await;
    // Each visit proposes a new key: the one on the page now is the one to enrol.
    let secret = text_of(c, "#totp-secret").await;
    let code = smmd_app::security::totp_code(&secret, now()).expect("code");
    fill(c, "#enable-code", &code).await;
    fill(c, "#enable-password", new_password).await;
    click(c, "form[action='/settings/security/enable'] button").await;
    wait_for_text(c, "#backup-codes", "shown only now").await;
    wait_for_text(c, "#two-factor-state", "On").await;
    let mut backup = Vec::new();
    for el in c
        .find_all(Locator::Css("#backup-codes li code"))
        .await
        .expect("codes")
    {
        backup.push(el.text().await.expect("code"));
    }
    assert_eq!(backup.len(), 10, "{backup:?}");
    shoot(c, "security-codes").await;

    // A new API key asks for a code (step-up): the enrolment's code again is refused, a
    // backup code passes.
    let old_key = demo.user_key.clone();
    assert!(api_balance(&base, &old_key).await.get("balance").is_some());
    c.goto(&format!("{base}/api")).await.expect("api page");
    fill(c, "form[action='/api'] input[name=code]", &code).await;
    click(c, "#new-api-key").await;
    wait_for_text(c, ".flash.err", "already used").await;
    assert!(
        c.find(Locator::Css("#api-key")).await.is_err(),
        "no new key without a good code"
    );
    shoot(c, "api-step-up").await;
    fill(c, "form[action='/api'] input[name=code]", &backup[0]).await;
    click(c, "#new-api-key").await;
    let key_el = c
        .wait()
        .for_element(Locator::Css("#api-key"))
        .await
        .expect("the new key");
    let new_key = key_el.prop("value").await.expect("value").expect("a key");
    assert_ne!(new_key, old_key);
    assert!(
        api_balance(&base, &old_key).await.get("error").is_some(),
        "the old key stops answering"
    );
    assert!(api_balance(&base, &new_key).await.get("balance").is_some());

    // Logging in again: the password, then the code (a backup code here; the first one is
    // spent and refused).
    click(c, "form.logout button").await;
    wait_for_path(c, "/login").await;
    fill(c, "#email", &demo.user_email).await;
    fill(c, "#password", new_password).await;
    click(c, "button[type=submit]").await;
    wait_for_path(c, "/login/code").await;
    shoot(c, "login-code").await;
    c.goto(&format!("{base}/dashboard"))
        .await
        .expect("dashboard");
    wait_for_path(c, "/login").await;
    assert!(
        !c.current_url()
            .await
            .expect("url")
            .path()
            .starts_with("/dashboard"),
        "a session waiting for its code opens no page"
    );
    // Sent back to the code form (the waiting session is still there).
    wait_for_path(c, "/login/code").await;
    fill(c, "#code", &backup[0]).await;
    click(c, "form[action='/login/code'] button").await;
    wait_for_text(c, ".flash.err", "already used").await;
    // Cancel ends the waiting session: the dashboard now asks for the password again.
    click(c, "#cancel-login").await;
    for _ in 0..100 {
        if c.current_url().await.expect("url").path() == "/login" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(c.current_url().await.expect("url").path(), "/login");
    c.goto(&format!("{base}/dashboard"))
        .await
        .expect("dashboard");
    assert_eq!(
        c.current_url().await.expect("url").path(),
        "/login",
        "no waiting session any more"
    );
    fill(c, "#email", &demo.user_email).await;
    fill(c, "#password", new_password).await;
    click(c, "button[type=submit]").await;
    wait_for_path(c, "/login/code").await;
    fill(c, "#code", &backup[1]).await;
    click(c, "form[action='/login/code'] button").await;
    wait_for_path(c, "/dashboard").await;
}
