//! A real browser for end-to-end tests: Debian's Chromium driven over the W3C WebDriver
//! protocol (ChromeDriver), with plain HTTP calls instead of a WebDriver crate.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The port in "ChromeDriver was started successfully on port 40909."; the rest of its output
/// is drained in the background so the driver never blocks on a full pipe.
fn driver_port(stdout: std::process::ChildStdout) -> u16 {
    use std::io::{BufRead, BufReader};
    let mut lines = BufReader::new(stdout).lines();
    let port = loop {
        let line = lines
            .next()
            .expect("ChromeDriver exited before it was listening")
            .expect("ChromeDriver's output");
        if let Some(rest) = line.split("started successfully on port ").nth(1) {
            break rest
                .trim_end_matches('.')
                .trim()
                .parse()
                .expect("a port number");
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    port
}

pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts ChromeDriver and a headless Chromium session. Panics with what to install when
    /// they are missing: `.ci/run` and `scripts/test.sh` install them.
    pub async fn start() -> Browser {
        // Port 0: ChromeDriver picks a free port itself and says which on stdout.
        let mut command = Command::new("chromedriver");
        command
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if std::env::var_os("FAKETIME").is_some() {
            // libfaketime (scripts/faketime-suite.sh) breaks Chromium's zygote; the browser
            // keeps the real clock, which nothing it shows depends on.
            command.env_remove("LD_PRELOAD").env_remove("FAKETIME");
        }
        let mut driver = command
            .spawn()
            .expect("chromedriver is installed (Debian: apt-get install chromium chromium-driver)");
        let stdout = driver.stdout.take().expect("piped stdout");
        let port = tokio::task::spawn_blocking(move || driver_port(stdout))
            .await
            .expect("reading ChromeDriver's output");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client");
        for _ in 0..100 {
            let ready = http.get(format!("{base}/status")).send().await;
            if let Ok(res) = ready
                && let Ok(body) = res.json::<Value>().await
                && body["value"]["ready"] == true
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().expect("a profile directory");
        // Without the background-networking flags Chromium keeps dialling Google's hosts,
        // which this network refuses.
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let res: Value = http
            .post(format!("{base}/session"))
            .json(&json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args}
            }}}))
            .send()
            .await
            .expect("a WebDriver session")
            .json()
            .await
            .expect("session JSON");
        let session = res["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("Chromium did not start: {res}"))
            .to_owned();
        Browser {
            driver,
            base,
            session,
            http,
            _profile: profile,
        }
    }

    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let res: Value = request
            .send()
            .await
            .expect("WebDriver answers")
            .json()
            .await
            .expect("WebDriver JSON");
        if res["value"]["error"].is_string() {
            panic!("WebDriver {path}: {}", res["value"]);
        }
        res["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    /// Runs `script` in the page (WebDriver "execute script"), with `args` as `arguments`.
    pub async fn execute(&self, script: &str, args: Value) -> Value {
        self.command(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
        .await
    }

    pub async fn current_url(&self) -> String {
        self.command(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn click(&self, css: &str) {
        let element = self
            .command(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        let id = element[ELEMENT].as_str().expect("an element id").to_owned();
        self.command(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        )
        .await;
    }

    pub async fn text(&self, css: &str) -> String {
        let element = self
            .command(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        let id = element[ELEMENT].as_str().expect("an element id").to_owned();
        self.command(reqwest::Method::GET, &format!("/element/{id}/text"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Waits until the page's address starts with `prefix`; returns it.
    pub async fn wait_for_url(&self, prefix: &str) -> String {
        let mut url = String::new();
        for _ in 0..100 {
            url = self.current_url().await;
            if url.starts_with(prefix) {
                return url;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the browser stayed at {url}, expected {prefix}…");
    }

    pub async fn quit(mut self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.base, self.session))
            .send()
            .await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}
