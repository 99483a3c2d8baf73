//! Configuration: built-in defaults, then an optional TOML file, then `SMMD__SECTION__KEY`
//! environment variables (architecture §7). Loaded once in `main` and passed explicitly.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

mod commerce;
mod panels;
pub use commerce::{CurrenciesConfig, PaymentsConfig};
pub use panels::PanelsConfig;

/// The commented example printed by `smmd default-config`.
pub const DEFAULT_CONFIG_TOML: &str = include_str!("../default-config.toml");

#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Folder for the SQLite file, the generated secret key and demo credentials.
    pub data_dir: PathBuf,
    pub database: DatabaseConfig,
    pub server: ServerConfig,
    pub panel: PanelConfig,
    pub security: SecurityConfig,
    pub scheduler: SchedulerConfig,
    pub metrics: MetricsConfig,
    pub fulfil: FulfilConfig,
    pub maintenance: MaintenanceConfig,
    pub notifications: NotificationsConfig,
    pub payments: PaymentsConfig,
    pub currencies: CurrenciesConfig,
    pub panels: PanelsConfig,
}

#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DatabaseConfig {
    /// `sqlite://…` or `postgres://…`; `None` = `sqlite://<data_dir>/smmd.db`.
    pub url: Option<String>,
    /// Pool size; `None` = twice the CPU cores, at least 4.
    pub max_connections: Option<u32>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerConfig {
    /// `host:port` to bind; port 0 picks a free port.
    pub listen: String,
    /// Connections held at once; more are closed on accept (`crate::serve`).
    pub max_connections: usize,
    /// Connections held at once from one client address.
    pub max_connections_per_address: usize,
    /// A client must send a request's headers within this many milliseconds.
    pub header_timeout_ms: u64,
    /// A connection with no traffic for this many milliseconds is closed (longer than the
    /// live socket's ping interval).
    pub idle_timeout_ms: u64,
    /// Behind a reverse proxy on this host: take the client address from the last
    /// `X-Forwarded-For` entry of requests from a loopback peer (for the log-in limits).
    pub trust_forwarded_for: bool,
    /// The panel's address as people reach it (`https://panel.example.com`): every URL shown or
    /// sent (pages, e-mails, webhooks, the OpenAPI `servers`). Empty = derived from a request's
    /// `Host` where there is one, else `http://<listen>` unless that is a wildcard or port 0.
    pub public_url: String,
    /// `Secure` session cookies; unset = on exactly when `public_url` is https.
    pub secure_cookies: Option<bool>,
    /// `/api/v2` requests one API key may make per minute, with a whole minute's worth at once
    /// (`crate::ratelimit`); a `reseller_tier` rental may raise it. 0 = no limit.
    pub api_rate_per_minute: u32,
}

