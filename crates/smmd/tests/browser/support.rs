//! What every browser test shares: a real `smmd demo` process with its sandbox simulator,
//! Debian's Chromium over WebDriver, screenshots at desktop and phone sizes, and small waits.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use futures::FutureExt;
use serde_json::{json, Value};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "chromedriver";
/// With this sandbox seed the demo's first follower order completes in full.
pub const SIM_SEED: &str = "7";

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

pub async fn wait_for_port(port: u16, what: &str) {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not listen on {port}");
}

pub struct Demo {
    pub _child: tokio::process::Child,
    pub url: String,
    pub admin_key: String,
    pub admin_email: String,
    pub admin_password: String,
    pub user_email: String,
    pub user_password: String,
    /// The demo user's API key (`/api/v2`).
    pub user_key: String,
    /// The demo user's referral link (the demo user is an affiliate).
    pub referral_link: String,
    pub _data: tempfile::TempDir,
}

/// A fresh `smmd demo` with extra environment (configuration: `SMMD__SECTION__KEY`).
pub async fn start_demo_with(env: &[(&str, String)]) -> Demo {
    let data = tempfile::tempdir().expect("data dir");
    let port = free_port();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_smmd"))
        .args([
            "demo",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--sim-seed",
            SIM_SEED,
        ])
        .arg("--data")
        .arg(data.path())
        .env("RUST_LOG", "warn")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("smmd demo");
    let creds_path = data.path().join("demo-credentials.json");
    for _ in 0..300 {
        if creds_path.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let creds: Value =
        serde_json::from_str(&std::fs::read_to_string(&creds_path).expect("credentials"))
            .expect("json");
    Demo {
        _child: child,
        url: creds["url"].as_str().expect("url").to_string(),
        admin_key: creds["admin"]["api_key"].as_str().expect("key").to_string(),
        admin_email: creds["admin"]["email"].as_str().expect("email").to_string(),
        admin_password: creds["admin"]["password"]
            .as_str()
            .expect("password")
            .to_string(),
        user_email: creds["user"]["email"].as_str().expect("email").to_string(),
        user_password: creds["user"]["password"]
            .as_str()
            .expect("password")
            .to_string(),
        user_key: creds["user"]["api_key"].as_str().expect("key").to_string(),
        referral_link: creds["referral_link"]
            .as_str()
            .expect("referral link")
            .to_string(),
        _data: data,
    }
}

pub async fn browser() -> Option<(Client, tokio::process::Child)> {
    if std::env::var("SMMD_SKIP_BROWSER").is_ok_and(|v| v == "1") {
        return None;
    }
    let port = free_port();
    let driver = tokio::process::Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| {
            panic!("starting {CHROMEDRIVER} ({e}): apt-get install chromium chromium-driver, or SMMD_SKIP_BROWSER=1")
        });
    wait_for_port(port, "chromedriver").await;
    let caps = json!({
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,900", "--force-device-scale-factor=1"]
        }
    });
    let caps = match caps {
        Value::Object(m) => m,
        _ => unreachable!("an object literal"),
    };
    // Plain HTTP to the local chromedriver: no TLS needed.
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a WebDriver session");
    Some((client, driver))
}

pub fn shots_dir() -> PathBuf {
    let dir = std::env::var("SMMD_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots"));
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

/// Saves the current page as `<name>-desktop.png` and `<name>-phone.png` (390×844), then
/// restores the desktop size.
pub async fn shoot(c: &Client, name: &str) {
    shoot_at(c, name, None).await;
}

