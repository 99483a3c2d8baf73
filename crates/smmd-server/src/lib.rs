//! The smmd server: configuration, the HTTP edge of authentication, and the HTTP interfaces
//! (reseller `/api/v2`, REST `/api`, admin `/api/admin`, ops, web pages, `/ws`), plus the demo
//! seed. Every use case these interfaces offer lives in `smmd-app`; the handlers here extract,
//! call one and render its result.

pub mod auth;
pub mod cache;
pub mod config;
pub mod demo;
pub mod error;
pub mod http;
pub mod live;
pub mod metrics;
pub mod panels;
pub mod ratelimit;
pub mod router;
pub mod serve;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod web;

pub use config::Config;
pub use router::router;
pub use startup::App;
