//! Typed settings, read once at start-up from the environment and passed down explicitly.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `DATABASE_URL` | `canteen-ledger.db` | `postgres://…`/`postgresql://…` (PostgreSQL), `sqlite://PATH` or a plain file path (SQLite); anything else is refused |
//! | `BIND` | `127.0.0.1:8080` | listen address |
//! | `JWT_SECRET` | (SQLite: generated once into `<db file>.jwt-secret`) | HS256 secret, at least 32 bytes; required with PostgreSQL |
//! | `DB_POOL_SIZE` | `8` | connections in the pool |
//! | `DB_POOL_TIMEOUT_MS` | `5000` | wait for a connection before answering 503 |
//! | `WORKERS` | number of CPUs | actix worker threads |
//! | `WEBHOOK_ALLOW_PRIVATE` | `false` | `true`: webhook callbacks may go to loopback and private addresses |
//! | `RUST_LOG` | `info` | log filter (env_logger) |

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;

use crate::auth::jwt::MIN_SECRET_LEN;
use crate::db::Backend;

/// Default SQLite file, in the working directory.
pub const DEFAULT_DATABASE: &str = "canteen-ledger.db";

#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    pub bind: String,
    /// `None`: generate or read the secret file beside the SQLite database.
    pub jwt_secret: Option<String>,
    pub db_pool_size: u32,
    pub db_pool_timeout: Duration,
    pub workers: usize,
    /// `WEBHOOK_ALLOW_PRIVATE=true`: webhook callbacks may go to loopback and private
    /// addresses (default: public addresses only).
    pub webhook_allow_private: bool,
}

impl Settings {
    /// Reads the variables through `var` (so tests can pass a map instead of the process
    /// environment); fails with the name of the variable that is malformed.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let num = |name: &str, default: u64| -> anyhow::Result<u64> {
            var(name).map_or(Ok(default), |v| v.trim().parse().with_context(|| format!("{name} must be a whole number, got {v:?}")))
        };
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Self {
            database_url: var("DATABASE_URL").filter(|v| !v.is_empty()).unwrap_or_else(|| DEFAULT_DATABASE.into()),
            bind: var("BIND").filter(|v| !v.is_empty()).unwrap_or_else(|| "127.0.0.1:8080".into()),
            jwt_secret: var("JWT_SECRET").filter(|v| !v.is_empty()),
            db_pool_size: u32::try_from(num("DB_POOL_SIZE", 8)?).context("DB_POOL_SIZE is too large")?.max(2),
            db_pool_timeout: Duration::from_millis(num("DB_POOL_TIMEOUT_MS", 5_000)?),
            workers: usize::try_from(num("WORKERS", cpus as u64)?).context("WORKERS is too large")?.max(1),
            webhook_allow_private: match var("WEBHOOK_ALLOW_PRIVATE").as_deref().map(str::trim) {
                None | Some("" | "false" | "0") => false,
                Some("true" | "1") => true,
                Some(v) => anyhow::bail!("WEBHOOK_ALLOW_PRIVATE must be true or false, got {v:?}"),
            },
        })
    }

    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// The JWT secret: `JWT_SECRET`, or (SQLite only) the secret stored beside the
    /// database file, generated on first start with permissions 0600.
    pub fn resolve_jwt_secret(&self) -> anyhow::Result<Vec<u8>> {
        if let Some(s) = &self.jwt_secret {
            if s.len() < MIN_SECRET_LEN {
                anyhow::bail!("JWT_SECRET must be at least {MIN_SECRET_LEN} bytes");
            }
            return Ok(s.as_bytes().to_vec());
        }
        match Backend::from_url(&self.database_url)? {
            Backend::Sqlite(path) => secret_beside(&path),
            Backend::Postgres(_) => {
                anyhow::bail!("JWT_SECRET must be set when DATABASE_URL is PostgreSQL (at least {MIN_SECRET_LEN} bytes)")
            }
        }
    }
}

/// Reads `<db>.jwt-secret`, creating it with 32 random bytes (hex) if absent.
fn secret_beside(db: &Path) -> anyhow::Result<Vec<u8>> {
    let mut file = db.as_os_str().to_owned();
    file.push(".jwt-secret");
    let file = Path::new(&file);
    if let Ok(existing) = std::fs::read_to_string(file) {
        let s = existing.trim();
        if s.len() >= MIN_SECRET_LEN {
            return Ok(s.as_bytes().to_vec());
        }
        anyhow::bail!("{} is shorter than {MIN_SECRET_LEN} bytes; delete it to generate a new one", file.display());
    }
    let secret = hex::encode(rand::random::<[u8; 32]>());
    write_private(file, &secret).with_context(|| format!("cannot write {}", file.display()))?;
    Ok(secret.into_bytes())
}

#[cfg(unix)]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(content.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    std::fs::write(path, content)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> anyhow::Result<Settings> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_are_embedded_sqlite_on_loopback() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.database_url, DEFAULT_DATABASE);
        assert_eq!(s.bind, "127.0.0.1:8080");
        assert_eq!(s.db_pool_size, 8);
    }

    #[test]
    fn malformed_numbers_name_their_variable() {
        let err = settings(&[("DB_POOL_SIZE", "many")]).unwrap_err().to_string();
        assert!(err.contains("DB_POOL_SIZE"), "{err}");
    }

    #[test]
    fn postgres_without_a_secret_is_refused() {
        let s = settings(&[("DATABASE_URL", "postgres://root@127.0.0.1/test")]).unwrap();
        assert!(s.resolve_jwt_secret().unwrap_err().to_string().contains("JWT_SECRET"));
    }

    #[test]
    fn short_secrets_are_refused() {
        let s = settings(&[("JWT_SECRET", "short")]).unwrap();
        assert!(s.resolve_jwt_secret().is_err());
    }

    #[test]
    fn the_embedded_secret_is_generated_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("x.db");
        let s = settings(&[("DATABASE_URL", db.to_str().unwrap())]).unwrap();
        let first = s.resolve_jwt_secret().unwrap();
        let second = s.resolve_jwt_secret().unwrap();
        assert_eq!(first, second);
        assert_eq!(first.len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join("x.db.jwt-secret")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
