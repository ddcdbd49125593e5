//! A real browser for end-to-end tests: Debian's Chromium driven over the W3C WebDriver
//! protocol (ChromeDriver), with plain HTTP calls instead of a WebDriver crate.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The port in "ChromeDriver was started successfully on port 40909.", or `None` when the driver
/// ended before saying so; the rest of its output is drained in the background so the driver
/// never blocks on a full pipe.
fn driver_port(stdout: std::process::ChildStdout) -> Option<u16> {
    use std::io::{BufRead, BufReader};
    let mut lines = BufReader::new(stdout).lines();
    let port = loop {
        let line = lines.next()?.ok()?;
        if let Some(rest) = line.split("started successfully on port ").nth(1) {
            break rest.trim_end_matches('.').trim().parse().ok()?;
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    Some(port)
}

/// ChromeDriver listening on a port of its choosing. Rarely (seen once among many runs, with
/// several browser tests starting at once) it ends before listening: it is started again, up
/// to three times, and what it said on stderr is kept for the panic.
async fn start_driver() -> (Child, u16) {
    let mut said = String::new();
    for _ in 0..3 {
        let mut command = Command::new("chromedriver");
        command
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if std::env::var_os("FAKETIME").is_some() {
            // libfaketime (scripts/faketime-suite.sh) breaks Chromium's zygote; the browser
            // keeps the real clock, which nothing it shows depends on.
            command.env_remove("LD_PRELOAD").env_remove("FAKETIME");
        }
        let mut driver = command
            .spawn()
            .expect("chromedriver is installed (Debian: apt-get install chromium chromium-driver)");
        let stdout = driver.stdout.take().expect("piped stdout");
        let mut stderr = driver.stderr.take().expect("piped stderr");
        let port = tokio::task::spawn_blocking(move || driver_port(stdout))
            .await
            .expect("reading ChromeDriver's output");
        if let Some(port) = port {
            std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
            return (driver, port);
        }
        let _ = driver.kill();
        let _ = driver.wait();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut said);
    }
    panic!("ChromeDriver exited before it was listening, three times; it said: {said}");
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
        let (driver, port) = start_driver().await;
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
        self.try_command(method, path, body)
            .await
            .unwrap_or_else(|error| panic!("WebDriver {path}: {error}"))
    }

    /// A WebDriver command; its error (`{"error": …}`) as `Err`.
    async fn try_command(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, Value> {
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
            return Err(res["value"].clone());
        }
        Ok(res["value"].clone())
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

    /// Runs `script` with a callback as its last argument (WebDriver "execute async script"):
    /// the value passed to the callback is the answer.
    pub async fn execute_async(&self, script: &str, args: Value) -> Value {
        self.command(
            reqwest::Method::POST,
            "/execute/async",
            Some(json!({"script": script, "args": args})),
        )
        .await
    }

    /// Waits, with a deadline, until `script` (a function body) returns something truthy; returns it.
    pub async fn wait_until(&self, what: &str, script: &str, args: Value) -> Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let value = self.execute(script, args.clone()).await;
            if !(value.is_null() || value == false || value == "" || value == 0) {
                return value;
            }
            if std::time::Instant::now() > deadline {
                let text = self
                    .execute("return document.body.innerText", json!([]))
                    .await;
                panic!(
                    "waited 30 s for {what}; the page says:\n{}",
                    text.as_str().unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the page shows `text` (as a person reads it: rendered, visible text).
    pub async fn wait_for_text(&self, text: &str) {
        self.wait_until(
            &format!("the text {text:?}"),
            "return document.body.innerText.toLowerCase().includes(arguments[0].toLowerCase())",
            json!([text]),
        )
        .await;
    }

    /// Clicks the enabled, visible button or link whose own text is `text` (the first, in page
    /// order), waiting for it to appear.
    pub async fn click_text(&self, text: &str) {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let mut last = Value::Null;
        loop {
            // The element itself comes back (WebDriver passes DOM elements out of scripts); if the
            // page redraws it between finding and clicking (a sync finished), find it again.
            let element = self
                .execute(
                    "const want = arguments[0].toLowerCase();
                     const el = [...document.querySelectorAll('button, a, summary')].find((e) =>
                       e.innerText.trim().toLowerCase() === want && !e.disabled && e.offsetParent !== null);
                     if (!el) return null;
                     el.scrollIntoView({block: 'center'});
                     return el;",
                    json!([text]),
                )
                .await;
            if let Some(id) = element[ELEMENT].as_str() {
                match self
                    .try_command(
                        reqwest::Method::POST,
                        &format!("/element/{id}/click"),
                        Some(json!({})),
                    )
                    .await
                {
                    Ok(_) => return,
                    Err(error) => last = error,
                }
            }
            if std::time::Instant::now() > deadline {
                let page = self
                    .execute("return document.body.innerText", json!([]))
                    .await;
                panic!(
                    "no button or link {text:?} could be clicked in 30 s ({last}); the page says:\n{}",
                    page.as_str().unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Types `value` into the input whose visible `<label>` reads `label` (replacing what it held).
    pub async fn fill(&self, label: &str, value: &str) {
        self.wait_until(
            &format!("an input labelled {label:?}"),
            "const want = arguments[0].toLowerCase();
             const l = [...document.querySelectorAll('label')].find((e) =>
               e.innerText.trim().toLowerCase() === want && e.offsetParent !== null);
             const input = l && (l.control || document.getElementById(l.htmlFor));
             if (!input) return false;
             const proto = input instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype
               : input instanceof HTMLSelectElement ? HTMLSelectElement.prototype : HTMLInputElement.prototype;
             Object.getOwnPropertyDescriptor(proto, 'value').set.call(input, arguments[1]);
             input.dispatchEvent(new Event('input', {bubbles: true}));
             input.dispatchEvent(new Event('change', {bubbles: true}));
             return true;",
            json!([label, value]),
        )
        .await;
    }

    /// Accepts the page's `confirm()` dialog once it is open.
    pub async fn accept_dialog(&self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let url = format!("{}/session/{}/alert/accept", self.base, self.session);
            let res: Value = self
                .http
                .post(url)
                .json(&json!({}))
                .send()
                .await
                .expect("WebDriver answers")
                .json()
                .await
                .expect("WebDriver JSON");
            if !res["value"]["error"].is_string() {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no dialog opened: {res}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn set_window_size(&self, width: u32, height: u32) {
        self.command(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .await;
    }

    /// A PNG of the viewport, written to `path`.
    pub async fn screenshot(&self, path: &std::path::Path) {
        use base64::Engine as _;
        let png = self
            .command(reqwest::Method::GET, "/screenshot", None)
            .await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("base64 PNG"))
            .expect("a PNG");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("the screenshot directory");
        }
        std::fs::write(path, bytes).expect("the screenshot is written");
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
