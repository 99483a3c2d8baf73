//! The ceiling of `/api/v2` on this machine: a bare axum server in its own process (started by
//! `smmd-bench` as its hidden `ceiling-serve` command) that reads the request's parameters
//! exactly as smmd does (`smmd_protocol::http::read_params`: query and form, multipart or JSON
//! body) and answers one constant `status` object. It has no key check, no storage and no
//! middleware, so its rate is what the HTTP stack, the form parse and the load generator cost
//! together; `smmd-bench` prints every `/api/v2` figure as a share of it (issue 20, "the read
//! path has room too").

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use anyhow::Context;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

/// Options of the hidden `ceiling-serve` command.
#[derive(clap::Args, Clone, Debug)]
pub struct CeilingArgs {
    /// Loopback address to serve on.
    #[arg(long)]
    pub listen: SocketAddr,
}

/// The constant answer: an API v2 `status` object of the shape smmd sends.
const STATUS: &str = r#"{"charge":"0.27819","start_count":"3572","status":"Partial","remains":"157","currency":"USD"}"#;

async fn handle(req: Request) -> Response {
    match smmd_protocol::http::read_params(req).await {
        Some(p) if p.get("key").is_some() && p.get("action").is_some() => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            STATUS,
        )
            .into_response(),
        _ => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"error":"Incorrect request"}"#,
        )
            .into_response(),
    }
}

/// `ceiling-serve`: serves until killed.
pub async fn serve(a: &CeilingArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        a.listen.ip().is_loopback(),
        "the ceiling serves on loopback only"
    );
    let app = axum::Router::new()
        .route("/api/v2", any(handle))
        .route("/api/v2/", any(handle));
    let listener = tokio::net::TcpListener::bind(a.listen).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

/// The ceiling server process; killed when dropped.
pub struct Ceiling {
    child: Child,
    pub addr: SocketAddr,
}

impl Ceiling {
    /// Starts this executable's `ceiling-serve` on a free loopback port and waits until it
    /// accepts connections (at most 10 s).
    pub async fn start() -> anyhow::Result<Ceiling> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
        let child = Command::new(std::env::current_exe()?)
            .args(["ceiling-serve", "--listen", &addr.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting the ceiling server")?;
        let ceiling = Ceiling { child, addr };
        crate::wait_listening(addr, "the ceiling server").await?;
        Ok(ceiling)
    }
}

impl Drop for Ceiling {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
