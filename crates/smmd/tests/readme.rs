//! The README's "Run it for real" block, run as written on a fresh folder (issue 15, "the
//! newcomer's path"): every command must succeed in order, `serve` must answer `/healthz`, and
//! the accounts the block creates must exist. `cargo build` is the one line not run (this test
//! runs on the binaries cargo built for it); `./target/release/smmd` becomes that binary.

use std::process::{Command, Stdio};
use std::time::Duration;

/// The first ```sh block after `## Run it for real`, one command per line.
fn readme_commands() -> Vec<String> {
    let readme = include_str!("../../../README.md");
    let section = readme
        .split("## Run it for real")
        .nth(1)
        .expect("the README has a Run it for real section");
    let block = section
        .split("```sh")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a sh block");
    block
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn the_readme_commands_run_as_written_on_a_fresh_folder() {
    let commands = readme_commands();
    assert!(
        commands.len() >= 5,
        "the block was found and read: {commands:?}"
    );
    let dir = tempfile::tempdir().expect("dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let smmd = env!("CARGO_BIN_EXE_smmd");
    let mut served = false;
    let mut output = String::new();
    for line in &commands {
        if line.starts_with("cargo build") {
            continue;
        }
        let line = line.replace("./target/release/smmd", smmd);
        let shell = |script: String| {
            let mut cmd = Command::new("sh");
            cmd.arg("-c")
                .arg(script)
                .current_dir(dir.path())
                .env("SMMD__SERVER__LISTEN", format!("127.0.0.1:{port}"))
                .env_remove("SMMD_CONFIG")
                .env_remove("SMMD_PASSWORD")
                .env_remove("SMMD__DATABASE__URL")
                .env_remove("SMMD__DATA_DIR")
                .env("RUST_LOG", "error");
            cmd
        };
        if line.ends_with(" serve") {
            // `exec`: the shell becomes smmd, so killing the child stops the server (killing
            // `sh` alone left `smmd serve` running after the test).
            let mut child = shell(format!("exec {line}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("serve");
            let url = format!("http://127.0.0.1:{port}/healthz");
            let mut ok = false;
            for _ in 0..100 {
                if let Ok(r) = reqwest::get(&url).await {
                    ok = r.status().is_success();
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let _ = child.kill();
            let _ = child.wait();
            assert!(ok, "`{line}` answers /healthz");
            assert!(
                reqwest::get(&url).await.is_err(),
                "the server stopped with the test"
            );
            served = true;
            continue;
        }
        let out = shell(line.clone()).output().expect("run");
        assert!(
            out.status.success(),
            "`{line}` failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        output.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    assert!(served, "the block ends with a running panel");
    assert!(output.contains("created you@example.com"), "{output}");
    assert!(
        output.contains("password: "),
        "a password was made and shown: {output}"
    );
    assert!(output.contains("buyer@example.com"), "{output}");
}

#[test]
fn a_command_run_elsewhere_refuses_to_create_a_database() {
    let dir = tempfile::tempdir().expect("dir");
    let out = Command::new(env!("CARGO_BIN_EXE_smmd"))
        .args(["user", "create", "--email", "a@example.com"])
        .current_dir(dir.path())
        .env_remove("SMMD_CONFIG")
        .env_remove("SMMD__DATABASE__URL")
        .env_remove("SMMD__DATA_DIR")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no database at"), "{err}");
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("ls").count(),
        0,
        "nothing was created"
    );
}
