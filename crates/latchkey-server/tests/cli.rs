//! The `latchkey` binary as an operator uses it: real processes, a real database, real output.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use latchkey_model::{ClientId, GrantType, RecordId, Timestamp, TokenRecord, Username};
use latchkey_store::testing::TestDatabase;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

latchkey_store::on_both_backends!(
    clients_are_added_and_listed,
    users_are_added_and_listed,
    revoke_user_prints_the_count,
    revoke_client_prints_the_count_and_spares_other_clients,
    tokens_are_created_listed_and_revoked,
    keys_rotate_keeps_old_keys_published,
    an_upgraded_database_is_converted_on_purpose
);

fn latchkey(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_latchkey"));
    command.current_dir(dir).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    command
}

fn run(dir: &Path, db: &str, args: &[&str]) -> Output {
    latchkey(dir).arg("--database-url").arg(db).args(args).output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A failed command says why in one line and exits non-zero.
fn assert_fails_in_one_line(output: &Output, needle: &str) {
    assert!(!output.status.success(), "should fail: {}", stdout(output));
    let err = stderr(output);
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err:?}");
    assert!(err.starts_with("error: "), "{err:?}");
    assert!(err.contains(needle), "{err:?} should mention {needle:?}");
}

fn clients_are_added_and_listed(db: &TestDatabase) {
    let dir = tempfile::tempdir().unwrap();
    let added = run(
        dir.path(),
        db.url(),
        &[
            "client",
            "add",
            "--id",
            "web",
            "--redirect-uri",
            "https://app.example.com/cb",
            "--grant-type",
            "authorization_code",
            "--grant-type",
            "refresh_token",
            "--scope",
            "openid",
            "--scope",
            "profile",
        ],
    );
    assert!(added.status.success(), "{}", stderr(&added));
    let out = stdout(&added);
    let secret_line = out.lines().find(|l| l.starts_with("client_secret: ")).expect("secret printed");
    let secret = secret_line.trim_start_matches("client_secret: ");
    assert!(secret.starts_with("lk_cs_") && secret.len() > 40, "{secret}");

    let given = "bench-secret-0123456789abcdef-0123";
    let added = run(
        dir.path(),
        db.url(),
        &[
            "client",
            "add",
            "--id",
            "bench",
            "--secret",
            given,
            "--grant-type",
            "client_credentials",
            "--scope",
            "read",
        ],
    );
    assert!(added.status.success(), "{}", stderr(&added));
    assert!(!stdout(&added).contains(given), "an operator's own secret is not echoed");
    let public = run(
        dir.path(),
        db.url(),
        &[
            "client",
            "add",
            "--id",
            "spa",
            "--public",
            "--redirect-uri",
            "http://127.0.0.1/cb",
            "--grant-type",
            "authorization_code",
        ],
    );
    assert!(public.status.success(), "{}", stderr(&public));
    assert!(!stdout(&public).contains("client_secret"));

    let listed = run(dir.path(), db.url(), &["client", "list"]);
    assert!(listed.status.success());
    let table = stdout(&listed);
    assert!(table.starts_with("ID"), "{table}");
    for expected in [
        "web",
        "confidential",
        "authorization_code,refresh_token",
        "openid profile",
        "https://app.example.com/cb",
        "spa",
        "public",
        "bench",
    ] {
        assert!(table.contains(expected), "{expected} missing from\n{table}");
    }
    assert!(!table.contains(secret), "secrets are never shown again");

    assert_fails_in_one_line(
        &run(dir.path(), db.url(), &["client", "add", "--id", "web", "--grant-type", "client_credentials"]),
        "already exists",
    );
    assert_fails_in_one_line(
        &run(
            dir.path(),
            db.url(),
            &[
                "client",
                "add",
                "--id",
                "evil",
                "--redirect-uri",
                "javascript:alert(1)",
                "--grant-type",
                "authorization_code",
            ],
        ),
        "scheme",
    );
    assert_fails_in_one_line(
        &run(
            dir.path(),
            db.url(),
            &["client", "add", "--id", "weak", "--secret", "short", "--grant-type", "client_credentials"],
        ),
        "at least 32",
    );
    assert_fails_in_one_line(
        &run(dir.path(), db.url(), &["client", "add", "--id", "x", "--grant-type", "magic"]),
        "magic",
    );
    let after = stdout(&run(dir.path(), db.url(), &["client", "list"]));
    assert_eq!(after.lines().count(), 4, "refused commands wrote nothing:\n{after}");
}

