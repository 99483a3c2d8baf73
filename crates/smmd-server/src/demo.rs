//! `smmd demo`: seeds a panel someone can try at once: an admin, a user with a balance, and a
//! small catalog covering the common service types. Seeding is idempotent: on every start the
//! two accounts get their known passwords back and fresh API keys (keys are stored hashed, so new
//! ones are the only way to print them), and the catalog and top-up are added only once.

use serde::Serialize;
use smmd_domain::service::ServiceType;
use smmd_domain::{Clock, Money};
use smmd_store::{BalanceChange, LedgerKind, Role, ServiceDraft, Store, User};

use crate::auth;
use crate::panel::{self, RegisterError};

pub const ADMIN_EMAIL: &str = "admin@demo.smmd";
pub const ADMIN_PASSWORD: &str = "demo-admin-pass";
pub const USER_EMAIL: &str = "user@demo.smmd";
pub const USER_PASSWORD: &str = "demo-user-pass";
/// The demo user's starting balance, panel currency.
pub const USER_BALANCE: &str = "100.00";

/// One seeded account's log-in.
#[derive(Clone, Debug, Serialize)]
pub struct Login {
    pub email: String,
    pub password: String,
    pub api_key: String,
}

/// What `demo-credentials.json` holds.
#[derive(Clone, Debug, Serialize)]
pub struct Credentials {
    pub url: String,
    pub admin: Login,
    pub user: Login,
}

async fn account(
    store: &dyn Store,
    clock: &dyn Clock,
    email: &str,
    password: &str,
    role: Role,
) -> anyhow::Result<(User, String)> {
    match panel::register(store, clock, email, password, role).await {
        Ok(created) => Ok(created),
        Err(RegisterError::EmailTaken) => {
            let user = store
                .user_credentials(email)
                .await?
                .ok_or_else(|| anyhow::anyhow!("demo account vanished"))?
                .user;
            store
                .set_password(user.id, &auth::hash_password(password)?)
                .await?;
            store.set_role(user.id, role).await?;
            let key = panel::rotate_api_key(store, user.id).await?;
            Ok((user, key))
        }
        Err(e) => Err(anyhow::anyhow!("seeding {email}: {e}")),
    }
}

/// Seeds (or refreshes) the demo data and returns the log-ins.
pub async fn seed(store: &dyn Store, clock: &dyn Clock, url: &str) -> anyhow::Result<Credentials> {
    let (_, admin_key) = account(store, clock, ADMIN_EMAIL, ADMIN_PASSWORD, Role::Admin).await?;
    let (user, user_key) = account(store, clock, USER_EMAIL, USER_PASSWORD, Role::User).await?;
    store
        .change_balance(BalanceChange {
            user_id: user.id,
            amount: Money::parse(USER_BALANCE)?,
            kind: LedgerKind::Deposit,
            key: "demo:seed-balance".into(),
            reason: "Demo top-up".into(),
            actor_id: None,
            now: clock.now_ms(),
        })
        .await
        .map_err(|e| anyhow::anyhow!("demo top-up: {e}"))?;
    if store.list_services(false).await?.is_empty() {
        for draft in catalog()? {
            store.create_service(draft, clock.now_ms()).await?;
        }
    }
    Ok(Credentials {
        url: url.to_string(),
        admin: Login {
            email: ADMIN_EMAIL.into(),
            password: ADMIN_PASSWORD.into(),
            api_key: admin_key,
        },
        user: Login {
            email: USER_EMAIL.into(),
            password: USER_PASSWORD.into(),
            api_key: user_key,
        },
    })
}

fn catalog() -> anyhow::Result<Vec<ServiceDraft>> {
    let m = Money::parse;
    let mut list = Vec::new();
    let mut followers = ServiceDraft::new(
        "Instagram Followers",
        "Instagram Followers [Real, 30 days refill]",
        ServiceType::Default,
        m("0.90")?,
        50,
        10_000,
    );
    followers.refill = true;
    followers.guarantee_days = 30;
    followers.cancel = true;
    followers.dripfeed = true;
    followers.description = "Starts within 1 hour, 5–10k per day. Refill for 30 days.".into();
    list.push(followers);
    let mut likes = ServiceDraft::new(
        "Instagram Likes",
        "Instagram Likes [Fast]",
        ServiceType::Default,
        m("0.30")?,
        20,
        50_000,
    );
    likes.cancel = true;
    likes.dripfeed = true;
    list.push(likes);
    let mut comments = ServiceDraft::new(
        "Instagram Comments",
        "Instagram Custom Comments",
        ServiceType::CustomComments,
        m("8.00")?,
        1,
        1_500,
    );
    comments.description = "One comment per line.".into();
    list.push(comments);
    let mut views = ServiceDraft::new(
        "YouTube",
        "YouTube Views [Non-drop, 60 days refill]",
        ServiceType::Default,
        m("1.20")?,
        100,
        1_000_000,
    );
    views.refill = true;
    views.guarantee_days = 60;
    list.push(views);
    list.push(ServiceDraft::new(
        "YouTube",
        "YouTube Channel Starter Package",
        ServiceType::Package,
        m("5.00")?,
        1,
        1,
    ));
    list.push(ServiceDraft::new(
        "Telegram",
        "Telegram Poll Votes",
        ServiceType::Poll,
        m("1.00")?,
        10,
        10_000,
    ));
    list.push(ServiceDraft::new(
        "Instagram Likes",
        "Instagram Auto Likes (Subscription)",
        ServiceType::Subscriptions,
        m("0.40")?,
        100,
        1_000,
    ));
    let mut traffic = ServiceDraft::new(
        "Website Traffic",
        "Website Traffic [Worldwide]",
        ServiceType::WebTraffic,
        m("0.50")?,
        100,
        100_000,
    );
    traffic.dripfeed = true;
    list.push(traffic);
    Ok(list)
}
