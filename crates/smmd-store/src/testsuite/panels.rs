//! Conformance cases — the child panel registry: renting registers the panel with its rental
//! in one transaction, hostnames belong to one panel, provisioning advances step by step once,
//! the dedicated key is set once, the state follows the rental, removal frees the names.

use smmd_domain::billing::charge::CapMode;
use smmd_domain::panel::{PanelPhase, PanelState, ProvisionStep};

use super::*;

async fn child_plan(store: &Arc<dyn Store>) -> Plan {
    let patch = BillingSettingsPatch {
        enabled: Some(true),
        ..Default::default()
    };
    store
        .update_billing_settings(&patch, None, NOW, None)
        .await
        .expect("enable");
    store
        .create_plan(
            &NewPlan {
                code: "child".into(),
                name: "Child panel".into(),
                description: String::new(),
                price: m("73"),
                cap_mode: CapMode::H730,
                setup_fee: m("0"),
                entitlement: "child_panel".into(),
                settings: r#"{"retain_days":7}"#.into(),
            },
            NOW,
            None,
        )
        .await
        .expect("plan")
}

fn new_panel(owner: UserId, plan: i64, hosts: &[&str]) -> NewPanel {
    NewPanel {
        owner,
        plan_id: plan,
        hostnames: hosts.iter().map(|h| h.to_string()).collect(),
        name: "Boost Shop".into(),
        currency: "EUR".into(),
        markup_bp: 2_500,
        admin_email: "admin@boost.example".into(),
        admin_password_hash: "$argon2id$stub".into(),
    }
}

