//! The conformance suite every [`Store`] backend must pass (feature `testsuite`). Each case is a
//! plain async function taking a fresh store; [`conformance_tests!`](crate::conformance_tests)
//! turns the whole list into `#[tokio::test]`s for one backend. Every case ends by checking the
//! ledger invariant `balance = Σ ledger`.

mod accounts;
mod admin;
mod affiliates;
mod alerting;
mod billing;
mod catalog;
mod conservation;
mod currencies;
mod fulfil;
mod notifications;
mod orders;
mod panels;
mod payouts;
mod people;
mod refills;
mod safeguards;
mod scheduler;
mod searches;
mod security;
mod site;
mod statements;
mod tickets;
mod wallet;

use crate::*;
use smmd_domain::order::{OrderEvent, OrderStatus};
use smmd_domain::service::{validate_order, OrderInput, ServiceType};
use smmd_domain::{Money, ProviderId, UserId};
use std::sync::Arc;

pub use accounts::*;
pub use admin::*;
pub use affiliates::*;
pub use alerting::*;
pub use billing::*;
pub use catalog::*;
pub use conservation::*;
pub use currencies::*;
pub use fulfil::*;
pub use notifications::*;
pub use orders::*;
pub use panels::*;
pub use payouts::*;
pub use people::*;
pub use refills::*;
pub use safeguards::*;
pub use scheduler::*;
pub use searches::*;
pub use security::*;
pub use site::*;
pub use statements::*;
pub use tickets::*;
pub use wallet::*;
/// Generates one `#[tokio::test]` per conformance case. `$make` is an expression evaluating to a
/// future of `Option<T>` where `T` has a `store` field coercible to `Arc<dyn Store>`; `None`
/// skips (explicit PostgreSQL opt-out only).
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@cases $make;
            users_are_unique_by_email_ignoring_case,
            api_keys_and_sessions_identify_users,
            balance_changes_are_idempotent_and_never_negative,
            concurrent_credits_with_one_key_apply_once,
            placing_an_order_debits_and_records_the_charge,
            an_order_without_funds_writes_nothing,
            active_order_with_the_same_link_is_refused,
            concurrent_orders_spend_exactly_the_balance,
            a_placement_storm_loses_nothing_and_refuses_each_order_alone,
            provider_outcomes_refund_once_and_top_up,
            stale_and_illegal_updates_write_nothing,
            cancel_refunds_unsent_orders_and_requests_sent_ones,
            refills_follow_the_eligibility_rules,
            imported_orders_keep_their_ids,
            services_and_categories_round_trip,
            concurrent_claimers_create_exactly_one_run_per_tick,
            one_run_per_schedule_runs_and_stale_leases_are_fenced,
            skipped_ticks_and_overlap_are_recorded,
            failed_runs_retry_until_attempts_are_used,
            ensure_schedule_never_overwrites_an_edited_schedule,
            schedule_edits_are_audited_and_bump_the_version,
            run_now_with_one_request_key_makes_one_run,
            pause_stops_claims_and_starts_until_resumed,
            bring_forward_runs_one_tick_now_and_waits_while_busy,
            released_runs_return_to_pending_without_counting_the_attempt,
            canary_writes_are_fenced_by_the_lease_token,
            clock_wakeup_and_health_figures,
            concurrent_dispatch_claims_take_each_order_once,
            dispatch_skips_disabled_providers_and_sync_reads_oldest_checked_first,
            offers_alerts_and_admin_edits_round_trip,
            a_request_key_places_one_order_and_finds_it_again,
            storefront_values_and_pages_round_trip_with_their_audit,
            ratings_are_once_per_delivered_order_and_count_when_approved,
            reset_tokens_work_once_end_sessions_and_mail_through_the_outbox,
            confirmation_and_two_factor_state_round_trip,
            customers_are_searched_noted_and_priced_by_their_custom_rates,
            the_order_context_is_the_service_and_what_prices_it_for_the_user,
            order_searches_filter_page_and_use_public_references,
            archived_orders_are_read_everywhere_and_refuse_changes,
            the_audit_log_keeps_admin_actions_newest_first,
            the_order_log_records_each_change_with_it,
            notifications_are_collected_once_and_delivered_with_retries,
            alert_channels_round_trip_and_queue_one_message_per_alert,
            feed_rates_pins_and_display_currencies_round_trip,
            child_panels_register_with_their_rental_and_keep_their_hostnames,
            a_panels_activity_counts_the_orders_its_key_placed,
            stuck_orders_are_active_orders_past_their_due_time,
            tickets_move_between_customer_and_admin_with_alerts_and_notices,
            canned_replies_are_kept_by_title,
            the_feed_reads_every_source_after_its_cursor_and_wakes_on_commit,
            payment_requests_credit_once_when_approved,
            dashboard_figures_and_completion_times,
            renting_pays_the_first_hour_and_refuses_what_it_cannot,
            an_outage_is_billed_once_and_paused_hours_are_waived,
            a_month_never_costs_more_than_the_plan,
            the_dunning_ladder_runs_at_its_exact_instants,
            a_top_up_collects_dues_oldest_first_but_not_an_admin_suspension,
            credits_plan_changes_and_cancels_keep_the_rules,
            orders_and_billing_share_a_short_wallet,
            the_runway_warns_once_per_dip_and_rental_changes_become_notices,
            statements_are_drafted_then_final_with_gapless_numbers,
            commissions_follow_net_spend_through_hold_release_and_clawback,
            commissions_respect_the_program_settings,
            login_traces_are_kept_per_address_and_device_and_pruned,
            payout_runs_pay_exactly_the_eligible_and_name_the_first_reason,
            a_payout_run_pays_once_whatever_the_triggers,
            payout_decisions_follow_the_diagram_with_gapless_numbers,
            payout_methods_need_approval_and_wait_out_the_cool_down,
            link_overlap_flags_the_referral_and_holds_its_commissions,
            concurrent_transfers_move_the_balance_once,
            a_decade_of_affiliate_money_is_conserved,
        );
    };
    (@cases $make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some(db) = $make.await else { return };
                $crate::testsuite::$case(db.store.clone()).await;
            }
        )*
    };
}

