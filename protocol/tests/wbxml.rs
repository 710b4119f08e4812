//! WBXML: every sample and generated message survives XML -> WBXML -> message unchanged in
//! every version; the Android client's byte vectors decode to the message their XML gives;
//! both encoder habits (with or without namespaces, integers and DateTimes opaque or
//! inline) decode alike; bad input is an error, never a panic.

use std::path::PathBuf;

use imps_protocol::sample::Gen;
use imps_protocol::{
    DecodeError, DecodeOptions, Encoding, Limits, Message, Primitive, Version, decode, decode_with,
    encode_into, encode_wbxml,
};
use proptest::prelude::*;

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

/// A sample moved to `version` (namespaces and DOCTYPE), as `samples.rs` does.
fn in_version(text: &str, v: Version) -> String {
    text.replace("-//OMA//DTD WV-CSP 1.1//EN", v.public_id())
        .replace(Version::V1_1.csp_namespace(), v.csp_namespace())
        .replace(Version::V1_1.trc_namespace(), v.trc_namespace())
        .replace(Version::V1_1.pa_namespace(), v.pa_namespace())
}

fn wbxml_round_trip(message: &Message) -> Vec<u8> {
    let bytes = encode_wbxml(message);
    let back = decode(&bytes, Encoding::Wbxml)
        .unwrap_or_else(|e| panic!("{e}\n{bytes:02x?}\n{message:#?}"));
    assert_eq!(&back, message, "{bytes:02x?}");
    bytes
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn every_sample_round_trips_through_wbxml_in_every_version() {
    let files = samples();
    assert!(files.len() >= 80, "found only {} samples", files.len());
    for path in files {
        let text = std::fs::read_to_string(&path).expect("readable sample");
        for v in Version::ALL {
            let xml = in_version(&text, v);
            let message = decode(xml.as_bytes(), Encoding::Xml)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(message.version, v);
            let bytes = wbxml_round_trip(&message);
            assert_eq!(bytes[1], v.wbxml_public_id() as u8, "{}", path.display());
            // WBXML is the compact form.
            assert!(
                bytes.len() < xml.len() / 2,
                "{}: {}",
                path.display(),
                hex(&bytes)
            );
        }
    }
}

#[test]
fn encode_into_appends_wbxml() {
    let text = std::fs::read_to_string(samples()[0].clone()).expect("readable");
    let message = decode(text.as_bytes(), Encoding::Xml).expect("decodes");
    let mut out = b"prefix".to_vec();
    encode_into(&message, Encoding::Wbxml, &mut out).expect("encodes");
    assert_eq!(&out[..6], b"prefix");
    assert_eq!(out[6..], encode_wbxml(&message)[..]);
}

#[test]
fn every_primitive_round_trips() {
    for (i, name) in Primitive::NAMES.iter().enumerate() {
        for seed in 0..32u64 {
            let mut g = Gen::new(seed * 1000 + i as u64);
            for version in Version::ALL {
                let content = Primitive::sample_named(name, &mut g).expect("known name");
                wbxml_round_trip(&Message::sample(&mut g, version, Some(content)));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_messages_round_trip(seed in any::<u64>(), v in 0usize..3) {
        let mut g = Gen::new(seed);
        wbxml_round_trip(&Message::sample(&mut g, Version::ALL[v], None));
    }

    #[test]
    fn random_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode(&body, Encoding::Wbxml);
    }

    #[test]
    fn mutated_messages_never_panic(seed in any::<u64>(), at in any::<usize>(), byte in any::<u8>()) {
        let mut g = Gen::new(seed);
        let mut bytes = encode_wbxml(&Message::sample(&mut g, Version::ALL[seed as usize % 3], None));
        let at = at % bytes.len();
        bytes[at] = byte;
        let _ = decode(&bytes, Encoding::Wbxml);
    }
}

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/wbxml");

#[test]
fn android_vectors_decode_like_their_xml() {
    for (name, version) in [
        ("android-loginresponse-csp11", Version::V1_1),
        ("android-statusprim-csp13", Version::V1_3),
        ("android-sendmsgreq-csp12", Version::V1_2),
        ("android-caprequest-csp12", Version::V1_2),
    ] {
        let wbxml = std::fs::read(format!("{VECTORS}/{name}.wbxml")).expect("vector");
        let xml = std::fs::read(format!("{VECTORS}/{name}.xml")).expect("vector xml");
        let from_wbxml = decode(&wbxml, Encoding::Wbxml).unwrap_or_else(|e| panic!("{name}: {e}"));
        let from_xml = decode(&xml, Encoding::Xml).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(from_wbxml.version, version, "{name}");
        assert_eq!(from_wbxml, from_xml, "{name}");
        wbxml_round_trip(&from_wbxml);
    }
}

/// Inputs the fuzzer found: each decodes, and re-encodes to a message that decodes to the
/// same value in WBXML and in XML (an empty inline string among raw elements was once kept
/// as an empty text; a tab in an attribute value once became a space in XML).
#[test]
fn fuzz_regressions_round_trip() {
    let mut found = 0;
    for entry in std::fs::read_dir(VECTORS).expect("testdata/wbxml exists") {
        let path = entry.expect("dir entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if !(name.starts_with("fuzz-") && name.ends_with(".wbxml")) {
            continue;
        }
        found += 1;
        let bytes = std::fs::read(&path).expect("vector");
        let message = decode(&bytes, Encoding::Wbxml).unwrap_or_else(|e| panic!("{name}: {e}"));
        wbxml_round_trip(&message);
        let xml = imps_protocol::encode(&message);
        assert_eq!(decode(&xml, Encoding::Xml).as_ref(), Ok(&message), "{name}");
    }
    assert!(found >= 1, "no fuzz regression vectors");
}

/// The Android parser test's envelope vectors: an empty root is a message without Session;
/// an unterminated inline string is truncation; U+10FFFF is a character, 0x110000 is not.
#[test]
fn android_envelope_vectors() {
    let root = [
        0x03, 0x10, 0x6a, 0x00, 0xc9, 0x05, 0x03, 0x31, 0x2e, 0x31, 0x00, 0x01,
    ];
    let with = |tail: &[u8]| [&root[..], tail].concat();
    let missing = DecodeError::Missing {
        parent: "WV-CSP-Message",
        element: "Session",
    };
    assert_eq!(
        decode(&with(&[0x01]), Encoding::Wbxml),
        Err(missing.clone())
    );
    let no_content = [
        0x03, 0x10, 0x6a, 0x00, 0x89, 0x05, 0x03, 0x31, 0x2e, 0x31, 0x00, 0x01,
    ];
    assert_eq!(decode(&no_content, Encoding::Wbxml), Err(missing));
    let unterminated = with(&[
        0x6d, 0x6e, 0x70, 0x03, 0x44, 0x55, 0x66, 0x01, 0x01, 0x01, 0x01,
    ]);
    assert_eq!(
        decode(&unterminated, Encoding::Wbxml),
        Err(DecodeError::Truncated)
    );
    let big = with(&[
        0x6d, 0x6e, 0x70, 0x02, 0xc3, 0xff, 0x7f, 0x01, 0x01, 0x01, 0x01,
    ]);
    assert!(matches!(
        decode(&big, Encoding::Wbxml),
        Err(DecodeError::InvalidValue { .. } | DecodeError::Missing { .. })
    ));
    let invalid = with(&[
        0x6d, 0x6e, 0x70, 0x02, 0xc4, 0x80, 0x00, 0x01, 0x01, 0x01, 0x01,
    ]);
    assert_eq!(
        decode(&invalid, Encoding::Wbxml),
        Err(DecodeError::Entity("#1114112".into()))
    );
}

/// The KeepAlive-Request of the 1.1 samples, hand-assembled in the encoders' habits.
fn keep_alive(root_attributes: &[u8], trc_attributes: &[u8], time: &[u8]) -> Vec<u8> {
    let mut b = vec![0x03, 0x10, 0x6a, 0x00];
    b.push(if root_attributes.is_empty() {
        0x49
    } else {
        0xC9
    });
    b.extend_from_slice(root_attributes);
    // Session, SessionDescriptor, SessionType = Inband, SessionID = "s1".
    b.extend_from_slice(&[
        0x6d, 0x6e, 0x70, 0x80, 0x11, 0x01, 0x6f, 0x03, b's', b'1', 0, 0x01, 0x01,
    ]);
    // Transaction, TransactionDescriptor, mode Request, id "t1".
    b.extend_from_slice(&[
        0x72, 0x74, 0x76, 0x80, 0x20, 0x01, 0x75, 0x03, b't', b'1', 0, 0x01, 0x01,
    ]);
    b.push(if trc_attributes.is_empty() {
        0x73
    } else {
        0xF3
    });
    b.extend_from_slice(trc_attributes);
    // Page 1: KeepAlive-Request, TimeToLive.
    b.extend_from_slice(&[0x00, 0x01, 0x5b, 0x72]);
    b.extend_from_slice(time);
    b.extend_from_slice(&[0x01, 0x01, 0x01, 0x01, 0x01, 0x01]);
    b
}

#[test]
fn both_encoder_habits_decode_alike() {
    let csp = [0x05, 0x03, b'1', b'.', b'1', 0x00, 0x01];
    let trc = [0x07, 0x03, b'1', b'.', b'1', 0x00, 0x01];
    let reference = decode(
        &keep_alive(&csp, &trc, &[0xC3, 0x01, 0x3C]),
        Encoding::Wbxml,
    )
    .expect("Android habit decodes");
    let xml = reference_xml_keep_alive("60");
    assert_eq!(
        reference,
        decode(xml.as_bytes(), Encoding::Xml).expect("xml decodes")
    );
    for time in [
        &[0xC3, 0x02, 0x00, 0x3C][..],
        &[0xC3, 0x08, 0, 0, 0, 0, 0, 0, 0, 0x3C],
        &[0x03, b'6', b'0', 0x00],
        &[0x03, b'6', 0x00, 0x03, b'0', 0x00],
    ] {
        for (root, content) in [(&csp[..], &trc[..]), (&[][..], &[][..])] {
            let bytes = keep_alive(root, content, time);
            assert_eq!(
                decode(&bytes, Encoding::Wbxml).as_ref(),
                Ok(&reference),
                "{}",
                hex(&bytes)
            );
        }
    }
    // Zero as OPAQUE: libwbxml writes no byte, Android one zero byte.
    let zero = decode(&reference_xml_keep_alive("0").into_bytes(), Encoding::Xml).expect("xml");
    for time in [&[0xC3, 0x00][..], &[0xC3, 0x01, 0x00]] {
        assert_eq!(
            decode(&keep_alive(&[], &[], time), Encoding::Wbxml),
            Ok(zero.clone())
        );
    }
    // Without namespace the version comes from the public id: 1.3's page 9 (CIR) differs.
    let mut v13 = keep_alive(&[], &[], &[0xC3, 0x01, 0x3C]);
    v13[1] = 0x12;
    assert_eq!(
        decode(&v13, Encoding::Wbxml).map(|m| m.version),
        Ok(Version::V1_3)
    );
    // Unknown public id (1) without namespace: the content type's hint decides.
    let mut unknown = keep_alive(&[], &[], &[0xC3, 0x01, 0x3C]);
    unknown[1] = 0x01;
    let hinted = DecodeOptions {
        version_hint: Some(Version::V1_3),
        ..DecodeOptions::default()
    };
    assert_eq!(
        decode_with(&unknown, Encoding::Wbxml, &hinted).map(|m| m.version),
        Ok(Version::V1_3)
    );
    // ... and a namespace token beats it.
    let mut named = keep_alive(&csp, &trc, &[0xC3, 0x01, 0x3C]);
    named[1] = 0x01;
    assert_eq!(decode_with(&named, Encoding::Wbxml, &hinted), Ok(reference));
}

fn reference_xml_keep_alive(time: &str) -> String {
    format!(
        "<WV-CSP-Message xmlns=\"{}\"><Session><SessionDescriptor><SessionType>Inband\
         </SessionType><SessionID>s1</SessionID></SessionDescriptor><Transaction>\
         <TransactionDescriptor><TransactionMode>Request</TransactionMode><TransactionID>t1\
         </TransactionID></TransactionDescriptor><TransactionContent><KeepAlive-Request>\
         <TimeToLive>{time}</TimeToLive></KeepAlive-Request></TransactionContent>\
         </Transaction></Session></WV-CSP-Message>",
        Version::V1_1.csp_namespace()
    )
}

#[test]
fn datetime_opaque_and_inline_decode_alike() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/csp-samples/MessageNotification.datetime-iso-extended-Z.csp11.xml");
    let message = decode(&std::fs::read(path).expect("sample"), Encoding::Xml).expect("decodes");
    let opaque = encode_wbxml(&message);
    // DateTime is page 0 token 0x11: with content, 0x51, then C3 06 and six bytes.
    let at = opaque
        .windows(3)
        .position(|w| w == [0x51, 0xC3, 0x06])
        .expect("DateTime written as OPAQUE");
    let packed = &opaque[at + 3..at + 9];
    let year = ((u32::from(packed[0]) << 8 | u32::from(packed[1])) >> 2) & 0xFFF;
    assert!((1990..2100).contains(&year), "{year}");
    let text = opaque_datetime_text(packed);
    assert_eq!(text, "20010925T134013A");
    let mut inline = opaque[..at + 1].to_vec();
    inline.push(0x03);
    inline.extend_from_slice(text.as_bytes());
    inline.push(0x00);
    inline.extend_from_slice(&opaque[at + 9..]);
    assert_eq!(decode(&inline, Encoding::Wbxml), Ok(message));
}

/// OPAQUE DateTimes have a 12-bit year: a later year travels as a string rather than
/// wrapping (a fuzzer's find: 6007 came back as 1911).
#[test]
fn datetimes_past_year_4095_travel_as_strings() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/csp-samples/MessageNotification.datetime-iso-extended-Z.csp11.xml");
    let text = std::fs::read_to_string(path).expect("sample");
    for year in ["4095", "4096", "6007", "9999"] {
        let xml = text.replace("<DateTime>2001-", &format!("<DateTime>{year}-"));
        let message = decode(xml.as_bytes(), Encoding::Xml).expect("decodes");
        let bytes = wbxml_round_trip(&message);
        let opaque = bytes.windows(3).any(|w| w == [0x51, 0xC3, 0x06]);
        assert_eq!(opaque, year == "4095", "{year}: {}", hex(&bytes));
    }
}

/// Independent unpacking of a 6-byte CSP DateTime, for the test above.
fn opaque_datetime_text(p: &[u8]) -> String {
    let bits = p[..5].iter().fold(0u64, |n, &b| n << 8 | u64::from(b));
    let mut s = format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}",
        (bits >> 26) & 0xFFF,
        (bits >> 22) & 0xF,
        (bits >> 17) & 0x1F,
        (bits >> 12) & 0x1F,
        (bits >> 6) & 0x3F,
        bits & 0x3F
    );
    if p[5] != 0 {
        s.push(char::from(p[5]));
    }
    s
}

