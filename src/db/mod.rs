//! Database access: one connection type for both backends, a scheme-checked pool, the
//! async bridge (`Db::run`), write transactions and migrations.
//! May depend on `error` (to map pool exhaustion to 503); never on `http` or `service`.

pub mod enums;
pub mod repo;
pub mod schema;

use std::path::{Path, PathBuf};
use std::time::Duration;

use actix_web::web;
use anyhow::Context as _;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, Pool};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::ApiError;

/// One connection type for both backends; queries written against it compile for both.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

/// Which database a URL names. Only explicit schemes (or a plain file path for SQLite)
/// are accepted: a typo must not silently create a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Postgres(String),
    /// Path of the SQLite database file.
    Sqlite(PathBuf),
}

impl Backend {
    /// `postgres://` / `postgresql://` → PostgreSQL; `sqlite://PATH` or a plain path
    /// (no `scheme://`) → SQLite; anything else is refused with a clear message.
    pub fn from_url(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(url.to_owned()))
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() || path == ":memory:" {
                anyhow::bail!("sqlite:// needs a file path (an in-memory database cannot be shared by a pool)");
            }
            Ok(Self::Sqlite(PathBuf::from(path)))
        } else if url.contains("://") || url.trim().is_empty() {
            anyhow::bail!("unsupported DATABASE_URL {:?}: use postgres://…, postgresql://…, sqlite://PATH or a file path", redact(url))
        } else {
            Ok(Self::Sqlite(PathBuf::from(url)))
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "postgresql",
            Self::Sqlite(_) => "sqlite",
        }
    }

    /// The SQLite file, if this is SQLite.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Self::Sqlite(p) => Some(p),
            Self::Postgres(_) => None,
        }
    }
}

/// Hides a password in a URL before it is printed.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***{}", &url[..s], &url[at..]),
        _ => url.to_owned(),
    }
}

/// Per-connection SQLite settings: they do not persist, so every new connection gets them.
/// `synchronous = FULL`: an acknowledged purchase must survive power loss.
const SQLITE_PRAGMAS: &str = "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = FULL;";

/// r2d2 manager that opens the backend chosen from the URL, never by trial.
#[derive(Debug)]
pub struct Manager {
    backend: Backend,
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, Self::Error> {
        match &self.backend {
            Backend::Postgres(url) => Ok(DbConn::Pg(PgConnection::establish(url)?)),
            Backend::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())?;
                conn.batch_execute(SQLITE_PRAGMAS).map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), Self::Error> {
        conn.batch_execute("SELECT 1").map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut DbConn) -> bool {
        false
    }
}

/// The connection pool plus the backend it talks to.
#[derive(Clone)]
pub struct Db {
    pool: Pool<Manager>,
    backend: Backend,
}

/// Times every wait for a connection, and counts the waits that timed out.
#[derive(Debug)]
struct PoolEvents;

impl r2d2::HandleEvent for PoolEvents {
    fn handle_checkout(&self, event: r2d2::event::CheckoutEvent) {
        crate::telemetry::observe(crate::telemetry::POOL_WAIT, &[], event.duration());
    }

    fn handle_timeout(&self, event: r2d2::event::TimeoutEvent) {
        crate::telemetry::observe(crate::telemetry::POOL_WAIT, &[], event.timeout());
        crate::telemetry::count(crate::telemetry::POOL_TIMEOUTS, &[]);
    }
}

impl Db {
    /// Opens a pool; `timeout` bounds how long a request waits for a connection (then 503).
    pub fn connect(url: &str, max_size: u32, timeout: Duration) -> anyhow::Result<Self> {
        let backend = Backend::from_url(url)?;
        let pool = Pool::builder()
            .max_size(max_size)
            .min_idle(Some(1))
            .connection_timeout(timeout)
            .event_handler(Box::new(PoolEvents))
            .build(Manager { backend: backend.clone() })
            .with_context(|| format!("cannot connect to the {} database", backend.name()))?;
        Ok(Self { pool, backend })
    }

    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// A connection for synchronous callers (CLI, start-up, tests).
    pub fn get(&self) -> anyhow::Result<r2d2::PooledConnection<Manager>> {
        self.pool.get().context("no database connection available")
    }

    /// Runs `f` with one pooled connection on actix's blocking thread pool.
    /// `pool.get()` blocks too, so it happens inside the closure, never on the async worker.
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get().map_err(|_| ApiError::Unavailable)?;
            f(&mut conn)
        })
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("blocking task failed: {e}")))?
    }

    /// Pool statistics for `/metrics`.
    pub fn pool_state(&self) -> (u32, u32) {
        let s = self.pool.state();
        (s.connections, s.idle_connections)
    }
}

/// Runs `f` in a write transaction. On SQLite it starts with `BEGIN IMMEDIATE`, so the
/// write lock is taken up front and a concurrent writer waits (busy timeout) instead of
/// failing with `SQLITE_BUSY` when a read transaction tries to upgrade.
///
/// SQLite has one writer per database; rather than letting concurrent writers spin in the
/// busy handler (which sleeps in growing steps and starves under load), writers in this
/// process queue on one mutex. It is process-wide because a connection does not know its
/// file; a process serves one database, and tests only serialize their writes.
pub fn write_tx<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    static SQLITE_WRITER: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _writer = match conn {
        DbConn::Sqlite(_) => Some(SQLITE_WRITER.lock().unwrap_or_else(std::sync::PoisonError::into_inner)),
        DbConn::Pg(_) => None,
    };
    let started = std::time::Instant::now();
    let result = transaction(conn, "BEGIN IMMEDIATE", "BEGIN", f);
    let outcome = if result.is_ok() { "commit" } else { "rollback" };
    let labels = [("outcome", outcome.to_owned())];
    crate::telemetry::observe(crate::telemetry::WRITE_TX_DURATION, &labels, started.elapsed());
    crate::telemetry::count(crate::telemetry::WRITE_TX, &labels);
    result
}

