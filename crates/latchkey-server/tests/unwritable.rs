//! A SQLite database this server may not write: the database file, or a `-shm` index left behind by a
//! process of another user that crashed. SQLite reports both; the server must say so and stop with an error
//! code, never be killed by a signal (SIGBUS from a mapped index it cannot extend) or start up read-only.
//!
//! The server runs as `nobody` against files owned by root, so these tests need root (which ignores file
//! modes itself): run them with `--ignored as_root`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod as_root {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::ExitStatusExt;
    use std::path::{Path, PathBuf};
    use std::process::{Command, Output, Stdio};
    use std::time::{Duration, Instant};

    const USER: &str = "nobody";

    /// A directory the unprivileged user owns, removed afterwards.
    struct Dir(PathBuf);

    impl Dir {
        fn new() -> Self {
            let dir =
                std::env::temp_dir().join(format!("latchkey-unwritable-{:016x}", rand::random::<u64>()));
            std::fs::create_dir_all(&dir).unwrap();
            let chown = Command::new("chown").arg(USER).arg(&dir).status().unwrap();
            assert!(chown.success(), "chown needs root");
            Self(dir)
        }

        fn database(&self) -> PathBuf {
            self.0.join("latchkey.db")
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// `latchkey ARGS` as the unprivileged user in `dir`.
    fn as_user(dir: &Path, args: &[&str]) -> Command {
        let mut command = Command::new("runuser");
        command.args(["-u", USER, "--", env!("CARGO_BIN_EXE_latchkey")]).args(args);
        command.current_dir(dir).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
        command
    }

    /// Runs `latchkey serve` until it exits or `limit` passes (then it is killed, and that is a failure).
    fn serve_until_exit(dir: &Path, limit: Duration) -> Output {
        let mut child = as_user(dir, &["serve", "--bind", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > limit {
                let _ = child.kill();
                let output = child.wait_with_output().unwrap();
                panic!(
                    "the server started on a database it cannot write: {}",
                    String::from_utf8_lossy(&output.stdout)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        child.wait_with_output().unwrap()
    }

    fn assert_refused_cleanly(output: &Output) {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.signal(), None, "killed by a signal: {stderr}");
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("readonly database") || stderr.contains("unable to open"), "{stderr}");
    }

    fn owned_by_root_read_only(path: &Path) {
        let chown = Command::new("chown").arg("root:root").arg(path).status().unwrap();
        assert!(chown.success());
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o444)).unwrap();
    }

    #[test]
    #[ignore = "runs the server as another user: needs root; run with --ignored as_root"]
    fn a_database_file_it_may_not_write_stops_the_server_with_an_error() {
        let dir = Dir::new();
        let made = as_user(&dir.0, &["migrate"]).output().unwrap();
        assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
        owned_by_root_read_only(&dir.database());
        assert_refused_cleanly(&serve_until_exit(&dir.0, Duration::from_secs(20)));
    }

    #[test]
    #[ignore = "runs the server as another user: needs root; run with --ignored as_root"]
    fn an_index_left_unwritable_by_a_crashed_process_stops_the_server_with_an_error() {
        let dir = Dir::new();
        // A server killed with SIGKILL leaves its write-ahead log and its `-shm` index behind.
        let mut crashed = as_user(&dir.0, &["serve", "--bind", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = std::io::BufReader::new(crashed.stdout.take().unwrap());
        let mut line = String::new();
        std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
        assert!(line.starts_with("listening on"), "{line}");
        crashed.kill().unwrap();
        crashed.wait().unwrap();
        let index = dir.0.join("latchkey.db-shm");
        assert!(index.exists(), "a crash leaves the index behind");
        owned_by_root_read_only(&index);
        assert_refused_cleanly(&serve_until_exit(&dir.0, Duration::from_secs(20)));
    }
}
