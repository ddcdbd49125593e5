//! A webhook receiver for the tests: records every request it gets and answers with the status
//! codes a test queued (200 once the queue is empty). Signatures are checked by an independent
//! implementation, the `standardwebhooks` package from PyPI (pinned, installed by
//! `scripts/test.sh`), never by freeslot's own code.

use std::collections::VecDeque;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use crate::fakes::FakeServer;

/// One request as it arrived.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
}

impl Delivery {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
}

#[derive(Default)]
pub struct Receiver {
    pub received: Vec<Delivery>,
    /// Status codes to answer with, in order.
    pub answers: VecDeque<u16>,
    /// How long to wait before answering (a slow receiver).
    pub delay: Option<Duration>,
}

pub type ReceiverServer = FakeServer<Receiver>;

pub async fn start() -> ReceiverServer {
    FakeServer::start(Receiver::default(), |cfg| {
        cfg.route("/{tail:.*}", web::post().to(receive));
    })
    .await
}

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<std::sync::Mutex<Receiver>>,
) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (status, delay) = {
        let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
        state.received.push(Delivery {
            id: header("webhook-id"),
            timestamp: header("webhook-timestamp"),
            signature: header("webhook-signature"),
            body: String::from_utf8_lossy(&body).into_owned(),
        });
        (state.answers.pop_front().unwrap_or(200), state.delay)
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).expect("a status")).finish()
}

/// Waits until `done` holds for what the receiver got (30 s at most), and returns it.
pub async fn wait_for(
    server: &ReceiverServer,
    what: &str,
    done: impl Fn(&[Delivery]) -> bool,
) -> Vec<Delivery> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let got = server.state().received.clone();
        if done(&got) {
            return got;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}; received {got:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Verifies each delivery with `secret` using the `standardwebhooks` package, at the test
/// clock's "now" (its five-minute tolerance is measured from there). Returns, per delivery,
/// whether it verified.
pub fn verify(secret: &str, deliveries: &[Delivery]) -> Vec<bool> {
    const SCRIPT: &str = r#"
import datetime as _dt, json, sys
from standardwebhooks import webhooks
job = json.load(sys.stdin)
class AppNow(_dt.datetime):
    @classmethod
    def now(cls, tz=None):
        return _dt.datetime.fromtimestamp(job["now"], tz=tz)
webhooks.datetime = AppNow
results = []
for d in job["deliveries"]:
    try:
        webhooks.Webhook(job["secret"]).verify(d["body"], d["headers"])
        results.append(True)
    except webhooks.WebhookVerificationError:
        results.append(False)
print(json.dumps(results))
"#;
    let job = json!({
        "now": crate::clock::now().timestamp(),
        "secret": secret,
        "deliveries": deliveries.iter().map(|d| json!({
            "body": d.body,
            "headers": {"webhook-id": d.id, "webhook-timestamp": d.timestamp,
                        "webhook-signature": d.signature},
        })).collect::<Vec<_>>(),
    });
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 with standardwebhooks (scripts/test.sh installs it)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(job.to_string().as_bytes())
        .expect("write the deliveries");
    let out = child.wait_with_output().expect("the verifier ran");
    assert!(out.status.success(), "the verifier failed");
    serde_json::from_slice(&out.stdout).expect("the verifier's answer")
}