fn users_are_added_and_listed(db: &TestDatabase) {
    let dir = tempfile::tempdir().unwrap();
    let mut child = latchkey(dir.path())
        .args([
            "--database-url",
            db.url(),
            "user",
            "add",
            "--username",
            "alice",
            "--password-stdin",
            "--email",
            "alice@example.com",
            "--name",
            "Alice Liddell",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"through the looking glass\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(run(
        dir.path(),
        db.url(),
        &["user", "add", "--username", "bob", "--password", "correct horse battery"]
    )
    .status
    .success());

    let store = latchkey_core::testing::open_like_a_server(db);
    let alice = store.read(|repo| repo.find_user(&Username::parse("alice").unwrap())).unwrap().unwrap();
    assert!(
        latchkey_core::password::verify_password(Some(&alice.password_hash), "through the looking glass"),
        "newline stripped, nothing else"
    );
    assert!(alice.password_hash.as_phc().starts_with("$argon2id$"));

    let table = stdout(&run(dir.path(), db.url(), &["user", "list"]));
    assert!(
        table.contains("alice") && table.contains("Alice Liddell") && table.contains("alice@example.com"),
        "{table}"
    );
    assert!(table.contains("bob"));
    assert!(!table.contains("argon2"), "no hashes in listings");

    assert_fails_in_one_line(
        &run(dir.path(), db.url(), &["user", "add", "--username", "alice", "--password", "another password"]),
        "already exists",
    );
    assert_fails_in_one_line(
        &run(dir.path(), db.url(), &["user", "add", "--username", "carol", "--password", "short"]),
        "at least 8",
    );
    assert_fails_in_one_line(
        &run(
            dir.path(),
            db.url(),
            &["user", "add", "--username", "has space", "--password", "long enough pw"],
        ),
        "username",
    );
    assert_eq!(stdout(&run(dir.path(), db.url(), &["user", "list"])).lines().count(), 3);
}

fn revoke_user_prints_the_count(db: &TestDatabase) {
    let dir = tempfile::tempdir().unwrap();
    assert!(run(
        dir.path(),
        db.url(),
        &["client", "add", "--id", "app", "--grant-type", "client_credentials"]
    )
    .status
    .success());
    for name in ["alice", "bob"] {
        assert!(run(
            dir.path(),
            db.url(),
            &["user", "add", "--username", name, "--password", "long enough pw"]
        )
        .status
        .success());
    }
    let store = latchkey_core::testing::open_like_a_server(db);
    let mut rng = rand::thread_rng();
    for (owner, count) in [("alice", 3), ("bob", 2)] {
        for _ in 0..count {
            let mut record = TokenRecord::new(
                RecordId::generate(&mut rng),
                ClientId::parse("app").unwrap(),
                GrantType::Password,
                "http://x",
                Timestamp::from_unix_seconds(1),
            );
            record.username = Some(Username::parse(owner).unwrap());
            store.write(move |repo| repo.insert_token(&record)).unwrap();
        }
    }
    let revoked = run(dir.path(), db.url(), &["revoke-user", "alice"]);
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    assert_eq!(stdout(&revoked).trim(), "3");
    assert_eq!(stdout(&run(dir.path(), db.url(), &["revoke-user", "alice"])).trim(), "0");
    assert_eq!(stdout(&run(dir.path(), db.url(), &["revoke-user", "bob"])).trim(), "2");
    assert_fails_in_one_line(&run(dir.path(), db.url(), &["revoke-user", "nobody"]), "no such user nobody");
}

fn revoke_client_prints_the_count_and_spares_other_clients(db: &TestDatabase) {
    let dir = tempfile::tempdir().unwrap();
    for id in ["app", "other"] {
        assert!(run(
            dir.path(),
            db.url(),
            &["client", "add", "--id", id, "--grant-type", "client_credentials"]
        )
        .status
        .success());
    }
    let store = latchkey_core::testing::open_like_a_server(db);
    let mut rng = rand::thread_rng();
    for (client, count) in [("app", 4), ("other", 1)] {
        for _ in 0..count {
            let record = TokenRecord::new(
                RecordId::generate(&mut rng),
                ClientId::parse(client).unwrap(),
                GrantType::ClientCredentials,
                "http://x",
                Timestamp::from_unix_seconds(1),
            );
            store.write(move |repo| repo.insert_token(&record)).unwrap();
        }
    }
    let revoked = run(dir.path(), db.url(), &["revoke-client", "app"]);
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    assert_eq!(stdout(&revoked).trim(), "4");
    assert_eq!(stdout(&run(dir.path(), db.url(), &["revoke-client", "app"])).trim(), "0");
    assert_eq!(stdout(&run(dir.path(), db.url(), &["revoke-client", "other"])).trim(), "1");
    assert_fails_in_one_line(
        &run(dir.path(), db.url(), &["revoke-client", "nothing"]),
        "no such client nothing",
    );
}

