//! How much engine memory 1,000,000 idle sessions take: creates the users on 2 shards, logs
//! every one in (plain password, as the default credential scheme), and reports the
//! resident set size before and after.
//!
//! Run: `cargo run --release -p imps-benches --bin session-memory -- [SESSIONS]`

use imps_engine::config::AccessConfig;
use imps_engine::core::{Core, LogSeq, Millis, Output, Token};
use imps_engine::shard::{Admin, Reply, Request, Shard, ShardSetup, route};
use imps_protocol::common::ClientId;
use imps_protocol::primitives::LoginRequest;
use imps_protocol::types::Url;
use imps_protocol::{Message, Primitive, TransactionMode, Version};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use imps_benches::rss_bytes;

fn drain(shard: &mut Shard) -> usize {
    let mut ok = 0;
    let mut appended = 0u64;
    while let Some(out) = shard.poll_output() {
        match out {
            Output::Reply { reply, .. } => {
                if let Reply::Csp(Some(m)) = reply
                    && let Primitive::LoginResponse(r) = &m.session.transactions[0].content
                    && r.session_id.is_some()
                {
                    ok += 1;
                }
            }
            Output::Append(_) => appended += 1,
            _ => {}
        }
    }
    if appended > 0 {
        shard.handle_durable(Millis(0), LogSeq(u64::MAX));
        while shard.poll_output().is_some() {}
    }
    ok
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let shards = 2;
    let config = AccessConfig {
        keep_alive_max_s: 86_400,
        ..AccessConfig::default()
    };
    let mut cores: Vec<Shard> = (0..shards)
        .map(|id| {
            Shard::new(ShardSetup {
                id,
                shards,
                config: config.clone(),
                master_key: [7; 32],
                seed: [id as u8 + 1; 32],
                next_seq: LogSeq(1),
            })
        })
        .collect();
    let base = rss_bytes();
    let start = std::time::Instant::now();
    for i in 0..n {
        let req = Request::Admin(Admin::PutUser {
            user: format!("user{i}"),
            password: "pass".into(),
            profile: Default::default(),
        });
        let s = route(&req, shards, "imps.local");
        cores[s].handle_request(Millis(0), Token(i as u64), req);
        drain(&mut cores[s]);
    }
    let users_rss = rss_bytes();
    eprintln!(
        "{n} users in {:.1} s, RSS {:.0} MiB",
        start.elapsed().as_secs_f64(),
        (users_rss - base) as f64 / 1048576.0
    );
    let start = std::time::Instant::now();
    let mut sessions = 0;
    for i in 0..n {
        let login = LoginRequest {
            user_id: format!("user{i}").into(),
            client_id: ClientId {
                url: Some(Url("http://phone.example/client".into())),
                ..Default::default()
            },
            password: Some("pass".into()),
            time_to_live: Some(86_400),
            session_cookie: format!("c{i}"),
            ..Default::default()
        };
        let msg = Message::single(
            Version::V1_2,
            None,
            TransactionMode::Request,
            Some(format!("t{i}").into()),
            login.into(),
        );
        let req = Request::csp(msg);
        let s = route(&req, shards, "imps.local");
        cores[s].handle_request(Millis(1), Token(i as u64), req);
        sessions += drain(&mut cores[s]);
    }
    let elapsed = start.elapsed().as_secs_f64();
    let rss = rss_bytes();
    let live: usize = cores.iter().map(Shard::session_count).sum();
    assert_eq!(sessions, n, "every login opened a session");
    assert_eq!(live, n);
    println!(
        "sessions={n} shards={shards} login_rate_single_thread={:.0}/s users_rss_mib={:.0} \
         sessions_rss_mib={:.0} total_engine_rss_mib={:.0} bytes_per_session={:.0}",
        n as f64 / elapsed,
        (users_rss - base) as f64 / 1048576.0,
        (rss - users_rss) as f64 / 1048576.0,
        (rss - base) as f64 / 1048576.0,
        (rss - users_rss) as f64 / n as f64,
    );
}
