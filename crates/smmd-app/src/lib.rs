//! `smmd-app`: every use case of the panel, in one place.
//!
//! A use case is one thing a person or a job asks for — place an order, cancel it, ask for a
//! refill, resolve a review, adjust a balance, change a role, edit a service, add a provider,
//! request or decide a payment, register, log in, rotate a key. Each is a function here that
//! takes an [`App`] (the store and the clock), checks the rules the pure domain does not own
//! (reasons, self-demotion, payment limits, webhook URLs), calls the domain for the rules it
//! does own (pricing, the order state machine, cancel and refill eligibility, catalog bounds),
//! and makes one store call whose transaction holds the change, its ledger entry and its audit
//! line together.
//!
//! Interfaces — REST, `/api/v2`, the pages, the CLI and the demo — are thin adapters over these
//! functions: they extract input, call one use case and render its result or its
//! [`error::ErrorCode`]. Nothing here knows HTTP, HTML or the command line.
//!
//! | module | use cases |
//! |---|---|
//! | [`accounts`] | register (and a visitor's sign-up with a referral), log-in check, sessions, API keys, passwords, roles |
//! | [`affiliates`] | affiliate accounts and codes, the referral of a sign-up, log-in addresses, the affiliate page |
//! | [`wallet`] | admin balance adjustments, the demo's test top-up, payment requests and decisions |
//! | [`catalog`] | service and category edits |
//! | [`orders`] | place (single and mass), cancel, refill |
//! | [`review`] | resolving `needs_review` orders, admin order actions |
//! | [`providers`] | adding and enabling providers |
//! | [`billing`] | plans, billing settings and pause, renting, rental actions, credits, collection |
//! | [`notifications`] | notification settings and webhook URLs |
//! | [`people`] | the admin's view of customers: search, detail, notes, disable/enable, sessions, custom rates |
//! | [`security`] | password reset, e-mail confirmation, two-factor (TOTP, backup codes), step-up, the owner's security policy |
//! | [`panels`] | hosted child panels: renting one, the root admin's actions, provisioning step by step |
//! | [`storefront`] | the brand, the written pages (terms, FAQ, contact), the public catalogue |
//! | [`margin`] | minimum margins and breach actions, the held-orders queue and its decisions |
//! | [`stuck`] | "stuck after" settings of services and categories, the stuck-order queue |

pub mod accounts;
pub mod affiliates;
pub mod alert_channels;
pub mod audit;
pub mod billing;
pub mod catalog;
pub mod currencies;
pub mod error;
pub mod margin;
pub mod notifications;
pub mod offers;
pub mod orders;
pub mod panels;
pub mod payouts;
pub mod people;
pub mod pricing;
pub mod providers;
pub mod push;
pub mod review;
pub mod secrets;
pub mod security;
pub mod statements;
pub mod storefront;
pub mod stuck;
pub mod support;
pub mod wallet;

use smmd_domain::{Clock, Money};
use smmd_store::Store;

pub use audit::Actor;
pub use error::{Coded, ErrorCode, Refusal, UseCaseError};

/// The panel's money limits (`[panel]` `max_balance`, `max_order_amount`), panel currency.
/// Both are at most [`Money::MAX_AMOUNT`], which the store enforces whatever is configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The highest balance a credit (admin, payment, test top-up) may leave on a wallet.
    pub max_balance: Money,
    /// The highest charge of one order.
    pub max_order_amount: Money,
}

impl Default for Limits {
    /// The hard ceiling for both.
    fn default() -> Limits {
        Limits {
            max_balance: Money::MAX_AMOUNT,
            max_order_amount: Money::MAX_AMOUNT,
        }
    }
}

/// What every use case runs against: the panel's store, clock, money limits and the markup a
/// service gets when neither it nor its category sets one (basis points, `[fulfil]
/// default_markup_bp`, 5000 = +50 %). Cheap to copy; interfaces build one per request from
/// their shared state.
#[derive(Clone, Copy)]
pub struct App<'a> {
    pub store: &'a dyn Store,
    pub clock: &'a dyn Clock,
    pub limits: Limits,
    pub default_markup_bp: i64,
    /// How long a passed two-factor code covers money and security actions (ms;
    /// [`security::step_up`]).
    pub step_up_window_ms: i64,
    /// The panel's engine, woken when work arrives (an order placed wakes `orders.dispatch`);
    /// `None`: the work waits for the schedule's next tick.
    pub wake: Option<&'a smmd_jobs::Wake>,
}

impl<'a> App<'a> {
    /// An app with the hard money ceilings as limits.
    pub fn new(store: &'a dyn Store, clock: &'a dyn Clock) -> App<'a> {
        App {
            store,
            clock,
            limits: Limits::default(),
            default_markup_bp: 5_000,
            step_up_window_ms: security::STEP_UP_WINDOW_MS,
            wake: None,
        }
    }

    /// The same app waking `wake`'s engine when work arrives (`scheduler.run_on_demand`).
    pub fn with_wake(mut self, wake: Option<&'a smmd_jobs::Wake>) -> App<'a> {
        self.wake = wake;
        self
    }

    /// The same app with the panel's step-up window (ms; 0 asks every time).
    pub fn with_step_up_window(mut self, ms: i64) -> App<'a> {
        self.step_up_window_ms = ms;
        self
    }

    /// The same app with the panel's default markup (basis points).
    pub fn with_default_markup(mut self, bp: i64) -> App<'a> {
        self.default_markup_bp = bp;
        self
    }

    /// The same app with the panel's configured limits.
    pub fn with_limits(mut self, limits: Limits) -> App<'a> {
        self.limits = limits;
        self
    }

    /// Now, epoch milliseconds, from the injected clock.
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }
}
