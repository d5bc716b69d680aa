//! Password hashing with argon2id (the crate's default parameters: m=19 MiB, t=2, p=1),
//! behind a bound.
//!
//! Each hash holds 19 MiB for its duration. Run on an unbounded pool, a login flood
//! multiplies that by the number of requests in flight (and the allocator keeps much of
//! it afterwards), so hashing runs on a few dedicated threads, about one per core. A
//! caller that finds every thread busy waits briefly, then gets 503 with `Retry-After`.

use std::sync::mpsc;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use std::cell::RefCell;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::{oneshot, Semaphore};

use crate::error::ApiError;

/// Seconds a client is told to wait when every hashing slot stays busy.
const BUSY_RETRY_AFTER_SECS: u64 = 2;

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of hashing threads and the slots that admit callers to them.
#[derive(Clone)]
pub struct PasswordHashing {
    slots: Arc<Semaphore>,
    queue: mpsc::Sender<Job>,
    max_wait: Duration,
}

impl PasswordHashing {
    /// Starts `threads` hashing threads (at least one). A caller waits at most `max_wait`
    /// for one of them.
    pub fn start(threads: usize, max_wait: Duration) -> std::io::Result<Self> {
        let threads = threads.max(1);
        let (queue, jobs) = mpsc::channel::<Job>();
        let jobs = Arc::new(Mutex::new(jobs));
        for index in 0..threads {
            let jobs = Arc::clone(&jobs);
            std::thread::Builder::new()
                .name(format!("password-hashing-{index}"))
                .spawn(move || loop {
                    // The lock is held only to take the next job, not while hashing.
                    let next = match jobs.lock() {
                        Ok(receiver) => receiver.recv(),
                        Err(_) => return,
                    };
                    match next {
                        Ok(job) => job(),
                        Err(_) => return, // every sender is gone: the server stopped
                    }
                })?;
        }
        Ok(Self {
            slots: Arc::new(Semaphore::new(threads)),
            queue,
            max_wait,
        })
    }

    /// Hashes a new password into a PHC string.
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.run(move || hash(&password)).await?
    }

    /// Checks `password` against the stored hash, or, when there is none, spends the
    /// same work anyway so response times do not tell which emails have accounts.
    pub async fn verify(
        &self,
        password: String,
        stored_hash: Option<String>,
    ) -> Result<bool, ApiError> {
        self.run(move || match stored_hash {
            Some(stored) => verify(&password, &stored),
            None => {
                verify_against_nothing(&password);
                false
            }
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let permit = tokio::time::timeout(self.max_wait, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| busy())?
            .map_err(|_| busy())?;
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = answer.send(work());
            drop(permit);
        });
        self.queue.send(job).map_err(|_| busy())?;
        answered.await.map_err(|_| busy())
    }
}

fn busy() -> ApiError {
    ApiError::Unavailable {
        detail: "the server is busy checking passwords; retry shortly".into(),
        retry_after_secs: BUSY_RETRY_AFTER_SECS,
    }
}

/// Hashes on the calling thread, outside the bound: for the demo, which hashes its one
/// shared password once.
pub(crate) fn hash(password: &str) -> Result<String, ApiError> {
    let failed = |e: &dyn std::fmt::Display| {
        ApiError::Internal(anyhow::anyhow!("hashing a password failed: {e}"))
    };
    let params = Params::default();
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_buffer = [0u8; 64];
    let salt_bytes = salt
        .as_salt()
        .decode_b64(&mut salt_buffer)
        .map_err(|e| failed(&e))?;
    let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
    with_memory(params.block_count(), |memory| {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
            .hash_password_into_with_memory(password.as_bytes(), salt_bytes, &mut output, memory)
    })
    .map_err(|e| failed(&e))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| failed(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&output).map_err(|e| failed(&e))?),
    };
    Ok(phc.to_string())
}

