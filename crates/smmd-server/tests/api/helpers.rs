//! The test harness: [`spawn_app`] starts a real smmd server on `127.0.0.1:0` over a fresh
//! database (SQLite file or PostgreSQL database) with a manual clock, and [`backend_tests!`] runs
//! each test on both backends. [`TestApp::v2`] checks the protocol invariants of spec §7.1 (S34)
//! on every reseller API response it returns.

use std::sync::Arc;

use reqwest::header::CONTENT_TYPE;
use serde_json::Value;
use smmd_domain::{Clock, ManualClock};
use smmd_server::{App, Config};
use smmd_store::Store;
use smmd_store_sql::testing::{fresh, Backend, TestDb};

/// 2026-01-01T00:00:00Z.
pub const T0: i64 = 1_767_225_600_000;

pub struct TestApp {
    pub base: String,
    pub store: Arc<dyn Store>,
    pub clock: ManualClock,
    pub client: reqwest::Client,
    /// Keeps the database alive (and drops it) with the app; `None` on a [`TestApp::sibling`].
    pub _db: Option<TestDb>,
    /// The database URL (another instance or a raw connection opens it).
    pub db_url: String,
    /// Every panel the server answers for (the root and its children), routed by `Host`.
    pub deployment: Arc<smmd_server::panels::Deployment>,
    backend: Backend,
}

impl TestApp {
    /// The backend this app runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A second instance over this app's database, as another `smmd serve` would run: its own
    /// store (connection pools, feed listener), server, feed hub and scheduler; the same clock.
    /// The database lives as long as `self`.
    pub async fn sibling(&self) -> TestApp {
        let store = smmd_store_sql::SqlStore::connect(
            &self.db_url,
            smmd_store_sql::ConnectOptions {
                migrate: false,
                ..smmd_store_sql::ConnectOptions::default()
            },
        )
        .await
        .expect("a second instance's store");
        let store: Arc<dyn Store> = Arc::new(store);
        start(
            self.backend,
            None,
            self.db_url.clone(),
            store,
            self.clock.clone(),
            |_| {},
        )
        .await
    }
}

/// Generates `mod sqlite` and `mod postgres`, each with one `#[tokio::test]` per listed test
/// function `async fn(TestApp)`.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = $crate::helpers::spawn_app(smmd_store_sql::testing::Backend::Sqlite).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = $crate::helpers::spawn_app(smmd_store_sql::testing::Backend::Postgres).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
    };
}

pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

/// [`spawn_app`] with the configuration changed by `edit` first.
pub async fn spawn_app_with(backend: Backend, edit: impl FnOnce(&mut Config)) -> Option<TestApp> {
    if std::env::var("TEST_LOG").is_ok() {
        smmd_server::telemetry::init();
    }
    let db = fresh(backend).await?;
    let store: Arc<dyn Store> = db.store.clone();
    let url = db.url.clone();
    Some(start(backend, Some(db), url, store, ManualClock::new(T0), edit).await)
}

/// Builds and serves an app over `store` (the database at `url`).
async fn start(
    backend: Backend,
    db: Option<TestDb>,
    url: String,
    store: Arc<dyn Store>,
    clock: ManualClock,
    edit: impl FnOnce(&mut Config),
) -> TestApp {
    let mut config = Config::default();
    config.server.listen = "127.0.0.1:0".into();
    config.database.url = Some(url.clone());
    // The key `fulfil::fulfil` tests seal provider keys with ([3; 32]).
    config.security.secret_key = Some("03".repeat(32));
    edit(&mut config);
    let app = App::build(
        config,
        store.clone(),
        Arc::new(clock.clone()) as Arc<dyn Clock>,
    )
    .await
    .expect("build app");
    let base = format!("http://{}", app.addr());
    let deployment = app.deployment.clone();
    tokio::spawn(app.run_until(std::future::pending()));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    TestApp {
        base,
        store,
        clock,
        client,
        _db: db,
        db_url: url,
        deployment,
        backend,
    }
}

/// A reseller API answer after the S34 checks.
#[derive(Debug)]
pub struct V2 {
    pub json: Value,
}

impl V2 {
    pub fn error(&self) -> Option<&str> {
        self.json.get("error").and_then(Value::as_str)
    }
}

impl TestApp {
    /// The scheduler with every job of this build on the app's manual clock, after creating the
    /// schedules of `defaults` (in UTC): fulfilment jobs when `fulfil` is given.
    pub async fn engine(
        &self,
        defaults: &[smmd_jobs::control::JobDefaults],
        fulfil: Option<smmd_fulfil::Fulfil>,
        maintenance: smmd_jobs::jobs::Maintenance,
    ) -> smmd_jobs::Engine {
        smmd_jobs::control::ensure_defaults(
            self.store.as_ref(),
            defaults,
            "UTC",
            self.clock.now_ms(),
        )
        .await
        .expect("defaults");
        let clock: Arc<dyn Clock> = Arc::new(self.clock.clone());
        let mut e = smmd_jobs::Engine::new(
            self.store.clone(),
            clock.clone(),
            smmd_jobs::EngineConfig::default(),
        );
        smmd_jobs::jobs::register_all(
            &mut e,
            smmd_jobs::jobs::JobDeps {
                store: self.store.clone(),
                clock,
                canary_work: std::time::Duration::ZERO,
                fulfil,
                maintenance,
                notify: Some(self.notifier(smmd_notify::NotifySettings::default())),
                rates: Default::default(),
                run_on_demand: false,
            },
        );
        e
    }

