//! The registry of hosted child panels (migration 0026, `docs/child-panels.md`), kept in the
//! root panel's database: each child's owner and rental, hostnames, brand, storage location,
//! provisioning progress and dedicated root API key. Every instance reads it to know which
//! panels to serve. A child's state is its phase read with its rental's
//! ([`smmd_domain::panel::PanelState::of`]), so suspending or paying a rental needs no write
//! here. Times are epoch ms.

use async_trait::async_trait;
use smmd_domain::billing::rental::RentalState;
use smmd_domain::panel::{PanelPhase, PanelState, ProvisionStep};
use smmd_domain::UserId;

use crate::{BillingError, NewAudit, StoreError, StoreResult};

/// What a renter asks for (validated by the caller; the password is already hashed).
#[derive(Clone, Debug)]
pub struct NewPanel {
    pub owner: UserId,
    /// A plan whose entitlement is `child_panel`.
    pub plan_id: i64,
    /// Normalised hostnames ([`smmd_domain::panel::Hostname`]), the first one the main one.
    pub hostnames: Vec<String>,
    /// The brand name its pages show.
    pub name: String,
    /// Its money's currency (ISO 4217).
    pub currency: String,
    /// The renter's default markup on the parent's prices, basis points (5000 = +50 %).
    pub markup_bp: i64,
    /// The child admin's e-mail and argon2 password hash.
    pub admin_email: String,
    pub admin_password_hash: String,
}

/// A registry row with its rental's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PanelRecord {
    pub id: i64,
    pub owner_id: UserId,
    pub rental_id: i64,
    pub hostnames: Vec<String>,
    pub name: String,
    pub currency: String,
    pub markup_bp: i64,
    pub admin_email: String,
    pub admin_password_hash: String,
    /// Where its database is: `sqlite:panels/7/smmd.db` (under the data directory) or
    /// `schema:panel_7` (PostgreSQL, in the root's database).
    pub storage: String,
    pub phase: PanelPhase,
    /// The step that runs next while provisioning (the last one once ready).
    pub step: ProvisionStep,
    /// The last step's failure, shown to the renter and the root admin until a step succeeds.
    pub error: Option<String>,
    /// The dedicated root API key: its hash (looked up by `/api/v2`) and the key sealed with
    /// the root's secret (the child's provider needs it in clear).
    pub api_key_hash: Option<String>,
    pub api_key_enc: Option<String>,
    pub rental_state: RentalState,
    /// When the rental entered its state.
    pub rental_state_at: i64,
    /// The plan's `retain_days` ([`smmd_domain::panel::ChildPanelPlan`]).
    pub retain_days: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl PanelRecord {
    /// The panel's state now.
    pub fn state(&self) -> PanelState {
        PanelState::of(
            self.phase,
            self.step,
            self.rental_state,
            self.rental_state_at,
            self.retain_days,
        )
    }
}

/// What a child panel bought from the root: the orders its dedicated key placed (its
/// customers' orders, bought as the renter's; the renter's own orders on the root and those of
/// their other panels are not counted).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PanelActivity {
    pub panel_id: i64,
    pub orders: i64,
    /// Σ (charge − refunded), root currency.
    pub revenue: smmd_domain::Money,
    /// The newest of those orders (epoch ms).
    pub last_order_at: Option<i64>,
}

/// Why a child panel was not rented.
#[derive(Debug, thiserror::Error)]
pub enum RentPanelError {
    #[error("The hostname {0} is already taken")]
    HostnameTaken(String),
    #[error("This plan is not a child panel plan")]
    NotChildPanelPlan,
    #[error(transparent)]
    Billing(#[from] BillingError),
}

impl From<StoreError> for RentPanelError {
    fn from(e: StoreError) -> Self {
        RentPanelError::Billing(BillingError::Store(e))
    }
}

/// The child panel registry.
#[async_trait]
pub trait PanelStore: Send + Sync {
    /// Rents `new.plan_id` for `new.owner` (as [`crate::BillingStore::rent`]: the setup fee
    /// and the first hour paid) and registers the panel, provisioning from its first step,
    /// in one transaction. The storage location follows the backend and the new id.
    /// Errors: the rental's, `HostnameTaken`, `NotChildPanelPlan`.
    async fn rent_panel(&self, new: &NewPanel, now: i64) -> Result<PanelRecord, RentPanelError>;

    /// Every panel, oldest first (every instance reads this to route hosts).
    async fn panels(&self) -> StoreResult<Vec<PanelRecord>>;

    async fn panel(&self, id: i64) -> StoreResult<Option<PanelRecord>>;

    /// The panel whose dedicated root API key hashes to `key_hash` (not removed, its owner
    /// not blocked).
    async fn panel_by_api_key(&self, key_hash: &str) -> StoreResult<Option<PanelRecord>>;

    /// Every panel's [`PanelActivity`].
    async fn panel_activity(&self) -> StoreResult<Vec<PanelActivity>>;

    /// The panels of one renter, newest first.
    async fn panels_of(&self, owner: UserId) -> StoreResult<Vec<PanelRecord>>;

    /// Moves a provisioning panel from step `from` to `to` (`None`: ready), clearing the
    /// error. False when it is not at `from` any more (another runner moved it).
    async fn advance_panel(
        &self,
        id: i64,
        from: ProvisionStep,
        to: Option<ProvisionStep>,
        now: i64,
    ) -> StoreResult<bool>;

    /// Records the failure of the current step (`None` clears it).
    async fn set_panel_error(&self, id: i64, error: Option<&str>, now: i64) -> StoreResult<()>;

    /// Stores the dedicated key once: false (nothing written) when the panel has one.
    async fn set_panel_key(
        &self,
        id: i64,
        key_hash: &str,
        key_enc: &str,
        now: i64,
    ) -> StoreResult<bool>;

    /// Takes the provisioning lease of panel `id` for `holder` until `now + lease_ms` when
    /// nobody holds it (or it expired, or `holder` has it). False: another instance is on it.
    async fn claim_panel(
        &self,
        id: i64,
        holder: &str,
        now: i64,
        lease_ms: i64,
    ) -> StoreResult<bool>;

    /// Gives the lease back (only `holder`'s).
    async fn release_panel(&self, id: i64, holder: &str) -> StoreResult<()>;

    /// Marks a panel removed (its storage is gone) and frees its hostnames, audited.
    async fn remove_panel(&self, id: i64, now: i64, audit: Option<NewAudit>) -> StoreResult<()>;
}
