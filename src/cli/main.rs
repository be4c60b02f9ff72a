//! The `canteen-ledger` binary: serve (default), migrate, openapi, user/token
//! administration, ledger maintenance, a demo data set and the benchmark. Thin: the
//! service lives in the library; the demo and the benchmark are tools of this binary
//! (`cli/demo.rs`, `cli/bench.rs`), not part of the library a server links.

mod bench;
mod demo;

use std::io::Write as _;

use actix_web::HttpServer;
use anyhow::Context as _;
use canteen_ledger::app;
use canteen_ledger::auth::JwtKeys;
use canteen_ledger::config::Settings;
use canteen_ledger::db::Db;
use canteen_ledger::domain::account;
use canteen_ledger::domain::role::Role;
use canteen_ledger::error::ApiError;
use canteen_ledger::service::{self, accounts};
use canteen_ledger::startup;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "canteen-ledger", version, about = "Procurement ledger of school canteens (校农结合) with share reports")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    settings: Settings,
}

/// The settings that are read from the environment only, after the flags in `serve --help`.
const SERVE_ENVIRONMENT: &str = "Environment only:\n  \
    JWT_SECRET  HS256 secret, at least 32 bytes; required with PostgreSQL (SQLite: generated once into <db file>.jwt-secret)\n  \
    RUST_LOG    log filter, e.g. info or canteen_ledger=debug,access=warn [default: info]";

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (the default): migrates, loads reference data, creates the
    /// bootstrap admin on first start.
    #[command(after_help = SERVE_ENVIRONMENT)]
    Serve,
    /// Apply pending migrations and load reference data, then exit.
    Migrate,
    /// Print the OpenAPI document (what openapi/openapi.json holds).
    Openapi,
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage long-lived integration tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Fill an empty database with a realistic demo and print how to log in.
    Demo,
    /// Ledger maintenance.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// Build a province-sized ledger and measure reports, recording and memory on SQLite
    /// and PostgreSQL (run with --release; see BENCHMARKS.md).
    Bench(BenchArgs),
}

/// The benchmark's sizes and where it runs.
#[derive(clap::Args)]
struct BenchArgs {
    /// Purchase lines to generate over one year.
    #[arg(long, default_value_t = 10_000_000)]
    lines: u64,
    #[arg(long, default_value_t = 17_900)]
    schools: usize,
    #[arg(long, default_value_t = 4_000)]
    suppliers: usize,
    /// Timed runs of the aggregate report.
    #[arg(long, default_value_t = 50)]
    runs: usize,
    /// Timed runs of the naive GROUP BY report.
    #[arg(long, default_value_t = 5)]
    naive_runs: usize,
    /// Single-purchase POSTs (and raw inserts) for the throughput ratio.
    #[arg(long, default_value_t = 4_000)]
    posts: usize,
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Lines sent through POST /purchases/batch (and bulk-inserted raw) for the ingest ratio.
    #[arg(long, default_value_t = 100_000)]
    batch_lines: u64,
    /// sqlite, postgres, or both (comma-separated).
    #[arg(long, default_value = "sqlite,postgres")]
    backends: String,
    /// PostgreSQL server (without database name).
    #[arg(long, env = "BENCH_PG_SERVER", default_value = "postgres://root@127.0.0.1:5432")]
    pg_server: String,
    /// Directory for the SQLite benchmark file.
    #[arg(long, default_value = "target/bench")]
    work_dir: std::path::PathBuf,
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// Recompute every aggregate from the ledger and list any difference (exit 1 if any).
    Check,
    /// Rebuild every aggregate from the ledger (refused while a school's chain does not verify).
    Rebuild,
    /// Verify every school's hash chain, derived fields and qualifications (exit 1 on any broken link).
    Verify,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account; prints a generated password unless --password is given.
    Add {
        #[arg(long)]
        username: String,
        /// admin, province, prefecture:CODE, county:CODE, canteen:SCHOOL_ID, supplier:SUPPLIER_ID
        #[arg(long)]
        role: String,
        /// At least 12 characters; read from CANTEEN_PASSWORD if set.
        #[arg(long, env = "CANTEEN_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// List accounts.
    List,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Mint an integration token for a canteen app or a supplier system; printed once.
    Mint {
        /// e.g. canteen:SCHOOL_ID or supplier:SUPPLIER_ID
        #[arg(long)]
        role: String,
        #[arg(long)]
        label: String,
        #[arg(long, default_value_t = account::DEFAULT_TOKEN_DAYS)]
        days: i64,
    },
    /// Revoke an integration token by jti.
    Revoke { jti: String },
    /// List integration tokens (without their secrets).
    List,
}

/// Runs the command; an error is printed as a sentence with its causes (never a
/// backtrace, whatever `RUST_BACKTRACE` says) and exits 1.
fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    canteen_ledger::telemetry::init_logging(cli.settings.log_format);
    let settings = cli.settings;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings),
        Command::Migrate => {
            let db = open(&settings)?;
            println!("database ready ({})", db.backend().name());
            Ok(())
        }
        Command::Openapi => {
            print!("{}", app::openapi_json(&app::document())?);
            Ok(())
        }
        Command::User { command } => user(settings, command),
        Command::Token { command } => token(settings, command),
        Command::Ledger { command } => ledger(&settings, command),
        Command::Bench(args) => bench(args),
        Command::Demo => {
            let db = open(&settings)?;
            let mut conn = db.get()?;
            let summary = demo::fill(&mut conn).map_err(ApiError::into_cli)?;
            println!("{}", summary.summary());
            Ok(())
        }
    }
}

