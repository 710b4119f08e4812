//! WBXML against XML: decode and encode of the `codec` bench's messages (Login-Request,
//! SendMessage-Request, PresenceNotification-Request with 20 users) in both encodings, side
//! by side in one group per message, so that one run compares them under the same load.
//!
//! Run: `cargo bench -p imps-benches --bench wbxml`; add `-- --output-format bencher` for one
//! line per benchmark with its median. Throughput is in bytes of the message's compact *XML*
//! form for all four, so MiB/s compares messages per second directly; the WBXML size is
//! printed.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use imps_benches::{login_request, presence_notification, send_message_request};
use imps_protocol::{Encoding, decode, encode_wbxml, encode_wbxml_into, encode_xml_into};

fn wbxml(c: &mut Criterion) {
    let cases = [
        ("login_request", login_request()),
        ("send_message_request", send_message_request()),
        ("presence_notification_20", presence_notification(20)),
    ];
    for (name, xml) in cases {
        let message = decode(&xml, Encoding::Xml).expect("fixture decodes");
        let wbxml = encode_wbxml(&message);
        assert_eq!(
            decode(&wbxml, Encoding::Wbxml).expect("WBXML decodes"),
            message
        );
        println!(
            "{name}: {} bytes of XML, {} bytes of WBXML",
            xml.len(),
            wbxml.len()
        );
        let mut group = c.benchmark_group(format!("{name}_xml_vs_wbxml"));
        group.throughput(Throughput::Bytes(xml.len() as u64));
        for (id, encoding, body) in [
            ("xml_decode", Encoding::Xml, &xml),
            ("wbxml_decode", Encoding::Wbxml, &wbxml),
        ] {
            group.bench_function(id, |b| {
                b.iter(|| decode(std::hint::black_box(body), encoding).expect("decodes"))
            });
        }
        let mut out = Vec::with_capacity(xml.len() * 2);
        group.bench_function("xml_encode", |b| {
            b.iter(|| {
                out.clear();
                encode_xml_into(std::hint::black_box(&message), &mut out);
                out.len()
            })
        });
        group.bench_function("wbxml_encode", |b| {
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
