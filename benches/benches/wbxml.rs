//! Decode and encode throughput of the WBXML codec on the messages of the XML `codec` bench
//! (Login-Request, SendMessage-Request, PresenceNotification-Request with 20 users).
//!
//! Run: `cargo bench -p imps-benches --bench wbxml` (and `--bench codec` for XML).
//! Throughput is in bytes of the message's compact *XML* form, as in the `codec` bench, so
//! the two benches' MiB/s compare messages per second directly; the WBXML size is printed.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use imps_benches::{login_request, presence_notification, send_message_request};
use imps_protocol::{Encoding, decode, encode_wbxml, encode_wbxml_into};

fn wbxml(c: &mut Criterion) {
    let cases = [
        ("login_request", login_request()),
        ("send_message_request", send_message_request()),
        ("presence_notification_20", presence_notification(20)),
    ];
    for (name, xml) in cases {
        let message = decode(&xml, Encoding::Xml).expect("fixture decodes");
        let bytes = encode_wbxml(&message);
        assert_eq!(
            decode(&bytes, Encoding::Wbxml).expect("WBXML decodes"),
            message
        );
        println!(
            "{name}: {} bytes of XML, {} bytes of WBXML",
            xml.len(),
            bytes.len()
        );
        let mut group = c.benchmark_group(format!("{name}_wbxml"));
        group.throughput(Throughput::Bytes(xml.len() as u64));
        group.bench_function("decode", |b| {
            b.iter(|| decode(std::hint::black_box(&bytes), Encoding::Wbxml).expect("decodes"))
        });
        let mut out = Vec::with_capacity(bytes.len() * 2);
        group.bench_function("encode", |b| {
            b.iter(|| {
                out.clear();
                encode_wbxml_into(std::hint::black_box(&message), &mut out);
                out.len()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, wbxml);
criterion_main!(benches);
