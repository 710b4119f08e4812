//! The access service's cost per login on one shard, sans-IO (no runtime, no sockets):
//! `Shard::handle_request` of a plain-password Login-Request, with and without the XML codec
//! around it. Logins/s per core is the reciprocal of the median.
//!
//! Run: `cargo bench -p imps-benches --bench access`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use imps_engine::config::AccessConfig;
use imps_engine::core::{Core, LogSeq, Millis, Output, Token};
use imps_engine::shard::{Admin, Request, Shard, ShardSetup};
use imps_protocol::common::ClientId;
use imps_protocol::primitives::LoginRequest;
use imps_protocol::types::Url;
use imps_protocol::{Encoding, Message, TransactionMode, Version, decode, encode_xml_into};

const USERS: usize = 10_000;

fn shard() -> Shard {
    let mut shard = Shard::new(ShardSetup {
        id: 0,
        shards: 1,
        config: AccessConfig::default(),
        master_key: [7; 32],
        seed: [1; 32],
        next_seq: LogSeq(1),
    });
    for i in 0..USERS {
        shard.handle_request(
            Millis(0),
            Token(0),
            Request::Admin(Admin::PutUser {
                user: format!("user{i}"),
                password: "pass".into(),
                profile: Default::default(),
            }),
        );
    }
    shard.handle_durable(Millis(0), LogSeq(u64::MAX));
    while shard.poll_output().is_some() {}
    shard
}

fn login(i: usize) -> Message {
    let req = LoginRequest {
        user_id: format!("user{}", i % USERS).into(),
        client_id: ClientId {
            url: Some(Url(format!("http://phone.example/{i}"))),
            ..Default::default()
        },
        password: Some("pass".into()),
        session_cookie: "cookie".into(),
        ..Default::default()
    };
    Message::single(
        Version::V1_2,
        None,
        TransactionMode::Request,
        Some("t1".into()),
        req.into(),
    )
}

fn access(c: &mut Criterion) {
    let mut group = c.benchmark_group("login");
    group.throughput(Throughput::Elements(1));
    let mut s = shard();
    let mut i = 0usize;
    group.bench_function("handle_plain", |b| {
        b.iter(|| {
            i += 1;
            let now = Millis(i as u64);
            s.handle_request(now, Token(1), Request::csp(login(i)));
            let mut replied = false;
            while let Some(out) = s.poll_output() {
                replied |= matches!(out, Output::Reply { .. });
            }
            assert!(replied);
            // One virtual millisecond per login: sessions expire after their keep-alive
            // time, so the table stays at a steady size as on a real server.
            if s.next_timer().is_some_and(|t| t <= now) {
                s.handle_timer(now);
            }
            while s.poll_output().is_some() {}
        })
    });
    let mut s = shard();
    let wire: Vec<Vec<u8>> = (0..1024)
        .map(|i| {
            let mut out = Vec::new();
            encode_xml_into(&login(i), &mut out);
            out
        })
        .collect();
    let mut buf = Vec::with_capacity(1024);
    let mut j = 0usize;
    group.bench_function("decode_handle_encode_plain", |b| {
        b.iter(|| {
            j += 1;
            let now = Millis(j as u64);
            let msg = decode(&wire[j % wire.len()], Encoding::Xml).expect("decodes");
            s.handle_request(now, Token(1), Request::csp(msg));
            if let Some(Output::Reply {
                reply: imps_engine::shard::Reply::Csp(Some(m)),
                ..
            }) = s.poll_output()
            {
                buf.clear();
                encode_xml_into(&m, &mut buf);
            }
            if s.next_timer().is_some_and(|t| t <= now) {
                s.handle_timer(now);
            }
            while s.poll_output().is_some() {}
            buf.len()
        })
    });
    group.finish();
}

criterion_group!(benches, access);
criterion_main!(benches);