pub async fn child_panels_register_with_their_rental_and_keep_their_hostnames(
    store: Arc<dyn Store>,
) {
    let plan = child_plan(&store).await;
    let renter = user(&store, "renter@x.io", "10").await;
    let poor = user(&store, "poor@x.io", "0").await;
    // No money, no rental and no panel.
    let refused = store
        .rent_panel(&new_panel(poor.id, plan.id, &["poor.example"]), NOW)
        .await;
    assert!(
        matches!(
            refused,
            Err(RentPanelError::Billing(
                BillingError::InsufficientFunds { .. }
            ))
        ),
        "{refused:?}"
    );
    assert!(store.panels().await.expect("panels").is_empty());
    let p = store
        .rent_panel(
            &new_panel(renter.id, plan.id, &["boost.example", "www.boost.example"]),
            NOW,
        )
        .await
        .expect("rented");
    assert_eq!(p.hostnames, vec!["boost.example", "www.boost.example"]);
    assert_eq!(p.phase, PanelPhase::Provisioning);
    assert_eq!(p.step, ProvisionStep::Storage);
    assert_eq!((p.retain_days, p.markup_bp), (7, 2_500));
    assert!(
        p.storage == format!("sqlite:panels/{}/smmd.db", p.id)
            || p.storage == format!("schema:panel_{}", p.id),
        "{}",
        p.storage
    );
    let rental = store
        .rental(p.rental_id)
        .await
        .expect("rental")
        .expect("the rental");
    assert_eq!(rental.user_id, renter.id);
    assert_eq!(rental.plan_id, plan.id);
    assert!(
        store
            .user(renter.id)
            .await
            .expect("user")
            .expect("renter")
            .balance
            < m("10"),
        "the first hour is paid"
    );
    // A name belongs to one panel, whatever else the request names.
    let taken = store
        .rent_panel(
            &new_panel(renter.id, plan.id, &["other.example", "www.boost.example"]),
            NOW,
        )
        .await;
    assert!(
        matches!(&taken, Err(RentPanelError::HostnameTaken(h)) if h == "www.boost.example"),
        "{taken:?}"
    );
    assert_eq!(store.panels().await.expect("panels").len(), 1);
    assert_eq!(
        store
            .rentals(Some(renter.id), None, 10)
            .await
            .expect("rentals")
            .len(),
        1,
        "a refused panel leaves no rental"
    );
    // A plan of another entitlement is not a child panel.
    let tier = store
        .create_plan(
            &NewPlan {
                code: "tier".into(),
                name: "Tier".into(),
                description: String::new(),
                price: m("1"),
                cap_mode: CapMode::H730,
                setup_fee: m("0"),
                entitlement: "reseller_tier".into(),
                settings: "{}".into(),
            },
            NOW,
            None,
        )
        .await
        .expect("tier");
    assert!(matches!(
        store
            .rent_panel(&new_panel(renter.id, tier.id, &["tier.example"]), NOW)
            .await,
        Err(RentPanelError::NotChildPanelPlan)
    ));

    // One provisioner at a time: the lease is another instance's until it expires.
    assert!(store
        .claim_panel(p.id, "a", NOW, 60_000)
        .await
        .expect("claim"));
    assert!(!store
        .claim_panel(p.id, "b", NOW + 1, 60_000)
        .await
        .expect("held"));
    assert!(store
        .claim_panel(p.id, "a", NOW + 2, 60_000)
        .await
        .expect("renewed"));
    assert!(store
        .claim_panel(p.id, "b", NOW + 60_002, 60_000)
        .await
        .expect("expired"));
    store
        .release_panel(p.id, "a")
        .await
        .expect("not a's to release");
    assert!(!store
        .claim_panel(p.id, "a", NOW + 60_003, 60_000)
        .await
        .expect("b holds"));
    store.release_panel(p.id, "b").await.expect("release");
    assert!(store
        .claim_panel(p.id, "a", NOW + 60_004, 60_000)
        .await
        .expect("free"));

    // Steps advance once each, from where they are.
    assert!(store
        .advance_panel(
            p.id,
            ProvisionStep::Storage,
            Some(ProvisionStep::Admin),
            NOW + 1
        )
        .await
        .expect("advance"));
    assert!(
        !store
            .advance_panel(
                p.id,
                ProvisionStep::Storage,
                Some(ProvisionStep::Admin),
                NOW + 2
            )
            .await
            .expect("again"),
        "a second runner of the same step moves nothing"
    );
    store
        .set_panel_error(p.id, Some("disk full"), NOW + 3)
        .await
        .expect("error");
    let now = store.panel(p.id).await.expect("read").expect("panel");
    assert_eq!(now.step, ProvisionStep::Admin);
    assert_eq!(now.error.as_deref(), Some("disk full"));
    assert!(store
        .set_panel_key(p.id, "hash-1", "sealed-1", NOW + 4)
        .await
        .expect("key"));
    assert!(
        !store
            .set_panel_key(p.id, "hash-2", "sealed-2", NOW + 5)
            .await
            .expect("key again"),
        "the key is set once"
    );
    let by_key = store
        .panel_by_api_key("hash-1")
        .await
        .expect("read")
        .expect("found");
    assert_eq!(
        (by_key.id, by_key.api_key_enc.as_deref()),
        (p.id, Some("sealed-1"))
    );
    assert!(store
        .panel_by_api_key("hash-2")
        .await
        .expect("read")
        .is_none());
    for (from, to) in [
        (ProvisionStep::Admin, Some(ProvisionStep::ApiKey)),
        (ProvisionStep::ApiKey, Some(ProvisionStep::Provider)),
        (ProvisionStep::Provider, Some(ProvisionStep::Catalog)),
        (ProvisionStep::Catalog, Some(ProvisionStep::Start)),
        (ProvisionStep::Start, None),
    ] {
        assert!(store
            .advance_panel(p.id, from, to, NOW + 6)
            .await
            .expect("step"));
    }
    let ready = store.panel(p.id).await.expect("read").expect("panel");
    assert_eq!(
        (ready.phase, ready.error.as_deref()),
        (PanelPhase::Ready, None)
    );
    assert_eq!(ready.state(), PanelState::Active);

    // The state follows the rental: an admin suspension, then the end.
    store
        .rental_action(
            p.rental_id,
            RentalAction::Suspend,
            None,
            None,
            NOW + 7,
            None,
        )
        .await
        .expect("suspend");
    assert!(matches!(
        store
            .panel(p.id)
            .await
            .expect("read")
            .expect("panel")
            .state(),
        PanelState::Suspended { .. }
    ));
    store
        .rental_action(
            p.rental_id,
            RentalAction::Terminate,
            None,
            None,
            NOW + 8,
            None,
        )
        .await
        .expect("terminate");
    let ended = store.panel(p.id).await.expect("read").expect("panel");
    assert_eq!(
        ended.state(),
        PanelState::Terminated {
            remove_at: NOW + 8 + 7 * 86_400_000
        }
    );
    assert_eq!(store.panels_of(renter.id).await.expect("mine").len(), 1);
    let activity = store.panel_activity().await.expect("activity");
    assert_eq!(
        activity,
        vec![PanelActivity {
            panel_id: p.id,
            ..Default::default()
        }],
        "no orders yet"
    );
    assert!(store.panels_of(poor.id).await.expect("theirs").is_empty());

    // Removal frees the names and the key.
    store
        .remove_panel(p.id, NOW + 9, None)
        .await
        .expect("remove");
    let gone = store.panel(p.id).await.expect("read").expect("panel");
    assert_eq!(
        (gone.state(), gone.hostnames.len()),
        (PanelState::Removed, 0)
    );
    assert!(store
        .panel_by_api_key("hash-1")
        .await
        .expect("read")
        .is_none());
    let again = store
        .rent_panel(&new_panel(renter.id, plan.id, &["boost.example"]), NOW + 10)
        .await
        .expect("the name is free again");
    assert_eq!(store.panels().await.expect("panels").len(), 2);
    assert_eq!(again.hostnames, vec!["boost.example"]);
}

