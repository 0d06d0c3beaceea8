//! Passwords: argon2id hashes (the crate's defaults: 19 MiB, 2 passes) and generated
//! passwords for new accounts. Hashing is CPU- and memory-heavy, so it runs off the async
//! runtime, on a few threads of its own (see `on_hashing_threads`).

use crate::error::AppError;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::SaltString;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::OnceCell;

type Job = Box<dyn FnOnce() + Send>;

/// Runs `job` on one of as many long-lived threads as there are cores. Each Argon2 check
/// allocates 19 MiB, and the allocator keeps what a thread freed for that thread's next use:
/// on the runtime's blocking pool (up to hundreds of threads) memory grew with every thread
/// that ever hashed (+320 MiB after 18 checks); on these few it stays at cores × 19 MiB.
async fn on_hashing_threads<T: Send + 'static>(
    job: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    static POOL: OnceLock<mpsc::Sender<Job>> = OnceLock::new();
    let pool = POOL.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        for i in 0..cores {
            let rx = rx.clone();
            let _ = std::thread::Builder::new()
                .name(format!("portico-hash-{i}"))
                .spawn(move || loop {
                    let next = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                    match next {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                });
        }
        tx
    });
    let (done, result) = tokio::sync::oneshot::channel();
    pool.send(Box::new(move || {
        let _ = done.send(job());
    }))
    .map_err(|e| AppError::internal("hashing threads", e))?;
    result
        .await
        .map_err(|e| AppError::internal("hashing threads", e))
}

/// A new salted hash of `password`, for storing.
pub async fn hash(password: String) -> Result<String, AppError> {
    on_hashing_threads(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await?
    .map_err(|e| AppError::internal("hash password", e))
}

/// Whether `password` matches a stored `hash`.
pub async fn verify(password: String, hash: String) -> Result<bool, AppError> {
    on_hashing_threads(move || {
        PasswordHash::new(&hash).map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    })
    .await?
    .map_err(|e| AppError::internal("stored hash unreadable", e))
}

/// A password for a person to type once and change: 24 characters from an alphabet
/// without look-alikes (about 140 bits).
pub fn generate() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut out = String::with_capacity(24);
    while out.len() < 24 {
        // Rejection sampling keeps every character equally likely.
        let b = (OsRng.next_u32() & 0xff) as usize;
        if b < 256 - 256 % ALPHABET.len() {
            out.push(ALPHABET[b % ALPHABET.len()] as char);
        }
    }
    out
}

/// A webhook's signing secret: 32 random bytes as 64 hex digits.
pub fn secret() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A hash of no one's password, made once: sign-in verifies against it when the name is
/// unknown, so the time an answer takes does not tell which names exist.
pub async fn dummy_hash() -> Result<String, AppError> {
    static DUMMY: OnceCell<String> = OnceCell::const_new();
    DUMMY
        .get_or_try_init(|| hash("portico-no-such-user".into()))
        .await
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_are_long_and_unambiguous() {
        let a = generate();
        assert_eq!(a.len(), 24);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(!a.contains(['0', 'O', '1', 'l', 'I']), "{a}");
        assert_ne!(a, generate());
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let stored = hash("correct horse battery".into()).await.unwrap();
        assert!(verify("correct horse battery".into(), stored.clone())
            .await
            .unwrap());
        assert!(!verify("wrong horse battery".into(), stored).await.unwrap());
        assert!(verify("x".into(), "not a hash".into()).await.is_err());
    }
}
