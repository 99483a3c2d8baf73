//! The HTTP side of the provider client: one [`ProviderClient`] per upstream panel, with its
//! timeout, concurrency limit, request budget and circuit breaker, and the classification of
//! every failure into a [`ProviderError`] that tells the caller what is safe to do next.
//!
//! Classification (spec §6.1, C4, C14, C16–C18):
//! - the provider answered with an error message → [`ProviderError::Rejected`] (or `Auth`);
//! - the request never reached the provider, or it said "slow down" (connect failure, HTTP 429,
//!   open circuit) → [`ProviderError::Transient`]: safe to retry later;
//! - an `add` whose outcome is unknown (timeout, reset, 5xx, HTML, empty or malformed body after
//!   the request was sent) → [`ProviderError::Ambiguous`]: never resent automatically, because
//!   API v2 has no idempotency key;
//! - the same failures on read-only actions → `Transient`, `Blocked` (HTML) or `Malformed`;
//! - a redirect → [`ProviderError::Config`]: a POST is never re-sent as a GET (spec §2.5).
//!
//! The API key travels only in the form body; it is never logged, and a body snippet kept in an
//! error has the key replaced by `***`.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::decode::{self, BodyError, RejectKind, ShapeError};

/// How to reach and treat one provider.
#[derive(Clone)]
pub struct ProviderConfig {
    /// The exact API URL (`https://panel.example/api/v2`).
    pub url: String,
    /// The provider API key. Never logged.
    pub key: String,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Requests in flight at once to this provider.
    pub max_concurrency: usize,
    /// Requests per second this provider may receive (a token bucket with a burst of the same
    /// size); `None` = unlimited.
    pub rate_per_sec: Option<u32>,
    /// Consecutive failures that open the circuit.
    pub breaker_threshold: u32,
    /// How long an open circuit refuses calls before one probe is let through.
    pub breaker_cooldown: Duration,
    /// `User-Agent` header (some WAFs block library defaults, spec §6.1 rule 5).
    pub user_agent: String,
    /// Largest answer read for every action but `services`, bytes. Reading stops at the cap and
    /// the call fails with [`ProviderError::TooLarge`] (for `add`: `Ambiguous`).
    pub answer_max_bytes: usize,
    /// Largest `services` answer read, bytes.
    pub services_max_bytes: usize,
    /// How long an idle keep-alive connection to the provider stays open (reqwest's default:
    /// 90 s). A hosted child's link to its parent on loopback closes within seconds, so an
    /// idle child holds no socket.
    pub idle_keepalive: Duration,
}

impl ProviderConfig {
    /// Defaults: 30 s timeout, 8 concurrent requests, no rate limit, the circuit opens after 5
    /// consecutive failures for 30 s; answers are capped at 1 MiB (`services`: 16 MiB).
    pub fn new(url: impl Into<String>, key: impl Into<String>) -> ProviderConfig {
        ProviderConfig {
            url: url.into(),
            key: key.into(),
            timeout: Duration::from_secs(30),
            max_concurrency: 8,
            rate_per_sec: None,
            breaker_threshold: 5,
            breaker_cooldown: Duration::from_secs(30),
            user_agent: concat!("smmd/", env!("CARGO_PKG_VERSION")).to_string(),
            answer_max_bytes: 1 << 20,
            services_max_bytes: 16 << 20,
            idle_keepalive: Duration::from_secs(90),
        }
    }
}

impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("url", &self.url)
            .field("key", &"***")
            .field("timeout", &self.timeout)
            .field("max_concurrency", &self.max_concurrency)
            .field("rate_per_sec", &self.rate_per_sec)
            .finish()
    }
}

