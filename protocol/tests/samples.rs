//! Every CSP sample in `testdata/csp-samples` decodes, names the primitive its file name says,
//! and survives re-encoding: decode(encode(decode(x))) == decode(x). The folder is enumerated,
//! so a new sample is covered without code changes.

use std::path::PathBuf;

use imps_protocol::{Encoding, Primitive, Version, decode, encode};

fn samples() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/csp-samples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("testdata/csp-samples exists")
        .map(|e| e.expect("readable dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_sample_decodes_and_round_trips() {
    let files = samples();
    assert!(
        files.len() >= 80,
        "expected the CSP 1.1 samples, found {}",
        files.len()
    );
    for path in files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("utf-8 file name");
        let bytes = std::fs::read(&path).expect("readable sample");
        let first = decode(&bytes, Encoding::Xml).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(first.version, Version::V1_1, "{name}");
        let primitive = name
            .split('.')
            .next()
            .expect("file name has a primitive part");
        let content = &first.session.transactions[0].content;
        assert_eq!(content.name(), primitive, "{name}");
        assert!(!matches!(content, Primitive::Unsupported { .. }), "{name}");
        let encoded = encode(&first);
        let second = decode(&encoded, Encoding::Xml).unwrap_or_else(|e| {
            panic!(
                "{name}: re-encoded form fails: {e}\n{}",
                String::from_utf8_lossy(&encoded)
            )
        });
        assert_eq!(
            first,
            second,
            "{name}: {}",
            String::from_utf8_lossy(&encoded)
        );
        // The canonical form is a fixed point.
        assert_eq!(encode(&second), encoded, "{name}");
    }
}

#[test]
fn samples_decode_in_every_version() {
    // The same content under the 1.2 and 1.3 namespaces decodes to the same primitives.
    for path in samples() {
        let text = std::fs::read_to_string(&path).expect("readable sample");
        let v11 = decode(text.as_bytes(), Encoding::Xml).expect("decodes");
        for v in [Version::V1_2, Version::V1_3] {
            let moved = text
                .replace("-//OMA//DTD WV-CSP 1.1//EN", v.public_id())
                .replace(Version::V1_1.csp_namespace(), v.csp_namespace())
                .replace(Version::V1_1.trc_namespace(), v.trc_namespace())
                .replace(Version::V1_1.pa_namespace(), v.pa_namespace());
            let m = decode(moved.as_bytes(), Encoding::Xml).expect("decodes");
            assert_eq!(m.version, v);
            assert_eq!(m.session.transactions.len(), v11.session.transactions.len());
            for (a, b) in m.session.transactions.iter().zip(&v11.session.transactions) {
                assert_eq!(a.content, b.content, "{}", path.display());
            }
            assert_eq!(m.poll(), v11.poll(), "{}", path.display());
        }
    }
}

/// Every leaf element of the transaction content as (path of local names, trimmed text),
/// sorted: what a re-encoding must keep, in any order.
fn leaves(xml: &[u8]) -> Vec<(String, String)> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(std::str::from_utf8(xml).expect("utf-8"));
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut had_child: Vec<bool> = Vec::new();
    let mut out = Vec::new();
    loop {
        match reader.read_event().expect("well-formed") {
            Event::Start(e) => {
                if let Some(parent) = had_child.last_mut() {
                    *parent = true;
                }
                path.push(e.local_name().as_ref().to_owned());
                had_child.push(false);
                text.clear();
            }
            Event::Empty(e) => {
                if let Some(parent) = had_child.last_mut() {
                    *parent = true;
                }
                let name = e.local_name().as_ref().to_owned();
                out.push((format!("{}/{name}", path.join("/")), String::new()));
            }
            Event::Text(t) => text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                let name = r.into_inner();
                text.push_str(match name.as_ref() {
                    "lt" => "<",
                    "gt" => ">",
                    "amp" => "&",
                    "quot" => "\"",
                    "apos" => "'",
                    _ => "?",
                });
            }
            Event::CData(t) => text.push_str(&t.xml10_content()),
            Event::End(_) => {
                if had_child.pop() == Some(false) {
                    let mut value = text.trim().to_owned();
                    // DateTime is written back in the basic format: compare without the
                    // extended format's separators.
                    if path.last().is_some_and(|n| n.ends_with("Time")) {
                        value.retain(|c| c != '-' && c != ':');
                    }
                    out.push((path.join("/"), value));
                }
                path.pop();
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out.retain(|(p, _)| p.contains("TransactionContent/"));
    out.sort();
    out
}

#[test]
fn re_encoding_keeps_every_element_of_every_sample() {
    for path in samples() {
        let bytes = std::fs::read(&path).expect("readable sample");
        let message = decode(&bytes, Encoding::Xml).expect("decodes");
        let encoded = encode(&message);
        assert_eq!(
            leaves(&bytes),
            leaves(&encoded),
            "{}: an element was lost or changed\n{}",
            path.display(),
            String::from_utf8_lossy(&encoded)
        );
    }
}
