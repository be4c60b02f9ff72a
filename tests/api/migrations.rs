//! Every migration reverts cleanly and re-applies, on both backends (the `redo` check).

use canteen_ledger::db::{self, Db};
use canteen_ledger::service::reference;
use canteen_ledger::startup;

use crate::both_backends;
use crate::helpers::TestDb;

both_backends!(migrations_revert_and_reapply_cleanly);

async fn migrations_revert_and_reapply_cleanly(db: TestDb) {
    let pool = Db::connect(db.url(), 2, std::time::Duration::from_secs(10)).unwrap();
    let mut conn = pool.get().unwrap();
    startup::prepare(&mut conn).unwrap();

    let reverted = db::revert_all(&mut conn).unwrap();
    let reapplied = db::migrate(&mut conn).unwrap();

    assert!(reverted >= 2, "reverted {reverted}");
    assert_eq!(reverted, reapplied);
    let loaded = reference::load_guizhou(&mut conn).unwrap();
    assert_eq!((loaded.prefectures, loaded.counties, loaded.designations_added), (9, 88, 66));
    drop(conn);
    drop(pool);
}
