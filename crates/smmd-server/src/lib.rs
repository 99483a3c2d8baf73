//! The smmd server: configuration, authentication, the shared use cases, and the HTTP
//! interfaces (reseller `/api/v2`, REST `/api`, admin `/api/admin`, ops, web pages), provider
//! administration, plus the demo seed.

pub mod auth;
pub mod cache;
pub mod config;
pub mod demo;
pub mod error;
pub mod http;
pub mod live;
pub mod metrics;
pub mod panel;
pub mod providers;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod web;

pub use config::Config;
pub use startup::App;
