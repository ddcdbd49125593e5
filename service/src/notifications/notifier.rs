//! Wake-ups for live streams: "user U has something new". Only a hint — a stream always reads
//! the outbox, and also re-reads it every few seconds, so a lost wake-up only delays.
//!
//! In one process (the embedded mode) a broadcast channel carries them. With Redis (production:
//! several api and worker processes), every `wake` is also published on a channel named after
//! the job queue, and each process forwards what it hears to its own broadcast: a notification a
//! worker on another machine writes reaches a stream on this one at once.

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::{broadcast, watch};
use uuid::Uuid;

/// Wake-ups a slow stream may fall behind by before it just re-reads the outbox.
const CAPACITY: usize = 1024;

#[derive(Clone)]
pub struct Notifier {
    local: Arc<broadcast::Sender<Uuid>>,
    redis: Option<Publisher>,
    closing: watch::Sender<bool>,
}

/// Publishes on one connection, opened on first use and reconnecting by itself.
#[derive(Clone)]
struct Publisher {
    client: redis::Client,
    channel: String,
    connection: Arc<tokio::sync::OnceCell<redis::aio::ConnectionManager>>,
}

impl Notifier {
    /// In-process only.
    pub fn local() -> Self {
        let (local, _) = broadcast::channel(CAPACITY);
        let (closing, _) = watch::channel(false);
        Self {
            local: Arc::new(local),
            redis: None,
            closing,
        }
    }

    /// Also across processes through Redis pub/sub at `url`, on a channel of `queue`'s name.
    /// The subscription runs in the background (reconnecting) for as long as this notifier.
    pub fn with_redis(url: &str, queue: &str) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let mut notifier = Self::local();
        let channel = format!("{queue}:notifications");
        tokio::spawn(forward(
            client.clone(),
            channel.clone(),
            Arc::downgrade(&notifier.local),
        ));
        notifier.redis = Some(Publisher {
            client,
            channel,
            connection: Arc::default(),
        });
        Ok(notifier)
    }

    /// Tells every stream of `user_id`, here and (with Redis) in every other process.
    pub fn wake(&self, user_id: Uuid) {
        let _ = self.local.send(user_id);
        if let Some(publisher) = self.redis.clone() {
            tokio::spawn(async move {
                let published = async {
                    let mut conn = publisher
                        .connection
                        .get_or_try_init(|| {
                            redis::aio::ConnectionManager::new(publisher.client.clone())
                        })
                        .await?
                        .clone();
                    redis::cmd("PUBLISH")
                        .arg(&publisher.channel)
                        .arg(user_id.to_string())
                        .query_async::<()>(&mut conn)
                        .await
                };
                match tokio::time::timeout(Duration::from_secs(2), published).await {
                    Ok(Ok(())) => {}
                    // Streams elsewhere find it on their next read of the outbox.
                    Ok(Err(e)) => tracing::debug!(error = %e, "notification wake-up not published"),
                    Err(_) => tracing::debug!("notification wake-up timed out"),
                }
            });
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Uuid> {
        self.local.subscribe()
    }

    /// True from the moment the process begins to stop: streams end then.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    pub fn close(&self) {
        let _ = self.closing.send(true);
    }
}

async fn forward(client: redis::Client, channel: String, local: Weak<broadcast::Sender<Uuid>>) {
    let mut backoff = Duration::from_millis(200);
    loop {
        if local.strong_count() == 0 {
            return;
        }
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => {
                if let Err(e) = pubsub.subscribe(&channel).await {
                    tracing::debug!(error = %e, "cannot subscribe to notification wake-ups");
                } else {
                    backoff = Duration::from_millis(200);
                    let mut messages = pubsub.into_on_message();
                    while let Some(message) = messages.next().await {
                        let Some(local) = local.upgrade() else { return };
                        if let Ok(id) = message.get_payload::<String>()
                            && let Ok(user) = id.parse::<Uuid>()
                        {
                            let _ = local.send(user);
                        }
                    }
                }
            }
            Err(e) => tracing::debug!(error = %e, "notification wake-ups unavailable"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}
