//! Typed settings, read once at start-up from flags and the environment (a flag wins) and
//! passed down explicitly. `canteen-ledger serve --help` lists each with its variable.
//!
//! | flag | variable | default | meaning |
//! |---|---|---|---|
//! | `--database-url` | `DATABASE_URL` | `canteen-ledger.db` | `postgres://…`/`postgresql://…` (PostgreSQL), `sqlite://PATH` or a plain file path (SQLite); anything else is refused |
//! | `--bind` | `BIND` | `127.0.0.1:8080` | listen address |
//! | — | `JWT_SECRET` | (SQLite: generated once into `<db file>.jwt-secret`) | HS256 secret, at least 32 bytes; required with PostgreSQL (environment only: a flag would show in `ps`) |
//! | `--db-pool-size` | `DB_POOL_SIZE` | `8` | connections in the pool (at least 2) |
//! | `--db-pool-timeout-ms` | `DB_POOL_TIMEOUT_MS` | `5000` | wait for a connection before answering 503 |
//! | `--workers` | `WORKERS` | number of CPUs | actix worker threads |
//! | `--webhook-allow-private` | `WEBHOOK_ALLOW_PRIVATE` | `false` | webhook callbacks may go to loopback and private addresses |
//! | `--cors-allowed-origins` | `CORS_ALLOWED_ORIGINS` | (none: CORS off) | comma-separated origins browsers may call the API from |
//! | `--log-format` | `LOG_FORMAT` | `text` | `json`: one JSON object per log line |
//! | — | `RUST_LOG` | `info` | log filter (env_logger) |

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;

use crate::auth::jwt::MIN_SECRET_LEN;
use crate::db::Backend;

/// Default SQLite file, in the working directory.
pub const DEFAULT_DATABASE: &str = "canteen-ledger.db";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// env_logger's human-readable lines.
    #[default]
    Text,
    /// One JSON object per line (`ts`, `level`, `target`, `msg` and the request's fields).
    Json,
}

#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// Database: postgres://… (PostgreSQL), sqlite://PATH or a file path (SQLite).
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE, global = true)]
    pub database_url: String,
    /// Address to listen on.
    #[arg(long, env = "BIND", default_value = "127.0.0.1:8080", global = true)]
    pub bind: String,
    /// HS256 secret, at least 32 bytes; required with PostgreSQL (SQLite: generated once
    /// into <db file>.jwt-secret). Environment only.
    #[arg(skip = std::env::var("JWT_SECRET").ok().filter(|v| !v.is_empty()))]
    pub jwt_secret: Option<String>,
    /// Database connections in the pool.
    #[arg(long, env = "DB_POOL_SIZE", default_value_t = 8, value_parser = clap::value_parser!(u32).range(2..), global = true)]
    pub db_pool_size: u32,
    /// Milliseconds to wait for a database connection before answering 503.
    #[arg(long = "db-pool-timeout-ms", env = "DB_POOL_TIMEOUT_MS", default_value = "5000", value_parser = millis, global = true)]
    pub db_pool_timeout: Duration,
    /// Worker threads [default: the number of CPUs].
    #[arg(long, env = "WORKERS", value_parser = clap::value_parser!(u16).range(1..), global = true)]
    pub workers: Option<u16>,
    /// Webhook callbacks may go to loopback and private addresses (default: public only).
    #[arg(long, env = "WEBHOOK_ALLOW_PRIVATE", value_parser = clap::builder::BoolishValueParser::new(), global = true)]
    pub webhook_allow_private: bool,
    /// Origins browsers may call the API from, comma-separated (default: none, CORS off).
    #[arg(long, env = "CORS_ALLOWED_ORIGINS", value_delimiter = ',', value_parser = origin, global = true)]
    pub cors_allowed_origins: Vec<String>,
    /// Log lines as text or as JSON objects.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

fn millis(text: &str) -> Result<Duration, String> {
    text.trim().parse::<u64>().map(Duration::from_millis).map_err(|_| format!("a whole number of milliseconds, not {text:?}"))
}

/// An origin as browsers send it: `scheme://host[:port]`, nothing after.
fn origin(text: &str) -> Result<String, String> {
    let t = text.trim();
    let rest = t.strip_prefix("https://").or_else(|| t.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(['/', '?', '#', ' ']) => Ok(t.to_owned()),
        _ => Err(format!("an origin such as https://console.example.org (scheme and host, no path), not {text:?}")),
    }
}

impl Settings {
    /// Worker threads: `--workers`, else the number of CPUs.
    pub fn workers(&self) -> usize {
        self.workers.map_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()), usize::from)
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
    use clap::Parser as _;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        settings: Settings,
    }

    fn settings(args: &[&str]) -> Result<Settings, clap::Error> {
        Cli::try_parse_from(std::iter::once("canteen-ledger").chain(args.iter().copied())).map(|c| c.settings)
    }

    fn with_url(url: &str) -> Settings {
        Settings { jwt_secret: None, ..settings(&["--database-url", url]).unwrap() }
    }

    #[test]
    fn defaults_are_embedded_sqlite_on_loopback() {
        let s = settings(&[]).unwrap();
        let unset = |name: &str| std::env::var_os(name).is_none();
        if unset("DATABASE_URL") {
            assert_eq!(s.database_url, DEFAULT_DATABASE);
        }
        if unset("BIND") {
            assert_eq!(s.bind, "127.0.0.1:8080");
        }
        assert_eq!(s.db_pool_size, 8);
        assert_eq!(s.db_pool_timeout, Duration::from_millis(5_000));
        assert!(s.cors_allowed_origins.is_empty());
        assert_eq!(s.log_format, LogFormat::Text);
    }

    #[test]
    fn flags_set_the_common_options() {
        let s = settings(&["--bind", "0.0.0.0:9000", "--database-url", "postgres://x/y", "--workers", "3"]).unwrap();
        assert_eq!((s.bind.as_str(), s.database_url.as_str(), s.workers()), ("0.0.0.0:9000", "postgres://x/y", 3));
        let s = settings(&["--cors-allowed-origins", "https://a.example,http://localhost:5173", "--log-format", "json"]).unwrap();
        assert_eq!(s.cors_allowed_origins, ["https://a.example", "http://localhost:5173"]);
        assert_eq!(s.log_format, LogFormat::Json);
    }

    #[test]
    fn malformed_values_name_their_option() {
        for (args, name) in [
            (&["--db-pool-size", "many"][..], "--db-pool-size"),
            (&["--db-pool-size", "1"], "--db-pool-size"),
            (&["--db-pool-timeout-ms", "soon"], "--db-pool-timeout-ms"),
            (&["--cors-allowed-origins", "https://a.example/path"], "--cors-allowed-origins"),
            (&["--log-format", "xml"], "--log-format"),
        ] {
            let err = settings(args).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains(name), "{args:?}: {err}");
        }
    }

    #[test]
    fn postgres_without_a_secret_is_refused() {
        let s = with_url("postgres://root@127.0.0.1/test");
        assert!(s.resolve_jwt_secret().unwrap_err().to_string().contains("JWT_SECRET"));
    }

    #[test]
    fn short_secrets_are_refused() {
        let s = Settings { jwt_secret: Some("short".into()), ..with_url("x.db") };
        assert!(s.resolve_jwt_secret().is_err());
    }

    #[test]
    fn the_embedded_secret_is_generated_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("x.db");
        let s = with_url(db.to_str().unwrap());
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
