//! Conformance cases — Accounts: unique e-mails, API keys and sessions.

use crate::*;
use smmd_domain::{Money, UserId};
use std::sync::Arc;

use super::*;

pub async fn users_are_unique_by_email_ignoring_case(store: Arc<dyn Store>) {
    let a = user(&store, "Ann@Example.com", "0").await;
    assert_eq!(a.balance, Money::ZERO);
    let dup = store
        .create_user(NewUser {
            email: "ann@example.COM".into(),
            password_hash: "x".into(),
            role: Role::Admin,
            api_key_hash: None,
            now: NOW,
            audit: None,
            referral: None,
        })
        .await;
    assert!(
        matches!(dup, Err(StoreError::Conflict("users.email"))),
        "{dup:?}"
    );
    let creds = store
        .user_credentials(" ANN@example.com ")
        .await
        .expect("lookup")
        .expect("found");
    assert_eq!(
        (creds.user.id, creds.password_hash.as_str()),
        (a.id, "$argon2id$test")
    );
    store.set_role(a.id, Role::Admin, None).await.expect("role");
    assert_eq!(
        store.user(a.id).await.expect("read").expect("user").role,
        Role::Admin
    );
    assert!(matches!(
        store.set_role(UserId(999_999), Role::Admin, None).await,
        Err(StoreError::NotFound)
    ));
    let listed = store.list_users(None, 10).await.expect("list");
    assert_eq!(listed.len(), 1);
}

pub async fn api_keys_and_sessions_identify_users(store: Arc<dyn Store>) {
    let a = user(&store, "a@x.io", "0").await;
    let b = user(&store, "b@x.io", "0").await;
    store.set_api_key(a.id, "hash-a1").await.expect("key");
    assert_eq!(
        store
            .user_by_api_key("hash-a1")
            .await
            .expect("lookup")
            .map(|u| u.id),
        Some(a.id)
    );
    store.set_api_key(a.id, "hash-a2").await.expect("rotate");
    assert!(
        store
            .user_by_api_key("hash-a1")
            .await
            .expect("lookup")
            .is_none(),
        "old key stops working"
    );
    assert!(matches!(
        store.set_api_key(b.id, "hash-a2").await,
        Err(StoreError::Conflict("users.api_key"))
    ));

    store
        .create_session("tok", b.id, "csrf-1", NOW, NOW + 1_000, false)
        .await
        .expect("session");
    let s = store
        .session("tok", NOW + 999)
        .await
        .expect("read")
        .expect("live");
    assert_eq!((s.user.id, s.csrf.as_str()), (b.id, "csrf-1"));
    assert_eq!((s.pending_factor, s.factor_at), (false, None));
    assert_eq!((s.user.two_factor, s.user.email_pending), (false, false));
    assert!(
        store
            .session("tok", NOW + 1_000)
            .await
            .expect("read")
            .is_none(),
        "expired"
    );
    store.delete_session("tok").await.expect("delete");
    assert!(store.session("tok", NOW).await.expect("read").is_none());
}