fn tokens_are_created_listed_and_revoked(db: &TestDatabase) {
    let dir = tempfile::tempdir().unwrap();
    let ok = |args: &[&str]| {
        let output = run(dir.path(), db.url(), args);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        output
    };
    ok(&["client", "add", "--id", "app", "--grant-type", "client_credentials", "--scope", "api:read"]);
    ok(&["user", "add", "--username", "alice", "--password", "long enough pw"]);

    let personal =
        ok(&["token", "create", "--user", "alice", "--name", "deploy", "--scope", "openid", "--ttl", "30d"]);
    let secret = stdout(&personal).trim().to_owned();
    assert!(secret.starts_with("lk_pat_") && !secret.contains('\n'), "{secret:?}");
    assert!(stderr(&personal).contains("shown this once"));
    let key = ok(&["token", "create", "--client", "app", "--name", "ci key", "--scope", "api:read"]);
    assert!(stdout(&key).trim().starts_with("lk_pat_"));
    for (args, why) in [
        (&["token", "create", "--client", "app", "--name", "x", "--scope", "admin"][..], "scopes"),
        (&["token", "create", "--user", "nobody", "--name", "x"][..], "no active user"),
        (&["token", "create", "--user", "alice", "--name", "x", "--ttl", "5w"][..], "ttl"),
        (&["token", "create", "--user", "alice", "--name", ""][..], "name"),
    ] {
        assert_fails_in_one_line(&run(dir.path(), db.url(), args), why);
    }

    // Stored only as a hash, found by it.
    let store = latchkey_core::testing::open_like_a_server(db);
    let hash = store.hasher().unwrap().hash(&secret);
    let record = store.read(move |repo| repo.find_token_by_access_token(&hash)).unwrap().unwrap();
    assert_eq!(record.username.as_ref().map(|u| u.as_str()), Some("alice"));

    let listed = stdout(&ok(&["token", "list"]));
    assert_eq!(listed.lines().count(), 3, "{listed}");
    assert!(
        listed.contains("personal") && listed.contains("api-key") && listed.contains("deploy"),
        "{listed}"
    );
    assert!(!listed.contains("lk_pat_"), "never a secret: {listed}");
    let alice_only = stdout(&ok(&["token", "list", "--user", "alice"]));
    assert_eq!(alice_only.lines().count(), 2, "{alice_only}");
    assert_eq!(stdout(&ok(&["token", "list", "--client", "app"])).lines().count(), 2);

    let id = record.id.to_string();
    assert_eq!(stdout(&ok(&["token", "revoke", &id])).trim(), "1");
    assert_eq!(stdout(&ok(&["token", "revoke", &id])).trim(), "0");
    assert_eq!(stdout(&ok(&["token", "list", "--user", "alice"])).lines().count(), 1, "only the header left");
    assert_fails_in_one_line(&run(dir.path(), db.url(), &["token", "revoke", "nonsense"]), "no such token");
}

fn kids_of(output: &Output) -> Vec<String> {
    let text = stdout(output);
    let line = text.lines().find_map(|l| l.strip_prefix("signing keys rotated; published key ids: "));
    line.unwrap_or_else(|| panic!("no key ids in {text:?}")).split(' ').map(str::to_owned).collect()
}

