//! WBXML over real HTTP: `impsd serve` on a free loopback port, a WBXML Login and KeepAlive
//! in CSP 1.2 (`application/vnd.wv.csp.wbxml`) and 1.3 (`application/vnd.wv.csp+wbxml`),
//! answered in WBXML of the same content type family.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use imps_protocol::{Encoding, Message, Primitive, Version, decode, encode_wbxml};

/// Status, headers (lowercase names), body.
struct Response(u16, Vec<(String, String)>, Vec<u8>);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A running `impsd serve` with user `alice` (password `a-pw`).
struct Server {
    child: Child,
    http: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start() -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        let bin = env!("CARGO_BIN_EXE_impsd");
        let out = Command::new(bin)
            .args(["users", "add", "--shards", "2", "--user", "alice"])
            .args(["--password", "a-pw"])
            .arg("--data-dir")
            .arg(&data)
            .output()
            .expect("impsd users add");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let http: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
        let config = dir.path().join("impsd.toml");
        std::fs::write(&config, format!("listen = [\"{http}\"]\npin = false\n")).expect("config");
        let child = Command::new(bin)
            .arg("serve")
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(&data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("impsd serve starts");
        let server = Server {
            child,
            http,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !matches!(
            server.request("GET", "/health", None, b""),
            Ok(Response(200, _, _))
        ) {
            assert!(Instant::now() < deadline, "server did not become healthy");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// One request on a fresh connection.
    fn request(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> std::io::Result<Response> {
        let mut s = TcpStream::connect(self.http)?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        if let Some(ct) = content_type {
            head.push_str(&format!("Content-Type: {ct}\r\n"));
        }
        head.push_str("\r\n");
        s.write_all(head.as_bytes())?;
        s.write_all(body)?;
        read_response(&mut BufReader::new(s))
    }

    /// POSTs `message` as WBXML with `content_type`; checks the answer is WBXML of the same
    /// type and returns it decoded.
    fn post_wbxml(&self, content_type: &str, message: &Message) -> Message {
        let Response(status, headers, body) = self
            .request("POST", "/imps", Some(content_type), &encode_wbxml(message))
            .expect("request");
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let answered = headers
            .iter()
            .find(|(k, _)| k == "content-type")
            .map(|(_, v)| v.as_str());
        assert_eq!(answered, Some(content_type));
        assert_eq!(
            body.first(),
            Some(&0x03),
            "WBXML 1.3 header expected: {body:02x?}"
        );
        decode(&body, Encoding::Wbxml).unwrap_or_else(|e| panic!("{e}: {body:02x?}"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_response(r: &mut impl BufRead) -> std::io::Result<Response> {
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
    let mut body = vec![0; len];
    r.read_exact(&mut body)?;
    Ok(Response(status, headers, body))
}

/// A one-transaction request of `version`, built from XML.
fn request(version: Version, session: Option<&str>, tid: &str, content: &str) -> Message {
    let descriptor = match session {
        Some(s) => format!(
            "<SessionDescriptor><SessionType>Inband</SessionType><SessionID>{s}</SessionID>\
             </SessionDescriptor>"
        ),
        None => "<SessionDescriptor><SessionType>Outband</SessionType></SessionDescriptor>".into(),
    };
    let xml = format!(
        "<WV-CSP-Message xmlns=\"{}\"><Session>{descriptor}<Transaction><TransactionDescriptor>\
         <TransactionMode>Request</TransactionMode><TransactionID>{tid}</TransactionID>\
         </TransactionDescriptor><TransactionContent xmlns=\"{}\">{content}</TransactionContent>\
         </Transaction></Session></WV-CSP-Message>",
        version.csp_namespace(),
        version.trc_namespace()
    );
    decode(xml.as_bytes(), Encoding::Xml).expect("request XML decodes")
}

#[test]
fn wbxml_login_and_keep_alive() {
    let server = Server::start();
    for (version, content_type) in [
        (Version::V1_2, "application/vnd.wv.csp.wbxml"),
        (Version::V1_3, "application/vnd.wv.csp+wbxml"),
    ] {
        let login = request(
            version,
            None,
            "login",
            "<Login-Request><UserID>alice</UserID><ClientID><URL>wbxml-test</URL></ClientID>\
             <Password>a-pw</Password><SessionCookie>cookie-a</SessionCookie></Login-Request>",
        );
        let answer = server.post_wbxml(content_type, &login);
        assert_eq!(answer.version, version);
        let t = &answer.session.transactions[0];
        assert_eq!(
            t.descriptor.id.as_ref().map(|i| i.0.as_str()),
            Some("login")
        );
        let Primitive::LoginResponse(response) = &t.content else {
            panic!("not a Login-Response: {answer:#?}");
        };
        assert_eq!(response.result.code, 200, "{answer:#?}");
        let session = response
            .session_id
            .as_ref()
            .map(|s| s.0.clone())
            .expect("a session id");

        let keep_alive = request(
            version,
            Some(&session),
            "ka1",
            "<KeepAlive-Request><TimeToLive>300</TimeToLive></KeepAlive-Request>",
        );
        let answer = server.post_wbxml(content_type, &keep_alive);
        let t = &answer.session.transactions[0];
        assert_eq!(t.descriptor.id.as_ref().map(|i| i.0.as_str()), Some("ka1"));
        let Primitive::KeepAliveResponse(response) = &t.content else {
            panic!("not a KeepAlive-Response: {answer:#?}");
        };
        assert_eq!(response.result.code, 200, "{answer:#?}");
        assert!(response.keep_alive_time.is_some_and(|s| s > 0));
    }
    // Truncated WBXML is a transport error, not a crash.
    let login = request(Version::V1_2, None, "x", "<Logout-Request/>");
    let bytes = encode_wbxml(&login);
    let Response(status, _, _) = server
        .request(
            "POST",
            "/imps",
            Some("application/vnd.wv.csp.wbxml"),
            &bytes[..bytes.len() / 2],
        )
        .expect("request");
    assert_eq!(status, 400);
}
