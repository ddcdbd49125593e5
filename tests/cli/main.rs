//! The `freeslot` binary itself, as the README runs it: help, configuration errors, the
//! embedded `serve` on a fresh directory, and a graceful stop on SIGTERM.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_freeslot");

/// A command with none of the caller's freeslot configuration.
fn freeslot(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn");
    cmd
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Status code and body of a plain GET, or None while nothing listens.
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Some((status, body))
}

fn wait_healthy(port: u16, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some((200, _)) = get(port, "/health") {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("freeslot exited early with {status}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("freeslot did not become healthy");
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let deadline = Instant::now() + Duration::from_secs(45);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "freeslot did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn help_explains_every_command() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for command in ["serve", "api", "worker", "migrate"] {
        assert!(text.contains(command), "--help does not mention {command}");
    }
}

#[test]
fn a_bad_variable_stops_the_start_and_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = freeslot(dir.path())
        .arg("serve")
        .env("BIND_ADDR", "nowhere")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("BIND_ADDR"), "{err}");
    let out = freeslot(dir.path())
        .arg("api")
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("JWT_SECRET is required")
    );
    assert!(
        !dir.path().join("freeslot.db").exists(),
        "nothing was created"
    );
}

#[test]
fn serve_runs_embedded_with_no_configuration_and_stops_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = freeslot(dir.path())
        .arg("serve")
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_healthy(port, &mut child);
    let (status, body) = get(port, "/ready").unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"queue_backend\":\"sqlite\""), "{body}");
    assert!(dir.path().join("freeslot.db").exists());
    assert!(dir.path().join("freeslot.db.secrets").exists());

    let status = terminate(&mut child);
    assert!(status.success(), "exit after SIGTERM: {status}");
    assert!(get(port, "/health").is_none(), "nothing listens any more");

    let out = freeslot(dir.path())
        .args(["migrate", "status"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.lines().count() >= 10 && text.lines().all(|l| l.starts_with("applied")),
        "{text}"
    );
}

/// A worker alone serves its metrics on `METRICS_ADDR` and stops on SIGTERM.
#[test]
fn a_worker_serves_its_metrics_on_metrics_addr() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = freeslot(dir.path())
        .arg("worker")
        .env("METRICS_ADDR", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let body = loop {
        if let Some((200, body)) = get(port, "/metrics") {
            break body;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the worker exited early with {status}");
        }
        assert!(Instant::now() < deadline, "no metrics on METRICS_ADDR");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(body.contains("# TYPE freeslot_calendars gauge"), "{body}");
    assert!(body.contains("process_resident_memory_bytes"), "{body}");
    assert_eq!(
        get(port, "/health").map(|(s, _)| s),
        Some(404),
        "only /metrics"
    );
    let status = terminate(&mut child);
    assert!(status.success(), "exit after SIGTERM: {status}");
}
