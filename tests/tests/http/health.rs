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

/// Another process holds SQLite's write lock past the busy timeout: the token endpoint answers 503 with
/// RFC 6749's `temporarily_unavailable`, issues nothing, and issues again once the lock is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_sqlite_database_is_answered_with_503_at_the_token_endpoint() {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    let fixture = Fixture::new(TestDatabase::sqlite()).await;
    let issue = || fixture.token(SERVICE, &[("grant_type", "client_credentials")]);
    assert_eq!(issue().await.status(), 200);
    let path = fixture.app.db.url().trim_start_matches("sqlite://").to_owned();
    let mut holder = diesel::SqliteConnection::establish(&path).unwrap();
    holder.batch_execute("BEGIN EXCLUSIVE").unwrap();
    let locked = issue().await;
    assert_eq!(locked.status(), 503);
    assert!(locked.headers().contains_key("retry-after"));
    let body: serde_json::Value = locked.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable", "{body}");
    assert!(body.get("access_token").is_none());
    holder.batch_execute("ROLLBACK").unwrap();
    assert_eq!(issue().await.status(), 200, "issuing again once the lock is gone");
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

/// Against a PostgreSQL server the test owns (the machine's shared one stays up for the other tests).
mod stopped_postgres {
    use crate::support::{authorize_url, Fixture, TestDatabase, APP_REDIRECT, SERVICE, SERVICE_SECRET};
    use latchkey_store::testing::PrivateCluster;

    /// The database stops under a running server: every client endpoint answers 503 with a JSON error, a
    /// page the HTML error page, `/readyz` 503 and `/healthz` 200; nothing is issued. The database comes
    /// back: the server recovers by itself, without a restart.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "starts its own PostgreSQL server; run with --ignored"]
    async fn a_stopped_database_is_answered_with_503_and_recovered_from_alone() {
        let cluster = PrivateCluster::start().unwrap();
        let fixture = Fixture::new(TestDatabase::postgres_on(&cluster.admin_url()).unwrap()).await;
        let issue = || fixture.token(SERVICE, &[("grant_type", "client_credentials")]);
        let issued = issue().await.json::<serde_json::Value>().await.unwrap();
        let access = issued["access_token"].as_str().unwrap().to_owned();
        let (page, _) = authorize_url(&fixture.app.server.url(), "app", APP_REDIRECT, "openid", &[]);

        cluster.stop().unwrap();
        let refused = issue().await;
        assert_eq!(refused.status(), 503);
        assert!(refused.headers().contains_key("retry-after"));
        assert_eq!(refused.json::<serde_json::Value>().await.unwrap()["error"], "temporarily_unavailable");
        for path in ["/introspect", "/revoke"] {
            let answer =
                fixture.client_post(path, ("service", SERVICE_SECRET), &[("token", access.as_str())]).await;
            assert_eq!(answer.status(), 503, "{path}");
            assert!(
                answer.headers()["content-type"].to_str().unwrap().starts_with("application/json"),
                "{path}"
            );
        }
        let page = fixture.app.http.get(&page).send().await.unwrap();
        assert_eq!(page.status(), 503);
        assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        assert!(page.headers().get("location").is_none(), "a page, never a redirect");
        assert_eq!(fixture.app.get("/readyz").await.status(), 503);
        assert_eq!(fixture.app.get("/healthz").await.status(), 200);

        cluster.resume().unwrap();
        // The pool replaces its dead connections as requests come: no restart, no operator.
        let mut ready = false;
        for _ in 0..40 {
            if fixture.app.get("/readyz").await.status() == 200 {
                ready = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
        assert!(ready, "ready again once the database is back");
        assert_eq!(issue().await.status(), 200);
        let introspected = fixture
            .client_post("/introspect", ("service", SERVICE_SECRET), &[("token", access.as_str())])
            .await;
        assert_eq!(
            introspected.json::<serde_json::Value>().await.unwrap()["active"],
            true,
            "nothing was lost"
        );
    }
}

/// Tests that mount a filesystem of their own, so they need root (CI runs them: `.ci/run`).
mod as_root {
    use crate::support::{Fixture, TestDatabase, SERVICE};
    use std::io::Write;

    /// A small filesystem, mounted for the test and unmounted after it.
    struct SmallFilesystem(std::path::PathBuf);

    impl SmallFilesystem {
        fn mount(size: &str) -> Self {
            let dir = std::env::temp_dir().join(format!("latchkey-full-{:016x}", rand::random::<u64>()));
            std::fs::create_dir_all(&dir).unwrap();
            let mounted = std::process::Command::new("mount")
                .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
                .arg(&dir)
                .status()
                .unwrap();
            assert!(mounted.success(), "mount a tmpfs (needs root)");
            Self(dir)
        }

        /// Writes a file until the filesystem has no byte left.
        fn fill(&self) -> std::path::PathBuf {
            let filler = self.0.join("filler");
            let mut file = std::fs::File::create(&filler).unwrap();
            let block = vec![0_u8; 64 * 1024];
            while file.write_all(&block).is_ok() {}
            while file.write_all(&[0]).is_ok() {}
            let _ = file.sync_all();
            filler
        }
    }

    impl Drop for SmallFilesystem {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg("-l").arg(&self.0).status();
            let _ = std::fs::remove_dir(&self.0);
        }
    }

    /// The disk under a SQLite database fills up: writes answer 503 and `/readyz` 503 (a write is what it
    /// probes), nothing already answered is lost, and once space is back both work again by themselves.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "mounts a small filesystem: needs root; run with --ignored as_root"]
    async fn a_full_disk_answers_503_and_readiness_says_so() {
        let disk = SmallFilesystem::mount("8m");
        let fixture = Fixture::new(TestDatabase::sqlite_in(&disk.0)).await;
        let issue = || fixture.token(SERVICE, &[("grant_type", "client_credentials")]);
        let before = issue().await.json::<serde_json::Value>().await.unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(fixture.app.get("/readyz").await.status(), 200);

        let filler = disk.fill();
        let mut refused = 0;
        for _ in 0..20 {
            let answer = issue().await;
            assert!(matches!(answer.status().as_u16(), 200 | 503), "{}", answer.status());
            refused += usize::from(answer.status() == 503);
        }
        assert!(refused >= 19, "writes fail once the log cannot grow ({refused} of 20 refused)");
        assert_eq!(fixture.app.get("/readyz").await.status(), 503, "readiness sees the full disk");
        assert_eq!(fixture.app.get("/healthz").await.status(), 200);

        std::fs::remove_file(filler).unwrap();
        assert_eq!(fixture.app.get("/readyz").await.status(), 200, "ready again with space back");
        assert_eq!(issue().await.status(), 200);
        let introspected = fixture
            .client_post("/introspect", SERVICE, &[("token", before.as_str())])
            .await
            .json::<serde_json::Value>()
            .await
            .unwrap();
        assert_eq!(introspected["active"], true, "what was answered before is still there");
    }
}
