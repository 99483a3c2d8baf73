//! Conformance cases — account security: tokens sent by e-mail with their outbox row,
//! two-factor state, steps accepted once, backup codes used once, sessions waiting for a code.

use crate::*;
use std::sync::Arc;

use super::*;

fn token(email: &str, purpose: TokenPurpose, hash: &str, now: i64) -> NewAccountToken {
    NewAccountToken {
        email: email.into(),
        purpose,
        token_hash: hash.into(),
        now,
        expires_at: now + 3_600_000,
        subject: "Reset".into(),
        text: format!("link with {hash}"),
        per_hour: 3,
    }
}

pub async fn reset_tokens_work_once_end_sessions_and_mail_through_the_outbox(
    store: Arc<dyn Store>,
) {
    let a = user(&store, "Ann@x.io", "0").await;
    assert_eq!(
        store
            .issue_account_token(token("nobody@x.io", TokenPurpose::Reset, "h0", NOW))
            .await
            .expect("issue"),
        TokenIssue::NoAccount,
        "an unknown e-mail writes nothing"
    );
    assert_eq!(
        store
            .issue_account_token(token(" ann@X.io", TokenPurpose::Reset, "h1", NOW))
            .await
            .expect("issue"),
        TokenIssue::Issued(a.id)
    );
    let mails = store.claim_deliveries(NOW, 1_000, 10).await.expect("claim");
    assert_eq!(mails.len(), 1, "one e-mail, written with the token");
    let mail = &mails[0];
    assert_eq!(
        (mail.channel, mail.target.as_str(), mail.payload.as_str()),
        (Channel::Email, "Ann@x.io", "link with h1")
    );
    assert!(
        mail.notification_id < 0,
        "account e-mails are not notifications"
    );
    store
        .finish_delivery(mail.id, &DeliveryOutcome::Sent, NOW + 1)
        .await
        .expect("sent");
    // A second request ends the first link.
    store
        .issue_account_token(token("ann@x.io", TokenPurpose::Reset, "h2", NOW + 10))
        .await
        .expect("issue");
    for s in ["s1", "s2"] {
        store
            .create_session(s, a.id, "c", NOW, NOW + 86_400_000, false)
            .await
            .expect("session");
    }
    assert_eq!(
        store
            .redeem_reset_token("h1", "$argon2id$new", NOW + 20)
            .await
            .expect("redeem"),
        None,
        "superseded"
    );
    assert_eq!(
        store
            .redeem_reset_token("h2", "$argon2id$new", NOW + 3_600_011)
            .await
            .expect("redeem"),
        None,
        "expired"
    );
    assert_eq!(
        store
            .redeem_reset_token("h2", "$argon2id$new", NOW + 20)
            .await
            .expect("redeem"),
        Some(a.id)
    );
    assert_eq!(
        store
            .user_credentials("ann@x.io")
            .await
            .expect("read")
            .expect("user")
            .password_hash,
        "$argon2id$new"
    );
    assert!(
        store.session("s1", NOW + 30).await.expect("read").is_none()
            && store.session("s2", NOW + 30).await.expect("read").is_none(),
        "every session ends"
    );
    assert_eq!(
        store
            .redeem_reset_token("h2", "$argon2id$again", NOW + 30)
            .await
            .expect("redeem"),
        None,
        "used once"
    );
    // Three a hour: the fourth request (h1, h2 and this one made three) is throttled.
    store
        .issue_account_token(token("ann@x.io", TokenPurpose::Reset, "h3", NOW + 40))
        .await
        .expect("issue");
    assert_eq!(
        store
            .issue_account_token(token("ann@x.io", TokenPurpose::Reset, "h4", NOW + 50))
            .await
            .expect("issue"),
        TokenIssue::Throttled(a.id)
    );
    assert_eq!(
        store
            .issue_account_token(token(
                "ann@x.io",
                TokenPurpose::Reset,
                "h5",
                NOW + 3_600_011
            ))
            .await
            .expect("issue"),
        TokenIssue::Issued(a.id),
        "an hour later"
    );
    let pending = store
        .claim_deliveries(NOW + 3_600_011, 1_000, 10)
        .await
        .expect("claim");
    assert_eq!(
        pending.len(),
        3,
        "the e-mails of h2, h3 and h5 wait; h4 wrote none"
    );
    // The sent e-mail's text (a live link) is not kept.
    let sent = store.deliveries_of_user(a.id, 10).await.expect("list");
    assert!(sent.iter().any(|d| d.status == "sent"));
    // Pruning takes the tokens expired before the cut only: h1, h2 (used or ended) expired at
    // NOW + 1 h and NOW + 1 h + 10 ms; h3 and h5 are younger.
    assert_eq!(
        store
            .prune_account_tokens(NOW + 3_600_011, 100)
            .await
            .expect("prune"),
        2
    );
    assert_eq!(
        store
            .prune_account_tokens(NOW + 3_600_011, 100)
            .await
            .expect("prune"),
        0
    );
    assert_ledger_consistent(&store).await;
}

