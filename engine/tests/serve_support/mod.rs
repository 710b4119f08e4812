//! The harness of the `impsd serve` tests: the real binary on free loopback ports with a
//! real data directory (users alice and bob, group /lobby, on 2 shards), and raw HTTP/1.1
//! over `std::net::TcpStream`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) const CSP12: &str = "http://www.openmobilealliance.org/DTD/WV-CSP1.2";
pub(crate) const TRC12: &str = "http://www.openmobilealliance.org/DTD/WV-TRC1.2";

/// Status, headers (lowercase names), body.
pub(crate) struct Response(pub u16, pub Vec<(String, String)>, pub Vec<u8>);

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) http: SocketAddr,
    pub(crate) stcp: SocketAddr,
    pub(crate) _dir: tempfile::TempDir,
}

impl Server {
    pub(crate) fn start(extra_config: &str) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        let bin = env!("CARGO_BIN_EXE_impsd");
        for (user, pw) in [("alice", "a-pw"), ("bob", "b-pw")] {
            let out = Command::new(bin)
                .args([
                    "users",
                    "add",
                    "--shards",
                    "2",
                    "--user",
                    user,
                    "--password",
                    pw,
                ])
                .arg("--data-dir")
                .arg(&data)
                .output()
                .expect("impsd users add");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let out = Command::new(bin)
            .args([
                "groups",
                "add",
                "--shards",
                "2",
                "--group",
                "/lobby",
                "--name",
                "Lobby",
                "--welcome",
                "Welcome to the lobby",
            ])
            .arg("--data-dir")
            .arg(&data)
            .output()
            .expect("impsd groups add");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let http: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
        let stcp: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
        let config = dir.path().join("impsd.toml");
        std::fs::write(
            &config,
            format!(
                "listen = [\"{http}\"]\npin = false\n[cir]\ntcp = \"{stcp}\"\nudp = true\nhttp = true\n{extra_config}"
            ),
        )
        .expect("config");
        // A relative data directory, as an operator types it (the shards' executors must
        // still find their files).
        let child = Command::new(bin)
            .current_dir(dir.path())
            .arg("serve")
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg("data")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("impsd serve starts");
        let server = Server {
            child,
            http,
            stcp,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Response(200, _, _)) = server.request("GET", "/health", &[], b"") {
                break;
            }
            assert!(Instant::now() < deadline, "server did not become healthy");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// One request on a fresh connection; (status, headers, body).
    pub(crate) fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<Response> {
        let mut s = TcpStream::connect(self.http)?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        s.write_all(head.as_bytes())?;
        s.write_all(body)?;
        let mut r = BufReader::new(s);
        let Response(status, headers, body) = read_response(&mut r, method == "HEAD")?;
        Ok(Response(status, headers, body))
    }

    pub(crate) fn post_csp(
        &self,
        content_type: &str,
        body: &str,
    ) -> (u16, Vec<(String, String)>, String) {
        let Response(status, headers, body) = self
            .request(
                "POST",
                "/imps",
                &[("Content-Type", content_type)],
                body.as_bytes(),
            )
            .expect("request");
        (status, headers, String::from_utf8_lossy(&body).into_owned())
    }

    /// POSTs one CSP 1.2 request in session `sid`; the answer (HTTP 200 required).
    pub(crate) fn post_in(&self, sid: &str, tid: &str, content: &str) -> String {
        let body = envelope(CSP12, TRC12, Some(sid), tid, content);
        let (status, _, body) = self.post_csp("application/vnd.wv.csp.xml", &body);
        assert_eq!(status, 200, "{body}");
        body
    }

    pub(crate) fn stop(mut self) -> String {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "impsd exits 0 on SIGTERM: {status}");
                break;
            }
            assert!(Instant::now() < deadline, "impsd did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut out = String::new();
        if let Some(mut o) = self.child.stdout.take() {
            let _ = o.read_to_string(&mut out);
        }
        out
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn read_response(r: &mut impl BufRead, head: bool) -> std::io::Result<Response> {
    let mut line = String::new();
    r.read_line(&mut line)?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        r.read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; if head { 0 } else { len }];
    r.read_exact(&mut body)?;
    Ok(Response(status, headers, body))
}

pub(crate) fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub(crate) fn envelope(
    csp: &str,
    trc: &str,
    session: Option<&str>,
    tid: &str,
    content: &str,
) -> String {
    let descriptor = match session {
        Some(s) => format!(
            "<SessionDescriptor><SessionType>Inband</SessionType><SessionID>{s}</SessionID></SessionDescriptor>"
        ),
        None => "<SessionDescriptor><SessionType>Outband</SessionType></SessionDescriptor>".into(),
    };
    format!(
        "<?xml version=\"1.0\"?><WV-CSP-Message xmlns=\"{csp}\"><Session>{descriptor}<Transaction>\
         <TransactionDescriptor><TransactionMode>Request</TransactionMode><TransactionID>{tid}\
         </TransactionID></TransactionDescriptor><TransactionContent xmlns=\"{trc}\">{content}\
         </TransactionContent></Transaction></Session></WV-CSP-Message>"
    )
}

pub(crate) fn login_body(csp: &str, trc: &str, user: &str, pw: &str, client: &str) -> String {
    envelope(
        csp,
        trc,
        None,
        "login",
        &format!(
            "<Login-Request><UserID>{user}</UserID><ClientID><URL>{client}</URL></ClientID>\
             <Password>{pw}</Password><SessionCookie>cookie-{user}</SessionCookie></Login-Request>"
        ),
    )
}

pub(crate) fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let end = start + text[start..].find(close)?;
    Some(&text[start..end])
}

pub(crate) fn login(server: &Server, user: &str, pw: &str, client: &str) -> String {
    let (status, _, body) = server.post_csp(
        "application/vnd.wv.csp.xml",
        &login_body(CSP12, TRC12, user, pw, client),
    );
    assert_eq!(status, 200, "{body}");
    between(&body, "<SessionID>", "</SessionID>")
        .unwrap_or_else(|| panic!("no session: {body}"))
        .to_owned()
}
