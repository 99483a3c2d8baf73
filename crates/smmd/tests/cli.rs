//! The `smmd` command line as an operator uses it, against a fresh SQLite database per test:
//! every command works, and bad input fails with a clear message, a non-zero exit and no write.

use std::path::Path;
use std::process::{Command, Output};

/// Runs `smmd args` on the panel in `data`, migrated first when new (commands other than
/// `migrate`, `serve` and `demo` refuse to create a database).
fn smmd(data: &Path, args: &[&str]) -> Output {
    if !data.join("smmd.db").exists() && args.first() != Some(&"migrate") {
        ok(&run(data, &["migrate"]));
    }
    run(data, args)
}

fn run(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_smmd"))
        .args(args)
        .env("SMMD__DATA_DIR", data)
        .env(
            "SMMD__DATABASE__URL",
            format!("sqlite://{}/smmd.db", data.display()),
        )
        .env_remove("SMMD_CONFIG")
        .env("RUST_LOG", "error")
        .output()
        .expect("run smmd")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn fails_with(out: &Output, message: &str) {
    assert!(
        !out.status.success(),
        "should fail: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(message),
        "stderr {err:?} should contain {message:?}"
    );
    assert!(!err.contains("panicked"), "no panic: {err}");
}

#[test]
fn operators_manage_accounts_and_balances_from_the_shell() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    assert!(ok(&smmd(d, &["migrate"])).contains("migrations applied"));
    let created = ok(&smmd(
        d,
        &[
            "user",
            "create",
            "--email",
            "boss@example.com",
            "--password",
            "s3cret-pass",
            "--admin",
        ],
    ));
    assert!(
        created.contains("created boss@example.com") && created.contains("(admin)"),
        "{created}"
    );
    let key = created
        .lines()
        .find_map(|l| l.strip_prefix("api key: "))
        .expect("key printed");
    assert_eq!(key.len(), 64);
    ok(&smmd(
        d,
        &[
            "user",
            "create",
            "--email",
            "buyer@example.com",
            "--password",
            "buyer-pass",
        ],
    ));

    let credited = ok(&smmd(
        d,
        &[
            "user",
            "credit",
            "--email",
            "buyer@example.com",
            "--amount",
            "25.50",
            "--reason",
            "bank transfer",
            "--request-id",
            "tx-1",
        ],
    ));
    assert!(
        credited.contains("25.50") && credited.contains("balance 25.50"),
        "{credited}"
    );
    let again = ok(&smmd(
        d,
        &[
            "user",
            "credit",
            "--email",
            "buyer@example.com",
            "--amount",
            "25.50",
            "--reason",
            "bank transfer",
            "--request-id",
            "tx-1",
        ],
    ));
    assert!(
        again.contains("balance 25.50"),
        "the same request id credits once: {again}"
    );
    let debited = ok(&smmd(
        d,
        &[
            "user",
            "credit",
            "--email",
            "buyer@example.com",
            "--amount",
            "-0.5",
            "--reason",
            "fee",
        ],
    ));
    assert!(debited.contains("balance 25.00"), "{debited}");

    let list = ok(&smmd(d, &["user", "list"]));
    assert!(
        list.contains("boss@example.com") && list.contains("admin"),
        "{list}"
    );
    assert!(
        list.lines()
            .any(|l| l.contains("buyer@example.com") && l.contains("25.00")),
        "{list}"
    );

    let new_key = ok(&smmd(
        d,
        &["user", "api-key", "--email", "buyer@example.com"],
    ));
    assert_eq!(new_key.trim().len(), 64);
}

