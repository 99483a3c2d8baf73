//! The scheduler's vocabulary (docs/scheduler.md): misfire and overlap policies of a schedule,
//! and the kind and state of a run. Each is stored as its snake_case name (the databases check
//! the same lists), parsed back strictly, and shown as that name in the admin API and pages.

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The stored snake_case name.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }

            /// The value stored as `text`, if it is one.
            pub fn parse(text: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|v| v.as_str() == text)
            }
        }

        /// Compares with a stored name (`state == "succeeded"`), for tests and logs.
        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary! {
    /// What to do with ticks missed while no instance was running (scheduler.md F6).
    Misfire {
        /// Run none of the missed ticks.
        Skip = "skip",
        /// Run the newest missed tick once (coalesce).
        FireOnce = "fire_once",
        /// Run every missed tick inside the catch-up window.
        FireAll = "fire_all",
    }
}

vocabulary! {
    /// What a tick does while a run of the same schedule is still in flight (scheduler.md F2).
    Overlap {
        /// Record the tick as skipped.
        Skip = "skip",
        /// Keep one tick waiting; run it when the current run ends.
        BufferOne = "buffer_one",
    }
}

vocabulary! {
    /// Why a run exists.
    RunKind {
        /// A tick of the schedule's calendar.
        Tick = "tick",
        /// "Run now" by an admin or the CLI.
        Manual = "manual",
    }
}

vocabulary! {
    /// Where a run is in its life.
    RunState {
        /// Waiting for a worker (or for its retry time).
        Pending = "pending",
        /// Leased by an instance.
        Running = "running",
        Succeeded = "succeeded",
        /// Failed after its last attempt.
        Failed = "failed",
        /// Passed its timeout on its last attempt.
        TimedOut = "timed_out",
        /// Its lease expired with no attempts left.
        Abandoned = "abandoned",
        /// Never ran (misfire, overlap, catch-up window); the reason is on the run.
        Skipped = "skipped",
    }
}

impl RunState {
    /// The run has reached its outcome.
    pub fn is_final(self) -> bool {
        !matches!(self, RunState::Pending | RunState::Running)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_round_trips_and_nothing_else_parses() {
        for m in Misfire::ALL {
            assert_eq!(Misfire::parse(m.as_str()), Some(*m));
        }
        for o in Overlap::ALL {
            assert_eq!(Overlap::parse(o.as_str()), Some(*o));
        }
        for k in RunKind::ALL {
            assert_eq!(RunKind::parse(k.as_str()), Some(*k));
        }
        for s in RunState::ALL {
            assert_eq!(RunState::parse(s.as_str()), Some(*s));
        }
        assert_eq!(Misfire::parse("often"), None);
        assert_eq!(Overlap::parse("stack"), None);
        assert_eq!(RunState::parse("Succeeded"), None);
        assert_eq!(
            RunState::ALL.iter().filter(|s| !s.is_final()).count(),
            2,
            "pending and running"
        );
    }
}
