//! HTTP-level integration tests: the real app on a throw-away database, every database
//! test on both SQLite and PostgreSQL. One test binary.
// Tests assert by unwrapping; clippy's allow-unwrap-in-tests does not reach the helper
// functions of an integration-test crate.
#![expect(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly by design")]

mod helpers;

// The binary's tools, compiled from the binary's own source (they are not in the library).
#[path = "../../src/cli/bench.rs"]
#[expect(dead_code, reason = "the smoke test uses the run, not the binary's table")]
mod bench_tool;
#[path = "../../src/cli/demo.rs"]
mod demo_tool;

mod aggregates;
mod auth;
mod authz;
mod bad_input;
mod batch;
mod bench_smoke;
mod conventions;
mod corrections;
mod demo;
mod fuzz_findings;
mod imports;
mod migrations;
mod openapi;
mod purchases;
mod report_features;
mod reporting;
mod reports;
mod server;
mod settlement;
mod submissions;
mod tamper;
mod timestamps;
mod webhooks;