#[test]
fn markup_characters_and_carriage_returns_survive() {
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/csp-samples/SendMessage-Request.csp11.xml"),
    )
    .expect("sample");
    let start = text.find("<ContentData>").expect("ContentData") + "<ContentData>".len();
    let end = text.find("</ContentData>").expect("end");
    let odd = "a&#13;\nb &amp; &lt;c&gt; &#13;&#160;d";
    let xml = format!("{}{odd}{}", &text[..start], &text[end..]);
    let message = decode(xml.as_bytes(), Encoding::Xml).expect("decodes");
    let bytes = wbxml_round_trip(&message);
    // The carriage returns travel as inline text: WBXML has no line-end normalization.
    assert!(bytes.windows(2).any(|w| w == b"\r\n"), "{}", hex(&bytes));
}

#[test]
fn literal_tags_and_attributes_are_read_from_the_string_table() {
    // Android's literal vector: unknown elements around Session are skipped like in XML.
    let mut b = vec![0x03, 0x10, 0x6a, 0x29];
    b.extend_from_slice(b"sometag\0someMoreTag\0metag\0attr\0tag\0movie\0");
    b.extend_from_slice(&[
        0xc9, 0x05, 0x03, 0x31, 0x2e, 0x31, 0x00, 0x01, 0x44, 0x00, 0x6d,
    ]);
    b.extend_from_slice(&[
        0x04, 0x08, 0x01, 0x01, 0x84, 0x14, 0x04, 0x1a, 0x83, 0x00, 0x01,
    ]);
    b.extend_from_slice(&[0x84, 0x1f, 0x04, 0x23, 0x03]);
    b.extend_from_slice(b"transformer\0");
    b.extend_from_slice(&[0x01, 0x01]);
    // The Session is inside an unknown element, so the message has none.
    assert_eq!(
        decode(&b, Encoding::Wbxml),
        Err(DecodeError::Missing {
            parent: "WV-CSP-Message",
            element: "Session",
        })
    );
    // A string-table reference past the table is an error.
    let mut bad = b.clone();
    let at = bad.iter().position(|&x| x == 0x44).expect("LITERAL_C");
    bad[at + 1] = 0x7F;
    assert!(decode(&bad, Encoding::Wbxml).is_err());
}

