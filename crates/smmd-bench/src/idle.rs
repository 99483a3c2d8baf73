//! `smmd-bench idle`: a real `smmd serve` under 20,000 connections that never finish their
//! headers (issue 15, "idle connections"): how many it holds, its resident memory, and the
//! latency of `GET /healthz` from another client address meanwhile.
//!
//! The idle connections come from loopback source addresses other than 127.0.0.1 (all of
//! 127.0.0.0/8 is loopback on Linux), opened by two helper processes (`idle-hold`, this binary
//! again) so no process needs more than 10,000 descriptors; `/healthz` is asked from
//! 127.0.0.1 with a new connection each time. Each round: open, wait 2 s, probe, then wait for
//! the header timeout and read the memory again.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

use crate::{Args, Server};

/// Options of `smmd-bench idle`.
#[derive(clap::Args, Clone, Debug)]
pub struct IdleArgs {
    /// Idle connections opened against the server.
    #[arg(long, default_value_t = 20_000)]
    pub connections: usize,
    /// `/healthz` probes while they are open.
    #[arg(long, default_value_t = 200)]
    pub probes: usize,
}

/// Options of the hidden helper that holds connections.
#[derive(clap::Args, Clone, Debug)]
pub struct HoldArgs {
    #[arg(long)]
    pub addr: SocketAddr,
    /// First source address's last octet pair: 127.0.<hi>.<lo>, spread over `sources`.
    #[arg(long)]
    pub first_source: u16,
    #[arg(long)]
    pub sources: u16,
    #[arg(long)]
    pub count: usize,
}

fn source(first: u16, sources: u16, i: usize) -> std::net::IpAddr {
    let n = first + (i % usize::from(sources.max(1))) as u16;
    std::net::IpAddr::from([127, 0, (n >> 8) as u8, (n & 0xff) as u8])
}

/// The helper: opens `count` connections, each sending a partial request line, prints how many
/// opened, then how many the server has closed whenever asked (a line on stdin), until EOF.
pub async fn hold(h: &HoldArgs) -> anyhow::Result<()> {
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let mut held = Vec::with_capacity(h.count);
    let mut failed = 0;
    for i in 0..h.count {
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::new(source(h.first_source, h.sources, i), 0))?;
        match socket.connect(h.addr).await {
            Ok(mut s) => {
                let _ = s
                    .write_all(b"GET /healthz HTTP/1.1\r\nHost: bench\r\n")
                    .await;
                held.push(s);
            }
            Err(_) => failed += 1,
        }
    }
    println!("opened {} failed {failed}", held.len());
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(_)) = lines.next_line().await {
        let mut closed = 0;
        for s in &mut held {
            let mut buf = [0u8; 16];
            let read = tokio::time::timeout(Duration::from_millis(1), s.read(&mut buf)).await;
            if let Ok(Ok(0) | Err(_)) = read {
                closed += 1;
            }
        }
        println!("closed {closed}");
    }
    Ok(())
}

fn rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn probe(addr: SocketAddr) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        .await?;
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await??;
    anyhow::ensure!(
        out.starts_with(b"HTTP/1.1 200"),
        "healthz answered {:?}",
        String::from_utf8_lossy(&out[..out.len().min(40)])
    );
    Ok(started.elapsed())
}

struct Helper {
    child: tokio::process::Child,
    out: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
}

impl Helper {
    async fn line(&mut self) -> anyhow::Result<String> {
        self.out
            .next_line()
            .await?
            .context("the helper ended early")
    }

    async fn closed(&mut self) -> anyhow::Result<usize> {
        let stdin = self.child.stdin.as_mut().context("stdin")?;
        stdin.write_all(b"?\n").await?;
        let l = self.line().await?;
        Ok(l.trim_start_matches("closed ").parse()?)
    }
}

pub async fn run(args: &Args, a: &IdleArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.smmd.exists(),
        "{} not found: run `cargo build --release -p smmd` first",
        args.smmd.display()
    );
    let db = crate::BenchDb::create("sqlite").await?;
    let server = Server::start(&args.smmd, &db.url).await?;
    let pid = server.child.id();
    tokio::time::sleep(Duration::from_secs(1)).await;
    println!(
        "smmd-bench idle: {} connections that never finish their headers against smmd serve (defaults: 10,000 connections, 256 per address, 10 s header timeout); {} /healthz probes from 127.0.0.1",
        a.connections, a.probes
    );
    println!(
        "{:<26} {:>7} {:>7} {:>9} {:>9} {:>8} {:>8} {:>8} {:>10}",
        "idle connections from",
        "opened",
        "held",
        "RSS0 MB",
        "RSS MB",
        "p50 ms",
        "p99 ms",
        "max ms",
        "RSS end MB"
    );
    let exe = std::env::current_exe()?;
    // One source address (the report's attacker), then 40 and 400 addresses.
    for (label, first, sources) in [
        ("1 address (127.0.0.2)", 2u16, 1u16),
        ("40 addresses", 256, 40),
        ("400 addresses", 512, 400),
    ] {
        let rss0 = rss_mb(pid);
        let mut helpers = Vec::new();
        for part in 0..2usize {
            let mut child = tokio::process::Command::new(&exe)
                .arg("idle-hold")
                .arg("--addr")
                .arg(server.addr.to_string())
                .arg("--first-source")
                .arg(
                    (first + (part as u16) * (sources / 2))
                        .max(first)
                        .to_string(),
                )
                .arg("--sources")
                .arg((sources / 2).max(1).to_string())
                .arg("--count")
                .arg((a.connections / 2).to_string())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .kill_on_drop(true)
                .spawn()?;
            let out = tokio::io::BufReader::new(child.stdout.take().context("stdout")?).lines();
            helpers.push(Helper { child, out });
        }
        let mut opened = 0;
        for h in &mut helpers {
            let l = h.line().await?;
            opened += l
                .split_whitespace()
                .nth(1)
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(0);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        let mut closed = 0;
        for h in &mut helpers {
            closed += h.closed().await?;
        }
        let rss = rss_mb(pid);
        let mut lat = Vec::with_capacity(a.probes);
        for _ in 0..a.probes {
            lat.push(probe(server.addr).await?);
        }
        lat.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let p = |q: f64| ms(lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)]);
        // After the header timeout every idle connection is closed.
        tokio::time::sleep(Duration::from_secs(11)).await;
        let rss_end = rss_mb(pid);
        println!(
            "{:<26} {:>7} {:>7} {:>9.1} {:>9.1} {:>8.2} {:>8.2} {:>8.2} {:>10.1}",
            label,
            opened,
            opened.saturating_sub(closed),
            rss0,
            rss,
            p(0.5),
            p(0.99),
            ms(*lat.last().unwrap_or(&Duration::ZERO)),
            rss_end
        );
        drop(helpers);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    drop(server);
    db.drop_db().await;
    Ok(())
}
