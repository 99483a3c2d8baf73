//! A real SMTP server for tests: `python -m aiosmtpd` on a free loopback port, delivering to
//! a maildir the test reads. Shared by the notifier's tests and the browser tests (included
//! with `#[path]`): Python with `aiosmtpd` (`SMMD_TEST_PYTHON`, set by `scripts/test.sh`);
//! `SMMD_SKIP_SMTP=1` skips explicitly (never in CI).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

/// A real SMTP server: `python -m aiosmtpd` on a free loopback port, delivering to a maildir.
pub struct Smtp {
    child: tokio::process::Child,
    port: u16,
    maildir: tempfile::TempDir,
}

impl Smtp {
    pub async fn start() -> Option<Smtp> {
        if std::env::var("SMMD_SKIP_SMTP").is_ok_and(|v| v == "1") {
            return None;
        }
        let python = std::env::var("SMMD_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let maildir = tempfile::tempdir().expect("maildir");
        let child = tokio::process::Command::new(&python)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir.path().join("box"))
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("starting {python} -m aiosmtpd ({e}); run scripts/test.sh, or pip install aiosmtpd, or set SMMD_SKIP_SMTP=1")
            });
        let mut smtp = Smtp {
            child,
            port,
            maildir,
        };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Some(smtp);
            }
            if let Ok(Some(status)) = smtp.child.try_wait() {
                panic!("{python} -m aiosmtpd exited ({status}): is aiosmtpd installed? (scripts/test.sh installs it; SMMD_SKIP_SMTP=1 skips)");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("aiosmtpd did not listen on {port}");
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The messages received so far: (To, Subject, body).
    pub fn received(&self) -> Vec<(String, String, String)> {
        let dir: PathBuf = self.maildir.path().join("box").join("new");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.sort();
        files.iter().map(|f| parse_mail(f)).collect()
    }
}

fn parse_mail(path: &Path) -> (String, String, String) {
    let text = std::fs::read_to_string(path).expect("mail");
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let header = |name: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap_or_default()
            .to_string()
    };
    let body = body.replace("\r\n", "\n");
    let body = if head.contains("Content-Transfer-Encoding: quoted-printable") {
        quoted_printable(&body)
    } else {
        body
    };
    (header("To"), header("Subject"), body)
}

/// Decodes quoted-printable text (soft line breaks and `=XX` bytes).
fn quoted_printable(text: &str) -> String {
    let joined = text.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