#[test]
fn bad_input_fails_clearly_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    ok(&smmd(
        d,
        &[
            "user",
            "create",
            "--email",
            "buyer@example.com",
            "--password",
            "buyer-pass",
        ],
    ));
    fails_with(
        &smmd(
            d,
            &[
                "user",
                "create",
                "--email",
                "not-an-email",
                "--password",
                "long-enough",
            ],
        ),
        "valid e-mail",
    );
    fails_with(
        &smmd(
            d,
            &[
                "user",
                "create",
                "--email",
                "x@example.com",
                "--password",
                "short",
            ],
        ),
        "8 to 1024",
    );
    fails_with(
        &smmd(
            d,
            &[
                "user",
                "create",
                "--email",
                "BUYER@example.com",
                "--password",
                "long-enough",
            ],
        ),
        "already exists",
    );
    fails_with(
        &smmd(
            d,
            &[
                "user",
                "credit",
                "--email",
                "buyer@example.com",
                "--amount",
                "1.0000001",
                "--reason",
                "x",
            ],
        ),
        "more than 6 decimals",
    );
    fails_with(
        &smmd(
            d,
            &[
                "user",
                "credit",
                "--email",
                "buyer@example.com",
                "--amount",
                "ten",
                "--reason",
                "x",
            ],
        ),
        "not a decimal number",
    );
    fails_with(
        &smmd(
            d,
            &[
                "user",
                "credit",
                "--email",
                "buyer@example.com",
                "--amount",
                "-1",
                "--reason",
                "x",
            ],
        ),
        "Not enough funds",
    );
    fails_with(
        &smmd(
            d,
            &[
                "user",
                "credit",
                "--email",
                "buyer@example.com",
                "--amount",
                "1",
                "--reason",
                " ",
            ],
        ),
        "Give a reason of 1 to 500 characters",
    );
    fails_with(
        &smmd(
            d,
            &[
                "user",
                "credit",
                "--email",
                "nobody@example.com",
                "--amount",
                "1",
                "--reason",
                "x",
            ],
        ),
        "no account",
    );
    let list = ok(&smmd(d, &["user", "list"]));
    assert_eq!(list.lines().count(), 1, "only the first account: {list}");
    assert!(list.contains("0.00"), "nothing was credited: {list}");
    let bad_url = Command::new(env!("CARGO_BIN_EXE_smmd"))
        .args(["migrate"])
        .env("SMMD__DATABASE__URL", "mysql://localhost/x")
        .output()
        .expect("run");
    fails_with(&bad_url, "unsupported database URL scheme");
    let bad_config = Command::new(env!("CARGO_BIN_EXE_smmd"))
        .args(["migrate"])
        .env("SMMD__PANEL__CURRENCY", "dollars")
        .output()
        .expect("run");
    fails_with(&bad_config, "panel.currency");
}

#[test]
fn default_config_prints_a_file_that_loads() {
    let dir = tempfile::tempdir().expect("dir");
    let text = ok(&smmd(dir.path(), &["default-config"]));
    assert!(text.contains("[database]") && text.contains("listen = \"127.0.0.1:8080\""));
    let file = dir.path().join("smmd.toml");
    std::fs::write(&file, text).expect("write");
    let out = smmd(
        dir.path(),
        &["--config", file.to_str().expect("path"), "migrate"],
    );
    ok(&out);
    fails_with(
        &smmd(
            dir.path(),
            &["--config", "/nonexistent/smmd.toml", "migrate"],
        ),
        "does not exist",
    );
}

