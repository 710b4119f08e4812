//! `impsd serve` hands a handset's keep-alive connection over to the executor that owns its
//! session: the real binary on a free loopback port, a real client, the moves read from
//! `GET /metrics`.

use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

mod serve_support;
use serve_support::*;

/// Sums the samples of `name` per shard label in a Prometheus text.
fn per_shard(metrics: &str, name: &str) -> [u64; 2] {
    let mut sums = [0; 2];
    for line in metrics.lines().filter(|l| l.starts_with(name)) {
        let shard = between(line, "shard=\"", "\"").and_then(|s| s.parse::<usize>().ok());
        let value = line.rsplit(' ').next().and_then(|v| v.parse::<u64>().ok());
        if let (Some(shard), Some(value)) = (shard, value)
            && let Some(sum) = sums.get_mut(shard)
        {
            *sum += value;
        }
    }
    sums
}

#[test]
fn a_connection_carrying_one_session_moves_to_its_shard_and_keeps_serving() {
    let server = Server::start("");
    let sid = login(&server, "alice", "a-pw", "handset");
    let home: usize = match sid.split('-').next() {
        Some("0") => 0,
        Some("1") => 1,
        _ => panic!("session {sid} names no shard"),
    };
    let keep_alive = envelope(
        CSP12,
        TRC12,
        Some(&sid),
        "ka",
        "<KeepAlive-Request><KeepAliveTime>600</KeepAliveTime></KeepAlive-Request>",
    );
    let request = format!(
        "POST /imps HTTP/1.1\r\nHost: test\r\nContent-Type: application/vnd.wv.csp.xml\r\n\
         Content-Length: {}\r\n\r\n{keep_alive}",
        keep_alive.len()
    );
    // One connection at a time, each like a handset's: the kernel spreads them over both
    // executors, so about half start on the executor that does not own the session (the
    // chance that none of 16 does is 2^-16).
    for _ in 0..16 {
        let stream = TcpStream::connect(server.http).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let mut writer = stream.try_clone().expect("clone");
        let mut reader = BufReader::new(stream);
        // The move comes after a streak of requests; the later ones are served after it,
        // on the same TCP connection.
        for i in 0..8 {
            writer.write_all(request.as_bytes()).expect("send");
            let Response(status, _, body) = read_response(&mut reader, false).expect("answer");
            let body = String::from_utf8_lossy(&body);
            assert_eq!(status, 200, "request {i}: {body}");
            assert!(body.contains("<KeepAlive-Response>"), "request {i}: {body}");
            assert!(
                body.contains("<Code>200</Code>") || !body.contains("<Code>"),
                "request {i}: {body}"
            );
        }
    }
    let Response(status, _, metrics) = server.request("GET", "/metrics", &[], b"").expect("get");
    assert_eq!(status, 200);
    let metrics = String::from_utf8_lossy(&metrics);
    let moved_out = per_shard(&metrics, "imps_http_connections_moved_out_total");
    let moved_in = per_shard(&metrics, "imps_http_connections_moved_in_total");
    let away = 1 - home;
    assert!(moved_out[away] >= 1, "no connection moved: {moved_out:?}");
    assert_eq!(
        moved_out[home], 0,
        "a connection left its session's executor"
    );
    assert_eq!(moved_in[home], moved_out[away], "every move arrived");
    server.stop();
}
