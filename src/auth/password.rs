//! Password hashing with argon2id (default parameters: 19 MiB, 2 passes; random salt;
//! PHC string), and the [`HashPool`] that bounds what logins can cost the server.

use std::sync::Mutex;
use std::time::Duration;

use argon2::password_hash::phc::{Output, PasswordHash, Salt};
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::Rng;
use rand::distr::Alphanumeric;

use crate::error::ApiError;

/// Hashes `password` to a PHC string (`$argon2id$v=19$…`).
pub fn hash(password: &str) -> anyhow::Result<String> {
    Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))
}

/// True when `password` matches the stored PHC string.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok()).unwrap_or(false)
}

/// A random password of `len` alphanumeric characters (for the bootstrap admin).
pub fn generate(len: usize) -> String {
    rand::rng().sample_iter(&Alphanumeric).take(len).map(char::from).collect()
}

/// A PHC hash of a random password, verified against when the username is unknown so
/// that timing does not reveal which usernames exist.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$1kTm5bxcKeqbXtFkGXZ5Z0Xd4bXl1kD0N0QJ6fJ0mJQ";

/// Hashes at most this many passwords at once.
pub const HASH_SLOTS: usize = 2;

/// How long a login waits for a free slot before it is answered 503.
pub const SLOT_WAIT: Duration = Duration::from_secs(10);

/// A fixed budget for password hashing: [`HASH_SLOTS`] slots, each with its own argon2
/// memory (19 MiB, allocated on first use and kept), taken in turn on the blocking
/// thread pool. Whatever the number of concurrent logins, hashing holds at most
/// `HASH_SLOTS × 19 MiB` and `HASH_SLOTS` threads, and never a database connection;
/// the others wait (without a thread) for a slot, up to [`SLOT_WAIT`].
pub struct HashPool {
    permits: tokio::sync::Semaphore,
    memory: Mutex<Vec<Vec<Block>>>,
}

impl Default for HashPool {
    fn default() -> Self {
        Self { permits: tokio::sync::Semaphore::new(HASH_SLOTS), memory: Mutex::new(Vec::new()) }
    }
}

impl HashPool {
    /// Runs `f` with a slot's memory on the blocking pool once a slot is free.
    async fn with_slot<T: Send + 'static>(&self, f: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static) -> Result<T, ApiError> {
        let _permit = tokio::time::timeout(SLOT_WAIT, self.permits.acquire())
            .await
            .map_err(|_| ApiError::Unavailable)?
            .map_err(|_| ApiError::Unavailable)?;
        let mut memory = self.lock().pop().unwrap_or_default();
        let (out, memory) = actix_web::web::block(move || {
            let out = f(&mut memory);
            (out, memory)
        })
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("password hashing thread failed: {e}")))?;
        self.lock().push(memory);
        Ok(out)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Vec<Block>>> {
        self.memory.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// True when `password` matches the PHC string (false for an unreadable one).
    pub async fn verify(&self, password: String, phc: String) -> Result<bool, ApiError> {
        self.with_slot(move |memory| verify_with(&password, &phc, memory).unwrap_or(false)).await
    }

    /// Hashes `password` to a PHC string with the default parameters.
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.with_slot(move |memory| hash_with(&password, memory)).await?.map_err(ApiError::Internal)
    }
}

/// `memory` sized for `params`: grown once, then reused.
fn blocks<'m>(memory: &'m mut Vec<Block>, params: &Params) -> &'m mut [Block] {
    let n = params.block_count();
    if memory.len() < n {
        memory.resize(n, Block::default());
    }
    &mut memory[..n]
}

fn verify_with(password: &str, phc: &str, memory: &mut Vec<Block>) -> Option<bool> {
    let parsed = PasswordHash::new(phc).ok()?;
    let expected = parsed.hash.as_ref()?;
    let salt = parsed.salt.as_ref()?;
    let params = Params::try_from(&parsed).ok()?;
    if params.m_cost() > Params::DEFAULT_M_COST * 4 {
        return None; // not one of ours: refuse rather than allocate what it asks
    }
    let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).ok()?;
    let version = parsed.version.map_or(Ok(Version::default()), Version::try_from).ok()?;
    let argon = Argon2::new(algorithm, version, params.clone());
    let mut out = [0u8; Output::MAX_LENGTH];
    let out = out.get_mut(..expected.len())?;
    argon.hash_password_into_with_memory(password.as_bytes(), salt, out, blocks(memory, &params)).ok()?;
    // `Output`'s equality is constant-time.
    Some(Output::new(out).ok()? == *expected)
}

fn hash_with(password: &str, memory: &mut Vec<Block>) -> anyhow::Result<String> {
    let err = |e: &dyn std::fmt::Display| anyhow::anyhow!("password hashing failed: {e}");
    let mut salt = [0u8; Salt::RECOMMENDED_LENGTH];
    rand::rng().fill(&mut salt[..]);
    let params = Params::default();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon.hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, blocks(memory, &params)).map_err(|e| err(&e))?;
    let output = Output::new(&out).map_err(|e| err(&e))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: (&params).try_into().map_err(|e| err(&e))?,
        salt: Some(Salt::new(&salt).map_err(|e| err(&e))?),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse", &h));
        assert!(!verify("wrong horse", &h));
        assert!(!verify("correct horse", "not a phc string"));
    }

    #[test]
    fn the_pooled_hash_and_verify_agree_with_the_crate_both_ways() {
        let mut memory = Vec::new();
        let ours = hash_with("correct horse", &mut memory).unwrap();
        assert!(ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse", &ours), "the crate verifies our hash");
        assert!(!verify("wrong horse", &ours));
        let theirs = hash("correct horse").unwrap();
        assert_eq!(verify_with("correct horse", &theirs, &mut memory), Some(true), "we verify the crate's hash");
        assert_eq!(verify_with("wrong horse", &theirs, &mut memory), Some(false));
        assert_eq!(verify_with("x", "not a phc string", &mut memory), None);
        assert_eq!(memory.len(), Params::default().block_count(), "one slot's memory, reused");
    }

    #[test]
    fn the_dummy_hash_costs_a_full_verification() {
        // Unknown usernames are verified against it: it must parse and be computed, not
        // refused early (which would answer faster than a wrong password).
        let mut memory = Vec::new();
        assert_eq!(verify_with("any password", DUMMY_HASH, &mut memory), Some(false));
        assert_eq!(memory.len(), Params::default().block_count());
    }

    #[test]
    fn a_hash_asking_for_more_memory_than_ours_is_refused_unread() {
        let big = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(Params::DEFAULT_M_COST * 8, 1, 1, None).unwrap());
        let phc = big.hash_password(b"pw").unwrap().to_string();
        let mut memory = Vec::new();
        assert_eq!(verify_with("pw", &phc, &mut memory), None);
        assert!(memory.is_empty());
    }

    #[test]
    fn generated_passwords_are_long_and_distinct() {
        let (a, b) = (generate(20), generate(20));
        assert_eq!(a.len(), 20);
        assert_ne!(a, b);
    }
}