impl ServerConfig {
    /// The accept loop's limits.
    pub fn conn_limits(&self, shutdown_grace_ms: u64) -> crate::serve::ConnLimits {
        crate::serve::ConnLimits {
            max_connections: self.max_connections,
            max_per_address: self.max_connections_per_address,
            header_timeout: std::time::Duration::from_millis(self.header_timeout_ms),
            idle_timeout: std::time::Duration::from_millis(self.idle_timeout_ms),
            shutdown_grace: std::time::Duration::from_millis(shutdown_grace_ms),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct PanelConfig {
    pub name: String,
    /// ISO 4217 code of the panel currency.
    pub currency: String,
    /// IANA zone name.
    pub timezone: String,
    /// The highest balance a credit (admin, payment, top-up) may leave, panel currency.
    pub max_balance: smmd_domain::Money,
    /// The highest charge of one order, panel currency.
    pub max_order_amount: smmd_domain::Money,
}

impl PanelConfig {
    /// The money limits the use cases apply.
    pub fn limits(&self) -> smmd_app::Limits {
        smmd_app::Limits {
            max_balance: self.max_balance,
            max_order_amount: self.max_order_amount,
        }
    }
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SecurityConfig {
    /// 64 hex characters; generated into the data dir when unset.
    pub secret_key: Option<String>,
    /// Session lifetime in hours.
    pub session_hours: i64,
    /// How long a passed two-factor code covers a session's money and security actions (s);
    /// 0 asks for a code every time.
    pub step_up_seconds: i64,
}

/// The in-process scheduler (docs/scheduler.md). Times in milliseconds.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct SchedulerConfig {
    /// Run jobs in this process (`false` for an HTTP-only instance).
    pub enabled: bool,
    /// This instance's name in run history; empty = `<hostname>-<pid>`.
    pub instance: String,
    /// Longest sleep between passes: edits from other instances are seen within it.
    pub poll_ms: u64,
    /// Lease of a running run; heartbeats renew it every third. A crashed instance's runs are
    /// retried after it expires.
    pub lease_ms: i64,
    /// Runs this instance executes at once.
    pub max_concurrent_runs: usize,
    /// On shutdown, how long runs in flight may take before they are handed back.
    pub shutdown_grace_ms: u64,
    /// Simulated work of the `scheduler.canary` job before it writes its row.
    pub canary_work_ms: u64,
    /// Runs on demand: an order placed wakes `orders.dispatch`, and a run that changed orders
    /// wakes `notifications.deliver`, instead of both waiting for their next tick (the woken
    /// run is an ordinary tick, once across instances). Hosted child panels run so, with those
    /// two schedules as minute sweeps; off for the root by default.
    pub run_on_demand: bool,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            enabled: true,
            instance: String::new(),
            poll_ms: 1_000,
            lease_ms: 30_000,
            max_concurrent_runs: 4,
            shutdown_grace_ms: 30_000,
            canary_work_ms: 0,
            run_on_demand: false,
        }
    }
}

/// How orders are bought from providers (`[fulfil]`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct FulfilConfig {
    /// Markup over provider cost when the service and its category set none, in basis points
    /// (5000 = +50 %).
    pub default_markup_bp: i64,
    /// Refuse a services sync that would disable more than this share (percent) at once.
    pub max_disable_pct: u32,
    /// An order still `submitting` after this many ms was interrupted mid-call and goes to
    /// review. Keep it longer than every provider's timeout.
    pub stale_submitting_ms: i64,
    /// Refill guarantee (days) for imported services that offer refill.
    pub default_guarantee_days: i64,
    /// Where `refills.auto` reads a link's current count: a URL template with `{link}`
    /// answering `{"count": N}`; unset = no automatic refills.
    pub link_count_url: Option<String>,
    /// `refills.auto` asks for a refill when at least this share (percent) of the delivered
    /// units dropped.
    pub auto_refill_drop_pct: u32,
    /// An order still active this many hours after it was due (placed, or its last drip-feed
    /// run) raises `order_stuck`; 0 = never. Also the stuck-order ladder's default floor.
    pub stuck_after_hours: i64,
    /// The ladder's default "stuck after": this share of the service's average completion
    /// time for the order's quantity, percent (300 = three times as long).
    pub stuck_after_pct: i64,
    /// Minutes between two steps of the ladder.
    pub stuck_step_minutes: i64,
    /// Minimum margin over the live provider cost when the service and its category set none,
    /// basis points (0 = never below cost): dispatch holds orders sold for less.
    pub default_min_margin_bp: i64,
    /// Dispatch reads a provider's rates again (one `services` call) before sending when the
    /// last read is older than this many seconds (0 = before every batch).
    pub cost_max_age_seconds: i64,
    /// Offer failover: after a provider refuses an order for lack of funds, its offers count as
    /// failing for this many minutes (or until it accepts an order).
    pub funds_retry_minutes: i64,
}

impl Default for FulfilConfig {
    fn default() -> Self {
        let d = smmd_fulfil::Settings::default();
        FulfilConfig {
            default_markup_bp: d.default_markup_bp,
            max_disable_pct: d.max_disable_pct,
            stale_submitting_ms: d.stale_submitting_ms,
            default_guarantee_days: d.default_guarantee_days,
            link_count_url: d.link_count_url,
            auto_refill_drop_pct: d.auto_refill_drop_pct,
            stuck_after_hours: d.stuck_after_ms / 3_600_000,
            stuck_after_pct: d.stuck_after_pct,
            stuck_step_minutes: d.stuck_step_ms / 60_000,
            default_min_margin_bp: d.default_min_margin_bp,
            cost_max_age_seconds: d.cost_max_age_ms / 1_000,
            funds_retry_minutes: d.funds_retry_ms / 60_000,
        }
    }
}