/// [`shoot`] scrolled to the element with id `at` (when given) at each size.
pub async fn shoot_at(c: &Client, name: &str, at: Option<&str>) {
    let dir = shots_dir();
    for (label, w, h) in [("desktop", 1280, 900), ("phone", 390, 844)] {
        c.set_window_size(w, h).await.expect("resize");
        tokio::time::sleep(Duration::from_millis(250)).await;
        if let Some(id) = at {
            c.execute(
                "document.getElementById(arguments[0]).scrollIntoView(); return true;",
                vec![serde_json::json!(id)],
            )
            .await
            .expect("scroll");
        }
        // No page is wider than the window it is shown in (tables, JSON and long words
        // included).
        let widths = c
            .execute(
                "return [document.documentElement.scrollWidth, document.documentElement.clientWidth];",
                vec![],
            )
            .await
            .expect("widths");
        let (scroll, client) = (
            widths[0].as_i64().unwrap_or(0),
            widths[1].as_i64().unwrap_or(0),
        );
        if scroll > client {
            let wide = c
                .execute(
                    "const w = document.documentElement.clientWidth; return Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > w + 1).slice(-6).map(e => e.tagName.toLowerCase() + '.' + String(e.className).replace(/ /g, '.') + ' ' + Math.round(e.getBoundingClientRect().right));",
                    vec![],
                )
                .await
                .expect("wide elements");
            panic!("{name} on a {label}: the page is {scroll} px wide in a {client} px window; too wide: {wide}");
        }
        let png = c.screenshot().await.expect("screenshot");
        std::fs::write(dir.join(format!("{name}-{label}.png")), png).expect("write png");
    }
    c.set_window_size(1280, 900).await.expect("resize");
}

