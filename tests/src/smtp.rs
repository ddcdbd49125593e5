//! A real SMTP server for the e-mail alert tests: Python's aiosmtpd (pinned, installed by
//! `scripts/test.sh`) on a free local port, printing every message it receives; the test reads
//! them back.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct Smtp {
    child: Child,
    pub port: u16,
    received: Arc<Mutex<String>>,
}

const END: &str = "------------ END MESSAGE ------------";

impl Smtp {
    pub async fn start() -> Smtp {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut child = Command::new("python3")
            .args([
                "-u",
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 with aiosmtpd (scripts/test.sh installs it)");
        let received = Arc::new(Mutex::new(String::new()));
        let stdout = child.stdout.take().expect("piped stdout");
        let sink = received.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let mut all = sink.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                std::time::Instant::now() < deadline,
                "aiosmtpd did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Smtp {
            child,
            port,
            received,
        }
    }

    /// `SMTP_URL` for the app: a plain local relay.
    pub fn url(&self) -> String {
        format!("smtp+plain://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, as printed (headers, a blank line, the body).
    pub fn messages(&self) -> Vec<String> {
        let all = self.received.lock().unwrap().clone();
        all.split(END)
            .filter(|m| m.contains("Subject:"))
            .map(str::to_owned)
            .collect()
    }

    /// Waits (at most 30 s) until `n` messages have arrived; returns them.
    pub async fn wait_for(&self, n: usize) -> Vec<String> {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{} e-mails arrived, not {n}: {messages:?}",
                messages.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