/// Runs `f` in one read-only snapshot: every statement sees the same committed state
/// (PostgreSQL `REPEATABLE READ READ ONLY`; SQLite, in WAL mode, a deferred transaction
/// reads one snapshot). For answers computed from several queries.
pub fn read_tx<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    transaction(conn, "BEGIN", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", f)
}

fn transaction<T, E, F>(conn: &mut DbConn, begin_sqlite: &str, begin_pg: &str, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, begin_sqlite)?,
        DbConn::Pg(c) => AnsiTransactionManager::begin_transaction_sql(c, begin_pg)?,
    }
    let result = f(conn);
    let end = match (&result, &mut *conn) {
        (Ok(_), DbConn::Sqlite(c)) => AnsiTransactionManager::commit_transaction(c),
        (Ok(_), DbConn::Pg(c)) => AnsiTransactionManager::commit_transaction(c),
        (Err(_), DbConn::Sqlite(c)) => AnsiTransactionManager::rollback_transaction(c),
        (Err(_), DbConn::Pg(c)) => AnsiTransactionManager::rollback_transaction(c),
    };
    match (result, end) {
        (Ok(v), Ok(())) => Ok(v),
        (Ok(_), Err(e)) => Err(e.into()),
        (Err(e), _) => Err(e),
    }
}

const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Applies pending migrations for whichever backend `conn` is; returns how many ran.
pub fn migrate(conn: &mut DbConn) -> anyhow::Result<usize> {
    let applied = match conn {
        DbConn::Pg(c) => {
            if pg_up_to_date(c) {
                Ok(0)
            } else {
                c.run_pending_migrations(POSTGRES).map(|v| v.len())
            }
        }
        DbConn::Sqlite(c) => {
            // WAL is a persistent property of the file: set once, here.
            c.batch_execute("PRAGMA journal_mode = WAL;")?;
            c.run_pending_migrations(SQLITE).map(|v| v.len())
        }
    }
    .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
    Ok(applied)
}

/// Whether every embedded migration is recorded as applied, read with a plain `SELECT`:
/// diesel's harness first creates its bookkeeping table, which a least-privilege server
/// role (no `CREATE` on the schema; README, Security) may not, so such a role can start
/// on a database its owner migrated.
fn pg_up_to_date(c: &mut PgConnection) -> bool {
    use diesel::migration::MigrationSource as _;
    #[derive(QueryableByName)]
    struct Applied {
        #[diesel(sql_type = diesel::sql_types::Text)]
        version: String,
    }
    let Ok(applied) = diesel::sql_query("SELECT version FROM __diesel_schema_migrations").load::<Applied>(c) else { return false };
    let applied: std::collections::HashSet<String> = applied.into_iter().map(|a| a.version).collect();
    POSTGRES.migrations().is_ok_and(|all: Vec<Box<dyn diesel::migration::Migration<diesel::pg::Pg>>>| {
        all.iter().all(|m| applied.contains(&m.name().version().to_string()))
    })
}

/// Reverts every migration (for the reversibility test); returns how many were reverted.
pub fn revert_all(conn: &mut DbConn) -> anyhow::Result<usize> {
    match conn {
        DbConn::Pg(c) => c.revert_all_migrations(POSTGRES).map(|v| v.len()),
        DbConn::Sqlite(c) => c.revert_all_migrations(SQLITE).map(|v| v.len()),
    }
    .map_err(|e| anyhow::anyhow!("revert failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_migration_exists_for_both_backends_with_the_same_version() {
        let versions = |dir: &str| {
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect::<BTreeSet<_>>()
        };
        let pg = versions("migrations/postgres");
        assert!(!pg.is_empty());
        assert_eq!(pg, versions("migrations/sqlite"));
        for v in &pg {
            for file in ["up.sql", "down.sql"] {
                assert!(Path::new(&format!("migrations/sqlite/{v}/{file}")).exists(), "{v}/{file}");
                assert!(Path::new(&format!("migrations/postgres/{v}/{file}")).exists(), "{v}/{file}");
            }
        }
    }

    #[test]
    fn database_urls_are_dispatched_by_explicit_scheme() {
        assert_eq!(
            Backend::from_url("postgres://root@127.0.0.1/test").unwrap(),
            Backend::Postgres("postgres://root@127.0.0.1/test".into())
        );
        assert!(matches!(Backend::from_url("postgresql://h/db").unwrap(), Backend::Postgres(_)));
        assert_eq!(Backend::from_url("sqlite://x.db").unwrap(), Backend::Sqlite("x.db".into()));
        assert_eq!(Backend::from_url("data/x.db").unwrap(), Backend::Sqlite("data/x.db".into()));
        assert!(Backend::from_url("mysql://root@h/db").is_err());
        assert!(Backend::from_url("postgress://h/db").is_err());
        assert!(Backend::from_url("sqlite://:memory:").is_err());
        assert!(Backend::from_url("").is_err());
    }

    #[test]
    fn refused_urls_do_not_echo_passwords() {
        let err = Backend::from_url("mysql://u:secret@h/db").unwrap_err().to_string();
        assert!(!err.contains("secret"), "{err}");
    }
}
