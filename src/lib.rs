//! canteen-ledger: the procurement ledger of school canteens in the school–farm linkage
//! programme (校农结合), and the share reports it is judged by.
//!
//! Layers (dependencies point inward): `http` → `service` → `domain` / `db`.
//! `dispatch` delivers webhooks on its own thread, through `service`.

pub mod app;
pub mod auth;
pub mod config;
pub mod db;
pub mod dispatch;
pub mod domain;
pub mod error;
pub mod http;
pub mod service;
pub mod startup;
pub mod telemetry;
