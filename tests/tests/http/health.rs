use crate::on_both_backends;
use crate::support::{Fixture, TestApp, TestDatabase, SERVICE};
use latchkey_store::Backend;

on_both_backends!(alive_and_ready, readiness_follows_the_database);

async fn alive_and_ready(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    let alive = app.get("/healthz").await;
    assert_eq!(alive.status(), 200);
    assert_eq!(alive.json::<serde_json::Value>().await.unwrap()["status"], "alive");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.json::<serde_json::Value>().await.unwrap()["status"], "ready");
}

async fn readiness_follows_the_database(db: TestDatabase) {
    let app = TestApp::spawn(db).await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    match app.db.backend() {
        Backend::Postgres => {
            app.db.drop_now().unwrap();
            let ready = app.get("/readyz").await;
            assert_eq!(ready.status(), 503);
            assert_eq!(ready.headers()["retry-after"], "5");
            assert_eq!(ready.json::<serde_json::Value>().await.unwrap()["status"], "unavailable");
        }
        Backend::Sqlite => {
            use diesel::connection::SimpleConnection;
            use diesel::Connection;
            let path = app.db.url().trim_start_matches("sqlite://").to_owned();
            let mut holder = diesel::SqliteConnection::establish(&path).unwrap();
            holder.batch_execute("BEGIN EXCLUSIVE").unwrap();
            let ready = app.get("/readyz").await;
            assert_eq!(ready.status(), 503);
            assert_eq!(ready.json::<serde_json::Value>().await.unwrap()["status"], "unavailable");
            holder.batch_execute("ROLLBACK").unwrap();
            assert_eq!(app.get("/readyz").await.status(), 200, "ready again once the lock is gone");
        }
    }
    // Liveness never depends on the database.
    assert_eq!(app.get("/healthz").await.status(), 200);
}

/// The SQLite file deleted, or replaced by another file, under a running server: every write is refused
/// with 503 and `/readyz` answers 503, instead of 200s for writes into a file nobody will open again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_file_deleted_or_replaced_under_the_server_is_noticed() {
    for replace in [false, true] {
        let fixture = Fixture::new(TestDatabase::sqlite()).await;
        let issue = || fixture.token(SERVICE, &[("grant_type", "client_credentials")]);
        assert_eq!(issue().await.status(), 200);
        let path = fixture.app.db.url().trim_start_matches("sqlite://").to_owned();
        if replace {
            // A restore copied into place: a new file (a new inode) at the same path.
            let copy = format!("{path}.restored");
            std::fs::copy(&path, &copy).unwrap();
            std::fs::rename(&copy, &path).unwrap();
        } else {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{path}{suffix}"));
            }
        }
        let refused = issue().await;
        assert_eq!(refused.status(), 503, "replace: {replace}");
        assert_eq!(refused.json::<serde_json::Value>().await.unwrap()["error"], "temporarily_unavailable");
        assert_eq!(fixture.app.get("/readyz").await.status(), 503, "replace: {replace}");
        assert_eq!(fixture.app.get("/healthz").await.status(), 200);
    }
}