    /// Logs `email` in (password `password123`) through `POST /api/auth/login`; returns the
    /// `Cookie` header value and the CSRF token.
    pub async fn session(&self, email: &str) -> (String, String) {
        let ok = self
            .client
            .post(self.url("/api/auth/login"))
            .json(&serde_json::json!({"email": email, "password": "password123"}))
            .send()
            .await
            .expect("login");
        assert_eq!(ok.status(), 200, "log-in of {email}");
        let cookie = ok
            .headers()
            .get(reqwest::header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|c| c.split(';').next())
            .expect("cookie")
            .to_string();
        let body: Value = ok.json().await.expect("json");
        let csrf = body["csrf_token"].as_str().expect("csrf").to_string();
        (cookie, csrf)
    }

    /// A notifier on the app's store and manual clock.
    pub fn notifier(&self, settings: smmd_notify::NotifySettings) -> smmd_notify::Notifier {
        let clock: Arc<dyn Clock> = Arc::new(self.clock.clone());
        smmd_notify::Notifier::new(self.store.clone(), clock, settings).expect("notifier")
    }

    /// Registers an account (password `password123`) with `balance` (a decimal, credited as a
    /// deposit when positive); returns it with its API key.
    pub async fn account(
        &self,
        email: &str,
        role: smmd_store::Role,
        balance: &str,
    ) -> (smmd_store::User, String) {
        let (u, key) = smmd_app::accounts::register(
            smmd_app::App::new(self.store.as_ref(), &self.clock as &dyn Clock),
            email,
            "password123",
            role,
            None,
        )
        .await
        .expect("register");
        let amount = smmd_domain::Money::parse(balance).expect("balance");
        if amount.is_positive() {
            self.credit(u.id, amount, &format!("seed:{email}")).await;
        }
        (u, key)
    }

    /// Credits `amount` to `user` as a deposit under `key`.
    pub async fn credit(&self, user: smmd_domain::UserId, amount: smmd_domain::Money, key: &str) {
        self.store
            .change_balance(smmd_store::BalanceChange {
                user_id: user,
                amount,
                kind: smmd_store::LedgerKind::Deposit,
                key: key.to_string(),
                reason: "test".into(),
                actor_id: None,
                now: T0,
                audit: None,
            })
            .await
            .expect("credit");
    }

    /// Asserts `balance = Σ ledger` for every user.
    pub async fn assert_ledger_consistent(&self) {
        let bad = self.store.ledger_mismatches().await.expect("ledger check");
        assert!(bad.is_empty(), "balance != Σ ledger for {bad:?}");
    }

    /// A simulator on the app's clock (default catalog) added as provider `name` with the key the
    /// server unseals (`[3; 32]`), balance alert threshold `alert_below` (provider currency).
    pub async fn sim_provider(
        &self,
        name: &str,
        alert_below: Option<&str>,
    ) -> (smmd_sim::SimHandle, smmd_store::Provider) {
        self.sim_provider_with(name, alert_below, smmd_sim::SimConfig::default())
            .await
    }

    /// [`TestApp::sim_provider`] with a simulator configured as `config`.
    pub async fn sim_provider_with(
        &self,
        name: &str,
        alert_below: Option<&str>,
        config: smmd_sim::SimConfig,
    ) -> (smmd_sim::SimHandle, smmd_store::Provider) {
        let sim = smmd_sim::spawn(config, Arc::new(self.clock.clone()), "127.0.0.1:0")
            .await
            .expect("sim");
        let p = smmd_app::providers::add_provider(
            smmd_app::App::new(self.store.as_ref(), &self.clock),
            &smmd_fulfil::Clients::new([3u8; 32]),
            None,
            smmd_app::providers::ProviderInput {
                name: name.into(),
                url: sim.url.clone(),
                key: sim.sim.config.api_key.clone(),
                currency: "USD".into(),
                exchange_rate: "1".into(),
                alert_below: alert_below.map(String::from),
                timeout_ms: 2_000,
                max_concurrency: 4,
                rate_per_sec: None,
                check_key: true,
                limits: Default::default(),
            },
        )
        .await
        .expect("provider")
        .0;
        (sim, p)
    }

    /// The service imported from `provider`'s upstream service `upstream` (after a services sync).
    pub async fn imported_service(
        &self,
        provider: smmd_domain::ProviderId,
        upstream: &str,
    ) -> smmd_store::Service {
        self.store
            .provider_services(provider)
            .await
            .expect("list")
            .into_iter()
            .find(|s| s.provider_service_id.as_deref() == Some(upstream))
            .expect("imported service")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The Prometheus text of `/metrics`.
    pub async fn metrics(&self) -> String {
        self.client
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text")
    }

    /// POSTs a raw form body to `/api/v2`.
    pub async fn v2(&self, form: &str) -> V2 {
        self.v2_request(
            self.client
                .post(self.url("/api/v2"))
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(form.to_string()),
        )
        .await
    }

    /// Sends any request to the reseller API and checks the invariants every answer must keep:
    /// HTTP 200, `application/json`, no BOM, valid JSON, error objects with a single `error`
    /// member, no `error` key in success objects.
    pub async fn v2_request(&self, req: reqwest::RequestBuilder) -> V2 {
        let resp = req.send().await.expect("request");
        assert_eq!(resp.status(), 200, "API v2 always answers 200");
        let ct = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        assert!(ct.starts_with("application/json"), "content type {ct}");
        let bytes = resp.bytes().await.expect("body");
        assert!(!bytes.starts_with(b"\xEF\xBB\xBF"), "no BOM");
        let json: Value = serde_json::from_slice(&bytes).expect("valid JSON");
        if let Some(obj) = json.as_object() {
            if obj.contains_key("error") {
                assert_eq!(obj.len(), 1, "error objects carry only `error`: {json}");
                assert!(obj["error"].is_string(), "error is a string: {json}");
            }
        }
        V2 { json }
    }
}
