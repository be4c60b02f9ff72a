//! The shared state of the running service, as handlers and the extractor see it.

use crate::auth::JwtKeys;
use crate::auth::password::HashPool;
use crate::auth::throttle::LoginThrottle;
use crate::db::Db;

/// Shared state of the running service.
pub struct AppState {
    pub db: Db,
    pub keys: JwtKeys,
    /// Webhook callbacks may point at loopback and private addresses (tests, and
    /// receivers on the same private network); off by default.
    pub allow_private_callbacks: bool,
    /// The bounded pool every password hash of a request runs on.
    pub hashes: HashPool,
    /// Failed logins per username and client address.
    pub throttle: LoginThrottle,
    /// The reporting cycle's clock (see `http::clock`).
    pub clock: super::clock::Clock,
    /// Origins browsers may call the API from (empty: CORS off).
    pub cors_origins: Vec<String>,
}

impl AppState {
    pub fn new(db: Db, keys: JwtKeys, allow_private_callbacks: bool) -> Self {
        Self {
            db,
            keys,
            allow_private_callbacks,
            hashes: HashPool::default(),
            throttle: LoginThrottle::default(),
            clock: super::clock::Clock::default(),
            cors_origins: Vec::new(),
        }
    }

    /// The same state, with the origins browsers may call the API from.
    #[must_use]
    pub fn with_cors(self, origins: Vec<String>) -> Self {
        Self { cors_origins: origins, ..self }
    }

    /// What a password login needs.
    pub fn login_context(&self) -> crate::service::accounts::LoginContext<'_> {
        crate::service::accounts::LoginContext { db: &self.db, keys: &self.keys, hashes: &self.hashes, throttle: &self.throttle }
    }
}