#[test]
fn truncated_at_every_length_is_an_error() {
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/csp-samples/GetPresence-Response.csp11.xml"),
    )
    .expect("sample");
    let bytes = encode_wbxml(&decode(text.as_bytes(), Encoding::Xml).expect("decodes"));
    for cut in 0..bytes.len() {
        let err = decode(&bytes[..cut], Encoding::Wbxml).expect_err("truncated input decoded");
        assert!(
            matches!(err, DecodeError::Truncated | DecodeError::Malformed(_)),
            "cut at {cut}: {err:?}"
        );
        assert!(err.is_envelope_error(), "cut at {cut}: {err:?}");
    }
    let mut trailing = bytes.clone();
    trailing.push(0x01);
    assert!(matches!(
        decode(&trailing, Encoding::Wbxml),
        Err(DecodeError::Malformed(_))
    ));
}

#[test]
fn bad_headers_and_tokens_are_errors() {
    let good = keep_alive(&[], &[], &[0xC3, 0x01, 0x3C]);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (vec![], "empty"),
        (vec![0x07, 0x10, 0x6a, 0x00, 0x49], "WBXML version 7"),
        (vec![0x03, 0x02, 0x6a, 0x00, 0x49], "WML public id"),
        (vec![0x03, 0x10, 0x04, 0x00, 0x49], "Latin-1 charset"),
        (
            vec![0x03, 0x10, 0x6a, 0x8f, 0xff, 0xff, 0xff, 0x7f, 0x49],
            "huge string table",
        ),
        (
            vec![0x03, 0x10, 0x6a, 0x00, 0x00, 0x3F, 0x49],
            "unknown page",
        ),
        (vec![0x03, 0x10, 0x6a, 0x00, 0x7F], "unknown tag"),
        (vec![0x03, 0x10, 0x6a, 0x00, 0x01], "END before root"),
        (
            vec![0x03, 0x10, 0x6a, 0x00, 0x03, b'x', 0x00],
            "text before root",
        ),
        (
            vec![0x03, 0x10, 0x6a, 0x00, 0x89, 0x3F, 0x01],
            "unknown attribute",
        ),
        (
            vec![0x03, 0x10, 0x6a, 0x00, 0x89, 0x05, 0x85, 0x01],
            "attribute value token",
        ),
        (
            vec![0x03, 0x10, 0x6a, 0x00, 0xc9, 0x40, 0x01],
            "EXT_I_0 in content",
        ),
    ];
    for (body, what) in &cases {
        assert!(decode(body, Encoding::Wbxml).is_err(), "{what} decoded");
    }
    // Huge lengths inside the body: OPAQUE and EXT_T_0 with 32-bit and overflowing numbers.
    for time in [
        &[0xC3, 0x8f, 0xff, 0xff, 0xff, 0x7f][..],
        &[0xC3, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
        &[0x80, 0x8f, 0xff, 0xff, 0xff, 0x7f],
        &[0x83, 0x8f, 0xff, 0xff, 0xff, 0x7f],
        &[0xC3, 0x09, 1, 0, 0, 0, 0, 0, 0, 0, 0],
    ] {
        let bytes = keep_alive(&[], &[], time);
        assert!(decode(&bytes, Encoding::Wbxml).is_err(), "{}", hex(&bytes));
    }
    assert!(decode(&good, Encoding::Wbxml).is_ok());
}