/// A panel's orders and revenue are the orders its dedicated key placed (net of refunds): not
/// the renter's own orders on the root, nor those of the renter's other panel.
pub async fn a_panels_activity_counts_the_orders_its_key_placed(store: Arc<dyn Store>) {
    let plan = child_plan(&store).await;
    let renter = user(&store, "two-panels@x.io", "100").await;
    let svc = followers(&store).await;
    let one = store
        .rent_panel(&new_panel(renter.id, plan.id, &["one.example"]), NOW)
        .await
        .expect("first");
    let two = store
        .rent_panel(&new_panel(renter.id, plan.id, &["two.example"]), NOW)
        .await
        .expect("second");
    let input = |link: &str, qty: i64| OrderInput {
        link: Some(link.to_string()),
        quantity: Some(qty.to_string()),
        ..Default::default()
    };
    let mut placed = Vec::new();
    for (n, (panel, qty)) in [
        (Some(one.id), 1000),
        (Some(one.id), 2000),
        (Some(two.id), 3000),
        (None, 4000),
    ]
    .into_iter()
    .enumerate()
    {
        let spec = validate_order(
            &svc.rules(),
            &input(&format!("https://instagram.com/p{n}"), qty),
        )
        .expect("valid");
        let placement = Placement {
            request_key: None,
            panel,
        };
        let o = store
            .place_order(renter.id, &svc, &spec, placement, NOW + n as i64)
            .await
            .expect("placed");
        placed.push(o);
    }
    let activity = store.panel_activity().await.expect("activity");
    let of = |id: i64| {
        activity
            .iter()
            .find(|a| a.panel_id == id)
            .cloned()
            .expect("listed")
    };
    assert_eq!(
        of(one.id),
        PanelActivity {
            panel_id: one.id,
            orders: 2,
            revenue: placed[0].charge.checked_add(placed[1].charge).expect("sum"),
            last_order_at: Some(NOW + 1),
        }
    );
    assert_eq!(
        of(two.id),
        PanelActivity {
            panel_id: two.id,
            orders: 1,
            revenue: placed[2].charge,
            last_order_at: Some(NOW + 2),
        }
    );
    assert_ledger_consistent(&store).await;
}
