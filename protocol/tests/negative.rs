//! Bad input gets a clear error with the status code a server answers with, never a panic.

use imps_protocol::{
    DecodeError, DecodeOptions, Encoding, Limits, Primitive, StatusCode, Version, decode,
    decode_with,
};

const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/csp-samples");

fn sample(name: &str) -> String {
    std::fs::read_to_string(format!("{SAMPLES}/{name}")).expect("sample exists")
}

fn wrap(version: Version, content: &str) -> String {
    format!(
        "<WV-CSP-Message xmlns=\"{}\"><Session><SessionDescriptor><SessionType>Inband\
         </SessionType><SessionID>s1</SessionID></SessionDescriptor><Transaction>\
         <TransactionDescriptor><TransactionMode>Request</TransactionMode><TransactionID>t1\
         </TransactionID></TransactionDescriptor><TransactionContent>{content}\
         </TransactionContent></Transaction></Session></WV-CSP-Message>",
        version.csp_namespace()
    )
}

#[test]
fn truncated_at_every_length_is_an_error() {
    let text = sample("GetPresence-Response.csp11.xml");
    let bytes = text.as_bytes();
    let end = text.rfind("</WV-CSP-Message>").expect("closing tag");
    for cut in (0..end).step_by(7) {
        if !text.is_char_boundary(cut) {
            continue;
        }
        let err = decode(&bytes[..cut], Encoding::Xml).expect_err("truncated input decoded");
        assert!(
            matches!(err, DecodeError::Truncated | DecodeError::Malformed(_)),
            "cut at {cut}: {err:?}"
        );
        assert_eq!(err.status(), StatusCode::BadRequest);
        assert!(err.is_envelope_error());
    }
}

#[test]
fn oversized_body_is_rejected_before_parsing() {
    let limits = Limits {
        max_body: 1024,
        ..Limits::default()
    };
    let options = DecodeOptions {
        limits,
        ..DecodeOptions::default()
    };
    let body = sample("GetPresence-Response.csp11.xml");
    let err = decode_with(body.as_bytes(), Encoding::Xml, &options).expect_err("too large");
    assert_eq!(
        err,
        DecodeError::TooLarge {
            size: body.len(),
            limit: 1024
        }
    );
    // The default limit is 1 MiB.
    let huge = vec![b' '; 1024 * 1024 + 1];
    assert!(matches!(
        decode(&huge, Encoding::Xml),
        Err(DecodeError::TooLarge { .. })
    ));
}

#[test]
fn too_deep_is_rejected() {
    let nested = "<a>".repeat(100) + &"</a>".repeat(100);
    let body = wrap(
        Version::V1_2,
        &format!("<Logout-Request>{nested}</Logout-Request>"),
    );
    let err = decode(body.as_bytes(), Encoding::Xml).expect_err("too deep");
    assert_eq!(
        err,
        DecodeError::TooDeep {
            limit: Limits::default().max_depth
        }
    );
}

#[test]
fn too_many_elements_and_too_long_text_are_rejected() {
    let options = DecodeOptions {
        limits: Limits {
            max_elements: 100,
            max_text: 64,
            ..Limits::default()
        },
        ..DecodeOptions::default()
    };
    let many = "<x/>".repeat(200);
    let body = wrap(
        Version::V1_2,
        &format!("<Logout-Request>{many}</Logout-Request>"),
    );
    let err = decode_with(body.as_bytes(), Encoding::Xml, &options).expect_err("too many");
    assert_eq!(err, DecodeError::TooManyElements { limit: 100 });
    let long = "y".repeat(65);
    let body = wrap(
        Version::V1_2,
        &format!("<Logout-Request><x>{long}</x></Logout-Request>"),
    );
    let options = DecodeOptions {
        limits: Limits {
            max_text: 64,
            ..Limits::default()
        },
        ..options
    };
    // Skipped elements' text is not collected, so it is not limited...
    assert!(decode_with(body.as_bytes(), Encoding::Xml, &options).is_ok());
    // ...but text a field reads is.
    let body = wrap(
        Version::V1_2,
        &format!(
            "<Status><Result><Code>200</Code><Description>{long}</Description></Result></Status>"
        ),
    );
    let err = decode_with(body.as_bytes(), Encoding::Xml, &options).expect_err("too long");
    assert_eq!(err, DecodeError::TextTooLong { limit: 64 });
}

