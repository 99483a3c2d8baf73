//! Real `smmd` processes on one database for the multi-process tests: [`Cluster`] (a fresh
//! database, a shared folder, the operator CLI) and [`Instance`] (one `smmd serve`).

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use smmd_store_sql::testing::{fresh, Backend, TestDb};
use sqlx::Connection;

pub const SECRET: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// One `smmd serve` process.
pub struct Instance {
    pub name: String,
    pub port: u16,
    pub child: Child,
    pub log: PathBuf,
}

impl Instance {
    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .expect("kill")
            .success();
        assert!(ok, "kill {sig} {}", self.name);
    }

    /// Waits for the process to exit; its status.
    pub fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not exit within {limit:?}; log:\n{}",
                self.name,
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A database plus the folder the processes share for logs.
pub struct Cluster {
    pub db: TestDb,
    pub dir: tempfile::TempDir,
    pub settings: Vec<(String, String)>,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

impl Cluster {
    pub async fn new(backend: Backend, settings: &[(&str, &str)]) -> Cluster {
        let db = fresh(backend)
            .await
            .expect("PostgreSQL is required for this test");
        let cluster = Cluster {
            db,
            dir: tempfile::tempdir().expect("dir"),
            settings: settings
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        cluster.cli(&["migrate"]);
        cluster
    }

    pub fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_smmd"));
        c.env_remove("SMMD_CONFIG")
            .env("SMMD__DATABASE__URL", &self.db.url)
            .env("SMMD__DATA_DIR", self.dir.path())
            .env("SMMD__SECURITY__SECRET_KEY", SECRET)
            .env("RUST_LOG", "warn");
        for (k, v) in &self.settings {
            c.env(k, v);
        }
        c
    }

    /// Runs an operator command; panics with its stderr when it fails.
    pub fn cli(&self, args: &[&str]) -> Output {
        let out = self.command().args(args).output().expect("run smmd");
        assert!(
            out.status.success(),
            "smmd {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Creates a user through `smmd user create` (an admin when `admin`) and returns the API
    /// key the command prints (64 hex characters).
    pub fn create_user(&self, email: &str, password: &str, admin: bool) -> String {
        let mut args = vec!["user", "create", "--email", email, "--password", password];
        if admin {
            args.push("--admin");
        }
        let out = self.cli(&args);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("api key: "))
            .expect("api key printed")
            .trim()
            .to_string()
    }

    /// A reseller with `credit` (a decimal amount of the panel's currency) in the wallet, made
    /// through the CLI as an owner would; returns the API key.
    pub fn reseller(&self, email: &str, credit: &str) -> String {
        let key = self.create_user(email, "password-123", false);
        self.cli(&[
            "user", "credit", "--email", email, "--amount", credit, "--reason", "test",
        ]);
        key
    }

    /// Starts `smmd serve` as instance `name` and waits until it answers `/healthz`.
    pub async fn spawn(&self, name: &str, extra: &[(&str, &str)]) -> Instance {
        let port = free_port();
        let log = self.dir.path().join(format!("{name}.log"));
        let mut cmd = self.command();
        cmd.arg("serve")
            .env("SMMD__SERVER__LISTEN", format!("127.0.0.1:{port}"))
            .env("SMMD__SCHEDULER__INSTANCE", name)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"));
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let mut instance = Instance {
            name: name.to_string(),
            port,
            child: cmd.spawn().expect("spawn smmd serve"),
            log,
        };
        let url = format!("http://127.0.0.1:{port}/healthz");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if reqwest::get(&url)
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return instance;
            }
            if let Some(status) = instance.child.try_wait().expect("wait") {
                panic!("{name} exited with {status}:\n{}", instance.log_text());
            }
            assert!(Instant::now() < deadline, "{name} did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn spawn_many(&self, n: usize, extra: &[(&str, &str)]) -> Vec<Instance> {
        let mut out = Vec::new();
        for i in 0..n {
            out.push(self.spawn(&format!("inst-{i}"), extra).await);
        }
        out
    }

    pub async fn conn(&self) -> sqlx::AnyConnection {
        sqlx::any::install_default_drivers();
        let url = if self.db.url.starts_with("sqlite:") {
            format!("{}?mode=rw", self.db.url)
        } else {
            self.db.url.clone()
        };
        sqlx::AnyConnection::connect(&url).await.expect("connect")
    }
}

/// The root of a child panel test, written through the CLI and the store: the simulator at
/// `sim_url` as its provider with its catalogue, billing on and a `child_panel` plan of 73.00
/// a month. Returns the plan's id.
pub async fn child_panel_root(cluster: &Cluster, sim_url: &str, sim_key: &str) -> i64 {
    use smmd_store::prelude::*;
    let out = cluster
        .command()
        .args([
            "provider",
            "add",
            "--name",
            "sim",
            "--url",
            sim_url,
            "--currency",
            "USD",
        ])
        .env("SMMD_PROVIDER_KEY", sim_key)
        .output()
        .expect("provider add");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    cluster.cli(&["services", "sync"]);
    let store = &cluster.db.store;
    let now = smmd_domain::Clock::now_ms(&smmd_domain::SystemClock);
    store
        .update_billing_settings(
            &smmd_store::BillingSettingsPatch {
                enabled: Some(true),
                ..Default::default()
            },
            None,
            now,
            None,
        )
        .await
        .expect("billing");
    store
        .create_plan(
            &smmd_store::NewPlan {
                code: "child".into(),
                name: "Child panel".into(),
                description: String::new(),
                price: smmd_domain::Money::parse("73").expect("m"),
                cap_mode: smmd_domain::billing::charge::CapMode::H730,
                setup_fee: smmd_domain::Money::ZERO,
                entitlement: "child_panel".into(),
                settings: "{}".into(),
            },
            now,
            None,
        )
        .await
        .expect("plan")
        .id
}

/// A renter `<name>@x.io` with 50.00 renting a child panel `Shop <name>` on `<name>.example`
/// (admin `admin@<name>.example` / `child-admin-pw`). Returns the panel's id.
pub async fn rent_child(cluster: &Cluster, plan: i64, name: &str) -> i64 {
    use smmd_store::prelude::*;
    let store = cluster.db.store.as_ref();
    let clock = smmd_domain::SystemClock;
    let app = smmd_app::App::new(store, &clock);
    let (renter, _) = smmd_app::accounts::register(
        app,
        &format!("{name}@x.io"),
        "password123",
        smmd_store::Role::User,
        None,
    )
    .await
    .expect("renter");
    store
        .change_balance(smmd_store::BalanceChange {
            user_id: renter.id,
            amount: smmd_domain::Money::parse("50").expect("m"),
            kind: smmd_store::LedgerKind::Deposit,
            key: format!("seed:{name}"),
            reason: "test".into(),
            actor_id: None,
            now: app.now(),
            audit: None,
        })
        .await
        .expect("deposit");
    let reserved = vec!["localhost".to_string()];
    smmd_app::panels::rent(
        app,
        smmd_app::panels::RentTerms {
            root_currency: "USD",
            reserved: &reserved,
        },
        renter.id,
        &smmd_app::panels::RentInput {
            plan_id: plan,
            hostnames: format!("{name}.example"),
            name: format!("Shop {name}"),
            admin_email: format!("admin@{name}.example"),
            admin_password: "child-admin-pw".into(),
            ..Default::default()
        },
    )
    .await
    .expect("rented")
    .id
}
