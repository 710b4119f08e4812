//! Decode and encode throughput of the XML codec on three typical messages.
//!
//! Run: `cargo bench -p imps-benches --bench codec`. Throughput is in bytes of the compact
//! wire form (what a client sends), for decode and encode alike. The `wbxml` bench measures
//! the same messages in XML and WBXML side by side.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use imps_benches::{login_request, presence_notification, send_message_request};
use imps_protocol::{Encoding, decode, encode_xml_into};

fn codec(c: &mut Criterion) {
    let cases = [
        ("login_request", login_request()),
        ("send_message_request", send_message_request()),
        ("presence_notification_20", presence_notification(20)),
    ];
    for (name, bytes) in cases {
        let message = decode(&bytes, Encoding::Xml).expect("fixture decodes");
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function("decode", |b| {
            b.iter(|| decode(std::hint::black_box(&bytes), Encoding::Xml).expect("decodes"))
        });
        let mut out = Vec::with_capacity(bytes.len() * 2);
        group.bench_function("encode", |b| {
            b.iter(|| {
                out.clear();
                encode_xml_into(std::hint::black_box(&message), &mut out);
                out.len()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, codec);
criterion_main!(benches);