#[test]
fn billion_laughs_is_never_expanded() {
    let mut dtd = String::from("<!DOCTYPE WV-CSP-Message [\n<!ENTITY lol \"lol\">\n");
    for i in 1..10 {
        let prev = if i == 1 {
            "lol".to_owned()
        } else {
            format!("lol{}", i - 1)
        };
        dtd.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">\n",
            format!("&{prev};").repeat(10)
        ));
    }
    dtd.push_str("]>\n");
    let body = dtd
        + &wrap(
            Version::V1_1,
            "<Status><Result><Code>200</Code><Description>&lol9;</Description></Result></Status>",
        );
    let err = decode(body.as_bytes(), Encoding::Xml).expect_err("entity refused");
    assert!(
        matches!(err, DecodeError::Entity(ref e) if e.contains("lol9")),
        "{err:?}"
    );
    assert_eq!(err.status(), StatusCode::BadRequest);
}

#[test]
fn predefined_and_character_references_are_resolved() {
    let body = wrap(
        Version::V1_2,
        "<Status><Result><Code>200</Code><Description>a&lt;b&amp;&#233;&#x41;</Description>\
         </Result></Status>",
    );
    let m = decode(body.as_bytes(), Encoding::Xml).expect("decodes");
    let Primitive::Status(status) = &m.session.transactions[0].content else {
        panic!("not a Status: {m:?}")
    };
    assert_eq!(status.result.description.as_deref(), Some("a<b&éA"));
}

#[test]
fn wrong_namespace_is_version_not_supported() {
    let body = wrap(Version::V1_2, "<Logout-Request/>").replace(
        Version::V1_2.csp_namespace(),
        "http://www.wireless-village.org/CSP1.0",
    );
    let err = decode(body.as_bytes(), Encoding::Xml).expect_err("CSP 1.0");
    assert!(matches!(err, DecodeError::UnsupportedVersion(_)));
    assert_eq!(err.status(), StatusCode::VersionNotSupported);
    let body = wrap(Version::V1_2, "<Logout-Request/>")
        .replace(Version::V1_2.csp_namespace(), "http://example.com/not-csp");
    assert!(matches!(
        decode(body.as_bytes(), Encoding::Xml),
        Err(DecodeError::UnsupportedVersion(_))
    ));
    let body = "<!DOCTYPE WV-CSP-Message PUBLIC \"-//OMA//DTD WV-CSP 9.9//EN\" \"x\">".to_owned()
        + &wrap(Version::V1_2, "<Logout-Request/>")
            .replace(&format!(" xmlns=\"{}\"", Version::V1_2.csp_namespace()), "");
    assert!(matches!(
        decode(body.as_bytes(), Encoding::Xml),
        Err(DecodeError::UnsupportedVersion(_))
    ));
}

#[test]
fn version_from_doctype_hint_or_default() {
    let bare = wrap(Version::V1_2, "<Logout-Request/>")
        .replace(&format!(" xmlns=\"{}\"", Version::V1_2.csp_namespace()), "");
    let with_doctype = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE WV-CSP-Message PUBLIC \"{}\" \"x\">{bare}",
        Version::V1_1.public_id()
    );
    assert_eq!(
        decode(with_doctype.as_bytes(), Encoding::Xml)
            .expect("ok")
            .version,
        Version::V1_1
    );
    let options = DecodeOptions {
        version_hint: Some(Version::V1_3),
        ..DecodeOptions::default()
    };
    assert_eq!(
        decode_with(bare.as_bytes(), Encoding::Xml, &options)
            .expect("ok")
            .version,
        Version::V1_3
    );
    assert_eq!(
        decode(bare.as_bytes(), Encoding::Xml).expect("ok").version,
        Version::V1_2
    );
}

#[test]
fn not_csp_and_not_xml() {
    assert!(matches!(
        decode(b"<html><body/></html>", Encoding::Xml),
        Err(DecodeError::NotCsp(_))
    ));
    assert_eq!(
        decode(b"\xff\xfe<a/>", Encoding::Xml),
        Err(DecodeError::NotUtf8)
    );
    assert_eq!(decode(b"", Encoding::Xml), Err(DecodeError::Truncated));
    assert!(matches!(
        decode(b"hello", Encoding::Xml),
        Err(DecodeError::Malformed(_))
    ));
    let mismatched = wrap(Version::V1_2, "<Logout-Request></Logout>");
    assert!(matches!(
        decode(mismatched.as_bytes(), Encoding::Xml),
        Err(DecodeError::Malformed(_))
    ));
}

