//! Argon2id password hashes in PHC format. Hashing is deliberately slow and takes 19 MiB per
//! hash, so [`Hashing`] runs only a few at a time, on threads of its own: a flood of logins waits
//! in line (then gets `busy`) instead of taking the process's memory.
//!
//! Why its own threads, each with Argon2's working memory allocated once and reused: allocated
//! per hash, the freed 19 MiB blocks stayed with glibc's allocator (its mmap threshold rises
//! after the first one, and later blocks come from arenas it rarely trims) — a hundred logins
//! grew the release binary by ~370 MB, more on tokio's many blocking threads. Reused on a fixed
//! set of threads, hashing holds slots × 19 MiB, always the same.

use std::cell::RefCell;
use std::sync::mpsc;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

/// Verified against when the email is unknown, so that a failed login costs the same either way.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash("freeslot-dummy-password-for-timing").expect("hashing a constant"));

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

thread_local! {
    /// Argon2's working memory (19 MiB with the default parameters), allocated once per thread
    /// and reused by every hash on it: allocating it per hash left the allocator holding freed
    /// blocks it would not return (a hundred logins grew the process by ~370 MB; reused, the
    /// memory is the slots' blocks and nothing more).
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

fn argon2_into(
    password: &[u8],
    salt: &[u8],
    (algorithm, version, params): (Algorithm, Version, Params),
    out: &mut [u8],
) -> Result<(), argon2::Error> {
    MEMORY.with_borrow_mut(|memory| {
        let needed = params.block_count();
        if memory.len() < needed {
            memory.resize(needed, Block::new());
        }
        Argon2::new(algorithm, version, params).hash_password_into_with_memory(
            password,
            salt,
            out,
            &mut memory[..needed],
        )
    })
}

/// A new Argon2id hash with the crate's default parameters and a random salt, in PHC format.
pub fn hash(password: &str) -> Result<String, HashError> {
    let fail = |e: &dyn std::fmt::Display| HashError(e.to_string());
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| fail(&e))?;
    let params = Params::default();
    let mut out = vec![0u8; params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)];
    argon2_into(
        password.as_bytes(),
        &salt,
        (Algorithm::Argon2id, Version::V0x13, params.clone()),
        &mut out,
    )
    .map_err(|e| fail(&e))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| fail(&e))?,
        salt: Some(Salt::new(&salt).map_err(|e| fail(&e))?),
        hash: Some(Output::new(&out).map_err(|e| fail(&e))?),
    };
    Ok(phc.to_string())
}

/// True when `password` matches `stored` (any Argon2 variant, version and parameters a PHC
/// string names); a stored hash that cannot be parsed never matches. The comparison is
/// constant-time (`Output`'s equality).
pub fn verify(password: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else {
        return false;
    };
    let Ok(version) = parsed
        .version
        .map_or(Ok(Version::default()), Version::try_from)
    else {
        return false;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    argon2_into(
        password.as_bytes(),
        salt.as_ref(),
        (algorithm, version, params),
        &mut out,
    )
    .is_ok()
        && Output::new(&out).is_ok_and(|computed| &computed == expected)
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
    fn hashes_agree_with_the_argon2_crates_own_verifier() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let ours = hash("correct horse battery").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse battery", &parsed)
                .is_ok()
        );
        let theirs = Argon2::default()
            .hash_password(b"correct horse battery")
            .unwrap()
            .to_string();
        assert!(verify("correct horse battery", &theirs));
        assert!(!verify("correct horse batterY", &theirs));
    }

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
