//! Hosted child panels (`docs/child-panels.md`): the pure rules of the registry. A child panel
//! is a whole panel rented by a root user under a `child_panel` plan; this module owns its
//! hostnames (what a `Host` header may name), the provisioning steps and their order, the
//! state a panel is in (derived from its own phase and its rental's state, so a suspension
//! or a payment needs no second write), and the `child_panel` entitlement's settings.
//!
//! ```text
//! provisioning(step…) ──all steps done──► ready ──rental suspended──► suspended ──paid──► ready
//!                                           │ rental terminated or canceled
//!                                           ▼
//!                                      terminated ── retain_days later ──► removed
//! ```

use serde::{Deserialize, Serialize};

use crate::billing::rental::{RentalState, SuspendReason};
use crate::clock::DAY_MS;

/// A hostname a panel answers on: lower case ASCII, labels of `a-z`, `0-9` and `-` (not at
/// either end), 1 to 63 characters each, at least two labels, 253 characters in all; no
/// port, no IP address, no trailing dot. `Shop.Example.COM.` parses as `shop.example.com`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Hostname(String);

/// Why a hostname was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HostnameError {
    #[error("a hostname is 1 to 253 characters")]
    Length,
    #[error("a hostname has at least two labels (example.com)")]
    OneLabel,
    #[error("each label of a hostname is 1 to 63 letters, digits or hyphens, not starting or ending with a hyphen")]
    Label,
    #[error("a panel's hostname is a name, not an IP address")]
    Address,
}

impl Hostname {
    /// Parses what a renter typed or a `Host` header carried (a `:port` is dropped).
    pub fn parse(text: &str) -> Result<Hostname, HostnameError> {
        let text = text.trim();
        let name = match text.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => text,
        };
        let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
        if name.is_empty() || name.len() > 253 {
            return Err(HostnameError::Length);
        }
        let labels: Vec<&str> = name.split('.').collect();
        if labels.len() < 2 {
            return Err(HostnameError::OneLabel);
        }
        let label_ok = |l: &str| {
            (1..=63).contains(&l.len())
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        };
        if !labels.iter().all(|l| label_ok(l)) {
            return Err(HostnameError::Label);
        }
        if labels.iter().all(|l| l.bytes().all(|b| b.is_ascii_digit())) {
            return Err(HostnameError::Address);
        }
        Ok(Hostname(name))
    }

    /// The name of a `Host` header value, lower case without its port; `None` when it is
    /// empty or not a name this module accepts. Routing looks names up with it.
    pub fn of_host_header(value: &str) -> Option<String> {
        let value = value.trim();
        let name = match value.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => value,
        };
        let name = name.strip_suffix('.').unwrap_or(name);
        (!name.is_empty() && name.len() <= 253).then(|| name.to_ascii_lowercase())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Hostname {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Most hostnames one child panel answers on.
pub const MAX_HOSTNAMES: usize = 5;

/// One provisioning step, in the order they run. Each is idempotent: a step interrupted
/// (a crash, `kill -9`) runs again from its start and finds what it already made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProvisionStep {
    /// Create the panel's database (a SQLite file, or a PostgreSQL schema) and migrate it.
    Storage,
    /// Create the child admin from the e-mail and password hash the renter gave.
    Admin,
    /// Create the renter's dedicated root API key (sealed in the registry).
    ApiKey,
    /// Create the child's one provider: the root's `/api/v2` with that key.
    Provider,
    /// Import the root's catalogue as the renter sees it, with the renter's default markup.
    Catalog,
    /// Create the default schedules; the panel is ready and its engine starts.
    Start,
}

