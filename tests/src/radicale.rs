//! A real CalDAV server for the tests: Radicale (PyPI, installed by `scripts/test.sh`), one per
//! test on a random 127.0.0.1 port with its own storage directory, and the plain HTTP a person's
//! other client would use to change its calendars (MKCALENDAR, PUT, DELETE).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};

pub struct Radicale {
    child: Child,
    dir: tempfile::TempDir,
    pub port: u16,
    pub username: String,
    pub password: String,
    http: reqwest::Client,
}

impl Radicale {
    /// Starts Radicale with one user (`ada@example.com`, password `sesame`) and waits until it
    /// answers.
    pub async fn start() -> Self {
        // Its HTTP client may be the first of the process (the app installs the same provider).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let users = dir.path().join("users");
        std::fs::write(&users, "ada@example.com:sesame\n").unwrap();
        let config = dir.path().join("config");
        std::fs::write(
            &config,
            format!(
                "[server]\nhosts = 127.0.0.1:{port}\n\
                 [auth]\ntype = htpasswd\nhtpasswd_filename = {}\nhtpasswd_encryption = plain\n\
                 [storage]\nfilesystem_folder = {}\n\
                 [rights]\ntype = owner_only\n\
                 [logging]\nlevel = warning\n",
                users.display(),
                dir.path().join("collections").display()
            ),
        )
        .unwrap();
        let child = Command::new("python3")
            .args(["-m", "radicale", "--config"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 -m radicale runs (scripts/test.sh installs Radicale)");
        let server = Radicale {
            child,
            dir,
            port,
            username: "ada@example.com".into(),
            password: "sesame".into(),
            http: reqwest::Client::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let up = server.http.get(server.url("/")).send().await.is_ok();
            if up {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "Radicale did not start on {port}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    async fn send(&self, method: &str, path: &str, body: String) -> StatusCode {
        self.http
            .request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                self.url(path),
            )
            .basic_auth(&self.username, Some(&self.password))
            .header("Content-Type", "text/calendar; charset=utf-8")
            .body(body)
            .send()
            .await
            .expect("Radicale answers")
            .status()
    }

    /// Creates the calendar `/<user>/<name>/` with a display name and Apple's colour.
    pub async fn make_calendar(&self, name: &str, display: &str, color: &str) {
        let body = format!(
            "<?xml version=\"1.0\"?><c:mkcalendar xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\" \
             xmlns:a=\"http://apple.com/ns/ical/\"><d:set><d:prop><d:displayname>{display}</d:displayname>\
             <a:calendar-color>{color}</a:calendar-color></d:prop></d:set></c:mkcalendar>"
        );
        let status = self
            .send("MKCALENDAR", &format!("/{}/{name}/", self.username), body)
            .await;
        assert!(status.is_success(), "MKCALENDAR answered {status}");
    }

    /// Writes one resource (`/<user>/<calendar>/<resource>.ics`), as another client would.
    pub async fn put(&self, calendar: &str, resource: &str, ics: &str) {
        let status = self
            .send(
                "PUT",
                &format!("/{}/{calendar}/{resource}.ics", self.username),
                ics.to_owned(),
            )
            .await;
        assert!(status.is_success(), "PUT answered {status}");
    }

    pub async fn delete(&self, calendar: &str, resource: &str) {
        let status = self
            .send(
                "DELETE",
                &format!("/{}/{calendar}/{resource}.ics", self.username),
                String::new(),
            )
            .await;
        assert!(status.is_success(), "DELETE answered {status}");
    }

    /// Where Radicale keeps `calendar`'s items, one `.ics` file each (to fill a calendar with
    /// thousands of events faster than one PUT at a time).
    pub fn collection_dir(&self, calendar: &str) -> std::path::PathBuf {
        self.dir
            .path()
            .join("collections/collection-root")
            .join(&self.username)
            .join(calendar)
    }

    /// Changes ada's password, as a person revoking an app password would.
    pub fn change_password(&mut self, password: &str) {
        std::fs::write(
            self.dir.path().join("users"),
            format!("{}:{password}\n", self.username),
        )
        .unwrap();
        self.password = password.to_owned();
    }

    /// Forgets every sync token the server handed out (Radicale keeps them in its cache).
    pub fn forget_sync_tokens(&self) {
        let collections = self.dir.path().join("collections");
        for entry in walk(&collections) {
            if entry.file_name().is_some_and(|n| n == ".Radicale.cache") {
                let _ = std::fs::remove_dir_all(&entry);
            }
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let path = e.path();
            out.push(path.clone());
            if path.is_dir() {
                out.extend(walk(&path));
            }
        }
    }
    out
}

impl Drop for Radicale {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
