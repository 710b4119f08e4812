//! IM throughput across an SSP federation link: two real `impsd` processes on loopback
//! (a.test and b.test, 2 shards each), `CLIENTS` users of a.test each sending `MESSAGES`
//! messages, one after another on a keep-alive connection, to their own (offline) user of
//! b.test. Every SendMessage is answered once b.test has stored the message durably and its
//! answer came back over SSP (a POST each way). Prints messages/s (wall clock) and the CPU
//! time of both servers per message (from /proc, user + system).
//!
//! Run: `benches/federation/run.sh [CLIENTS] [MESSAGES]` (builds `impsd` in release), or
//! `cargo run --release -p imps-benches --bin federation-im -- PATH/TO/impsd [CLIENTS] [MESSAGES]`

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CSP12: &str = "http://www.openmobilealliance.org/DTD/WV-CSP1.2";
const TRC12: &str = "http://www.openmobilealliance.org/DTD/WV-TRC1.2";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A running server, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Server {
    /// CPU time (user + system) of the process so far, in clock ticks (1/100 s).
    fn cpu_ticks(&self) -> u64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.0.id())).unwrap_or_default();
        // Fields after the command name (which ends with the last ')').
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let field = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        field(11) + field(12)
    }
}

fn add_users(impsd: &Path, data: &Path, domain: &str, users: &[String]) {
    for u in users {
        let ok = Command::new(impsd)
            .args(["users", "add", "--shards", "2", "--domain", domain])
            .args(["--user", u, "--password", "pw", "--data-dir"])
            .arg(data)
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "impsd users add {u}");
    }
}