#[test]
fn limits_apply_as_in_xml() {
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/csp-samples/GetPresence-Response.csp11.xml"),
    )
    .expect("sample");
    let bytes = encode_wbxml(&decode(text.as_bytes(), Encoding::Xml).expect("decodes"));
    let with = |limits: Limits| DecodeOptions {
        limits,
        ..DecodeOptions::default()
    };
    let small = with(Limits {
        max_body: bytes.len() - 1,
        ..Limits::default()
    });
    assert_eq!(
        decode_with(&bytes, Encoding::Wbxml, &small),
        Err(DecodeError::TooLarge {
            size: bytes.len(),
            limit: bytes.len() - 1
        })
    );
    let shallow = with(Limits {
        max_depth: 4,
        ..Limits::default()
    });
    assert_eq!(
        decode_with(&bytes, Encoding::Wbxml, &shallow),
        Err(DecodeError::TooDeep { limit: 4 })
    );
    let few = with(Limits {
        max_elements: 10,
        ..Limits::default()
    });
    assert_eq!(
        decode_with(&bytes, Encoding::Wbxml, &few),
        Err(DecodeError::TooManyElements { limit: 10 })
    );
    let short = with(Limits {
        max_text: 3,
        ..Limits::default()
    });
    assert_eq!(
        decode_with(&bytes, Encoding::Wbxml, &short),
        Err(DecodeError::TextTooLong { limit: 3 })
    );
    // Deep nesting of literal elements stops at the depth limit, not the stack.
    let mut deep = vec![0x03, 0x10, 0x6a, 0x02, b'x', 0x00, 0x49];
    deep.extend(std::iter::repeat_n([0x44, 0x00], 100_000).flatten());
    assert_eq!(
        decode(&deep, Encoding::Wbxml),
        Err(DecodeError::TooDeep {
            limit: Limits::default().max_depth
        })
    );
}