#[test]
fn operators_inspect_and_control_jobs_from_the_shell() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    let list = ok(&smmd(d, &["jobs", "list"]));
    assert!(
        list.contains("maintenance.cleanup")
            && list.contains("0 2 * * *")
            && list.contains("never"),
        "{list}"
    );
    fails_with(
        &smmd(
            d,
            &["jobs", "set", "maintenance.cleanup", "--cron", "0 25 * * *"],
        ),
        "invalid cron expression",
    );
    fails_with(
        &smmd(
            d,
            &[
                "jobs",
                "set",
                "maintenance.cleanup",
                "--cron",
                "0 3 * * *",
                "--tz",
                "Mars/Base",
            ],
        ),
        "unknown time zone",
    );
    fails_with(&smmd(d, &["jobs", "show", "no.such.job"]), "no job named");
    let set = ok(&smmd(
        d,
        &[
            "jobs",
            "set",
            "maintenance.cleanup",
            "--cron",
            "0 9 * * MON#1",
            "--tz",
            "Europe/London",
        ],
    ));
    assert!(
        set.contains("0 9 * * MON#1") && set.contains("Europe/London"),
        "{set}"
    );
    let show = ok(&smmd(d, &["jobs", "show", "maintenance.cleanup"]));
    assert_eq!(
        show.lines()
            .filter(|l| l.trim_start().starts_with("20"))
            .count(),
        10,
        "ten next fire times: {show}"
    );
    ok(&smmd(d, &["jobs", "disable", "maintenance.cleanup"]));
    assert!(ok(&smmd(d, &["jobs", "list"]))
        .lines()
        .any(|l| l.contains("maintenance.cleanup") && l.contains(" no ")));
    ok(&smmd(d, &["jobs", "enable", "maintenance.cleanup"]));
    let run = ok(&smmd(d, &["jobs", "run", "maintenance.cleanup"]));
    assert!(
        run.contains("succeeded") && run.contains("runs_pruned"),
        "{run}"
    );
    let history = ok(&smmd(d, &["jobs", "history", "maintenance.cleanup"]));
    assert!(
        history.contains("manual")
            && history.contains("succeeded")
            && history.contains("attempt 1"),
        "{history}"
    );
    assert!(ok(&smmd(d, &["jobs", "pause"])).contains("paused"));
    assert!(ok(&smmd(d, &["jobs", "list"])).contains("(all jobs are paused)"));
    assert!(ok(&smmd(d, &["jobs", "resume"])).contains("resumed"));
}

/// `provider …`, `services …` and `orders …` against a simulator in this process: the happy
/// path an operator follows, and bad input refused with a clear message and nothing written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_connect_providers_import_services_and_resolve_reviews() {
    let sim = smmd_sim::spawn(
        smmd_sim::SimConfig::default(),
        std::sync::Arc::new(smmd_domain_clock()),
        "127.0.0.1:0",
    )
    .await
    .expect("sim");
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path().to_path_buf();
    let url = sim.url.clone();
    let run = move |args: Vec<String>| {
        let d = d.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let refs: Vec<&str> = args.iter().map(String::as_str).collect();
                smmd(&d, &refs)
            })
            .await
            .expect("join")
        }
    };
    let a = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    fails_with(
        &run(a(&[
            "provider",
            "add",
            "--name",
            "x",
            "--url",
            "not a url",
            "--key",
            "k",
        ]))
        .await,
        "URL is not valid",
    );
    fails_with(
        &run(a(&[
            "provider",
            "add",
            "--name",
            "x",
            "--url",
            &url,
            "--key",
            "k",
            "--exchange-rate",
            "0",
        ]))
        .await,
        "exchange rate",
    );
    assert_eq!(
        ok(&run(a(&["provider", "list"])).await).trim(),
        "",
        "nothing written"
    );
    let added = ok(&run(a(&[
        "provider", "add", "--name", "sim", "--url", &url, "--key", "sim-key",
    ]))
    .await);
    assert!(added.contains("added provider #1 sim"), "{added}");
    assert!(
        added.contains("the provider accepted the key: balance"),
        "{added}"
    );
    // A wrong key is tested on add and refused with the provider's answer; --no-check skips.
    fails_with(
        &run(a(&[
            "provider",
            "add",
            "--name",
            "typo",
            "--url",
            &url,
            "--key",
            "wrong-key",
        ]))
        .await,
        "did not accept the key",
    );
    let unchecked = ok(&run(a(&[
        "provider",
        "add",
        "--name",
        "typo",
        "--url",
        &url,
        "--key",
        "wrong-key",
        "--no-check",
    ]))
    .await);
    assert!(unchecked.contains("not checked"), "{unchecked}");
    ok(&run(a(&["provider", "disable", "typo"])).await);
    fails_with(
        &run(a(&[
            "provider", "add", "--name", "sim", "--url", &url, "--key", "sim-key",
        ]))
        .await,
        "exists",
    );
    let tested = ok(&run(a(&["provider", "test", "sim"])).await);
    assert!(tested.contains("connected, balance 10000"), "{tested}");
    let synced = ok(&run(a(&["services", "sync"])).await);
    assert!(synced.contains("created 8"), "{synced}");
    let again = ok(&run(a(&["services", "sync", "--provider", "sim"])).await);
    assert!(again.contains("created 0, updated 0"), "{again}");
    fails_with(
        &run(a(&["services", "sync", "--provider", "nope"])).await,
        "no provider `nope`",
    );
    let edited = ok(&run(a(&[
        "services",
        "edit",
        "2",
        "--rate",
        "0.50",
        "--auto-refill",
        "true",
    ]))
    .await);
    assert!(
        edited.contains("0.50 per 1000") && edited.contains("auto refill"),
        "{edited}"
    );
    fails_with(
        &run(a(&["services", "edit", "2", "--min", "100000000"])).await,
        "min",
    );
    fails_with(
        &run(a(&["services", "edit", "99", "--rate", "1"])).await,
        "no service 99",
    );
    fails_with(
        &run(a(&[
            "services",
            "markup",
            "--category",
            "Instagram Likes",
            "--bp",
            "lots",
        ]))
        .await,
        "basis points",
    );
    ok(&run(a(&[
        "services",
        "markup",
        "--category",
        "Instagram Likes",
        "--bp",
        "2500",
    ]))
    .await);
    ok(&run(a(&[
        "services",
        "offer",
        "2",
        "--provider",
        "sim",
        "--provider-service",
        "7",
    ]))
    .await);
    let offers = ok(&run(a(&["services", "offers", "2"])).await);
    assert_eq!(offers.lines().count(), 2, "{offers}");
    assert_eq!(ok(&run(a(&["orders", "review"])).await).trim(), "");
    fails_with(&run(a(&["orders", "resend", "42"])).await, "no such order");
    let balance = ok(&run(a(&["provider", "balance"])).await);
    assert!(balance.contains("10000"), "{balance}");
    ok(&run(a(&["provider", "disable", "sim"])).await);
    assert!(ok(&run(a(&["provider", "list"])).await).contains("disabled"));
}