impl ProvisionStep {
    pub const ALL: [ProvisionStep; 6] = [
        ProvisionStep::Storage,
        ProvisionStep::Admin,
        ProvisionStep::ApiKey,
        ProvisionStep::Provider,
        ProvisionStep::Catalog,
        ProvisionStep::Start,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProvisionStep::Storage => "storage",
            ProvisionStep::Admin => "admin",
            ProvisionStep::ApiKey => "api_key",
            ProvisionStep::Provider => "provider",
            ProvisionStep::Catalog => "catalog",
            ProvisionStep::Start => "start",
        }
    }

    pub fn parse(text: &str) -> Option<ProvisionStep> {
        ProvisionStep::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The step after this one; `None` after the last (the panel is ready).
    pub fn next(self) -> Option<ProvisionStep> {
        let i = ProvisionStep::ALL.iter().position(|s| *s == self)?;
        ProvisionStep::ALL.get(i + 1).copied()
    }

    /// 1-based position, for "step 3 of 6".
    pub fn number(self) -> usize {
        ProvisionStep::ALL
            .iter()
            .position(|s| *s == self)
            .map_or(0, |i| i + 1)
    }
}

/// The panel's own phase, stored in the registry (`panels.phase`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PanelPhase {
    /// Steps remain ([`ProvisionStep`]).
    Provisioning,
    /// Every step is done.
    Ready,
    /// Its storage was removed after the retention; the row stays for the record.
    Removed,
}

impl PanelPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            PanelPhase::Provisioning => "provisioning",
            PanelPhase::Ready => "ready",
            PanelPhase::Removed => "removed",
        }
    }

    pub fn parse(text: &str) -> Option<PanelPhase> {
        [
            PanelPhase::Provisioning,
            PanelPhase::Ready,
            PanelPhase::Removed,
        ]
        .into_iter()
        .find(|p| p.as_str() == text)
    }
}

/// What a panel is doing now: its phase read with its rental's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum PanelState {
    /// Being set up; `step` runs next.
    Provisioning { step: ProvisionStep },
    /// Serving its customers; its key may order at the root.
    Active,
    /// Customers see "temporarily unavailable"; its admin can log in; the root refuses `add`
    /// and `refill` from its key while `status` works.
    Suspended { reason: SuspendReason },
    /// Not serving; its data is kept until `remove_at` (epoch ms) for the admin's archive.
    Terminated { remove_at: i64 },
    /// Gone.
    Removed,
}

impl PanelState {
    /// The state of a panel in `phase` (at `step` while provisioning) whose rental is in
    /// `rental` since `rental_state_at` (epoch ms), kept `retain_days` after it ends.
    pub fn of(
        phase: PanelPhase,
        step: ProvisionStep,
        rental: RentalState,
        rental_state_at: i64,
        retain_days: i64,
    ) -> PanelState {
        if phase == PanelPhase::Removed {
            return PanelState::Removed;
        }
        if rental.is_final() {
            return PanelState::Terminated {
                remove_at: rental_state_at.saturating_add(retain_days.saturating_mul(DAY_MS)),
            };
        }
        if let RentalState::Suspended(reason) = rental {
            return PanelState::Suspended { reason };
        }
        match phase {
            PanelPhase::Provisioning => PanelState::Provisioning { step },
            _ => PanelState::Active,
        }
    }

    /// The state's name (`provisioning`, `active`, `suspended`, `terminated`, `removed`).
    pub fn as_str(self) -> &'static str {
        match self {
            PanelState::Provisioning { .. } => "provisioning",
            PanelState::Active => "active",
            PanelState::Suspended { .. } => "suspended",
            PanelState::Terminated { .. } => "terminated",
            PanelState::Removed => "removed",
        }
    }

    /// Whether the deployment serves its hostnames (active or suspended; a suspended panel
    /// shows its customers the unavailable page).
    pub fn serves(self) -> bool {
        matches!(self, PanelState::Active | PanelState::Suspended { .. })
    }

    /// Whether its root API key may place orders and refills.
    pub fn may_order(self) -> bool {
        matches!(self, PanelState::Active | PanelState::Provisioning { .. })
    }
}

/// The settings of the `child_panel` entitlement: `retain_days` (1 to 365, default 30) is
/// how long a terminated panel's data is kept for its admin's archive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChildPanelPlan {
    #[serde(default = "default_retain_days")]
    pub retain_days: i64,
}

fn default_retain_days() -> i64 {
    30
}

impl Default for ChildPanelPlan {
    fn default() -> Self {
        ChildPanelPlan {
            retain_days: default_retain_days(),
        }
    }
}