impl FulfilConfig {
    /// The fulfilment settings these values give.
    pub fn settings(&self) -> smmd_fulfil::Settings {
        smmd_fulfil::Settings {
            default_markup_bp: self.default_markup_bp,
            max_disable_pct: self.max_disable_pct,
            stale_submitting_ms: self.stale_submitting_ms,
            default_guarantee_days: self.default_guarantee_days,
            link_count_url: self.link_count_url.clone().filter(|u| !u.trim().is_empty()),
            auto_refill_drop_pct: self.auto_refill_drop_pct,
            stuck_after_ms: self.stuck_after_hours.max(0).saturating_mul(3_600_000),
            stuck_after_pct: self.stuck_after_pct.clamp(
                smmd_domain::stuck::MIN_AFTER_PCT,
                smmd_domain::stuck::MAX_AFTER_PCT,
            ),
            stuck_step_ms: self.stuck_step_minutes.max(1).saturating_mul(60_000),
            default_min_margin_bp: self.default_min_margin_bp,
            cost_max_age_ms: self.cost_max_age_seconds.max(0).saturating_mul(1_000),
            funds_retry_ms: self.funds_retry_minutes.max(0).saturating_mul(60_000),
            ..smmd_fulfil::Settings::default()
        }
    }
}

/// What `maintenance.cleanup` keeps (`[maintenance]`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct MaintenanceConfig {
    /// Days finished job runs are kept.
    pub run_retention_days: i64,
    /// Days after an order ended (and its refill guarantee is over) before it moves to the
    /// archive tables, which every page and API still read; 0 = never archive.
    pub archive_after_days: i64,
    /// Rows per batch (each its own short transaction).
    pub batch: i64,
}

impl Default for MaintenanceConfig {
    fn default() -> Self {
        let d = smmd_jobs::jobs::Maintenance::default();
        MaintenanceConfig {
            run_retention_days: d.run_retention_ms / 86_400_000,
            archive_after_days: d.archive_after_ms / 86_400_000,
            batch: d.batch,
        }
    }
}

impl MaintenanceConfig {
    /// The job settings these values give.
    pub fn settings(&self) -> smmd_jobs::jobs::Maintenance {
        smmd_jobs::jobs::Maintenance {
            run_retention_ms: self.run_retention_days * 86_400_000,
            archive_after_ms: self.archive_after_days * 86_400_000,
            batch: self.batch,
            ..smmd_jobs::jobs::Maintenance::default()
        }
    }
}

/// Notifications (`[notifications]`): e-mail over SMTP, webhooks, retention.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct NotificationsConfig {
    /// The panel's public address, for links in e-mails (`https://panel.example.com`); empty =
    /// `http://<server.listen>`.
    pub public_url: String,
    /// `smtp://host:port` (plain), `smtp://host?tls=required` (STARTTLS), `smtps://user:pass@host`;
    /// empty = no e-mail.
    pub smtp_url: String,
    /// The `From:` of e-mails.
    pub email_from: String,
    /// Allow webhook URLs on loopback and private networks (off: a user's webhook must not reach
    /// the panel's own network).
    pub allow_private_webhooks: bool,
    /// Days in-app notifications and finished deliveries are kept.
    pub retention_days: i64,
    /// The Telegram Bot API address the owner's alert channel posts to.
    pub telegram_api: String,
}

impl Default for NotificationsConfig {
    fn default() -> Self {
        NotificationsConfig {
            public_url: String::new(),
            smtp_url: String::new(),
            email_from: "smmd <noreply@localhost>".into(),
            allow_private_webhooks: false,
            retention_days: 90,
            telegram_api: smmd_notify::channels::TELEGRAM_API.into(),
        }
    }
}

