//! The real `impsd` binary on a data directory: provisioning, `serve` on a free loopback port,
//! SIGKILL, and the offline commands (`check`, `backup`). Every server process is owned by a
//! [`Server`] whose `Drop` kills and reaps it, so a failing test leaves nothing running.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::client::Http;

/// The `impsd` binary under test.
pub(crate) fn impsd() -> &'static str {
    env!("CARGO_BIN_EXE_impsd")
}

/// A free TCP port on 127.0.0.1 (bound and released).
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Runs `impsd ARGS...` to completion and returns its output.
pub(crate) fn run_impsd(args: &[&str], data: &Path) -> Output {
    Command::new(impsd())
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .output()
        .expect("impsd runs")
}

/// Runs `impsd ARGS...` and fails the test unless it exits 0; returns stdout.
pub(crate) fn impsd_ok(args: &[&str], data: &Path) -> String {
    let out = run_impsd(args, data);
    assert!(
        out.status.success(),
        "impsd {args:?} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Creates users `PREFIX1..=PREFIXcount` with password `pw` in a data directory of `shards`.
pub(crate) fn provision(data: &Path, shards: u16, prefix: &str, count: usize, pw: &str) {
    let shards = shards.to_string();
    let count = count.to_string();
    impsd_ok(
        &[
            "users",
            "generate",
            "--shards",
            &shards,
            "--count",
            &count,
            "--prefix",
            prefix,
            "--password",
            pw,
        ],
        data,
    );
}

/// Starts `impsd serve --shards shards` on `data` and SIGKILLs it after `after`, whatever it
/// is doing then (recovering, redistributing, serving).
pub(crate) fn start_and_kill_after(data: &Path, shards: u16, after: Duration) {
    let addr = format!("127.0.0.1:{}", free_port());
    let mut child = Command::new(impsd())
        .args([
            "serve",
            "--no-pin",
            "--listen",
            &addr,
            "--shards",
            &shards.to_string(),
        ])
        .arg("--data-dir")
        .arg(data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("impsd serve starts");
    std::thread::sleep(after);
    let _ = child.kill();
    let _ = child.wait();
}

/// A running `impsd serve`; killed (SIGKILL) and reaped when dropped.
pub(crate) struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    /// Starts `impsd serve` on `data` with `--shards shards` (if given) and waits until
    /// `/health` answers 200. `extra_config` is appended to the TOML configuration.
    pub(crate) fn start(data: &Path, shards: Option<u16>, extra_config: &str) -> Server {
        Server::start_logging_to(data, shards, extra_config, data.parent().unwrap_or(data))
    }

    /// [`Server::start`] with its configuration and log files in `aux` (not next to the
    /// data directory, when that is on a file system the test fills up).
    pub(crate) fn start_logging_to(
        data: &Path,
        shards: Option<u16>,
        extra_config: &str,
        aux: &Path,
    ) -> Server {
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
        let config = aux.join(format!("impsd-{}.toml", addr.port()));
        std::fs::write(
            &config,
            format!("listen = [\"{addr}\"]\npin = false\n{extra_config}"),
        )
        .expect("config");
        // The server's log, next to the data directory (read when startup fails).
        let log_path = aux.join(format!("impsd-{}.log", addr.port()));
        let log = std::fs::File::create(&log_path).expect("log file");
        let mut cmd = Command::new(impsd());
        // Snapshots (and the deletion of the segments they cover) often enough to happen
        // in the middle of the tests' load and kills.
        cmd.env("IMPS_SNAPSHOT_EVERY", "100")
            .arg("serve")
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(data)
            .stdout(Stdio::null())
            .stderr(Stdio::from(log));
        if let Some(n) = shards {
            cmd.arg("--shards").arg(n.to_string());
        }
        let child = cmd.spawn().expect("impsd serve starts");
        let mut server = Server { child, addr };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                let err = std::fs::read_to_string(&log_path).unwrap_or_default();
                panic!("impsd serve exited at startup ({status}): {err}");
            }
            if Http::new(addr).get("/health").is_ok_and(|(s, _)| s == 200) {
                break;
            }
            assert!(Instant::now() < deadline, "impsd did not become healthy");
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = std::fs::remove_file(&config);
        server
    }

    /// The HTTP address.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// SIGKILL, then reap.
    pub(crate) fn kill(mut self) {
        self.kill_now();
    }

    fn kill_now(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait for a clean exit (exit status 0).
    pub(crate) fn stop(mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "impsd exits 0 on SIGTERM: {status}");
                return;
            }
            assert!(Instant::now() < deadline, "impsd did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill_now();
    }
}
