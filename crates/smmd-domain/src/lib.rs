//! The pure domain of smmd: exact money, identifiers, the clock abstraction, service types and
//! order validation, the order state machine with its refund rules, cancel and refill
//! eligibility, catalog edit bounds, the margin guard, offer failover, the stuck-order ladder, the ledger's idempotency keys, an order's public reference, and the rules of hourly
//! billing (the money rule, billable hours, the rental state machine), and the affiliate
//! program's (commission on net spend, clawbacks, the payout calendar and eligibility).
//!
//! Nothing here performs I/O: no database, HTTP or provider calls. Every interface (reseller
//! `/api/v2`, REST, web pages, CLI) and every job goes through these functions, so a rule is
//! stated and tested once.

pub mod affiliate;
pub mod alert;
pub mod billing;
pub mod cancel;
pub mod catalog;
pub mod clock;
pub mod custom_rate;
pub mod failover;
pub mod fx;
pub mod health;
pub mod ids;
pub mod ledger;
pub mod link;
pub mod margin;
pub mod money;
pub mod order;
pub mod panel;
pub mod provider_facts;
pub mod rating;
pub mod reference;
pub mod refill;
pub mod schedule;
pub mod service;
pub mod storefront;
pub mod stuck;
pub mod ticket;

pub use clock::{Clock, ManualClock, SystemClock};
pub use ids::{CategoryId, OrderId, ProviderId, RefillId, ServiceId, UserId};
pub use money::{Money, MoneyError};