impl fmt::Debug for NotificationsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotificationsConfig")
            .field("public_url", &self.public_url)
            .field("smtp_url", &crate::config::redact_url(&self.smtp_url))
            .field("email_from", &self.email_from)
            .field("allow_private_webhooks", &self.allow_private_webhooks)
            .field("retention_days", &self.retention_days)
            .field("telegram_api", &self.telegram_api)
            .finish()
    }
}

/// `url` with any password replaced by `***`.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

impl Config {
    /// The configured public address (`server.public_url`, else the older
    /// `notifications.public_url`), without a trailing slash; `None` when unset.
    pub fn public_url(&self) -> Option<String> {
        [&self.server.public_url, &self.notifications.public_url]
            .into_iter()
            .map(|u| u.trim().trim_end_matches('/'))
            .find(|u| !u.is_empty())
            .map(str::to_string)
    }

    /// The panel's address without a request: [`Config::public_url`], else `http://<listen>`
    /// when that is a real address (not a wildcard such as `0.0.0.0`, not port 0).
    pub fn base_url(&self) -> Option<String> {
        self.public_url().or_else(|| {
            let addr: std::net::SocketAddr = self.server.listen.parse().ok()?;
            (!addr.ip().is_unspecified() && addr.port() != 0).then(|| format!("http://{addr}"))
        })
    }

    /// The panel's address for a response to a request: [`Config::public_url`], else the
    /// request's `Host` (when it is a plausible host), else [`Config::base_url`].
    pub fn url_for(&self, headers: &axum::http::HeaderMap) -> String {
        self.public_url()
            .or_else(|| {
                let host = headers.get(axum::http::header::HOST)?.to_str().ok()?;
                let ok = !host.is_empty()
                    && host.len() <= 255
                    && host
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
                ok.then(|| format!("http://{host}"))
            })
            .or_else(|| self.base_url())
            .unwrap_or_default()
    }

    /// Whether session cookies carry `Secure`: `server.secure_cookies`, else whether the
    /// public URL is https.
    pub fn cookie_secure(&self) -> bool {
        self.server.secure_cookies.unwrap_or_else(|| {
            self.public_url()
                .is_some_and(|u| u.to_ascii_lowercase().starts_with("https://"))
        })
    }

    /// The notifier settings these values give.
    pub fn notify_settings(&self) -> smmd_notify::NotifySettings {
        let n = &self.notifications;
        let base_url = self.base_url().unwrap_or_default();
        smmd_notify::NotifySettings {
            panel_name: self.panel.name.clone(),
            currency: self.panel.currency.clone(),
            base_url,
            smtp_url: Some(n.smtp_url.trim().to_string()).filter(|u| !u.is_empty()),
            email_from: n.email_from.clone(),
            allow_private_webhooks: n.allow_private_webhooks,
            telegram_api: n.telegram_api.trim().to_string(),
            ..smmd_notify::NotifySettings::default()
        }
    }
}

/// The Prometheus endpoint `/metrics`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct MetricsConfig {
    pub enabled: bool,
    /// When set, scrapes must send `Authorization: Bearer <token>`.
    pub token: Option<String>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            enabled: true,
            token: None,
        }
    }
}

impl fmt::Debug for MetricsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetricsConfig")
            .field("enabled", &self.enabled)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("smmd-data"),
            database: DatabaseConfig::default(),
            server: ServerConfig::default(),
            panel: PanelConfig::default(),
            security: SecurityConfig::default(),
            scheduler: SchedulerConfig::default(),
            metrics: MetricsConfig::default(),
            fulfil: FulfilConfig::default(),
            maintenance: MaintenanceConfig::default(),
            notifications: NotificationsConfig::default(),
            payments: PaymentsConfig::default(),
            currencies: CurrenciesConfig::default(),
            panels: PanelsConfig::default(),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".into(),
            max_connections: 10_000,
            max_connections_per_address: 256,
            header_timeout_ms: 10_000,
            idle_timeout_ms: 120_000,
            trust_forwarded_for: false,
            public_url: String::new(),
            secure_cookies: None,
            api_rate_per_minute: 600,
        }
    }
}

