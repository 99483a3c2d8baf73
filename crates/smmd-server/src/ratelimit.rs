//! Per-key request limits of the reseller API `/api/v2` (architecture §8, "rate limits per
//! key"; billing.md, `reseller_tier`).
//!
//! Each user may make `server.api_rate_per_minute` requests a minute through their API key, or
//! their `reseller_tier`'s `api_rate_per_minute` when that is higher
//! (`PriceBook::api_limit`, the one rule). The bucket holds a whole minute's worth, so a
//! reseller's status sync may burst, and refills one request every `60 / limit` seconds (GCRA,
//! `governor`, timed by the panel's injected clock). Over it the answer is HTTP 429
//! `{"error":"Too many requests"}` with `Retry-After` (seconds), as the panels that publish
//! limits answer (API v2 §2.6), which smmd's own provider client takes as "try later"; every
//! answer carries `X-RateLimit-Limit` and `X-RateLimit-Remaining`.
//!
//! A user's limit is read with their price book and kept for [`LIMIT_TTL_MS`], so renting or
//! losing a tier takes effect within that time. Limits are counted per instance: N instances
//! behind one address allow up to N times the limit.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, HeaderValue};
use governor::clock::Clock as _;
use governor::middleware::StateInformationMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};
use smmd_domain::{Clock, UserId};
use smmd_store::StoreResult;

/// How long a user's limit is used before it is read again, milliseconds.
pub const LIMIT_TTL_MS: i64 = 10_000;
/// Users tracked before idle entries are dropped (bounds memory; only valid keys get here).
const MAX_USERS: usize = 10_000;

/// The panel's clock as `governor` reads it: nanoseconds since the epoch.
#[derive(Clone)]
struct PanelClock(Arc<dyn Clock>);

impl governor::clock::Clock for PanelClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        let ms = u64::try_from(self.0.now_ms()).unwrap_or(0);
        Nanos::from(ms.saturating_mul(1_000_000))
    }
}

type Keyed = RateLimiter<UserId, DashMapStateStore<UserId>, PanelClock, StateInformationMiddleware>;

/// What one request may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The panel sets no limit for this user.
    Unlimited,
    /// Taken from a bucket of `limit` a minute; `remaining` are left.
    Allowed { limit: u32, remaining: u32 },
    /// The bucket is empty: the next request is allowed in `retry_after_s` seconds (≥ 1).
    Refused { limit: u32, retry_after_s: u64 },
}

impl Verdict {
    /// Puts `X-RateLimit-Limit`, `X-RateLimit-Remaining` and, when refused, `Retry-After` on
    /// an answer's headers.
    pub fn stamp(&self, headers: &mut HeaderMap) {
        let (limit, remaining, retry) = match *self {
            Verdict::Unlimited => return,
            Verdict::Allowed { limit, remaining } => (limit, remaining, None),
            Verdict::Refused {
                limit,
                retry_after_s,
            } => (limit, 0, Some(retry_after_s)),
        };
        headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
        if let Some(s) = retry {
            headers.insert(axum::http::header::RETRY_AFTER, HeaderValue::from(s));
        }
    }
}

/// The `/api/v2` buckets of this instance: one keyed limiter per distinct limit (the default
/// and each tier's), and each user's limit for [`LIMIT_TTL_MS`].
pub struct ApiRateLimits {
    default_per_minute: u32,
    clock: PanelClock,
    limiters: Mutex<HashMap<u32, Arc<Keyed>>>,
    /// User → (limit a minute, until when it is used, epoch ms).
    limits: Mutex<HashMap<UserId, (u32, i64)>>,
}

impl ApiRateLimits {
    /// Limits of `default_per_minute` a key (0: none) on `clock`.
    pub fn new(default_per_minute: u32, clock: Arc<dyn Clock>) -> ApiRateLimits {
        ApiRateLimits {
            default_per_minute,
            clock: PanelClock(clock),
            limiters: Mutex::default(),
            limits: Mutex::default(),
        }
    }

    /// Takes one request of `user`'s minute ([`ApiRateLimits::limit_of`]). Errors: the
    /// store's, on reading the limit.
    pub async fn check(&self, app: smmd_app::App<'_>, user: UserId) -> StoreResult<Verdict> {
        let limit = self.limit_of(app, user).await?;
        Ok(self.take(user, limit))
    }