/// What went wrong with a provider call, classified by what the caller may do next.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The provider refused the request with a message (C3). Nothing was done upstream.
    #[error("provider refused: {message}")]
    Rejected { kind: RejectKind, message: String },
    /// The provider does not accept our key (C16).
    #[error("provider refused the API key: {0}")]
    Auth(String),
    /// The request did not take effect and may be retried later (connect failure, 429, 5xx or
    /// timeout on a read, open circuit).
    #[error("provider unavailable: {0}")]
    Transient(String),
    /// An `add` may or may not have created an order upstream (C4). Never retry automatically.
    #[error("outcome unknown: {0}")]
    Ambiguous(String),
    /// An HTML page instead of JSON (Cloudflare, maintenance) on a read (C14).
    #[error("provider answered with an HTML page: {0}")]
    Blocked(String),
    /// Our configuration is wrong (a redirect, C17; an invalid URL).
    #[error("provider configuration: {0}")]
    Config(String),
    /// HTTP 200 with an empty body on a read (C18).
    #[error("provider sent an empty response")]
    Empty,
    /// JSON of the wrong shape or not JSON at all, on a read.
    #[error("provider sent an unreadable answer: {0}")]
    Malformed(String),
    /// The answer to a read was longer than the provider's cap (bytes); reading stopped there.
    #[error("provider answer longer than the {limit}-byte limit for `{action}`; reading stopped")]
    TooLarge { action: String, limit: usize },
}

impl ProviderError {
    /// Whether this failure counts against the circuit breaker (the provider is unhealthy, as
    /// opposed to healthy and saying no).
    fn is_failure(&self) -> bool {
        !matches!(
            self,
            ProviderError::Rejected { .. } | ProviderError::Auth(_) | ProviderError::Config(_)
        )
    }
}

/// The circuit breaker's state (consecutive failures, and until when it stays open).
#[derive(Debug, Default)]
struct Breaker {
    failures: u32,
    open_until: Option<Instant>,
    probing: bool,
}

/// A client for one upstream provider. Cheap to clone; clones share limits and breaker.
#[derive(Clone)]
pub struct ProviderClient {
    inner: Arc<Inner>,
}

struct Inner {
    config: ProviderConfig,
    http: reqwest::Client,
    slots: Semaphore,
    budget: Option<DefaultDirectRateLimiter>,
    breaker: Mutex<Breaker>,
    health: crate::health::CallWindow,
}

impl std::fmt::Debug for ProviderClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.config.fmt(f)
    }
}

/// A raw answer: HTTP status and body.
struct Answer {
    status: StatusCode,
    body: bytes::Bytes,
}

impl ProviderClient {
    /// Builds the client. Errors: an invalid URL ([`ProviderError::Config`]).
    pub fn new(config: ProviderConfig) -> Result<ProviderClient, ProviderError> {
        let url = reqwest::Url::parse(&config.url)
            .map_err(|e| ProviderError::Config(format!("invalid provider URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ProviderError::Config(
                "the URL must be http or https".into(),
            ));
        }
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .pool_idle_timeout(config.idle_keepalive)
            .user_agent(config.user_agent.clone())
            // One cookie jar per provider: panels built on PHP sessions otherwise create a
            // session row for every call.
            .cookie_store(true)
            .build()
            .map_err(|e| ProviderError::Config(e.to_string()))?;
        let budget = config
            .rate_per_sec
            .and_then(NonZeroU32::new)
            .map(|n| RateLimiter::direct(Quota::per_second(n)));
        Ok(ProviderClient {
            inner: Arc::new(Inner {
                slots: Semaphore::new(config.max_concurrency.max(1)),
                config,
                http,
                budget,
                breaker: Mutex::new(Breaker::default()),
                health: Default::default(),
            }),
        })
    }

    /// The configured URL.
    pub fn url(&self) -> &str {
        &self.inner.config.url
    }

    fn redact(&self, text: &str) -> String {
        let key = &self.inner.config.key;
        if key.is_empty() {
            text.to_string()
        } else {
            text.replace(key.as_str(), "***")
        }
    }