impl Default for PanelConfig {
    fn default() -> Self {
        PanelConfig {
            name: "smmd".into(),
            currency: "USD".into(),
            timezone: "UTC".into(),
            max_balance: smmd_domain::Money::from_micros(10_000_000 * 1_000_000),
            max_order_amount: smmd_domain::Money::from_micros(1_000_000 * 1_000_000),
        }
    }
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            secret_key: None,
            session_hours: 168,
            step_up_seconds: 600,
        }
    }
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &self.url.as_deref().map(smmd_store_sql::redact))
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

impl fmt::Debug for SecurityConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecurityConfig")
            .field("secret_key", &self.secret_key.as_ref().map(|_| "***"))
            .field("session_hours", &self.session_hours)
            .field("step_up_seconds", &self.step_up_seconds)
            .finish()
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("database", &self.database)
            .field("server", &self.server)
            .field("panel", &self.panel)
            .field("security", &self.security)
            .field("scheduler", &self.scheduler)
            .field("metrics", &self.metrics)
            .finish()
    }
}

impl Config {
    /// Defaults → `file` (if given; it must exist) → `SMMD__…` environment variables.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            anyhow::ensure!(
                path.exists(),
                "config file {} does not exist",
                path.display()
            );
            fig = fig.merge(Toml::file(path));
        }
        let config: Config = fig
            .merge(Env::prefixed("SMMD__").split("__"))
            .extract()
            .context("reading configuration")?;
        config.validate()?;
        Ok(config)
    }

    /// Rejects values that would fail later in a less clear way.
    pub fn validate(&self) -> anyhow::Result<()> {
        let c = &self.panel.currency;
        anyhow::ensure!(
            c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()),
            "panel.currency must be an ISO code like USD, got `{c}`"
        );
        for (name, m) in [
            ("panel.max_balance", self.panel.max_balance),
            ("panel.max_order_amount", self.panel.max_order_amount),
        ] {
            anyhow::ensure!(
                m.is_positive() && m <= smmd_domain::Money::MAX_AMOUNT,
                "{name} must be above 0 and at most {}",
                smmd_domain::Money::MAX_AMOUNT
            );
        }
        let sv = &self.server;
        if let Some(u) = self.public_url() {
            let parsed = url::Url::parse(&u).ok();
            anyhow::ensure!(
                parsed.as_ref().is_some_and(|p| matches!(p.scheme(), "http" | "https")
                    && p.host().is_some()
                    && p.query().is_none()
                    && p.username().is_empty()),
                "server.public_url must be an http(s) address such as https://panel.example.com, got `{u}`"
            );
        }
        anyhow::ensure!(
            (1..=1_000_000).contains(&sv.max_connections)
                && (1..=sv.max_connections).contains(&sv.max_connections_per_address),
            "server.max_connections must be 1 to 1000000 and max_connections_per_address 1 to max_connections"
        );
        anyhow::ensure!(
            (100..=600_000).contains(&sv.header_timeout_ms)
                && (1_000..=3_600_000).contains(&sv.idle_timeout_ms),
            "server.header_timeout_ms must be 100 to 600000 and idle_timeout_ms 1000 to 3600000"
        );
        anyhow::ensure!(
            self.security.session_hours > 0,
            "security.session_hours must be positive"
        );
        anyhow::ensure!(
            (0..=86_400).contains(&self.security.step_up_seconds),
            "security.step_up_seconds must be 0 to 86400"
        );
        let s = &self.scheduler;
        anyhow::ensure!(
            (100..=60_000).contains(&s.poll_ms),
            "scheduler.poll_ms must be between 100 and 60000"
        );
        anyhow::ensure!(
            (1_000..=3_600_000).contains(&s.lease_ms),
            "scheduler.lease_ms must be between 1000 and 3600000"
        );
        anyhow::ensure!(
            (1..=256).contains(&s.max_concurrent_runs),
            "scheduler.max_concurrent_runs must be between 1 and 256"
        );
        if let Some(t) = &self.metrics.token {
            anyhow::ensure!(
                t.len() >= 16,
                "metrics.token must be at least 16 characters"
            );
        }
        let f = &self.fulfil;
        anyhow::ensure!(
            (0..=100_000).contains(&f.default_markup_bp),
            "fulfil.default_markup_bp must be between 0 and 100000"
        );
        anyhow::ensure!(
            (0..=smmd_domain::margin::MAX_MARGIN_BP).contains(&f.default_min_margin_bp),
            "fulfil.default_min_margin_bp must be between 0 and 100000"
        );
        anyhow::ensure!(
            (0..=86_400).contains(&f.cost_max_age_seconds),
            "fulfil.cost_max_age_seconds must be between 0 and 86400"
        );
        anyhow::ensure!(
            f.max_disable_pct <= 100,
            "fulfil.max_disable_pct must be at most 100"
        );
        anyhow::ensure!(
            f.stale_submitting_ms >= 5_000,
            "fulfil.stale_submitting_ms must be at least 5000 (and longer than every provider timeout)"
        );
        anyhow::ensure!(
            (1..=100).contains(&f.auto_refill_drop_pct),
            "fulfil.auto_refill_drop_pct must be between 1 and 100"
        );
        if let Some(u) = f.link_count_url.as_deref().filter(|u| !u.trim().is_empty()) {
            anyhow::ensure!(
                u.contains("{link}") && url::Url::parse(&u.replace("{link}", "x")).is_ok(),
                "fulfil.link_count_url must be an http(s) URL containing {{link}}"
            );
        }
        anyhow::ensure!(
            (0..=3650).contains(&f.default_guarantee_days),
            "fulfil.default_guarantee_days must be between 0 and 3650"
        );
        let m = &self.maintenance;
        anyhow::ensure!(
            (1..=3650).contains(&m.run_retention_days),
            "maintenance.run_retention_days must be between 1 and 3650"
        );
        anyhow::ensure!(
            (0..=36500).contains(&m.archive_after_days),
            "maintenance.archive_after_days must be between 0 (never) and 36500"
        );
        anyhow::ensure!(
            (10..=100_000).contains(&m.batch),
            "maintenance.batch must be between 10 and 100000"
        );
        anyhow::ensure!(
            (1..=3650).contains(&self.notifications.retention_days),
            "notifications.retention_days must be between 1 and 3650"
        );
        if !self.notifications.smtp_url.trim().is_empty() {
            anyhow::ensure!(
                self.notifications
                    .email_from
                    .parse::<lettre::message::Mailbox>()
                    .is_ok(),
                "notifications.email_from must be an address like \"Panel <noreply@example.com>\""
            );
        }
        let p = &self.payments;
        let (min, max) = (
            smmd_domain::Money::parse(&p.min_amount)
                .map_err(|e| anyhow::anyhow!("payments.min_amount: {e}"))?,
            smmd_domain::Money::parse(&p.max_amount)
                .map_err(|e| anyhow::anyhow!("payments.max_amount: {e}"))?,
        );
        anyhow::ensure!(
            min.is_positive() && min <= max,
            "payments.min_amount must be positive and at most payments.max_amount"
        );
        anyhow::ensure!(
            !p.methods.is_empty() && p.methods.iter().all(|m| !m.trim().is_empty()),
            "payments.methods must list at least one method"
        );
        let c = &self.currencies;
        anyhow::ensure!(
            (1..=100_000).contains(&c.max_jump_bp),
            "currencies.max_jump_bp must be 1 to 100000 (basis points, 1000 = 10 %)"
        );
        anyhow::ensure!(
            c.feed_url.trim().is_empty()
                || url::Url::parse(c.feed_url.trim())
                    .is_ok_and(|u| matches!(u.scheme(), "http" | "https")),
            "currencies.feed_url must be an http(s) address, or empty for no feed"
        );
        self.panels.validate()?;
        if let Some(k) = &self.security.secret_key {
            anyhow::ensure!(
                k.len() == 64 && k.bytes().all(|b| b.is_ascii_hexdigit()),
                "security.secret_key must be 64 hex characters"
            );
        }
        Ok(())
    }

    /// The database URL, defaulting to a SQLite file in the data dir.
    pub fn database_url(&self) -> String {
        self.database
            .url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}/smmd.db", self.data_dir.display()))
    }

    /// The configured secret key, or the one in `<data_dir>/secret.key`, created on first use.
    pub fn ensure_secret_key(&mut self) -> anyhow::Result<String> {
        if let Some(k) = &self.security.secret_key {
            return Ok(k.clone());
        }
        let path = self.data_dir.join("secret.key");
        let key = if path.exists() {
            std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?
                .trim()
                .to_string()
        } else {
            std::fs::create_dir_all(&self.data_dir)
                .with_context(|| format!("creating {}", self.data_dir.display()))?;
            let key = crate::auth::random_hex(32);
            std::fs::write(&path, &key).with_context(|| format!("writing {}", path.display()))?;
            restrict_permissions(&path)?;
            key
        };
        self.security.secret_key = Some(key.clone());
        self.validate()?;
        Ok(key)
    }
}

