//! A reader of Server-Sent Events over a plain reqwest response: the frames as the stream sends
//! them, each `id`, `event` and `data`, comments skipped.

use std::time::Duration;

use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Frame {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: Value,
}

pub struct Sse {
    response: reqwest::Response,
    buffer: String,
}

impl Sse {
    pub fn new(response: reqwest::Response) -> Self {
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        let kind = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(kind.starts_with("text/event-stream"), "{kind}");
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next event (not a comment), waiting at most 30 s.
    pub async fn next(&mut self) -> Frame {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut id, mut event, mut data) = (None, None, String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        id = Some(v.to_owned());
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        event = Some(v.to_owned());
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data.push_str(v);
                    }
                }
                if event.is_some() || !data.is_empty() {
                    let data = serde_json::from_str(&data).expect("data is JSON");
                    return Frame { id, event, data };
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .expect("an event within 30 s")
                .expect("the stream stays readable")
                .expect("the stream did not end");
            self.buffer
                .push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
        }
    }

    /// The next event that is not of type `skip`.
    pub async fn next_except(&mut self, skip: &str) -> Frame {
        loop {
            let frame = self.next().await;
            if frame.event.as_deref() != Some(skip) {
                return frame;
            }
        }
    }

    /// Reads events until one of type `kind`; returns it and those before it.
    pub async fn until(&mut self, kind: &str) -> (Frame, Vec<Frame>) {
        let mut before = Vec::new();
        loop {
            let frame = self.next().await;
            if frame.event.as_deref() == Some(kind) {
                return (frame, before);
            }
            before.push(frame);
        }
    }
}