fn start(impsd: &Path, data: &Path, domain: &str, port: u16, peer: &str) -> Server {
    let child = Command::new(impsd)
        .args(["serve", "--no-pin", "--shards", "2", "--domain", domain])
        .arg("--data-dir")
        .arg(data)
        .args(["--listen", &format!("127.0.0.1:{port}"), "--peer", peer])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("impsd serve");
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    while Conn::open(addr)
        .and_then(|mut c| c.request("GET", "/health", ""))
        .is_err()
    {
        assert!(Instant::now() < deadline, "{domain} did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

/// A keep-alive HTTP/1.1 connection.
struct Conn(BufReader<TcpStream>);

impl Conn {
    fn open(addr: SocketAddr) -> std::io::Result<Conn> {
        let s = TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Conn(BufReader::new(s)))
    }

    fn request(&mut self, method: &str, path: &str, body: &str) -> std::io::Result<String> {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/vnd.wv.csp.xml\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        );
        let s = self.0.get_mut();
        s.write_all(head.as_bytes())?;
        s.write_all(body.as_bytes())?;
        let mut line = String::new();
        self.0.read_line(&mut line)?;
        if !line.contains(" 200") {
            return Err(std::io::Error::other(line));
        }
        let mut len = 0;
        loop {
            line.clear();
            self.0.read_line(&mut line)?;
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
        self.0.read_exact(&mut body)?;
        Ok(String::from_utf8_lossy(&body).into_owned())
    }

    fn csp(&mut self, session: Option<&str>, tid: &str, content: &str) -> String {
        let descriptor = match session {
            Some(s) => format!(
                "<SessionDescriptor><SessionType>Inband</SessionType><SessionID>{s}</SessionID>\
                 </SessionDescriptor>"
            ),
            None => {
                "<SessionDescriptor><SessionType>Outband</SessionType></SessionDescriptor>".into()
            }
        };
        let body = format!(
            "<?xml version=\"1.0\"?><WV-CSP-Message xmlns=\"{CSP12}\"><Session>{descriptor}\
             <Transaction><TransactionDescriptor><TransactionMode>Request</TransactionMode>\
             <TransactionID>{tid}</TransactionID></TransactionDescriptor><TransactionContent \
             xmlns=\"{TRC12}\">{content}</TransactionContent></Transaction></Session>\
             </WV-CSP-Message>"
        );
        self.request("POST", "/imps", &body).expect("CSP request")
    }
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let end = start + text[start..].find(close)?;
    Some(&text[start..end])
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(impsd) = args.get(1).map(PathBuf::from) else {
        eprintln!("usage: federation-im PATH/TO/impsd [CLIENTS] [MESSAGES]");
        std::process::exit(2);
    };
    let clients: usize = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(16);
    let messages: usize = args.get(3).and_then(|v| v.parse().ok()).unwrap_or(500);
    let root = std::env::temp_dir().join(format!("imps-federation-bench-{}", std::process::id()));
    let (data_a, data_b) = (root.join("a"), root.join("b"));
    let senders: Vec<String> = (0..clients).map(|i| format!("alice{i}")).collect();
    let recipients: Vec<String> = (0..clients).map(|i| format!("bob{i}")).collect();
    add_users(&impsd, &data_a, "a.test", &senders);
    add_users(&impsd, &data_b, "b.test", &recipients);
    let (port_a, port_b) = (free_port(), free_port());
    let b = start(
        &impsd,
        &data_b,
        "b.test",
        port_b,
        &format!("a.test=http://127.0.0.1:{port_a}/ssp"),
    );
    let a = start(
        &impsd,
        &data_a,
        "a.test",
        port_a,
        &format!("b.test=http://127.0.0.1:{port_b}/ssp"),
    );
    let addr = SocketAddr::from(([127, 0, 0, 1], port_a));
    // Sessions first, and one message each to bring the SSP session up.
    let mut sessions = Vec::new();
    for (i, user) in senders.iter().enumerate() {
        let mut conn = Conn::open(addr).expect("connect");
        let login = conn.csp(
            None,
            "login",
            &format!(
                "<Login-Request><UserID>{user}</UserID><ClientID><URL>http://bench/{i}</URL>\
                 </ClientID><Password>pw</Password><SessionCookie>c{i}</SessionCookie></Login-Request>"
            ),
        );
        let sid = between(&login, "<SessionID>", "</SessionID>")
            .unwrap_or_else(|| panic!("no session: {login}"))
            .to_owned();
        sessions.push((conn, sid, format!("wv:bob{i}@b.test")));
    }
    let send = |to: &str, n: usize| {
        format!(
            "<SendMessage-Request><DeliveryReport>F</DeliveryReport><MessageInfo>\
             <ContentType>text/plain</ContentType><Recipient><User><UserID>{to}</UserID>\
             </User></Recipient></MessageInfo><ContentData>message {n} across domains\
             </ContentData></SendMessage-Request>"
        )
    };
    for (conn, sid, to) in &mut sessions {
        let r = conn.csp(Some(sid), "warm", &send(to, 0));
        assert!(r.contains("<Code>200</Code>"), "{r}");
    }
    let (cpu_a, cpu_b) = (a.cpu_ticks(), b.cpu_ticks());
    let started = Instant::now();
    let threads: Vec<_> = sessions
        .into_iter()
        .map(|(mut conn, sid, to)| {
            std::thread::spawn(move || {
                let mut refused = 0usize;
                for n in 0..messages {
                    let r = conn.csp(Some(&sid), &format!("t{n}"), &send(&to, n));
                    if !r.contains("<Code>200</Code>") {
                        refused += 1;
                    }
                }
                refused
            })
        })
        .collect();
    let refused: usize = threads
        .into_iter()
        .map(|t| t.join().unwrap_or(messages))
        .sum();
    let elapsed = started.elapsed();
    let (cpu_a, cpu_b) = (a.cpu_ticks() - cpu_a, b.cpu_ticks() - cpu_b);
    let total = clients * messages;
    let per_msg_us = |ticks: u64| ticks as f64 * 10_000.0 / total as f64;
    println!(
        "federation IM: {total} messages ({clients} clients x {messages}), {refused} not 200, \
         {:.2} s: {:.0} messages/s; CPU per message: a.test {:.1} us, b.test {:.1} us",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        per_msg_us(cpu_a),
        per_msg_us(cpu_b),
    );
    drop(a);
    drop(b);
    let _ = std::fs::remove_dir_all(&root);
}