    /// Lets the call through unless the circuit is open. After the cooldown one probe passes.
    fn admit(&self) -> Result<(), ProviderError> {
        let mut b = self.inner.breaker.lock().unwrap_or_else(|p| p.into_inner());
        match b.open_until {
            Some(until) if Instant::now() < until => Err(ProviderError::Transient(
                "circuit open after repeated failures".into(),
            )),
            Some(_) if b.probing => Err(ProviderError::Transient(
                "circuit half-open: a probe is in flight".into(),
            )),
            Some(_) => {
                b.probing = true;
                Ok(())
            }
            None => Ok(()),
        }
    }

    fn record(&self, failed: bool) {
        let mut b = self.inner.breaker.lock().unwrap_or_else(|p| p.into_inner());
        b.probing = false;
        if failed {
            b.failures += 1;
            if b.failures >= self.inner.config.breaker_threshold.max(1) {
                b.open_until = Some(Instant::now() + self.inner.config.breaker_cooldown);
            }
        } else {
            b.failures = 0;
            b.open_until = None;
        }
    }

    /// Whether the breaker has tripped and no call has succeeded since: open now, or past its
    /// cooldown and waiting for a probe to succeed. Offer failover probes such a provider with
    /// a read before it risks an order on it.
    pub fn tripped(&self) -> bool {
        let b = self.inner.breaker.lock().unwrap_or_else(|p| p.into_inner());
        b.open_until.is_some()
    }

    /// Whether the circuit is open now (for health pages).
    pub fn circuit_open(&self) -> bool {
        let b = self.inner.breaker.lock().unwrap_or_else(|p| p.into_inner());
        b.open_until.is_some_and(|u| Instant::now() < u)
    }

    /// One POST of `action` with `params`, decoded into JSON, classified. `may_execute` marks
    /// actions where a lost answer leaves the outcome unknown (`add`).
    async fn call(
        &self,
        action: &str,
        params: &[(&str, String)],
        may_execute: bool,
    ) -> Result<Value, ProviderError> {
        use crate::health::outcome_kind;
        let started = Instant::now();
        if let Err(e) = self.admit() {
            let kind = outcome_kind(Err(&e));
            self.inner.health.record(started, action, kind, None);
            return Err(e);
        }
        let result = self.call_inner(action, params, may_execute).await;
        self.record(result.as_ref().err().is_some_and(ProviderError::is_failure));
        let kind = outcome_kind(result.as_ref().map(|_| ()));
        self.inner
            .health
            .record(Instant::now(), action, kind, Some(started.elapsed()));
        result
    }

    /// This client's calls over the last 15 minutes ([`crate::health`]).
    pub fn health(&self) -> crate::health::HealthSnapshot {
        self.inner.health.snapshot(Instant::now())
    }

    async fn call_inner(
        &self,
        action: &str,
        params: &[(&str, String)],
        may_execute: bool,
    ) -> Result<Value, ProviderError> {
        let _slot = self
            .inner
            .slots
            .acquire()
            .await
            .map_err(|_| ProviderError::Transient("client closed".into()))?;
        if let Some(budget) = &self.inner.budget {
            budget.until_ready().await;
        }
        let mut form: Vec<(&str, &str)> = Vec::with_capacity(params.len() + 2);
        form.push(("key", self.inner.config.key.as_str()));
        form.push(("action", action));
        form.extend(params.iter().map(|(k, v)| (*k, v.as_str())));
        let cap = if action == "services" {
            self.inner.config.services_max_bytes
        } else {
            self.inner.config.answer_max_bytes
        };
        let answer = self.send(&form, may_execute, action, cap).await?;
        self.decode(answer, may_execute)
    }

