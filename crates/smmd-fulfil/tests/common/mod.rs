//! The fulfilment tests' world: a store, a manual clock shared with a simulator on loopback, a
//! provider for it with its catalog imported, and a buyer with 1000 in credit.

#![allow(dead_code)]

use std::sync::Arc;

use smmd_domain::order::{refund_target, OrderStatus};
use smmd_domain::service::OrderInput;
use smmd_domain::{Clock, ManualClock, Money, OrderId, ProviderId};
use smmd_fulfil::{catalog, dispatch, sync, Clients, Fulfil, Settings};
use smmd_sim::{spawn, SimConfig, SimHandle};
use smmd_store::{
    BalanceChange, LedgerKind, NewProvider, NewUser, Order, Role, Service, Store, User, RATE_ONE,
};

pub const T0: i64 = 1_767_225_600_000;

pub struct World {
    pub store: Arc<dyn Store>,
    pub clock: Arc<ManualClock>,
    pub f: Fulfil,
    pub sim: SimHandle,
    pub provider: ProviderId,
    pub user: User,
}

pub fn quiet(mut c: SimConfig) -> SimConfig {
    for s in &mut c.services {
        s.partial_pct = 0;
        s.canceled_pct = 0;
    }
    c
}

pub async fn add_provider(
    w_store: &Arc<dyn Store>,
    clients: &Clients,
    name: &str,
    sim: &SimHandle,
) -> ProviderId {
    add_provider_at(w_store, clients, name, sim, &sim.url).await
}

/// A provider stored with address `url` (the simulator's, or `PARENT_URL` leading to it).
pub async fn add_provider_at(
    w_store: &Arc<dyn Store>,
    clients: &Clients,
    name: &str,
    sim: &SimHandle,
    url: &str,
) -> ProviderId {
    w_store
        .create_provider(
            NewProvider {
                name: name.into(),
                url: url.to_string(),
                currency: "USD".into(),
                exchange_rate: RATE_ONE,
                api_key_enc: clients.seal_key(&sim.sim.config.api_key),
                timeout_ms: 500,
                max_concurrency: 8,
                rate_per_sec: None,
                balance_alert_below: Some(Money::parse("50").expect("m")),
                limits: smmd_store::ProviderLimits::default(),
            },
            T0,
            None,
        )
        .await
        .expect("provider")
        .id
}

pub async fn world(store: Arc<dyn Store>, config: SimConfig) -> World {
    world_with(store, config, false).await
}

/// A world whose provider is, with `parent`, stored as a hosted child's parent
/// ([`smmd_fulfil::clients::PARENT_URL`]) and reached at the simulator.
pub async fn world_with(store: Arc<dyn Store>, config: SimConfig, parent: bool) -> World {
    let clock = Arc::new(ManualClock::new(T0));
    let sim = spawn(config, clock.clone(), "127.0.0.1:0")
        .await
        .expect("sim");
    // The breaker's cooldown is real time; the manual clock runs hours in seconds.
    let clients = Clients::new([9u8; 32]).with_breaker(5, std::time::Duration::from_millis(1));
    let (clients, url) = match parent {
        true => (
            clients.with_parent(&sim.url),
            smmd_fulfil::clients::PARENT_URL.to_string(),
        ),
        false => (clients, sim.url.clone()),
    };
    let provider = add_provider_at(&store, &clients, "sim", &sim, &url).await;
    let f = Fulfil {
        store: store.clone(),
        clock: clock.clone(),
        clients,
        settings: Settings::default(),
        lanes: Default::default(),
    };
    let r = catalog::run(&f, None).await.expect("services sync");
    assert_eq!(
        r.get("created"),
        Some(&(sim.sim.catalog().len() as i64)),
        "{r:?}"
    );
    let user = store
        .create_user(NewUser {
            email: "buyer@x.io".into(),
            password_hash: "x".into(),
            role: Role::User,
            api_key_hash: None,
            now: T0,
            audit: None,
            referral: None,
        })
        .await
        .expect("user");
    store
        .change_balance(BalanceChange {
            user_id: user.id,
            amount: Money::parse("1000").expect("m"),
            kind: LedgerKind::Deposit,
            key: "seed".into(),
            reason: "seed".into(),
            actor_id: None,
            now: T0,
            audit: None,
        })
        .await
        .expect("credit");
    World {
        store,
        clock,
        f,
        sim,
        provider,
        user,
    }
}

impl World {
    pub async fn service(&self, upstream_id: &str) -> Service {
        self.store
            .provider_services(self.provider)
            .await
            .expect("services")
            .into_iter()
            .find(|s| s.provider_service_id.as_deref() == Some(upstream_id))
            .expect("imported service")
    }

    pub async fn place(&self, svc: &Service, link: &str, qty: i64) -> Order {
        let input = OrderInput {
            link: Some(link.into()),
            quantity: Some(qty.to_string()),
            ..OrderInput::default()
        };
        let spec = smmd_domain::service::validate_order(&svc.rules(), &input).expect("valid");
        self.store
            .place_order(
                self.user.id,
                svc,
                &spec,
                Default::default(),
                self.clock.now_ms(),
            )
            .await
            .expect("placed")
    }

    pub async fn order(&self, id: OrderId) -> Order {
        self.store.order(id).await.expect("read").expect("order")
    }

    /// Dispatch, then advance and sync until no order is active or `rounds` run out.
    pub async fn settle(&self, ids: &[OrderId], rounds: usize) {
        for _ in 0..rounds {
            dispatch::run(&self.f).await.expect("dispatch");
            self.clock.advance_ms(60_000);
            sync::run(&self.f).await.expect("sync");
            let mut active = 0;
            for id in ids {
                let o = self.order(*id).await;
                if !o.status.is_terminal() && o.status != OrderStatus::NeedsReview {
                    active += 1;
                }
            }
            if active == 0 {
                return;
            }
        }
    }

    pub async fn assert_money(&self, ids: &[OrderId]) {
        for id in ids {
            let o = self.order(*id).await;
            let target = refund_target(o.status, o.charge, o.total_quantity, o.remains);
            assert_eq!(o.refunded, target, "order {} in {:?}", o.id.0, o.status);
        }
        assert!(
            self.store
                .ledger_mismatches()
                .await
                .expect("check")
                .is_empty(),
            "balance = Σ ledger"
        );
    }
}
