//! The HTTP accept loop (issue 15, "idle connections"): what a hostile client may hold.
//!
//! - at most `max_connections` connections at once (plus a [`RESERVE`] for clients holding
//!   fewer than [`RESERVE_BELOW`]), and `max_per_address` from one client address; a connection
//!   past these is closed at once, before memory is spent on it, so `accept` never fails with
//!   "too many open files" and a new client still gets in during a flood;
//! - a client must send a request's headers within `header_timeout` (slowloris), and a
//!   keep-alive connection with no request for `idle_timeout` is closed;
//! - each request carries its peer address ([`axum::extract::ConnectInfo`]) for the log-in
//!   limits;
//! - on shutdown, in-flight requests finish (up to `shutdown_grace`) and idle connections close.
//!
//! HTTP/1.1 with upgrades (the live WebSocket). TLS is the reverse proxy's job (README).

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

/// Connections kept beyond `max_connections` for clients holding fewer than
/// [`RESERVE_BELOW`] connections.
pub const RESERVE: usize = 1_024;
/// A client holding fewer connections than this may use the reserve.
pub const RESERVE_BELOW: usize = 4;

/// Connection limits (`[server]`).
#[derive(Clone, Copy, Debug)]
pub struct ConnLimits {
    pub max_connections: usize,
    pub max_per_address: usize,
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub shutdown_grace: Duration,
}

/// Open connections per client address; an entry leaves with its last connection.
#[derive(Clone, Default)]
struct PerAddress(Arc<Mutex<HashMap<IpAddr, usize>>>);

struct AddressSlot {
    map: PerAddress,
    ip: IpAddr,
}

impl PerAddress {
    /// A slot for one more connection from `ip`, and how many it held before.
    fn enter(&self, ip: IpAddr, max: usize) -> Option<(AddressSlot, usize)> {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = m.entry(ip).or_default();
        if *n >= max {
            return None;
        }
        let before = *n;
        *n += 1;
        Some((
            AddressSlot {
                map: self.clone(),
                ip,
            },
            before,
        ))
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut m = self.map.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = m.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.ip);
            }
        }
    }
}

/// Raises this process's open-file limit to its hard limit where the OS allows; returns the
/// soft limit in force.
pub fn raise_fd_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => Some(n),
        Err(e) => {
            tracing::warn!(error = %e, "could not raise the open-file limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE)
                .ok()
                .map(|(soft, _)| soft)
        }
    }
}

