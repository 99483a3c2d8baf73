//! API tests: one binary, a real server per test on `127.0.0.1:0`, each test on SQLite and on
//! PostgreSQL.

mod admin_pages;
mod affiliates;
mod alert_channels;
mod billing;
mod customers;
mod failover;
mod fulfil;
mod health;
mod helpers;
mod jobs;
mod languages;
mod ledger_pages;
mod live;
mod live_instances;
mod maintenance;
mod margin;
mod pages;
mod panels;
mod payments;
mod payouts;
mod providers_admin;
mod push;
mod rest;
mod security;
mod sessions;
mod smm;
mod storefront;
mod stuck;
mod tickets;
mod v2_fuzz;
mod v2_request_id;
mod v2_vectors;

use admin_pages::*;
use affiliates::*;
use alert_channels::*;
use billing::*;
use customers::*;
use failover::*;
use fulfil::*;
use health::*;
use jobs::*;
use languages::*;
use ledger_pages::*;
use live::*;
use live_instances::*;
use maintenance::*;
use margin::*;
use pages::*;
use panels::*;
use payments::*;
use payouts::*;
use providers_admin::*;
use push::*;
use rest::*;
use security::*;
use sessions::*;
use smm::*;
use storefront::*;
use stuck::*;
use tickets::*;
use v2_fuzz::*;
use v2_request_id::*;
use v2_vectors::*;

backend_tests!(
    two_children_and_the_root_keep_exact_money_through_completion_and_refunds,
    a_cancel_in_a_child_reaches_the_root_without_waiting_for_the_sweep,
    each_hostname_reaches_one_panel_and_credentials_stay_in_theirs,
    suspension_stops_add_at_the_root_at_once_and_payment_restores_it,
    a_terminated_child_keeps_its_archive_then_is_removed,
    balance_vectors_s1_to_s7,
    services_vector_s8,
    add_vectors_s9_to_s21,
    a_request_id_makes_one_order_under_racing_repeats,
    status_vectors_s22_to_s26_and_s33,
    refill_vectors_s27_s29_s30,
    refill_multi_vector_s28,
    cancel_vectors_s31_s32,
    random_parameter_maps_get_clear_errors_and_write_nothing,
    malformed_bodies_are_incorrect_requests,
    concurrent_adds_spend_exactly_the_balance,
    login_sets_an_httponly_cookie_and_csrf_guards_writes,
    admin_routes_need_an_admin_and_adjust_balances_with_reasons,
    health_and_readiness_answer,
    log_ins_are_limited_per_address,
    the_public_url_is_used_everywhere_and_makes_cookies_secure,
    a_customer_logs_in_orders_and_cancels_through_the_pages,
    sign_up_settings_and_notifications_through_the_pages,
    admins_operate_jobs_through_the_api,
    openapi_and_metrics_describe_the_scheduler,
    orders_placed_through_api_v2_reach_their_outcome_with_the_right_refunds,
    a_second_smmd_buys_through_the_first_ones_api_v2,
    rest_catalog_filters_and_pages_services,
    rest_orders_place_list_show_cancel_and_refill,
    users_never_see_or_touch_each_others_orders,
    an_idempotency_key_makes_one_order_under_50_parallel_requests,
    admins_search_and_act_on_orders_with_reasons,
    admins_test_sync_and_switch_providers,
    admins_add_and_edit_providers_with_their_limits,
    cleanup_archives_old_orders_that_still_show_everywhere,
    live_updates_reach_the_owner_as_they_commit,
    a_socket_replays_what_its_page_missed_once,
    every_row_reaches_every_page_once_across_two_instances,
    notification_settings_and_the_inbox_over_rest,
    funds_are_added_once_when_an_admin_approves_a_payment,
    admin_pages_are_for_admins_and_act_through_the_admin_api,
    admins_preview_an_import_and_edit_a_schedule_from_the_pages,
    customers_use_the_dashboard_mass_order_and_api_pages,
    the_api_page_documents_what_api_v2_answers,
    customers_rent_plans_and_admins_run_billing_over_rest,
    customers_rent_from_the_billing_page_and_admins_see_it,
    customers_read_statements_and_admins_void_them,
    a_reseller_tier_prices_api_v2_and_rest,
    api_v2_limits_each_key_and_a_reseller_tier_raises_it,
    a_referral_link_signs_up_customers_whose_orders_pay_the_affiliate,
    a_sign_up_from_the_affiliate_s_browser_is_flagged_same_device,
    affiliate_payouts_run_decide_and_transfer_over_rest,
    pages_without_a_session_keep_where_people_were_and_what_they_typed,
    visitors_see_the_brand_the_services_and_the_pages_an_admin_set,
    customers_find_orders_by_id_and_read_their_transactions,
    customers_rate_delivered_orders_and_admins_moderate_the_comments,
    admins_find_customers_note_them_disable_them_and_set_their_rates,
    owners_route_alerts_to_telegram_and_discord_over_rest,
    pages_speak_the_visitors_and_the_accounts_language,
    display_currencies_convert_what_customers_see,
    a_ticket_goes_between_customer_and_admin_over_rest,
    the_admin_users_pages_search_and_show_a_customer,
    two_factor_guards_money_and_security_routes_over_rest,
    a_password_reset_over_rest_answers_alike_and_works_once,
    sign_ups_confirm_their_e_mail_when_the_owner_asks,
    the_margin_guard_holds_below_cost_and_the_owner_decides_over_rest,
    the_stuck_ladder_is_set_and_watched_over_rest_and_pages,
    a_failing_providers_calls_orders_and_runway_show_in_metrics_and_pages,
    orders_fail_over_to_a_fallback_offer_set_over_rest,
    provider_pushes_are_signed_fresh_idempotent_and_go_through_the_sync_path,
);