/// Ledger maintenance: check or rebuild the aggregates, verify the chains.
fn ledger(settings: &Settings, command: LedgerCommand) -> anyhow::Result<()> {
    let db = open(settings)?;
    let mut conn = db.get()?;
    match command {
        LedgerCommand::Check => {
            let r = service::aggregates::check(&mut conn).map_err(ApiError::into_cli)?;
            println!("checked {} counties: {} school buckets, {} fact buckets", r.counties, r.school_buckets, r.fact_buckets);
            for d in &r.differences {
                println!("DIFF {} school {} {} {}: {}", d.table, d.school_id, d.kind, d.bucket_start, d.detail);
            }
            if !r.differences.is_empty() {
                anyhow::bail!("{} difference(s) between the aggregates and the ledger", r.differences.len());
            }
            println!("no differences");
        }
        LedgerCommand::Rebuild => {
            // Rebuilding from an edited ledger would make the edit permanent.
            let broken = service::purchases::verify_all_chains(&mut conn).map_err(ApiError::into_cli)?;
            print_broken(&broken);
            if !broken.is_empty() {
                anyhow::bail!("{} school chain(s) do not verify: not rebuilding from a tampered ledger", broken.len());
            }
            let n = service::aggregates::rebuild(&mut conn).map_err(ApiError::into_cli)?;
            println!("rebuilt {n} aggregate rows");
        }
        LedgerCommand::Verify => {
            let broken = service::purchases::verify_all_chains(&mut conn).map_err(ApiError::into_cli)?;
            print_broken(&broken);
            let (submissions, bad) = service::submissions::verify_all(&mut conn).map_err(ApiError::into_cli)?;
            for b in &bad {
                println!("BROKEN submission {}: {}", b.id, b.problem);
            }
            if !broken.is_empty() || !bad.is_empty() {
                anyhow::bail!("{} school chain(s) and {} submission(s) do not verify", broken.len(), bad.len());
            }
            println!("every school's chain verifies; {submissions} submission digest(s) match the chains");
        }
    }
    Ok(())
}

/// Runs the benchmark and prints its table.
fn bench(a: BenchArgs) -> anyhow::Result<()> {
    let opts = bench::Options {
        lines: a.lines,
        schools: a.schools,
        suppliers: a.suppliers,
        runs: a.runs,
        naive_runs: a.naive_runs,
        posts: a.posts,
        clients: a.clients,
        batch_lines: a.batch_lines,
        backends: a.backends.split(',').map(|b| b.trim().to_owned()).filter(|b| !b.is_empty()).collect(),
        pg_server: a.pg_server,
        server_bin: std::env::current_exe()?,
        work_dir: a.work_dir,
    };
    let results = bench::run(&opts)?;
    println!("{}", bench::markdown(&results));
    Ok(())
}

/// Connects, migrates and loads reference data.
fn open(settings: &Settings) -> anyhow::Result<Db> {
    startup::open(&settings.database_url, settings.db_pool_size, settings.db_pool_timeout)
}

/// glibc malloc gives threads their own arenas (up to 8 per core) and keeps what each one
/// freed: the blocking threads that take turns serving 1,000-purchase batches each keep a
/// batch's worth of memory. With two arenas the batch bench's server peak RSS fell from
/// 99–111 MiB to 54–55 MiB, at the same throughput (BENCHMARKS.md). Set before the
/// process starts, so the server restarts itself once with it unless it is already set.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn limit_malloc_arenas() {
    use std::os::unix::process::CommandExt as _;
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    let err = match std::env::current_exe() {
        Ok(exe) => std::process::Command::new(exe).args(std::env::args_os().skip(1)).env("MALLOC_ARENA_MAX", "2").exec(),
        Err(e) => e,
    };
    log::warn!("running with glibc's default malloc arenas (could not restart with MALLOC_ARENA_MAX=2: {err})");
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}

