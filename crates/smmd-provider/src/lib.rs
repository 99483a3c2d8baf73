//! The SMM API v2 client smmd buys with (spec `docs/smm-api-v2.md` §6 and §9.2).
//!
//! - [`decode`] — tolerant decoding of whatever upstream panels answer, into exact types
//!   (decimals, never `f64`; ids as text; normalised statuses with an `Unknown` fallback).
//! - [`client`] — [`ProviderClient`]: one per provider, with timeout, concurrency limit, request
//!   budget and circuit breaker, classifying every failure into a [`ProviderError`]
//!   (rejected, transient, ambiguous, blocked, auth, config).
//! - [`health`] — each client's recent calls: outcomes by kind and latency p50 / p90 over a
//!   rolling window.

pub mod client;
pub mod decode;
pub mod health;

pub use client::{ProviderClient, ProviderConfig, ProviderError};
pub use decode::{
    Balance, Item, OrderState, RefillState, RejectKind, UpstreamService, UpstreamStatus,
};
pub use health::HealthSnapshot;
pub use rust_decimal::Decimal;
