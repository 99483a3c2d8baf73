//! The durable scheduler of smmd (`docs/scheduler.md`): the calendar (when a schedule fires,
//! purely from its expression, zone and an instant), tick planning (misfire, catch-up, retry
//! backoff; pure), and the engine that claims ticks and runs jobs through the store's
//! schedules and runs. The admin preview and the engine share the calendar code path (F12).

pub mod affiliates;
pub mod billing;
pub mod calendar;
pub mod control;
pub mod engine;
pub mod jobs;
pub mod policy;
pub mod rates;
pub mod wake;

pub use calendar::{Calendar, CalendarError};
pub use engine::{
    Counters, Engine, EngineConfig, Job, JobContext, JobError, TickReport, TimeSource,
};
pub use policy::{plan_ticks, Misfire, RetryPolicy, SkipReason, TickPlan, TickPolicy};
pub use wake::Wake;
