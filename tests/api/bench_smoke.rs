//! A small run of the benchmark: it must build a consistent ledger, give identical
//! reports from aggregates and from the ledger, and record over HTTP. (The full run is
//! `cargo run --release -- bench`; see BENCHMARKS.md.)

use crate::bench_tool::{self as bench, Options};

fn options(backends: &[&str]) -> Options {
    Options {
        lines: 20_000,
        schools: 300,
        suppliers: 120,
        runs: 5,
        naive_runs: 1,
        posts: 80,
        clients: 4,
        batch_lines: 3_000,
        backends: backends.iter().map(|b| (*b).to_owned()).collect(),
        pg_server: std::env::var("TEST_PG_SERVER").unwrap_or_else(|_| "postgres://root@127.0.0.1:5432".into()),
        server_bin: env!("CARGO_BIN_EXE_canteen-ledger").into(),
        work_dir: std::env::temp_dir().join("canteen-ledger-bench-smoke"),
    }
}

fn assert_sound(o: &bench::Outcome) {
    assert_eq!(o.lines, 20_000, "{o:?}");
    assert!(o.identical, "aggregates and ledger disagree: {o:?}");
    assert_eq!(o.consistency_differences, 0, "{o:?}");
    assert!(o.http_rate > 0.0 && o.raw_rate > 0.0, "{o:?}");
    assert!(o.batch_rate > 0.0 && o.raw_bulk_rate > 0.0, "{o:?}");
    assert!(o.server_peak_rss_kb > 0, "{o:?}");
    assert!(o.freeze_county_schools > 0 && o.freeze_prefecture_counties > 0 && o.freeze_county_p50_ms > 0.0, "{o:?}");
    assert_eq!(o.drift_changes, 1_000, "{o:?}");
    assert!(o.drift_balanced, "{o:?}");
}

#[test]
fn a_small_benchmark_run_on_sqlite_is_consistent() {
    let results = bench::run(&options(&["sqlite"])).unwrap();
    assert_sound(&results[0]);
}

#[test]
fn a_small_benchmark_run_on_postgres_is_consistent() {
    let server = std::env::var("TEST_PG_SERVER").unwrap_or_else(|_| "postgres://root@127.0.0.1:5432".into());
    if diesel::Connection::establish(&format!("{server}/postgres")).map(|_: diesel::PgConnection| ()).is_err() {
        crate::helpers::skip_postgres();
        return;
    }
    let results = bench::run(&options(&["postgres"])).unwrap();
    assert_sound(&results[0]);
}
