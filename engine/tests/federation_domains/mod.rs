//! The harness of the federation tests: real `impsd` processes on loopback, one per domain,
//! each with its own data directory and port, driven over CSP with a plain HTTP/1.1 client.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) const CSP12: &str = "http://www.openmobilealliance.org/DTD/WV-CSP1.2";
pub(crate) const TRC12: &str = "http://www.openmobilealliance.org/DTD/WV-TRC1.2";

/// Federation timing for tests: quick retries, a short wait for remote answers.
pub(crate) const FEDERATION: &str =
    "[federation]\nretry_initial_ms = 200\nretry_max_ms = 400\nanswer_wait_ms = 2000\n";

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

pub(crate) fn add_user(data: &Path, domain: &str, user: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_impsd"))
        .args(["users", "add", "--shards", "2", "--domain", domain])
        .args(["--user", user, "--password", "pw", "--data-dir"])
        .arg(data)
        .output()
        .expect("impsd users add");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One domain's data directory and its port (the server may be stopped and started again).
pub(crate) struct Domain {
    pub(crate) name: String,
    pub(crate) port: u16,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) args: Vec<String>,
    pub(crate) child: Option<Child>,
}

impl Domain {
    pub(crate) fn new(name: &str, users: &[&str]) -> Domain {
        let dir = tempfile::tempdir().expect("tempdir");
        for u in users {
            add_user(&dir.path().join("data"), name, u);
        }
        Domain {
            name: name.to_owned(),
            port: free_port(),
            dir,
            args: Vec::new(),
            child: None,
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}/ssp", self.port)
    }

    pub(crate) fn peer(&mut self, other: &Domain) {
        self.args.push("--peer".into());
        self.args.push(format!("{}={}", other.name, other.url()));
    }

    pub(crate) fn route(&mut self, domain: &str, via: &str) {
        self.args.push("--route".into());
        self.args.push(format!("{domain}={via}"));
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub(crate) fn start(&mut self) {
        let config = self.dir.path().join("impsd.toml");
        std::fs::write(
            &config,
            format!(
                "listen = [\"{}\"]\npin = false\nshards = 2\n{FEDERATION}",
                self.addr()
            ),
        )
        .expect("config");
        let child = Command::new(env!("CARGO_BIN_EXE_impsd"))
            .arg("serve")
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(self.dir.path().join("data"))
            .args(["--domain", &self.name])
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("impsd serve starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !matches!(self.request("GET", "/health", &[], b""), Ok((200, _))) {
            assert!(
                Instant::now() < deadline,
                "{} did not become healthy",
                self.name
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while !matches!(child.try_wait(), Ok(Some(_))) {
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    pub(crate) fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<(u16, String)> {
        let mut s = TcpStream::connect(self.addr())?;
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
        let mut line = String::new();
        r.read_line(&mut line)?;
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
        let mut len = 0usize;
        loop {
            line.clear();
            r.read_line(&mut line)?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                len = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; len];
        r.read_exact(&mut body)?;
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    pub(crate) fn csp(&self, session: Option<&str>, tid: &str, content: &str) -> String {
        let descriptor = match session {
            Some(s) => format!(
                "<SessionDescriptor><SessionType>Inband</SessionType><SessionID>{s}</SessionID>\
                 </SessionDescriptor>"
            ),
            None => {
                "<SessionDescriptor><SessionType>Outband</SessionType></SessionDescriptor>".into()
            }
        };
        // A client's answer to a server request: MessageDelivered or any `...-Response`.
        let first = content
            .trim_start()
            .trim_start_matches('<')
            .split(|c: char| c == '>' || c == '/' || c.is_whitespace())
            .next()
            .unwrap_or_default();
        let mode = if first == "MessageDelivered" || first.ends_with("-Response") {
            "Response"
        } else {
            "Request"
        };
        let body = format!(
            "<?xml version=\"1.0\"?><WV-CSP-Message xmlns=\"{CSP12}\"><Session>{descriptor}\
             <Transaction><TransactionDescriptor><TransactionMode>{mode}</TransactionMode>\
             <TransactionID>{tid}</TransactionID></TransactionDescriptor><TransactionContent \
             xmlns=\"{TRC12}\">{content}</TransactionContent></Transaction></Session>\
             </WV-CSP-Message>"
        );
        let (status, body) = self
            .request(
                "POST",
                "/imps",
                &[("Content-Type", "application/vnd.wv.csp.xml")],
                body.as_bytes(),
            )
            .expect("CSP request");
        assert_eq!(status, 200, "{body}");
        body
    }

    pub(crate) fn login(&self, user: &str) -> String {
        let body = self.csp(
            None,
            "login",
            &format!(
                "<Login-Request><UserID>{user}</UserID><ClientID><URL>http://{user}.example/\
                 </URL></ClientID><Password>pw</Password><SessionCookie>c-{user}</SessionCookie>\
                 </Login-Request>"
            ),
        );
        between(&body, "<SessionID>", "</SessionID>")
            .unwrap_or_else(|| panic!("no session: {body}"))
            .to_owned()
    }

    /// Polls `sid` until an answer contains `what` (bounded).
    pub(crate) fn poll_until(&self, sid: &str, what: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(8);
        let mut n = 0;
        loop {
            n += 1;
            let polled = self.csp(Some(sid), &format!("poll{n}"), "<Polling-Request/>");
            if polled.contains(what) {
                return polled;
            }
            assert!(
                Instant::now() < deadline,
                "{}: no {what} in time (last: {polled})",
                self.name
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub(crate) fn metrics(&self) -> String {
        self.request("GET", "/metrics", &[], b"")
            .expect("metrics")
            .1
    }
}

impl Drop for Domain {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub(crate) fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let end = start + text[start..].find(close)?;
    Some(&text[start..end])
}

pub(crate) fn send(to: &str, report: bool, text: &str) -> String {
    let report = if report { "T" } else { "F" };
    format!(
        "<SendMessage-Request><DeliveryReport>{report}</DeliveryReport><MessageInfo>\
         <ContentType>text/plain</ContentType><Recipient><User><UserID>{to}</UserID></User>\
         </Recipient></MessageInfo><ContentData>{text}</ContentData></SendMessage-Request>"
    )
}

/// Confirms a pushed message (MessageDelivered), which sends the delivery report.
pub(crate) fn confirm(domain: &Domain, sid: &str, polled: &str) {
    let tid = between(polled, "<TransactionID>", "</TransactionID>").expect("a TransactionID");
    let mid = between(polled, "<MessageID>", "</MessageID>").expect("a MessageID");
    let body = domain.csp(
        Some(sid),
        tid,
        &format!("<MessageDelivered><MessageID>{mid}</MessageID></MessageDelivered>"),
    );
    assert!(!body.contains("<Code>4"), "{body}");
}

pub(crate) fn pair() -> (Domain, Domain) {
    let mut a = Domain::new("a.test", &["alice"]);
    let mut b = Domain::new("b.test", &["bob"]);
    a.peer(&b);
    b.peer(&a);
    (a, b)
}
