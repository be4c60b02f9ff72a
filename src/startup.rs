//! Start-up, written once: connect, migrate, load the reference data, and the state the app
//! is built from. `main`, the tests and the bench all start the service through here, so a
//! database they use is always one the server would accept.

use std::time::Duration;

use actix_web::web;

use crate::auth::JwtKeys;
use crate::db::{self, Db, DbConn};
use crate::http::AppState;
use crate::service::reference::{self, LoadReport};

/// What preparing a database did.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Migrations applied now (0 when the schema was current).
    pub migrations: usize,
    /// The reference data load (idempotent: nothing new on a prepared database).
    pub reference: LoadReport,
}

/// Applies pending migrations and loads the reference data (prefectures, counties and
/// their poverty designations), logging what changed.
pub fn prepare(conn: &mut DbConn) -> anyhow::Result<Prepared> {
    let migrations = db::migrate(conn)?;
    if migrations > 0 {
        log::info!("applied {migrations} migration(s)");
    }
    let reference = reference::load_guizhou(conn)?;
    if reference.new_counties > 0 {
        log::info!(
            "loaded {} prefectures and {} counties ({} poverty designations)",
            reference.prefectures,
            reference.counties,
            reference.designations_added
        );
    }
    Ok(Prepared { migrations, reference })
}

/// Opens a pool of `pool_size` connections (a request waits `timeout` for one, then gets a
/// 503) on a prepared database.
pub fn open(url: &str, pool_size: u32, timeout: Duration) -> anyhow::Result<Db> {
    let db = Db::connect(url, pool_size, timeout)?;
    prepare(&mut *db.get()?)?;
    Ok(db)
}

/// The shared state the app is built from (`app::build`).
pub fn state(db: Db, keys: JwtKeys, allow_private_callbacks: bool) -> web::Data<AppState> {
    web::Data::new(AppState::new(db, keys, allow_private_callbacks))
}