fn smmd_domain_clock() -> smmd_domain::SystemClock {
    smmd_domain::SystemClock
}

#[test]
fn operators_set_up_and_run_hourly_billing_from_the_shell() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    let status = ok(&smmd(d, &["billing", "status"]));
    assert!(status.contains("enabled:   false"), "{status}");
    assert!(status.contains("watermark: never"), "{status}");
    let add = |price: &str, mode: &str| {
        smmd(
            d,
            &[
                "billing",
                "plans",
                "add",
                "--code",
                "pro",
                "--name",
                "Reseller Pro",
                "--price",
                price,
                "--cap-mode",
                mode,
            ],
        )
    };
    fails_with(&add("0", "h730"), "The monthly price is above zero");
    fails_with(&add("25", "weekly"), "Unknown cap mode `weekly`");
    assert!(ok(&add("25", "h672")).contains("plan 1 added: pro (25.00)"));
    fails_with(&add("30", "h730"), "a plan with this code already exists");
    let plans = ok(&smmd(d, &["billing", "plans", "list"]));
    assert!(
        plans.contains("never more than 25.00 per calendar month") && plans.contains("h672"),
        "{plans}"
    );
    ok(&smmd(d, &["billing", "enable"]));
    fails_with(
        &smmd(d, &["billing", "pause", "--reason", " "]),
        "Give a reason",
    );
    ok(&smmd(d, &["billing", "pause", "--reason", "migration"]));
    let status = ok(&smmd(d, &["billing", "status"]));
    assert!(
        status.contains("enabled:   true") && status.contains("(migration)"),
        "{status}"
    );
    ok(&smmd(d, &["billing", "resume", "--reason", "done"]));
    let run = ok(&smmd(d, &["billing", "run"]));
    assert!(
        run.contains("rentals 0,") && run.contains("failed 0"),
        "{run}"
    );
    let status = ok(&smmd(d, &["billing", "status"]));
    assert!(
        !status.contains("watermark: never"),
        "the run set it: {status}"
    );
    fails_with(
        &smmd(
            d,
            &["billing", "rentals", "suspend", "7", "--reason", "abuse"],
        ),
        "no such rental",
    );
    ok(&smmd(d, &["billing", "plans", "deactivate", "1"]));
    assert!(ok(&smmd(d, &["billing", "plans", "list"])).contains(" no "));
}