fn serve(settings: Settings) -> anyhow::Result<()> {
    limit_malloc_arenas();
    // The secret first: a PostgreSQL start without JWT_SECRET changes nothing.
    let keys = JwtKeys::hs256(&settings.resolve_jwt_secret()?)?;
    let db = open(&settings)?;
    let mut conn = db.get()?;
    let bootstrap = accounts::bootstrap_admin(&mut conn)?;
    drop(conn);
    if let Some(pw) = bootstrap {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "\n  First start: created the administrator account.\n    username: admin\n    password: {pw}\n  This password is shown once; store it now.\n"
        )?;
        out.flush()?;
    }
    // Webhook deliveries run on their own thread and connections, outside requests.
    canteen_ledger::dispatch::spawn(db.clone(), settings.webhook_allow_private).context("cannot start the webhook dispatcher")?;
    let state = actix_web::web::Data::new(
        canteen_ledger::http::state::AppState::new(db.clone(), keys, settings.webhook_allow_private)
            .with_cors(settings.cors_allowed_origins.clone()),
    );
    let bind = settings.bind.clone();
    log::info!("canteen-ledger on http://{bind} ({}); Swagger UI at http://{bind}/docs/", db.backend().name());
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || app::build(state.clone()).0)
            .workers(settings.workers())
            .tcp_nodelay(true)
            .bind(&bind)
            .with_context(|| format!("cannot listen on {bind}"))?
            .run()
            .await
            .context("server failed")
    })
}

fn parse_role(text: &str) -> anyhow::Result<Role> {
    Role::parse(text).with_context(|| {
        format!("bad role {text:?}: use admin, province, prefecture:CODE, county:CODE, canteen:SCHOOL_ID or supplier:SUPPLIER_ID")
    })
}

fn user(settings: Settings, command: UserCommand) -> anyhow::Result<()> {
    let db = open(&settings)?;
    let mut conn = db.get()?;
    match command {
        UserCommand::Add { username, role, password } => {
            let role = parse_role(&role)?;
            let generated = password.is_none();
            let pw = password.unwrap_or_else(|| canteen_ledger::auth::password::generate(20));
            if !account::password_long_enough(&pw) {
                anyhow::bail!(account::PASSWORD_TOO_SHORT);
            }
            let hash = canteen_ledger::auth::password::hash(&pw)?;
            let row = accounts::add_user(&mut conn, "cli", &username, &hash, &role).map_err(ApiError::into_cli)?;
            println!("created {} ({role}) id {}", row.username, row.id);
            if generated {
                println!("password: {pw}   (shown once)");
            }
        }
        UserCommand::List => {
            for u in canteen_ledger::db::repo::users::list(&mut conn)? {
                println!("{}\t{}{}\t{}", u.username, u.role, u.scope.map(|s| format!(":{s}")).unwrap_or_default(), u.created_at);
            }
        }
    }
    Ok(())
}

fn token(settings: Settings, command: TokenCommand) -> anyhow::Result<()> {
    let keys = JwtKeys::hs256(&settings.resolve_jwt_secret()?)?;
    let db = open(&settings)?;
    let mut conn = db.get()?;
    match command {
        TokenCommand::Mint { role, label, days } => {
            if !account::token_days_allowed(days) {
                anyhow::bail!("--{}", account::TOKEN_DAYS_OUT_OF_RANGE);
            }
            let role = parse_role(&role)?;
            let (token, row) =
                accounts::mint_token(&mut conn, &keys, "cli", &role, &label, days, service::now()).map_err(ApiError::into_cli)?;
            println!("jti: {}\nexpires: {}\ntoken (shown once):\n{token}", row.jti, row.expires_at);
        }
        TokenCommand::Revoke { jti } => {
            accounts::revoke_token(&mut conn, "cli", &jti).map_err(ApiError::into_cli)?;
            println!("revoked {jti}");
        }
        TokenCommand::List => {
            for t in canteen_ledger::db::repo::tokens::list(&mut conn)? {
                let state = if t.revoked_at.is_some() { "revoked" } else { "active" };
                println!(
                    "{}\t{}{}\t{}\t{state}\texpires {}",
                    t.jti,
                    t.role,
                    t.scope.map(|s| format!(":{s}")).unwrap_or_default(),
                    t.label,
                    t.expires_at
                );
            }
        }
    }
    Ok(())
}

fn print_broken(broken: &[(String, canteen_ledger::domain::ledger::BrokenLink)]) {
    for (school, b) in broken {
        println!("BROKEN school {school} seq {}: {}", b.seq, b.reason);
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    #[test]
    fn serve_help_lists_every_option_with_its_variable() {
        super::Cli::command().debug_assert();
        let mut cli = super::Cli::command();
        cli.build();
        let help = cli.find_subcommand_mut("serve").unwrap().render_long_help().to_string();
        for (flag, var) in [
            ("--database-url", "DATABASE_URL"),
            ("--bind", "BIND"),
            ("--db-pool-size", "DB_POOL_SIZE"),
            ("--db-pool-timeout-ms", "DB_POOL_TIMEOUT_MS"),
            ("--workers", "WORKERS"),
            ("--webhook-allow-private", "WEBHOOK_ALLOW_PRIVATE"),
            ("--cors-allowed-origins", "CORS_ALLOWED_ORIGINS"),
            ("--log-format", "LOG_FORMAT"),
        ] {
            assert!(help.contains(flag) && help.contains(&format!("[env: {var}")), "{flag} / {var} in:\n{help}");
        }
        assert!(help.contains("JWT_SECRET") && help.contains("RUST_LOG"), "{help}");
    }
}