    /// `user`'s requests a minute (0: no limit): kept for [`LIMIT_TTL_MS`], else read through
    /// the price book of `app`. Errors: the store's.
    pub async fn limit_of(&self, app: smmd_app::App<'_>, user: UserId) -> StoreResult<u32> {
        if self.default_per_minute == 0 {
            return Ok(0);
        }
        let now = self.clock.0.now_ms();
        let cached = self
            .limits
            .lock()
            .ok()
            .and_then(|m| m.get(&user).filter(|(_, until)| *until > now).map(|l| l.0));
        if let Some(l) = cached {
            return Ok(l);
        }
        let book = smmd_app::pricing::price_book(app, user).await?;
        let l = book.api_limit(self.default_per_minute);
        if let Ok(mut m) = self.limits.lock() {
            if m.len() >= MAX_USERS {
                m.retain(|_, (_, until)| *until > now);
            }
            m.insert(user, (l, now + LIMIT_TTL_MS));
        }
        Ok(l)
    }

    /// One request from `user`'s bucket of `limit` a minute.
    fn take(&self, user: UserId, limit: u32) -> Verdict {
        let Some(per_minute) = NonZeroU32::new(limit) else {
            return Verdict::Unlimited;
        };
        let limiter = {
            let Ok(mut map) = self.limiters.lock() else {
                return Verdict::Unlimited;
            };
            map.entry(limit)
                .or_insert_with(|| {
                    Arc::new(Keyed::new(
                        Quota::per_minute(per_minute),
                        DashMapStateStore::default(),
                        self.clock.clone(),
                    ))
                })
                .clone()
        };
        if limiter.len() > MAX_USERS {
            limiter.retain_recent();
        }
        match limiter.check_key(&user) {
            Ok(state) => Verdict::Allowed {
                limit,
                remaining: state.remaining_burst_capacity(),
            },
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                Verdict::Refused {
                    limit,
                    // Whole seconds, rounded up: a client that waits this long gets in.
                    retry_after_s: (wait.as_millis().div_ceil(1000) as u64).max(1),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smmd_domain::ManualClock;

    #[test]
    fn a_bucket_holds_a_minute_and_refills_on_the_panel_clock() {
        let clock = ManualClock::new(1_800_000_000_000);
        let limits = ApiRateLimits::new(60, Arc::new(clock.clone()));
        let (a, b) = (UserId(1), UserId(2));
        for left in (0..60).rev() {
            assert_eq!(
                limits.take(a, 60),
                Verdict::Allowed {
                    limit: 60,
                    remaining: left
                }
            );
        }
        assert_eq!(
            limits.take(a, 60),
            Verdict::Refused {
                limit: 60,
                retry_after_s: 1
            }
        );
        // Another key has its own bucket.
        assert!(matches!(
            limits.take(b, 60),
            Verdict::Allowed { remaining: 59, .. }
        ));
        // One a second comes back (60 a minute): 999 ms is not enough, 1 s is.
        clock.advance_ms(999);
        assert!(matches!(limits.take(a, 60), Verdict::Refused { .. }));
        clock.advance_ms(1);
        assert!(matches!(
            limits.take(a, 60),
            Verdict::Allowed { remaining: 0, .. }
        ));
        // A slow limit says how long to wait, rounded up to whole seconds.
        for _ in 0..2 {
            assert!(matches!(limits.take(a, 2), Verdict::Allowed { .. }));
        }
        assert_eq!(
            limits.take(a, 2),
            Verdict::Refused {
                limit: 2,
                retry_after_s: 30
            }
        );
        assert_eq!(limits.take(a, 0), Verdict::Unlimited);
    }

    #[test]
    fn the_headers_say_the_limit_what_is_left_and_when_to_retry() {
        let mut h = HeaderMap::new();
        Verdict::Allowed {
            limit: 600,
            remaining: 12,
        }
        .stamp(&mut h);
        assert_eq!(h["x-ratelimit-limit"], "600");
        assert_eq!(h["x-ratelimit-remaining"], "12");
        assert!(h.get("retry-after").is_none());
        let mut h = HeaderMap::new();
        Verdict::Refused {
            limit: 600,
            retry_after_s: 7,
        }
        .stamp(&mut h);
        assert_eq!(h["retry-after"], "7");
        assert_eq!(h["x-ratelimit-remaining"], "0");
        let mut h = HeaderMap::new();
        Verdict::Unlimited.stamp(&mut h);
        assert!(h.is_empty());
    }
}
