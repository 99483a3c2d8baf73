//! The durable scheduler of smmd (`docs/scheduler.md`). This crate starts with the calendar:
//! when a schedule fires, computed purely from its expression, its time zone and an instant.
//! The engine (schedules and runs in the store, claims, leases, policies) builds on it, so the
//! admin preview and the engine share one code path (F12).

pub mod calendar;
pub mod policy;

pub use calendar::{Calendar, CalendarError};
pub use policy::{plan_ticks, Misfire, RetryPolicy, SkipReason, TickPlan, TickPolicy};