pub async fn confirmation_and_two_factor_state_round_trip(store: Arc<dyn Store>) {
    let a = user(&store, "bo@x.io", "0").await;
    store
        .set_email_pending(a.id, Some(NOW))
        .await
        .expect("pending");
    let read = |s: &Arc<dyn Store>| {
        let s = s.clone();
        async move { s.user(a.id).await.expect("read").expect("user") }
    };
    assert!(read(&store).await.email_pending);
    store
        .issue_account_token(token("bo@x.io", TokenPurpose::Verify, "v1", NOW))
        .await
        .expect("issue");
    assert_eq!(
        store
            .redeem_reset_token("v1", "x", NOW + 1)
            .await
            .expect("redeem"),
        None,
        "a confirmation token does not reset"
    );
    assert_eq!(
        store
            .redeem_verify_token("v1", NOW + 1)
            .await
            .expect("redeem"),
        Some(a.id)
    );
    assert!(!read(&store).await.email_pending);
    assert_eq!(
        store
            .redeem_verify_token("v1", NOW + 2)
            .await
            .expect("redeem"),
        None
    );

    // Two-factor: on with a step and codes, steps accepted once and only upwards.
    let off = store.two_factor(a.id).await.expect("2fa");
    assert_eq!((off.secret, off.backup_codes_left), (None, 0));
    assert!(
        !store.accept_totp_step(a.id, 10).await.expect("step"),
        "no secret, no step"
    );
    let codes = vec!["c1".to_string(), "c2".to_string()];
    assert!(store
        .enable_two_factor(a.id, "SECRET", 100, &codes, None)
        .await
        .expect("on"));
    assert!(
        !store
            .enable_two_factor(a.id, "OTHER", 200, &codes, None)
            .await
            .expect("again"),
        "already on: the secret stays"
    );
    let on = store.two_factor(a.id).await.expect("2fa");
    assert_eq!(
        (on.secret.as_deref(), on.last_step, on.backup_codes_left),
        (Some("SECRET"), 100, 2)
    );
    assert!(read(&store).await.two_factor);
    assert!(
        !store.accept_totp_step(a.id, 100).await.expect("step"),
        "the enrolment's step"
    );
    assert!(store.accept_totp_step(a.id, 101).await.expect("step"));
    assert!(
        !store.accept_totp_step(a.id, 101).await.expect("step"),
        "once"
    );
    assert!(
        !store.accept_totp_step(a.id, 99).await.expect("step"),
        "never back"
    );
    assert!(store.use_backup_code(a.id, "c1", NOW).await.expect("code"));
    assert!(
        !store.use_backup_code(a.id, "c1", NOW).await.expect("code"),
        "once"
    );
    assert!(!store.use_backup_code(a.id, "zz", NOW).await.expect("code"));
    assert_eq!(
        store.two_factor(a.id).await.expect("2fa").backup_codes_left,
        1
    );
    store
        .replace_backup_codes(a.id, &["c3".to_string()], None)
        .await
        .expect("renew");
    assert!(
        !store.use_backup_code(a.id, "c2", NOW).await.expect("code"),
        "old codes end"
    );
    assert!(store.use_backup_code(a.id, "c3", NOW).await.expect("code"));

    // A session waiting for the code, then passing it.
    store
        .create_session("w", a.id, "c", NOW, NOW + 1_000_000, true)
        .await
        .expect("session");
    let s = store.session("w", NOW).await.expect("read").expect("live");
    assert_eq!((s.pending_factor, s.factor_at), (true, None));
    store.pass_second_factor("w", NOW + 5).await.expect("pass");
    let s = store
        .session("w", NOW + 6)
        .await
        .expect("read")
        .expect("live");
    assert_eq!((s.pending_factor, s.factor_at), (false, Some(NOW + 5)));
    assert!(matches!(
        store.pass_second_factor("nope", NOW).await,
        Err(StoreError::NotFound)
    ));

    store.disable_two_factor(a.id, None).await.expect("off");
    let off = store.two_factor(a.id).await.expect("2fa");
    assert_eq!((off.secret, off.backup_codes_left), (None, 0));
    assert!(!read(&store).await.two_factor);
    assert_ledger_consistent(&store).await;
}