fn verify(password: &str, stored_hash: &str) -> bool {
    let Ok(stored) = PasswordHash::new(stored_hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(expected), Some(salt)) = (
        Algorithm::try_from(stored.algorithm),
        Params::try_from(&stored),
        stored.hash,
        stored.salt,
    ) else {
        return false;
    };
    let version = stored
        .version
        .map_or(Ok(Version::default()), Version::try_from);
    let mut salt_buffer = [0u8; 64];
    let (Ok(version), Ok(salt_bytes)) = (version, salt.decode_b64(&mut salt_buffer)) else {
        return false;
    };
    let mut output = vec![0u8; expected.len()];
    let computed = with_memory(params.block_count(), |memory| {
        Argon2::new(algorithm, version, params.clone()).hash_password_into_with_memory(
            password.as_bytes(),
            salt_bytes,
            &mut output,
            memory,
        )
    });
    // `Output`'s equality is constant-time.
    computed.is_ok() && Output::new(&output).is_ok_and(|computed| computed == expected)
}

fn verify_against_nothing(password: &str) {
    static DUMMY: LazyLock<Option<String>> = LazyLock::new(|| hash("not a real password").ok());
    if let Some(dummy) = DUMMY.as_deref() {
        let _ = verify(password, dummy);
    }
}

thread_local! {
    /// Argon2's working memory, kept by each hashing thread and reused. Allocating 19 MiB
    /// (64-byte aligned) for every hash fragments the allocator: resident memory grew by
    /// about that much per login and never came back.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` over `blocks` blocks of this thread's working memory. Argon2 writes every
/// block before reading it, so what a previous hash left there does not matter.
fn with_memory<T>(blocks: usize, f: impl FnOnce(&mut [Block]) -> T) -> T {
    MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        if memory.len() < blocks {
            memory.resize(blocks, Block::new());
        }
        f(&mut memory[..blocks])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_standard_phc_strings_that_argon2_itself_verifies() {
        use argon2::password_hash::PasswordVerifier;
        let stored = hash("correct horse battery").expect("hash");
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        let parsed = PasswordHash::new(&stored).expect("PHC");
        assert!(Argon2::default()
            .verify_password(b"correct horse battery", &parsed)
            .is_ok());
        // And hashes made by argon2's own API (as stored by earlier versions) verify here.
        use argon2::password_hash::PasswordHasher;
        let theirs = Argon2::default()
            .hash_password(b"correct horse battery", &SaltString::generate(&mut OsRng))
            .expect("hash")
            .to_string();
        assert!(verify("correct horse battery", &theirs));
        assert!(!verify("wrong horse battery", &theirs));
    }

    #[actix_web::test]
    async fn hashes_verify_and_wrong_passwords_do_not() {
        let hashing = PasswordHashing::start(1, Duration::from_secs(30)).expect("threads");
        let stored = hashing
            .hash("correct horse battery".into())
            .await
            .expect("hash");
        assert!(hashing
            .verify("correct horse battery".into(), Some(stored.clone()))
            .await
            .expect("verify"));
        assert!(!hashing
            .verify("wrong horse battery".into(), Some(stored))
            .await
            .expect("verify"));
        assert!(!hashing
            .verify("anything".into(), None)
            .await
            .expect("verify"));
    }

    #[actix_web::test]
    async fn callers_beyond_the_bound_wait_then_get_503() {
        let hashing = PasswordHashing::start(1, Duration::from_millis(50)).expect("threads");
        // Hold the only slot, as a long hash would.
        let held = hashing.slots.clone().acquire_owned().await.expect("slot");
        let refused = hashing.hash("correct horse battery".into()).await;
        match refused {
            Err(ApiError::Unavailable {
                retry_after_secs, ..
            }) => {
                assert_eq!(retry_after_secs, BUSY_RETRY_AFTER_SECS)
            }
            other => panic!("expected 503, got {other:?}"),
        }
        drop(held);
        assert!(hashing.hash("correct horse battery".into()).await.is_ok());
    }
}