/// Waits (up to 15 s) until the browser is on a page whose path starts with `prefix`.
pub async fn wait_for_path(c: &Client, prefix: &str) -> url::Url {
    for _ in 0..150 {
        let url = c.current_url().await.expect("url");
        if url.path().starts_with(prefix) {
            // And the page has loaded.
            if c.find(Locator::Css("main")).await.is_ok() {
                return url;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "not on {prefix}…: at {}",
        c.current_url().await.expect("url")
    );
}

/// Waits (up to 15 s) for an order page (`/orders/<reference>`, not `/orders/new`) and returns
/// the order's reference.
pub async fn wait_for_order_page(c: &Client) -> String {
    for _ in 0..150 {
        let url = c.current_url().await.expect("url");
        if let Some(r) = url.path().strip_prefix("/orders/") {
            if smmd_domain::reference::is_reference(r) && c.find(Locator::Css("main")).await.is_ok()
            {
                return r.to_string();
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "not on an order page: at {}",
        c.current_url().await.expect("url")
    );
}

/// Waits (up to 15 s) until an element matching `css` contains `needle`.
pub async fn wait_for_text(c: &Client, css: &str, needle: &str) {
    for _ in 0..150 {
        if let Ok(el) = c.find(Locator::Css(css)).await {
            if el.text().await.is_ok_and(|t| t.contains(needle)) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no {css} containing {needle:?}");
}

/// The text of the element matching `css`. An element replaced between finding it and reading
/// it (a page still loading after a submit: `StaleElementReference`) is found again, for up to
/// 5 s; no element at all fails at once.
pub async fn text_of(c: &Client, css: &str) -> String {
    let mut last = None;
    for _ in 0..50 {
        let el = c
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        match el.text().await {
            Ok(t) => return t,
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css}: text not readable: {last:?}");
}

pub async fn fill(c: &Client, css: &str, value: &str) {
    let el = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    el.clear().await.expect("clear");
    el.send_keys(value).await.expect("type");
}

pub async fn click(c: &Client, css: &str) {
    let el = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    // In the middle of the window: a sticky menu bar never covers what is clicked.
    let arg = serde_json::to_value(&el).expect("element");
    c.execute(
        "arguments[0].scrollIntoView({block: 'center'}); return true;",
        vec![arg],
    )
    .await
    .expect("scroll");
    el.click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// Clicks `css` and waits (up to 15 s) until the browser has loaded a new document with a
/// `main`: for a form that submits to the page it is on, where waiting for the path would
/// return at once, while the old page is still there (or half gone).
pub async fn click_and_reload(c: &Client, css: &str) {
    c.execute("window.__smmdOld = true; return true;", vec![])
        .await
        .expect("mark the page");
    click(c, css).await;
    for _ in 0..150 {
        let fresh = c
            .execute(
                "return window.__smmdOld === undefined && document.readyState === 'complete';",
                vec![],
            )
            .await
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        if fresh && c.find(Locator::Css("main")).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "clicking {css} loaded no new page: at {}",
        c.current_url().await.expect("url")
    );
}

/// The sandbox service the demo sells as followers with refill (API v2 `services`).
pub async fn followers_service(demo: &Demo) -> i64 {
    let services: Value = reqwest::Client::new()
        .post(format!("{}/api/v2", demo.url))
        .form(&[("key", demo.admin_key.as_str()), ("action", "services")])
        .send()
        .await
        .expect("services")
        .json()
        .await
        .expect("json");
    services
        .as_array()
        .expect("list")
        .iter()
        .find(|s| s["refill"] == true && s["type"] == "Default")
        .and_then(|s| {
            s["service"]
                .as_str()
                .and_then(|v| v.parse().ok())
                .or(s["service"].as_i64())
        })
        .expect("a follower service with refill")
}

/// Places an order of `quantity` of [`followers_service`] for `link` as the demo customer over
/// API v2 (`add`), as a reseller's script would; returns the order id.
pub async fn api_order(demo: &Demo, link: &str, quantity: i64) -> i64 {
    let svc = followers_service(demo).await;
    let answer: Value = reqwest::Client::new()
        .post(format!("{}/api/v2", demo.url))
        .form(&[
            ("key", demo.user_key.as_str()),
            ("action", "add"),
            ("service", &svc.to_string()),
            ("link", link),
            ("quantity", &quantity.to_string()),
        ])
        .send()
        .await
        .expect("add")
        .json()
        .await
        .expect("json");
    answer["order"]
        .as_i64()
        .unwrap_or_else(|| panic!("an order id: {answer}"))
}

/// Logs out whoever is signed in and signs `email` in.
pub async fn sign_in(c: &Client, base: &str, email: &str, password: &str) {
    c.goto(&format!("{base}/dashboard"))
        .await
        .expect("dashboard");
    if c.find(Locator::Css("form.logout button")).await.is_ok() {
        click(c, "form.logout button").await;
        // The log-out must land before the next page: a page loaded while it is in flight
        // carries the old session's form token and its submit is refused.
        wait_for_path(c, "/login").await;
    }
    c.goto(&format!("{base}/login")).await.expect("login");
    fill(c, "#email", email).await;
    fill(c, "#password", password).await;
    click(c, "button[type=submit]").await;
    // Customers land on their dashboard, admins on the admin one.
    for _ in 0..150 {
        let path = c.current_url().await.expect("url").path().to_string();
        if (path == "/dashboard" || path == "/admin") && c.find(Locator::Css("main")).await.is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{email} was not signed in");
}

/// Runs `journey` in a fresh browser against a fresh demo; on a panic, says where the browser
/// was and what it showed (and saves `failure-<name>.png`) before failing the test.
pub async fn run<F, Fut>(name: &str, journey: F)
where
    F: FnOnce(Client, Demo) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    run_with(name, &[], journey).await
}

/// [`run`] against a demo started with extra environment ([`start_demo_with`]).
pub async fn run_with<F, Fut>(name: &str, env: &[(&str, String)], journey: F)
where
    F: FnOnce(Client, Demo) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let Some((c, _driver)) = browser().await else {
        return;
    };
    let demo = start_demo_with(env).await;
    let outcome = AssertUnwindSafe(journey(c.clone(), demo))
        .catch_unwind()
        .await;
    if let Err(panic) = outcome {
        // The backtrace printed at the panic hides its message from a log's tail: say it again
        // last, with where the browser was and what it showed.
        let message = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("(not text)");
        let url = c.current_url().await.map(|u| u.to_string());
        let main = match c.find(Locator::Css("main")).await {
            Ok(el) => el.text().await.unwrap_or_default(),
            Err(e) => format!("(no main: {e})"),
        };
        if let Ok(png) = c.screenshot().await {
            let _ = std::fs::write(shots_dir().join(format!("failure-{name}.png")), png);
        }
        eprintln!(
            "\n=== browser test {name} failed: {message}\n=== at {url:?}\n=== page text:\n{main}\n"
        );
        std::panic::resume_unwind(panic);
    }
    c.close().await.expect("close");
}

/// Calls the admin REST API of the demo with the admin's key; the JSON answer (`Null` when
/// there is none, as for a 204).
pub async fn admin_json(
    demo: &Demo,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let mut req = reqwest::Client::new()
        .request(method, format!("{}{path}", demo.url))
        .bearer_auth(&demo.admin_key);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.expect("admin api");
    r.json().await.unwrap_or(Value::Null)
}