fn keys_rotate_keeps_old_keys_published(db: &TestDatabase) {
    let dir = tempfile::tempdir().unwrap();
    let generated = latchkey(dir.path()).args(["keys", "new-encryption-key"]).output().unwrap();
    let kek = stdout(&generated).trim().to_owned();
    assert_eq!(kek.len(), 43, "{kek:?}");
    assert_ne!(
        kek,
        stdout(&latchkey(dir.path()).args(["keys", "new-encryption-key"]).output().unwrap()).trim()
    );

    let rotate = |key: Option<&str>| {
        let mut command = latchkey(dir.path());
        command.env("LATCHKEY_ISSUER", "https://id.example.com");
        if let Some(key) = key {
            command.env("LATCHKEY_KEY_ENCRYPTION_KEY", key);
        }
        command.arg("--database-url").arg(db.url()).args(["keys", "rotate"]).output().unwrap()
    };
    assert_fails_in_one_line(&rotate(None), "LATCHKEY_KEY_ENCRYPTION_KEY");

    let first = rotate(Some(&kek));
    assert!(first.status.success(), "{}", stderr(&first));
    let first = kids_of(&first);
    assert_eq!(first.len(), 3, "one RS256, one ES256 and one EdDSA key: {first:?}");
    let second = kids_of(&rotate(Some(&kek)));
    assert_eq!(second.len(), 6, "{second:?}");
    assert!(first.iter().all(|kid| second.contains(kid)), "retired keys stay published");
    let unique: std::collections::BTreeSet<_> = second.iter().collect();
    assert_eq!(unique.len(), 6, "every kid is unique");

    let other_kek = stdout(&latchkey(dir.path()).args(["keys", "new-encryption-key"]).output().unwrap());
    assert_fails_in_one_line(&rotate(Some(other_kek.trim())), "cannot be decrypted");
    let third = kids_of(&rotate(Some(&kek)));
    assert_eq!(third.len(), 9, "the refused rotation wrote nothing: {third:?}");

    // Rotating the key-encryption key: the new one first, the old one after it, then re-encrypt.
    let other_kek = other_kek.trim();
    let reencrypt = |key: &str| {
        let mut command = latchkey(dir.path());
        command.env("LATCHKEY_ISSUER", "https://id.example.com").env("LATCHKEY_KEY_ENCRYPTION_KEY", key);
        command.arg("--database-url").arg(db.url()).args(["keys", "reencrypt"]).output().unwrap()
    };
    let both = format!("{other_kek},{kek}");
    let rewritten = reencrypt(&both);
    assert!(stdout(&rewritten).starts_with("9 signing key(s) re-encrypted"), "{}", stderr(&rewritten));
    assert!(stdout(&rewritten).contains("the hash key: re-encrypted"), "{}", stdout(&rewritten));
    let again = stdout(&reencrypt(&both));
    assert!(again.starts_with("0 signing key(s)") && again.contains("the hash key: already"), "{again}");
    let fourth = kids_of(&rotate(Some(other_kek)));
    assert_eq!(fourth.len(), 12, "the new key alone reads every key: {fourth:?}");
    assert_fails_in_one_line(&rotate(Some(&kek)), "cannot be decrypted");
}

#[test]
fn bad_input_creates_no_database() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(
        dir.path(),
        "sqlite://fresh.db",
        &["client", "add", "--id", "bad id", "--grant-type", "client_credentials"],
    );
    assert_fails_in_one_line(&output, "client_id");
    assert!(!dir.path().join("fresh.db").exists());
    assert_fails_in_one_line(&run(dir.path(), "mysql://nope", &["migrate"]), "unsupported database URL");
}

#[test]
fn migrate_creates_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let first = run(dir.path(), "sqlite://lk.db", &["migrate"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let applied = |out: &str| -> u32 {
        out.split('(').nth(1).and_then(|n| n.split_whitespace().next()).unwrap().parse().unwrap()
    };
    assert!(applied(&stdout(&first)) >= 1, "{}", stdout(&first));
    assert!(dir.path().join("lk.db").exists());
    assert_eq!(applied(&stdout(&run(dir.path(), "sqlite://lk.db", &["migrate"]))), 0);
}

#[test]
fn settings_come_from_flag_then_env_then_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("latchkey.toml"), "database_url = \"sqlite://from-file.db\"\n").unwrap();
    let file_only = latchkey(dir.path()).args(["--config", "latchkey.toml", "migrate"]).output().unwrap();
    assert!(file_only.status.success(), "{}", stderr(&file_only));
    assert!(dir.path().join("from-file.db").exists());
    let env = latchkey(dir.path())
        .env("LATCHKEY_DATABASE_URL", "sqlite://from-env.db")
        .args(["--config", "latchkey.toml", "migrate"])
        .output()
        .unwrap();
    assert!(env.status.success());
    assert!(dir.path().join("from-env.db").exists());
    let flag = latchkey(dir.path())
        .env("LATCHKEY_DATABASE_URL", "sqlite://from-env.db")
        .args(["--config", "latchkey.toml", "--database-url", "sqlite://from-flag.db", "migrate"])
        .output()
        .unwrap();
    assert!(flag.status.success());
    assert!(dir.path().join("from-flag.db").exists());
    std::fs::write(dir.path().join("typo.toml"), "databse_url = \"x\"\n").unwrap();
    assert_fails_in_one_line(
        &latchkey(dir.path()).args(["--config", "typo.toml", "migrate"]).output().unwrap(),
        "unknown field",
    );
}

