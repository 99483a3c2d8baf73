//! The storage boundary of smmd: the [`Store`] trait, whose methods are whole use cases that each
//! own their transaction, the records they return, and their errors. Nothing outside the backend
//! crate sees SQL or a transaction handle.
//!
//! Money invariants every backend keeps (and the conformance suite in [`testsuite`] checks):
//! - every balance change is one append-only ledger row with a unique idempotency key, written in
//!   the same transaction as the cached balance and the state change it pays for;
//! - a debit is conditional: the balance never goes below zero;
//! - `users.balance = Σ ledger.amount` for every user ([`Store::ledger_mismatches`]).
//!
//! Times are epoch milliseconds (UTC) passed in by the caller from its injected clock.

use async_trait::async_trait;

pub mod accounts;
pub mod affiliates;
pub mod alerting;
pub mod billing;
pub mod catalog;
pub mod currencies;
pub mod fulfil;
pub mod health;
pub mod margin;
pub mod notify;
pub mod orders;
pub mod panels;
pub mod payments;
pub mod payouts;
pub mod people;
pub mod queries;
pub mod refills;
pub mod schedules;
pub mod sealed;
pub mod security;
pub mod site;
pub mod stuck;
#[cfg(feature = "testsuite")]
pub mod testsuite;
pub mod tickets;
pub mod wallet;

pub use accounts::*;
pub use affiliates::*;
pub use alerting::*;
pub use billing::*;
pub use catalog::*;
pub use currencies::*;
pub use fulfil::*;
pub use health::*;
pub use margin::*;
pub use notify::*;
pub use orders::*;
pub use panels::*;
pub use payments::*;
pub use payouts::*;
pub use people::*;
pub use queries::*;
pub use refills::*;
pub use schedules::*;
pub use security::*;
pub use site::*;
pub use stuck::*;
pub use tickets::*;
pub use wallet::*;

/// A failure of the storage layer itself. Business refusals have their own error types.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was hit; the name says which (`"users.email"`).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Every storage use case: the sum of the section traits, one per concern, each beside its
/// records. Each method is one transaction; implementations are `Send + Sync` and shared as
/// `Arc<dyn Store>`. Callers bring the sections they use into scope with
/// `use smmd_store::prelude::*`.
#[async_trait]
pub trait Store:
    AccountStore
    + AffiliateStore
    + AlertChannelStore
    + BillingStore
    + CurrencyStore
    + WalletStore
    + CatalogStore
    + OrderStore
    + PanelStore
    + RefillStore
    + SchedulerStore
    + FulfilStore
    + MarginStore
    + StuckStore
    + HealthStore
    + NotificationStore
    + PaymentStore
    + PayoutStore
    + FeedStore
    + AdminStore
    + SiteStore
    + RatingStore
    + SecurityStore
    + PeopleStore
    + TicketStore
    + Send
    + Sync
    + 'static
{
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;

    /// Cheap round trip for readiness probes.
    async fn ping(&self) -> StoreResult<()>;
}

/// The section traits, to call store methods on a `dyn Store`.
pub mod prelude {
    pub use crate::{
        AccountStore, AdminStore, AffiliateStore, AlertChannelStore, BillingStore, CatalogStore,
        CurrencyStore, FeedStore, FulfilStore, MarginStore, NotificationStore, OrderStore,
        PanelStore, PaymentStore, PayoutStore, PeopleStore, RatingStore, RefillStore,
        SchedulerStore, SecurityStore, SiteStore, Store, StuckStore, TicketStore, WalletStore,
    };
}