/// Serves `router` on `listener` under `limits` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let max = limits.max_connections.max(1);
    let slots = Arc::new(Semaphore::new(max));
    let reserve = Arc::new(Semaphore::new(RESERVE));
    let per_address = PerAddress::default();
    // Connections watch this and finish gracefully when it turns true.
    let (closing_tx, closing) = tokio::sync::watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning; the limits keep this
                    // rare.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Some((address_slot, before)) = per_address.enter(peer.ip(), limits.max_per_address)
        else {
            metrics::counter!("smmd_http_connections_refused_total", "reason" => "address")
                .increment(1);
            drop(stream);
            continue;
        };
        // When the server is full, a client holding almost nothing still gets in from a small
        // reserve: a flood from a few hundred addresses cannot lock everyone else out.
        let slot = match slots.clone().try_acquire_owned() {
            Ok(s) => s,
            Err(_) if before < RESERVE_BELOW => match reserve.clone().try_acquire_owned() {
                Ok(s) => s,
                Err(_) => {
                    metrics::counter!("smmd_http_connections_refused_total", "reason" => "server")
                        .increment(1);
                    continue;
                }
            },
            Err(_) => {
                metrics::counter!("smmd_http_connections_refused_total", "reason" => "server")
                    .increment(1);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service =
            hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                router.clone().oneshot(req.map(axum::body::Body::new))
            });
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .keep_alive(true);
        let conn = http
            .serve_connection(
                TokioIo::new(IdleTimeout::new(stream, limits.idle_timeout)),
                service,
            )
            .with_upgrades();
        let mut closing = closing.clone();
        tokio::spawn(async move {
            let _held = (slot, address_slot);
            tokio::pin!(conn);
            let ended = tokio::select! {
                r = conn.as_mut() => r,
                _ = async { let _ = closing.wait_for(|c| *c).await; } => {
                    // Finish the request in flight, then close.
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = ended {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    let _ = closing_tx.send(true);
    // Every connection holds a slot until it ends: all slots back = all connections closed.
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    let spare = u32::try_from(RESERVE).unwrap_or(u32::MAX);
    let drained = async {
        let _ = slots.acquire_many(all).await;
        let _ = reserve.acquire_many(spare).await;
    };
    if tokio::time::timeout(limits.shutdown_grace, drained)
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the shutdown grace; closing them");
    }
    Ok(())
}

/// A stream that fails reads once nothing was read or written for `idle`: a keep-alive
/// connection left open without a request (or a stalled body) is closed. Upgraded WebSockets
/// keep their own heartbeat, so `idle` must be longer than it.
///
/// Activity only notes the time (`last`); the timer is moved when it fires and the connection
/// was active since it was set, so a busy connection re-arms it about once per `idle` instead
/// of on every read and write (a timer-wheel update each, ~2 % of the server's time under
/// `/api/v2` `status`).
struct IdleTimeout<S> {
    inner: S,
    idle: Duration,
    /// When a byte was last read or written.
    last: tokio::time::Instant,
    /// Fires at or before `last + idle`.
    deadline: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl<S> IdleTimeout<S> {
    fn new(inner: S, idle: Duration) -> IdleTimeout<S> {
        IdleTimeout {
            inner,
            idle,
            last: tokio::time::Instant::now(),
            deadline: Box::pin(tokio::time::sleep(idle)),
        }
    }

    fn touch(&mut self) {
        self.last = tokio::time::Instant::now();
    }

    /// Whether the connection has been idle for `idle`; otherwise the timer is (re)armed for
    /// `last + idle` and registered with `cx`.
    fn expired(&mut self, cx: &mut std::task::Context<'_>) -> bool {
        loop {
            if self.deadline.as_mut().poll(cx).is_pending() {
                return false;
            }
            let due = self.last + self.idle;
            if due <= tokio::time::Instant::now() {
                return true;
            }
            self.deadline.as_mut().reset(due);
        }
    }
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for IdleTimeout<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        match std::pin::Pin::new(&mut self.inner).poll_read(cx, buf) {
            std::task::Poll::Ready(r) => {
                if buf.filled().len() > before {
                    self.touch();
                }
                std::task::Poll::Ready(r)
            }
            std::task::Poll::Pending if self.expired(cx) => std::task::Poll::Ready(Err(
                std::io::Error::new(std::io::ErrorKind::TimedOut, "connection idle"),
            )),
            std::task::Poll::Pending => std::task::Poll::Pending,
        }
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for IdleTimeout<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let r = std::pin::Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(r, std::task::Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        r
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn connect_from(last: u8, addr: std::net::SocketAddr) -> tokio::net::TcpStream {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .bind(std::net::SocketAddr::from(([127, 0, 0, last], 0)))
            .expect("bind");
        socket.connect(addr).await.expect("connect")
    }

    /// Whether the server closed `s` within `wait` (a read of 0 bytes or an error).
    async fn closed_within(s: &mut tokio::net::TcpStream, wait: Duration) -> bool {
        let mut buf = [0u8; 64];
        matches!(
            tokio::time::timeout(wait, s.read(&mut buf)).await,
            Ok(Ok(0) | Err(_))
        )
    }

    async fn healthz(addr: std::net::SocketAddr, from: u8) -> String {
        let mut s = connect_from(from, addr).await;
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .expect("write");
        let mut out = String::new();
        tokio::time::timeout(Duration::from_secs(2), s.read_to_string(&mut out))
            .await
            .expect("answered in time")
            .expect("read");
        out
    }

    /// Reads one `/healthz` answer ("ok") off a keep-alive connection.
    async fn answer_on(s: &mut tokio::net::TcpStream) -> String {
        let mut out = Vec::new();
        let mut buf = [0u8; 512];
        while !out.ends_with(b"ok") {
            let n = tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf))
                .await
                .expect("answered in time")
                .expect("read");
            assert!(
                n > 0,
                "closed while in use: {}",
                String::from_utf8_lossy(&out)
            );
            out.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    #[tokio::test]
    async fn a_keep_alive_connection_stays_open_while_used_and_is_closed_once_idle() {
        let router = axum::Router::new().route("/healthz", axum::routing::get(|| async { "ok" }));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let idle = Duration::from_millis(800);
        let limits = ConnLimits {
            max_connections: 8,
            max_per_address: 6,
            header_timeout: Duration::from_secs(2),
            idle_timeout: idle,
            shutdown_grace: Duration::from_secs(1),
        };
        tokio::spawn(serve(listener, router, limits, std::future::pending()));
        let mut s = connect_from(6, addr).await;
        // Used for two idle periods: the timer first fires while the connection is busy.
        for _ in 0..8 {
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .expect("write");
            assert!(answer_on(&mut s).await.starts_with("HTTP/1.1 200"));
            tokio::time::sleep(idle / 4).await;
        }
        // Idle since the last answer (a quarter of an idle period ago): still open a while…
        assert!(
            !closed_within(&mut s, idle / 4).await,
            "closed before it was idle for {idle:?}"
        );
        // …then closed.
        assert!(
            closed_within(&mut s, idle * 2).await,
            "an idle keep-alive connection is closed"
        );
    }

    #[tokio::test]
    async fn idle_and_excess_connections_are_closed_and_others_still_get_in() {
        let router = axum::Router::new().route("/healthz", axum::routing::get(|| async { "ok" }));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let limits = ConnLimits {
            max_connections: 8,
            max_per_address: 6,
            header_timeout: Duration::from_millis(400),
            idle_timeout: Duration::from_secs(2),
            shutdown_grace: Duration::from_secs(1),
        };
        tokio::spawn(serve(listener, router, limits, std::future::pending()));

        // Six slow clients from one address are held, a seventh is closed at once.
        let mut held = Vec::new();
        for _ in 0..6 {
            let mut s = connect_from(4, addr).await;
            s.write_all(b"GET /healthz HTTP/1.1\r\nHo")
                .await
                .expect("partial");
            held.push(s);
        }
        let mut seventh = connect_from(4, addr).await;
        assert!(
            closed_within(&mut seventh, Duration::from_millis(200)).await,
            "past the per-address limit: closed on accept"
        );
        // Another address fills the server (6 + 2 = 8)…
        for _ in 0..2 {
            let mut s = connect_from(5, addr).await;
            s.write_all(b"GET / HTTP/1.1\r\n").await.expect("partial");
            held.push(s);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        // …so a busy address is refused, while a client holding nothing still gets in from the
        // reserve.
        for _ in 0..2 {
            let mut s = connect_from(5, addr).await;
            s.write_all(b"GET / HTTP/1.1\r\n").await.expect("partial");
            held.push(s);
        }
        let mut busy = connect_from(4, addr).await;
        assert!(closed_within(&mut busy, Duration::from_millis(200)).await);
        let started = std::time::Instant::now();
        assert!(healthz(addr, 1).await.ends_with("ok"));
        assert!(started.elapsed() < Duration::from_millis(300));
        // The header timeout closes every slow client and frees their slots.
        for s in &mut held {
            assert!(
                closed_within(s, Duration::from_secs(2)).await,
                "a client that never finishes its headers is closed"
            );
        }
        let mut back = connect_from(4, addr).await;
        back.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .expect("write");
        let mut out = String::new();
        back.read_to_string(&mut out).await.expect("read");
        assert!(out.ends_with("ok"), "the busy address gets in again: {out}");
    }
}