/// The suite's clock: 2026-01-01T00:00:00Z, epoch ms.
pub const NOW: i64 = 1_767_225_600_000;

pub(super) fn m(s: &str) -> Money {
    Money::parse(s).expect("amount")
}

/// A user signed up at [`NOW`] with `balance` deposited (key `seed:{email}`); also for the
/// backends' own tests.
pub async fn user(store: &Arc<dyn Store>, email: &str, balance: &str) -> User {
    user_with(store, email, balance, None).await
}

/// [`user`], signed up through `referral`.
pub async fn user_with(
    store: &Arc<dyn Store>,
    email: &str,
    balance: &str,
    referral: Option<NewReferral>,
) -> User {
    let u = store
        .create_user(NewUser {
            email: email.to_string(),
            password_hash: "$argon2id$test".to_string(),
            role: Role::User,
            api_key_hash: None,
            now: NOW,
            audit: None,
            referral,
        })
        .await
        .expect("create user");
    if m(balance).is_positive() {
        credit(store, u.id, balance, &format!("seed:{email}")).await;
    }
    store.user(u.id).await.expect("read").expect("exists")
}

pub(super) async fn credit(
    store: &Arc<dyn Store>,
    user: UserId,
    amount: &str,
    key: &str,
) -> LedgerEntry {
    store
        .change_balance(BalanceChange {
            user_id: user,
            amount: m(amount),
            kind: LedgerKind::Deposit,
            key: key.to_string(),
            reason: "test".to_string(),
            actor_id: None,
            now: NOW,
            audit: None,
        })
        .await
        .expect("credit")
}

/// "Instagram Followers" at 0.90 per 1000 (50 to 10,000, refill with a 30-day guarantee,
/// cancel, drip-feed); also for the backends' own tests.
pub async fn followers(store: &Arc<dyn Store>) -> Service {
    let mut d = ServiceDraft::new(
        "Instagram Followers",
        "Followers",
        ServiceType::Default,
        m("0.90"),
        50,
        10_000,
    );
    d.refill = true;
    d.guarantee_days = 30;
    d.cancel = true;
    d.dripfeed = true;
    store.create_service(d, NOW).await.expect("service")
}

pub(super) async fn place(
    store: &Arc<dyn Store>,
    u: UserId,
    svc: &Service,
    link: &str,
    qty: i64,
) -> Result<Order, PlaceOrderError> {
    let input = OrderInput {
        link: Some(link.to_string()),
        quantity: Some(qty.to_string()),
        ..Default::default()
    };
    let spec = validate_order(&svc.rules(), &input)?;
    store
        .place_order(u, svc, &spec, Default::default(), NOW)
        .await
}

pub(super) async fn balance(store: &Arc<dyn Store>, u: UserId) -> Money {
    store.user(u).await.expect("read").expect("user").balance
}

pub(super) async fn assert_ledger_consistent(store: &Arc<dyn Store>) {
    let bad = store.ledger_mismatches().await.expect("ledger check");
    assert!(bad.is_empty(), "balance != Σ ledger for {bad:?}");
}

pub(super) fn update(
    o: &Order,
    expected: OrderStatus,
    event: OrderEvent,
    remains: Option<i64>,
) -> OrderUpdate {
    OrderUpdate {
        order_id: o.id,
        expected,
        event,
        start_count: Some(100),
        remains,
        provider_order_id: None,
        provider_charge: None,
        offer: None,
        note: None,
        route_reason: None,
        now: NOW + 60_000,
        audit: None,
    }
}

/// Moves a queued order to `processing` the way dispatch will.
pub(super) async fn accept(store: &Arc<dyn Store>, o: &Order) {
    for (from, ev) in [
        (OrderStatus::Queued, OrderEvent::Claim),
        (OrderStatus::Submitting, OrderEvent::ProviderAccepted),
    ] {
        let mut u = update(o, from, ev, None);
        u.provider_order_id = Some(format!("p-{}", o.id));
        assert!(matches!(
            store.apply_order_update(u).await.expect("update"),
            UpdateOutcome::Applied { .. }
        ));
    }
}

pub(super) fn new_provider(name: &str) -> NewProvider {
    NewProvider {
        name: name.into(),
        url: "http://127.0.0.1:9/api/v2".into(),
        currency: "USD".into(),
        exchange_rate: RATE_ONE,
        api_key_enc: "v1:sealed".into(),
        timeout_ms: 1_000,
        max_concurrency: 4,
        rate_per_sec: None,
        balance_alert_below: None,
        limits: crate::ProviderLimits::default(),
    }
}

pub(super) async fn provider(store: &Arc<dyn Store>, name: &str) -> Provider {
    store
        .create_provider(new_provider(name), NOW, None)
        .await
        .expect("provider")
}

pub(super) async fn provided_service(
    store: &Arc<dyn Store>,
    p: ProviderId,
    upstream: &str,
) -> Service {
    let mut d = ServiceDraft::new(
        "Likes",
        &format!("Likes {upstream}"),
        ServiceType::Default,
        m("0.30"),
        10,
        100_000,
    );
    d.link_rule = false;
    d.cancel = true;
    d.provider_id = Some(p);
    d.provider_service_id = Some(upstream.into());
    store.create_service(d, NOW).await.expect("service")
}