#[cfg(unix)]
fn restrict_permissions(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .context("restricting secret key permissions")
}

#[cfg(not(unix))]
fn restrict_permissions(_: &Path) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_address_is_never_a_wildcard_or_port_zero() {
        let mut c = Config::default();
        c.server.listen = "0.0.0.0:8080".into();
        assert_eq!(c.base_url(), None);
        c.server.listen = "127.0.0.1:0".into();
        assert_eq!(c.base_url(), None);
        assert!(!c.cookie_secure());
        c.server.listen = "127.0.0.1:8080".into();
        assert_eq!(c.base_url().as_deref(), Some("http://127.0.0.1:8080"));
        c.server.public_url = "https://panel.example.com/".into();
        assert_eq!(c.base_url().as_deref(), Some("https://panel.example.com"));
        assert!(c.cookie_secure());
        c.server.secure_cookies = Some(false);
        assert!(!c.cookie_secure(), "the setting wins");
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(axum::http::header::HOST, "evil.example".parse().expect("h"));
        assert_eq!(
            c.url_for(&headers),
            "https://panel.example.com",
            "set: never the Host"
        );
        c.server.public_url = String::new();
        c.server.listen = "0.0.0.0:8080".into();
        assert_eq!(
            c.url_for(&headers),
            "http://evil.example",
            "unset: the request's host"
        );
        c.server.public_url = "ftp://panel.example.com".into();
        assert!(c.validate().is_err());
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn file_then_environment_override_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "smmd.toml",
                "[server]\nlisten = \"127.0.0.1:9000\"\n[panel]\ncurrency = \"EUR\"\n",
            )?;
            jail.set_env("SMMD__PANEL__CURRENCY", "GBP");
            let c = Config::load(Some(Path::new("smmd.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(
                (c.server.listen.as_str(), c.panel.currency.as_str()),
                ("127.0.0.1:9000", "GBP")
            );
            assert_eq!(c.database_url(), "sqlite://smmd-data/smmd.db");
            Ok(())
        });
    }

    #[test]
    fn the_default_config_file_parses_to_the_defaults() {
        let parsed: Config = Figment::from(Toml::string(DEFAULT_CONFIG_TOML))
            .extract()
            .expect("example parses");
        assert_eq!(parsed.server.listen, Config::default().server.listen);
        assert_eq!(parsed.panel.currency, "USD");
        assert_eq!(parsed.security.session_hours, 168);
        assert_eq!(
            parsed.server.api_rate_per_minute,
            Config::default().server.api_rate_per_minute
        );
    }

    #[test]
    fn bad_values_are_rejected_with_a_clear_error() {
        let mut c = Config::default();
        c.panel.currency = "usd".into();
        assert!(c
            .validate()
            .is_err_and(|e| e.to_string().contains("panel.currency")));
        let mut c = Config::default();
        c.security.secret_key = Some("short".into());
        assert!(c.validate().is_err());
        assert!(Config::load(Some(Path::new("/nonexistent/smmd.toml"))).is_err());
    }
}
