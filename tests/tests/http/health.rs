use crate::on_both_backends;
use crate::support::{TestApp, TestDatabase};
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
