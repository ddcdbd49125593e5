//! Argon2id password hashes in PHC format. Hashing is deliberately slow and takes 19 MiB per
//! hash, so [`Hashing`] runs only a few at a time, on threads of its own: a flood of logins waits
//! in line (then gets `busy`) instead of taking the process's memory.
//!
//! Why its own threads rather than tokio's blocking pool: the allocator keeps a freed 19 MiB
//! block for reuse in the arena of the thread that freed it, and the blocking pool hands each
//! hash to whichever of its many threads is idle — a hundred logins left ~500 MB behind in a
//! dozen arenas. A fixed set of threads keeps that to one block per slot.

use std::sync::mpsc;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// Verified against when the email is unknown, so that a failed login costs the same either way.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash("freeslot-dummy-password-for-timing").expect("hashing a constant"));

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

pub fn hash(password: &str) -> Result<String, HashError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// True when `password` matches `stored`; a stored hash that cannot be parsed never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Spends the time of one verification without a user to verify.
pub fn verify_dummy(password: &str) {
    let _ = verify(password, &DUMMY_HASH);
}

/// How long a request waits in line for a hashing slot before it is told the server is busy.
pub const QUEUE_WAIT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum HashingError {
    /// Every slot stayed taken for [`QUEUE_WAIT`].
    #[error("too many password checks at once; try again shortly")]
    Busy,
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

type Work = Box<dyn FnOnce() + Send>;

/// Password hashing with a bounded number of hashes in flight, on `slots` threads that end when
/// it is dropped.
pub struct Hashing {
    slots: Semaphore,
    wait: Duration,
    threads: mpsc::Sender<Work>,
}

impl Hashing {
    pub fn new(slots: usize, wait: Duration) -> Self {
        let slots = slots.max(1);
        let (threads, queue) = mpsc::channel::<Work>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..slots {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("password-hashing-{n}"))
                .spawn(move || {
                    loop {
                        // The lock is held only while waiting for the next piece of work.
                        let next = queue.lock().expect("hashing queue").recv();
                        match next {
                            Ok(work) => work(),
                            Err(_) => return,
                        }
                    }
                })
                .expect("a password hashing thread");
        }
        Self {
            slots: Semaphore::new(slots),
            wait,
            threads,
        }
    }

    /// As many slots as cores, between 2 and 4: enough to keep the cores busy, and at most
    /// 4 × 19 MiB of hashing memory.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::new(cores.clamp(2, 4), QUEUE_WAIT)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashingError> {
        let _slot = tokio::time::timeout(self.wait, self.slots.acquire())
            .await
            .map_err(|_| HashingError::Busy)?
            .map_err(|e| HashingError::Failed(e.into()))?;
        let (done, result) = tokio::sync::oneshot::channel();
        self.threads
            .send(Box::new(move || {
                let _ = done.send(work());
            }))
            .map_err(|_| HashingError::Failed(anyhow::anyhow!("the hashing threads are gone")))?;
        result
            .await
            .map_err(|_| HashingError::Failed(anyhow::anyhow!("a hashing thread panicked")))
    }

    pub async fn hash(&self, password: String) -> Result<String, HashingError> {
        self.run(move || hash(&password))
            .await?
            .map_err(|e| HashingError::Failed(e.into()))
    }

    /// Whether `password` matches `stored`; without a stored hash it spends the time a real
    /// check would (so response times do not reveal unknown emails) and says no.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<bool, HashingError> {
        self.run(move || match stored {
            Some(hash) => verify(&password, &hash),
            None => {
                verify_dummy(&password);
                false
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_round_trip() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &h));
        assert!(!verify("correct horse batterY", &h));
        assert!(!verify("anything", "not-a-phc-string"));
    }

    #[tokio::test]
    async fn a_full_line_answers_busy_instead_of_waiting_forever() {
        let hashing = std::sync::Arc::new(Hashing::new(1, Duration::from_millis(50)));
        let held = hashing.slots.acquire().await.unwrap();
        assert!(matches!(
            hashing.verify("x".into(), None).await,
            Err(HashingError::Busy)
        ));
        drop(held);
        assert!(!hashing.verify("x".into(), None).await.unwrap());
    }
}