#[test]
fn unknown_and_unsupported_primitives() {
    let body = wrap(
        Version::V1_2,
        "<Teleport-Request><To>mars</To></Teleport-Request>",
    );
    let err = decode(body.as_bytes(), Encoding::Xml).expect_err("unknown");
    assert_eq!(
        err,
        DecodeError::UnknownPrimitive("Teleport-Request".into())
    );
    assert_eq!(err.status(), StatusCode::ServiceNotSupported);
    let body = wrap(
        Version::V1_3,
        "<GetSegment-Request><X/></GetSegment-Request>",
    );
    let m = decode(body.as_bytes(), Encoding::Xml).expect("recognised");
    assert_eq!(
        m.session.transactions[0].content,
        Primitive::Unsupported {
            name: "GetSegment-Request".into(),
            version: Version::V1_3
        }
    );
    let body = wrap(Version::V1_2, "");
    assert_eq!(
        decode(body.as_bytes(), Encoding::Xml),
        Err(DecodeError::NoPrimitive)
    );
}

#[test]
fn invalid_values_name_their_element() {
    let text = sample("MessageNotification.csp11.xml");
    let bad = text.replacen("20010925T1340Z", "20011325T1340Z", 1);
    assert_ne!(bad, text, "the sample carries the DateTime replaced here");
    let err = decode(bad.as_bytes(), Encoding::Xml).expect_err("month 13");
    assert!(
        matches!(err, DecodeError::InvalidValue { ref element, .. } if element == "DateTime"),
        "{err:?}"
    );
    assert_eq!(err.status(), StatusCode::InvalidParameter);
    let body = wrap(
        Version::V1_2,
        "<Status><Result><Code>two hundred</Code></Result></Status>",
    );
    let err = decode(body.as_bytes(), Encoding::Xml).expect_err("not an integer");
    assert!(matches!(err, DecodeError::InvalidValue { ref element, .. } if element == "Code"));
    let body = wrap(Version::V1_2, "<Status/>");
    assert_eq!(
        decode(body.as_bytes(), Encoding::Xml),
        Err(DecodeError::Missing {
            parent: "Status",
            element: "Result"
        })
    );
}

#[test]
fn lenient_reading() {
    // Any element order, whitespace, unknown and vendor elements, prefixes and CDATA.
    let body = "<?xml version='1.0'?>\n<csp:WV-CSP-Message xmlns:csp=\"http://www.openmobilealliance.org/DTD/WV-CSP1.2\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n\
        <csp:Session><Poll>T</Poll><Transaction><TransactionContent xmlns=\"http://www.openmobilealliance.org/DTD/WV-TRC1.2\">\
        <Status><Vendor xmlns=\"http://vendor.example/x\"><Deep/></Vendor><Result><Description><![CDATA[ok & fine]]></Description><Code> 200 </Code></Result></Status>\
        </TransactionContent><TransactionDescriptor><TransactionID>9</TransactionID><TransactionMode>Response</TransactionMode></TransactionDescriptor>\
        </Transaction><ColibriaExtensions/><SessionDescriptor><SessionType>Outband</SessionType></SessionDescriptor></csp:Session></csp:WV-CSP-Message>\n<!-- trailer -->";
    let m = decode(body.as_bytes(), Encoding::Xml).expect("lenient");
    assert_eq!(m.version, Version::V1_2);
    assert_eq!(m.poll(), Some(true));
    let Primitive::Status(status) = &m.session.transactions[0].content else {
        panic!("{m:?}")
    };
    assert_eq!(status.result.code, 200);
    assert_eq!(status.result.description.as_deref(), Some("ok & fine"));
}

#[test]
fn an_element_without_a_name_is_malformed_wherever_it_stands() {
    // The lenient reader lets `< />` and `<p:/>` through as elements; nothing could write
    // them back (found by the decode_xml fuzzer, twice, in different places).
    let places = [
        "<PresenceAuth-Request><UserID>wv:a@x</UserID><PresenceSubList>\
         <OnlineStatus/>< /></PresenceSubList></PresenceAuth-Request>",
        "<Status><Result><Code>200</Code></Result><p:/></Status>",
        "<Status>< x=\"1\"/><Result><Code>200</Code></Result></Status>",
    ];
    for content in places {
        let body = wrap(Version::V1_2, content);
        let err = decode(body.as_bytes(), Encoding::Xml).expect_err(content);
        assert!(
            matches!(err, DecodeError::Malformed(_)),
            "{content}: {err:?}"
        );
        assert_eq!(err.status(), StatusCode::BadRequest);
    }
    // The same documents with names decode.
    let named = wrap(
        Version::V1_2,
        "<Status><Result><Code>200</Code></Result><p:V xmlns:p=\"urn:v\"/></Status>",
    );
    decode(named.as_bytes(), Encoding::Xml).expect("a named vendor element is fine");
}