    async fn send(
        &self,
        form: &[(&str, &str)],
        may_execute: bool,
        action: &str,
        cap: usize,
    ) -> Result<Answer, ProviderError> {
        let sent = self
            .inner
            .http
            .post(&self.inner.config.url)
            .form(form)
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => return Err(self.transport_error(&e, may_execute)),
        };
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("?")
                .to_string();
            return Err(ProviderError::Config(format!(
                "the provider redirects ({status}) to {location}; configure that exact URL (a POST is never re-sent as GET)"
            )));
        }
        self.read_capped(response, status, may_execute, action, cap)
            .await
    }

    /// Reads the body chunk by chunk and stops (dropping the connection) once it passes `cap`
    /// bytes, so a hostile provider cannot make us hold an unbounded answer.
    async fn read_capped(
        &self,
        mut response: reqwest::Response,
        status: StatusCode,
        may_execute: bool,
        action: &str,
        cap: usize,
    ) -> Result<Answer, ProviderError> {
        let too_large = || {
            if may_execute {
                ProviderError::Ambiguous(format!(
                    "the answer was longer than the {cap}-byte limit; reading stopped"
                ))
            } else {
                ProviderError::TooLarge {
                    action: action.to_string(),
                    limit: cap,
                }
            }
        };
        let announced = response.content_length().unwrap_or(0);
        if announced > cap as u64 {
            return Err(too_large());
        }
        let mut body = bytes::BytesMut::with_capacity(announced as usize);
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > cap {
                        return Err(too_large());
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return Err(self.transport_error(&e, may_execute)),
            }
        }
        Ok(Answer {
            status,
            body: body.freeze(),
        })
    }

    fn transport_error(&self, e: &reqwest::Error, may_execute: bool) -> ProviderError {
        // The URL carries no key (the key is in the body); strip it anyway for safety.
        let what = self.redact(&e.to_string());
        if e.is_connect() {
            // The connection was never made: nothing reached the provider.
            ProviderError::Transient(format!("cannot connect: {what}"))
        } else if may_execute {
            ProviderError::Ambiguous(if e.is_timeout() {
                format!("timed out after the request was sent: {what}")
            } else {
                format!("connection lost after the request was sent: {what}")
            })
        } else if e.is_timeout() {
            ProviderError::Transient(format!("timed out: {what}"))
        } else {
            ProviderError::Transient(what)
        }
    }

    fn decode(&self, a: Answer, may_execute: bool) -> Result<Value, ProviderError> {
        let parsed = decode::parse_body(&a.body);
        // The body is not needed once parsed: free it before the caller builds its own copy.
        drop(a.body);
        if a.status == StatusCode::TOO_MANY_REQUESTS {
            return Err(ProviderError::Transient(format!(
                "rate limited by the provider (HTTP 429){}",
                parsed
                    .ok()
                    .and_then(|v| decode::api_error(&v))
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            )));
        }
        if a.status.is_server_error() {
            let detail = match &parsed {
                Ok(v) => decode::api_error(v).unwrap_or_else(|| decode::snippet(&v.to_string())),
                Err(e) => e.to_string(),
            };
            let msg = self.redact(&format!("HTTP {}: {detail}", a.status.as_u16()));
            return Err(if may_execute {
                ProviderError::Ambiguous(msg)
            } else {
                ProviderError::Transient(msg)
            });
        }
        let value = match parsed {
            Ok(v) => v,
            Err(e) if may_execute => {
                return Err(ProviderError::Ambiguous(
                    self.redact(&format!("HTTP {}: {e}", a.status.as_u16())),
                ))
            }
            Err(BodyError::Empty) => return Err(ProviderError::Empty),
            Err(BodyError::Html(s)) => return Err(ProviderError::Blocked(self.redact(&s))),
            Err(BodyError::Malformed(s)) => return Err(ProviderError::Malformed(self.redact(&s))),
        };
        if let Some(message) = decode::api_error(&value) {
            let message = self.redact(&message);
            let kind = RejectKind::of(&message);
            if kind == RejectKind::Auth || matches!(a.status.as_u16(), 401 | 403) {
                return Err(ProviderError::Auth(message));
            }
            return Err(ProviderError::Rejected { kind, message });
        }
        if a.status.is_client_error() {
            let msg = format!("HTTP {}", a.status.as_u16());
            return Err(if may_execute {
                ProviderError::Ambiguous(msg)
            } else {
                ProviderError::Transient(msg)
            });
        }
        Ok(value)
    }

    /// Maps a shape failure of a decoded answer; for `add` an unreadable success is ambiguous.
    fn shape(&self, e: ShapeError, may_execute: bool) -> ProviderError {
        match e {
            ShapeError::Api(message) => {
                let message = self.redact(&message);
                match RejectKind::of(&message) {
                    RejectKind::Auth => ProviderError::Auth(message),
                    kind => ProviderError::Rejected { kind, message },
                }
            }
            ShapeError::Unexpected(s) if may_execute => {
                ProviderError::Ambiguous(format!("unreadable answer: {}", self.redact(&s)))
            }
            ShapeError::Unexpected(s) => ProviderError::Malformed(self.redact(&s)),
        }
    }

    /// API v2 `action=services`: the provider's catalog, and the raw text of entries skipped as
    /// unreadable.
    pub async fn services(
        &self,
    ) -> Result<(Vec<decode::UpstreamService>, Vec<String>), ProviderError> {
        let v = self.call("services", &[], false).await?;
        decode::services_from(v).map_err(|e| self.shape(e, false))
    }

    /// API v2 `action=add`: the provider's order id. `params` are the type's parameters
    /// (`service`, `link`, `quantity`, …). Failures after sending are [`ProviderError::Ambiguous`].
    pub async fn add(&self, params: &[(&str, String)]) -> Result<String, ProviderError> {
        let v = self.call("add", params, true).await?;
        decode::add_from(&v).map_err(|e| self.shape(e, true))
    }

    /// API v2 `action=status`, multi form `orders=…` (at most 100 ids; spec §4.3): one
    /// [`decode::Item`] per requested id.
    pub async fn statuses(
        &self,
        ids: &[String],
    ) -> Result<
        std::collections::HashMap<String, decode::Item<decode::UpstreamStatus>>,
        ProviderError,
    > {
        let v = self
            .call("status", &[("orders", ids.join(","))], false)
            .await?;
        decode::statuses_from(&v, ids).map_err(|e| self.shape(e, false))
    }

    /// API v2 `action=refill&order=ID` (spec §4.4): the provider's refill id.
    pub async fn refill(&self, order: &str) -> Result<String, ProviderError> {
        let v = self
            .call("refill", &[("order", order.to_string())], false)
            .await?;
        decode::refill_from(&v).map_err(|e| self.shape(e, false))
    }

    /// API v2 `action=refill_status&refills=…` (spec §4.5 multi form).
    pub async fn refill_statuses(
        &self,
        ids: &[String],
    ) -> Result<std::collections::HashMap<String, decode::Item<decode::RefillState>>, ProviderError>
    {
        let v = self
            .call("refill_status", &[("refills", ids.join(","))], false)
            .await?;
        decode::refill_statuses_from(&v, ids).map_err(|e| self.shape(e, false))
    }

    /// API v2 `action=cancel&orders=…` (spec §4.6): accepted means the provider will try; the
    /// outcome shows later in `status`.
    pub async fn cancel(
        &self,
        ids: &[String],
    ) -> Result<std::collections::HashMap<String, decode::Item<()>>, ProviderError> {
        let v = self
            .call("cancel", &[("orders", ids.join(","))], false)
            .await?;
        decode::cancels_from(&v, ids).map_err(|e| self.shape(e, false))
    }

    /// API v2 `action=balance` (spec §4.7).
    pub async fn balance(&self) -> Result<decode::Balance, ProviderError> {
        let v = self.call("balance", &[], false).await?;
        decode::balance_from(&v).map_err(|e| self.shape(e, false))
    }
}