/// A running `latchkey serve`, killed (as abruptly as a crash) when dropped, even if the test fails.
struct ServerProcess(Child);

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `latchkey serve` and returns it with everything it printed up to "listening on URL".
fn start_server(dir: &Path, extra: &[&str]) -> (ServerProcess, String, Vec<String>) {
    let child = latchkey(dir)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = ServerProcess(child);
    let mut lines = BufReader::new(server.0.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    loop {
        let line = lines.next().expect("server printed its address").unwrap();
        if let Some(rest) = line.strip_prefix("listening on ") {
            let url = rest.split_whitespace().next().unwrap().to_owned();
            return (server, url, printed);
        }
        printed.push(line);
    }
}

/// A bare HTTP/1.1 GET: status code and body.
fn http_get(url: &str, path: &str) -> (u16, String) {
    let authority = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(authority).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

#[test]
fn serve_demo_starts_answers_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (server, url, printed) = start_server(dir.path(), &["--demo"]);
    let printed = printed.join("\n");
    assert!(printed.contains("user:          demo / "), "{printed}");
    assert!(printed.contains("client_secret: lk_cs_"), "{printed}");
    assert!(
        printed.contains(&format!("authorize:     {url}/authorize?response_type=code&client_id=demo")),
        "{printed}"
    );
    assert!(printed.contains("code_challenge_method=S256"), "{printed}");
    assert_eq!(http_get(&url, "/healthz").0, 200);
    assert_eq!(http_get(&url, "/readyz").0, 200);
    let (status, body) = http_get(&url, "/.well-known/openid-configuration");
    assert_eq!(status, 200);
    assert!(body.contains(&format!("\"issuer\":\"{url}\"")), "{body}");
    drop(server); // killed, as abruptly as a crash

    let (server, url, printed) = start_server(dir.path(), &["--demo"]);
    assert!(printed.join("\n").contains("already has users or clients"), "{printed:?}");
    assert_eq!(http_get(&url, "/readyz").0, 200);
    drop(server);
    let users = stdout(&latchkey(dir.path()).args(["user", "list"]).output().unwrap());
    assert!(users.contains("demo"), "{users}");
    let clients = stdout(&latchkey(dir.path()).args(["client", "list"]).output().unwrap());
    assert!(clients.contains("http://127.0.0.1:9000/callback"), "{clients}");
}

#[test]
fn serve_refuses_a_bad_issuer_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let output = latchkey(dir.path())
        .args(["serve", "--issuer", "ftp://x", "--bind", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_fails_in_one_line(&output, "issuer");
}

/// A database written before keyed hashes: every command refuses it, naming the command that converts it;
/// that command converts it once, and afterwards the stored client secret works.
fn an_upgraded_database_is_converted_on_purpose(db: &TestDatabase) {
    use latchkey_model::{ClientCredentials, SecretHash};
    use sha2::{Digest, Sha256};
    let dir = tempfile::tempdir().unwrap();
    let secret = "an-earlier-client-secret-0123456789abcdefghij";
    let plain: String = Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    let mut client = latchkey_store::testing::bare_client("old", Timestamp::from_unix_seconds(1_800_000_000));
    client.credentials = ClientCredentials::Secret(SecretHash::from_hex(&plain).unwrap());
    db.open().unwrap().write(move |repo| repo.insert_client(&client)).unwrap();

    assert_fails_in_one_line(&run(dir.path(), db.url(), &["client", "list"]), "latchkey keys convert-hashes");
    let converted = run(dir.path(), db.url(), &["keys", "convert-hashes"]);
    assert!(converted.status.success(), "{}", stderr(&converted));
    assert!(stdout(&converted).starts_with("1 row(s) converted"), "{}", stdout(&converted));
    assert_fails_in_one_line(&run(dir.path(), db.url(), &["keys", "convert-hashes"]), "hash key already");

    let store = latchkey_core::testing::open_like_a_server(db);
    let id = ClientId::parse("old").unwrap();
    let stored = store.read(move |repo| repo.find_client(&id)).unwrap().unwrap();
    let ClientCredentials::Secret(hash) = stored.credentials else { panic!("{stored:?}") };
    assert!(store.hasher().unwrap().verify(&hash, secret), "the secret works under the keyed hash");
    assert!(stdout(&run(dir.path(), db.url(), &["client", "list"])).contains("old"));
}