impl ChildPanelPlan {
    /// Checks the settings; the message says what is wrong.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=365).contains(&self.retain_days) {
            return Err("retain_days is 1 to 365".into());
        }
        Ok(())
    }

    /// Reads a plan's stored settings (JSON); the defaults when they cannot be read.
    pub fn from_settings(settings: &str) -> ChildPanelPlan {
        serde_json::from_str::<ChildPanelPlan>(settings)
            .ok()
            .filter(|p| p.check().is_ok())
            .unwrap_or_default()
    }
}

/// The PostgreSQL schema of child panel `id` (`panel_7`): only digits after a fixed prefix,
/// so it is safe to name in SQL.
pub fn schema_name(id: i64) -> String {
    format!("panel_{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames_are_normalised_and_refused_with_a_reason() {
        assert_eq!(
            Hostname::parse(" Shop.Example.COM. ").map(|h| h.0),
            Ok("shop.example.com".into())
        );
        assert_eq!(
            Hostname::parse("child.localhost:8080").map(|h| h.0),
            Ok("child.localhost".into())
        );
        assert_eq!(Hostname::parse("localhost"), Err(HostnameError::OneLabel));
        assert_eq!(Hostname::parse(""), Err(HostnameError::Length));
        assert_eq!(Hostname::parse("a..b"), Err(HostnameError::Label));
        assert_eq!(Hostname::parse("-a.com"), Err(HostnameError::Label));
        assert_eq!(Hostname::parse("a_b.com"), Err(HostnameError::Label));
        assert_eq!(Hostname::parse("ex ample.com"), Err(HostnameError::Label));
        assert_eq!(Hostname::parse("127.0.0.1"), Err(HostnameError::Address));
        assert_eq!(
            Hostname::parse(&format!("{}.com", "a".repeat(64))),
            Err(HostnameError::Label)
        );
        assert_eq!(
            Hostname::parse(&format!("{}a.com", "a.".repeat(126))),
            Err(HostnameError::Length)
        );
        assert_eq!(
            Hostname::of_host_header("Child.Localhost:443").as_deref(),
            Some("child.localhost")
        );
        assert_eq!(Hostname::of_host_header(""), None);
    }

    #[test]
    fn steps_run_in_order_and_end() {
        let mut step = Some(ProvisionStep::Storage);
        let mut seen = Vec::new();
        while let Some(s) = step {
            assert_eq!(ProvisionStep::parse(s.as_str()), Some(s));
            seen.push(s);
            step = s.next();
        }
        assert_eq!(seen, ProvisionStep::ALL);
        assert_eq!(ProvisionStep::Start.number(), 6);
    }

    #[test]
    fn the_state_follows_the_rental() {
        let of = |phase, rental| PanelState::of(phase, ProvisionStep::Catalog, rental, 1_000, 2);
        assert_eq!(
            of(PanelPhase::Provisioning, RentalState::Active),
            PanelState::Provisioning {
                step: ProvisionStep::Catalog
            }
        );
        assert_eq!(
            of(PanelPhase::Ready, RentalState::Grace),
            PanelState::Active
        );
        let suspended = of(
            PanelPhase::Ready,
            RentalState::Suspended(SuspendReason::NonPayment),
        );
        assert!(suspended.serves() && !suspended.may_order());
        assert_eq!(
            of(PanelPhase::Ready, RentalState::Canceled),
            PanelState::Terminated {
                remove_at: 1_000 + 2 * DAY_MS
            }
        );
        assert_eq!(
            of(PanelPhase::Removed, RentalState::Active),
            PanelState::Removed
        );
        assert!(!of(PanelPhase::Ready, RentalState::Terminated).serves());
    }

    #[test]
    fn plan_settings_have_bounds() {
        assert_eq!(ChildPanelPlan::from_settings("{}").retain_days, 30);
        assert!(ChildPanelPlan { retain_days: 0 }.check().is_err());
        assert_eq!(
            ChildPanelPlan::from_settings(r#"{"retain_days":7}"#).retain_days,
            7
        );
        assert_eq!(schema_name(12), "panel_12");
    }
}
