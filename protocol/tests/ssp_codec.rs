//! SSP codec: golden fixtures from SSP.md (protocol/testdata/ssp), Baraza quirks, the
//! 405/501 distinction and the reader's limits.

use imps_protocol::ssp::csp::presence_sub_list;
use imps_protocol::ssp::digest::dialback_digest;
use imps_protocol::ssp::extension::FeatureGroup;
use imps_protocol::ssp::relay::SendMessageRequest;
use imps_protocol::ssp::{
    Content, Mode, Sender, SetupContent, SspError, SspMessage, decode_ssp, encode_ssp,
};
use imps_protocol::{DecodeError, Limits, StatusCode};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/ssp");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).expect("fixture exists")
}

fn decode(name: &str) -> SspMessage {
    let message =
        decode_ssp(&fixture(name), &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
    let again = decode_ssp(&encode_ssp(&message), &Limits::default()).expect("re-decodes");
    assert_eq!(
        again, message,
        "{name}: canonical re-encoding changes the value"
    );
    message
}

fn only_content(message: &SspMessage) -> &Content {
    match message {
        SspMessage::Session(s) => {
            assert_eq!(s.transactions.len(), 1);
            &s.transactions[0].content
        }
        SspMessage::Setup(_) => panic!("expected a session message"),
    }
}

fn session(xml: &str) -> String {
    format!(
        "<WV-SSP-Message xmlns=\"http://www.openmobilealliance.org/DTD/WV-SSP1.3\">\
         <Session sessionID=\"1@a.example\"><Transaction mode=\"Request\" transactionID=\"1\">\
         {xml}</Transaction></Session></WV-SSP-Message>"
    )
}

#[test]
fn every_fixture_decodes_and_round_trips() {
    let mut names: Vec<_> = std::fs::read_dir(FIXTURES)
        .expect("fixture dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".xml"))
        .collect();
    names.sort();
    assert!(names.len() >= 25, "fixtures missing: {names:?}");
    for name in names {
        decode(&name);
    }
}

#[test]
fn handshake_fixtures_carry_the_dialback_digests() {
    let secret = |name| match decode(name) {
        SspMessage::Setup(s) => match s.content {
            SetupContent::SendSecretToken(t) => {
                assert_eq!(
                    t.protocol_version.as_deref(),
                    Some("1.3"),
                    "procotolVersion"
                );
                assert!(!t.secret.base64);
                t.secret.value
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };
    let digest = |name| match decode(name) {
        SspMessage::Setup(s) => match s.content {
            SetupContent::LoginRequest(l) => {
                assert_eq!(l.time_to_live, Some(86_400));
                assert!(l.digest.base64);
                (s.mode, s.transaction_id, l.domain, l.digest.value)
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };
    let a = secret("01-send-secret-token-request.xml");
    let b = secret("02-send-secret-token-response.xml");
    let (mode, tid, domain, d3) = digest("03-login-request.xml");
    assert_eq!(
        (mode, tid.as_str(), domain.as_str()),
        (Mode::Request, "17", "a.example")
    );
    assert_eq!(d3, dialback_digest(&b));
    let (mode, tid, domain, d4) = digest("04-login-request-response.xml");
    assert_eq!(
        (mode, tid.as_str(), domain.as_str()),
        (Mode::Response, "17", "b.example")
    );
    assert_eq!(d4, dialback_digest(&a));
    match decode("06-login-response-response.xml") {
        SspMessage::Setup(s) => match s.content {
            SetupContent::LoginResponse(l) => {
                assert_eq!(l.session_id, "5@b.example");
                assert_eq!(l.status.code, 200);
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

#[test]
fn send_message_fixture_has_every_part() {
    let message = decode("10-send-message-request.xml");
    let SspMessage::Session(s) = &message else {
        panic!("session expected")
    };
    assert_eq!(s.session_id, "17@a.example");
    assert_eq!(s.peer_domain(), Some("a.example"));
    assert_eq!(s.transactions[0].transaction_id, "0000000042-7");
    let Content::SendMessageRequest(SendMessageRequest {
        delivery_report,
        meta_info,
        message_info,
        content,
    }) = only_content(&message)
    else {
        panic!("SendMessageRequest expected")
    };
    assert_eq!(*delivery_report, Some(true));
    let meta = meta_info.as_ref().expect("MetaInfo");
    assert!(meta.client_originated);
    assert_eq!(meta.requestor_domain, "a.example");
    let user = meta.user.as_ref().expect("User");
    assert_eq!(user.user_id, "wv:alice@a.example");
    let client = user.client_id.as_ref().expect("ClientID");
    assert_eq!(client.url.as_deref(), Some("http://client.a.example/1"));
    assert_eq!(message_info.validity, Some(3600));
    assert_eq!(message_info.content_size, Some(9));
    assert_eq!(
        message_info.recipients[0].users[0].user_id,
        "wv:bob@b.example"
    );
    assert!(
        matches!(&message_info.sender, Some(Sender::User(u)) if u.user_id == "wv:alice@a.example")
    );
    assert_eq!(
        message_info.date_time.as_deref(),
        Some("2008-11-20T10:15:00Z")
    );
    assert_eq!(content.as_ref().expect("ContentData").data, b"Hello Bob");
}

#[test]
fn status_with_detailed_result() {
    let message = decode("12-status-detailed.xml");
    let Content::Status(status) = only_content(&message) else {
        panic!("Status expected")
    };
    assert_eq!(status.code, 201);
    assert_eq!(status.try_again_timeout, Some(30));
    let d = &status.detailed[0];
    assert_eq!(d.code, 531);
    assert_eq!(d.user_ids, ["wv:nobody@b.example"]);
    assert_eq!(d.group_ids, ["wv:/club@b.example"]);
    assert_eq!(d.screen_names[0].name, "Nemo");
    assert_eq!(d.domains, ["b.example"]);
}

#[test]
fn presence_payload_converts_to_csp_types() {
    let message = decode("22-presence-notification.xml");
    let Content::PresenceNotification(n) = only_content(&message) else {
        panic!("PresenceNotification expected")
    };
    assert_eq!(n.recipients[0].user_id, "wv:alice@a.example");
    let value = &n.values[0];
    assert_eq!(value.user_id, "wv:bob@b.example");
    let list = presence_sub_list(&value.sub_lists[0], &Limits::default()).expect("CSP presence");
    assert_eq!(list.names(), ["UserAvailability"]);
}

#[test]
fn baraza_quirks_are_tolerated() {
    // Stray empty <Canceled/> after the real one.
    let message = decode("32-cancel-invite-request.xml");
    let Content::CancelInviteRequest(c) = only_content(&message) else {
        panic!("CancelInviteRequest expected")
    };
    assert_eq!(
        c.canceled.as_ref().expect("Canceled").users[0].user_id,
        "wv:bob@b.example"
    );

    // JoinedUsers (parsed spelling) and userid= in lower case.
    let message = decode("44-get-joined-users-response.xml");
    let Content::GetJoinedUsersResponse(j) = only_content(&message) else {
        panic!("GetJoinedUsersResponse expected")
    };
    assert_eq!(j.admins[0].user_id.as_deref(), Some("wv:bob@b.example"));
    assert_eq!(j.users.len(), 2);
    assert_eq!(j.users[0].screen_name, "Alice");
    assert_eq!(j.users[0].user_id.as_deref(), Some("wv:alice@a.example"));
    assert_eq!(j.users[1].user_id, None);
    // We write JoinedUser (what Baraza sends).
    let text = String::from_utf8(encode_ssp(&message)).expect("utf-8");
    assert!(text.contains("<JoinedUser>") && !text.contains("<JoinedUsers>"));

    // Attribute names in any case, MessageURI/ContentName/validlity spellings.
    let xml = session(
        "<SendMessageRequest DeliveryReport=\"no\"><MessageInfo MessageID=\"x\" MessageURI=\"u\" \
         ContentName=\"n\" validlity=\"60\"><Recipient><User USERID=\"bob@b.example\"/>\
         </Recipient></MessageInfo></SendMessageRequest>",
    );
    let message = decode_ssp(xml.as_bytes(), &Limits::default()).expect("decodes");
    let Content::SendMessageRequest(m) = only_content(&message) else {
        panic!("SendMessageRequest expected")
    };
    assert_eq!(m.delivery_report, Some(false));
    assert_eq!(m.message_info.message_uri.as_deref(), Some("u"));
    assert_eq!(m.message_info.content_name.as_deref(), Some("n"));
    assert_eq!(m.message_info.validity, Some(60));
    assert_eq!(
        m.message_info.recipients[0].users[0].user_id,
        "bob@b.example"
    );

    // Mode compared case-insensitively; anything but Request is a response; Status without a
    // code reads as 404.
    let xml = session("<Status/>").replace("mode=\"Request\"", "mode=\"request\"");
    let SspMessage::Session(s) = decode_ssp(xml.as_bytes(), &Limits::default()).expect("ok") else {
        panic!("session expected")
    };
    assert_eq!(s.transactions[0].mode, Mode::Request);
    assert!(matches!(&s.transactions[0].content, Content::Status(st) if st.code == 404));
    let xml = session("<Status code=\"200\"/>").replace("mode=\"Request\"", "mode=\"Whatever\"");
    let SspMessage::Session(s) = decode_ssp(xml.as_bytes(), &Limits::default()).expect("ok") else {
        panic!("session expected")
    };
    assert_eq!(s.transactions[0].mode, Mode::Response);
}

#[test]
fn setup_tokens_plain_or_base64_and_service_id_forms() {
    let xml = "<?xml version='1.0'?><p:WV-SSP-Message xmlns:p=\"urn:x\"><p:SetupTransaction \
               MODE=\"Request\" TransactionId=\"3\"><p:SendSecretToken serviceid=\"@b.example\" \
               protocolVersion=\"1.3\"><p:SecretToken encoding=\"base64\">c2VjcmV0\
               </p:SecretToken></p:SendSecretToken></p:SetupTransaction></p:WV-SSP-Message>";
    let SspMessage::Setup(s) = decode_ssp(xml.as_bytes(), &Limits::default()).expect("decodes")
    else {
        panic!("setup expected")
    };
    assert_eq!(s.transaction_id, "3");
    let SetupContent::SendSecretToken(t) = s.content else {
        panic!("SendSecretToken expected")
    };
    assert_eq!(t.domain, "b.example");
    assert_eq!(t.secret.value, b"secret");
    assert!(t.secret.base64);
}

#[test]
fn unknown_and_unsupported_primitives_are_told_apart() {
    let message = decode("50-mixed-unknown.xml");
    let SspMessage::Session(s) = &message else {
        panic!("session expected")
    };
    let [known, unknown, invalid] = &s.transactions[..] else {
        panic!("three transactions expected")
    };
    let Content::Unknown(k) = &known.content else {
        panic!("{:?}", known.content)
    };
    assert!(k.recognised);
    assert_eq!(k.status(), StatusCode::NotImplemented);
    let Content::Unknown(u) = &unknown.content else {
        panic!("{:?}", unknown.content)
    };
    assert!(!u.recognised);
    assert_eq!(u.status(), StatusCode::ServiceNotSupported);
    assert_eq!(unknown.content.name(), "FrobnicateRequest");
    let Content::Invalid(i) = &invalid.content else {
        panic!("{:?}", invalid.content)
    };
    assert_eq!(i.error.status(), StatusCode::InvalidParameter);
    // Kept elements are written back as they came.
    let text = String::from_utf8(encode_ssp(&message)).expect("utf-8");
    assert!(text.contains("<FrobnicateRequest level=\"11\"><Knob>up</Knob></FrobnicateRequest>"));
}

#[test]
fn extension_fixtures() {
    let message = decode("60-service-request.xml");
    let Content::ServiceRequest(r) = only_content(&message) else {
        panic!("ServiceRequest expected")
    };
    assert!(r.offered.contains(&FeatureGroup::Im));
    assert!(!r.offered.contains(&FeatureGroup::Content));
    let message = decode("61-service-response.xml");
    let Content::ServiceResponse(resp) = only_content(&message) else {
        panic!("ServiceResponse expected")
    };
    let agreed = r.offered.intersect(&resp.agreed);
    assert_eq!(agreed.features.len(), 2);
    assert_eq!(agreed.features[0].functions, ["IMSendFunc"]);
    assert!(agreed.features[1].functions.is_empty());

    let message = decode("63-relayed-request.xml");
    let SspMessage::Session(s) = &message else {
        panic!("session expected")
    };
    assert_eq!(s.transactions[0].relay_path, ["h.example", "a.example"]);
}

#[test]
fn envelope_errors() {
    let limits = Limits::default();
    let err = decode_ssp(b"<WV-CSP-Message/>", &limits).expect_err("not SSP");
    assert!(matches!(err, SspError::NotSsp(_)));
    let err = decode_ssp(b"<WV-SSP-Message/>", &limits).expect_err("empty");
    assert_eq!(err, SspError::NoBody);
    let err = decode_ssp(
        b"<WV-SSP-Message><Session sessionID=\"1@a\"/></WV-SSP-Message>",
        &limits,
    )
    .expect_err("no transaction");
    assert!(matches!(err, SspError::Missing { .. }));
    let xml = "<WV-SSP-Message><SetupTransaction mode=\"Request\" transactionID=\"1\">\
               <Bogus/></SetupTransaction></WV-SSP-Message>";
    let err = decode_ssp(xml.as_bytes(), &limits).expect_err("unknown setup");
    assert_eq!(err.status(), StatusCode::ServiceNotSupported);
    let xml = "<WV-SSP-Message><SetupTransaction mode=\"Request\" transactionID=\"1\">\
               <LoginRequest serviceID=\"wv:@a\" timeToLive=\"soon\"><PasswordDigest/>\
               </LoginRequest></SetupTransaction></WV-SSP-Message>";
    let err = decode_ssp(xml.as_bytes(), &limits).expect_err("bad ttl");
    assert!(matches!(err, SspError::InvalidValue { .. }));
}

#[test]
fn truncated_input_at_every_length_fails_cleanly() {
    let bytes = fixture("10-send-message-request.xml");
    let end = bytes.len() - "</WV-SSP-Message>\n".len();
    for cut in 0..end {
        let err = decode_ssp(&bytes[..cut], &Limits::default()).expect_err("truncated decoded");
        assert!(
            matches!(
                err,
                SspError::Xml(
                    DecodeError::Truncated | DecodeError::Malformed(_) | DecodeError::NotUtf8
                )
            ),
            "cut at {cut}: {err:?}"
        );
    }
}

#[test]
fn limits_are_enforced() {
    let body = fixture("10-send-message-request.xml");
    let small = Limits {
        max_body: 100,
        ..Limits::default()
    };
    assert!(matches!(
        decode_ssp(&body, &small),
        Err(SspError::Xml(DecodeError::TooLarge { .. }))
    ));
    let shallow = Limits {
        max_depth: 4,
        ..Limits::default()
    };
    assert!(matches!(
        decode_ssp(&body, &shallow),
        Err(SspError::Xml(DecodeError::TooDeep { .. }))
    ));
    let few = Limits {
        max_elements: 5,
        ..Limits::default()
    };
    assert!(matches!(
        decode_ssp(&body, &few),
        Err(SspError::Xml(DecodeError::TooManyElements { .. }))
    ));
    let short = Limits {
        max_text: 4,
        ..Limits::default()
    };
    assert!(matches!(
        decode_ssp(&body, &short),
        Err(SspError::Xml(DecodeError::TextTooLong { .. }))
    ));
    let deep = format!("{}{}", "<a>".repeat(10_000), "</a>".repeat(10_000));
    assert!(decode_ssp(deep.as_bytes(), &Limits::default()).is_err());
}

#[test]
fn dtd_entities_are_never_expanded() {
    let xml = "<?xml version=\"1.0\"?><!DOCTYPE WV-SSP-Message [<!ENTITY x \"boom\">]>\
               <WV-SSP-Message><Session sessionID=\"1@a\"><Transaction mode=\"Request\" \
               transactionID=\"1\"><Status code=\"200\"><StatusDescription>&x;\
               </StatusDescription></Status></Transaction></Session></WV-SSP-Message>";
    let err = decode_ssp(xml.as_bytes(), &Limits::default()).expect_err("entity expanded");
    assert!(
        matches!(err, SspError::Xml(DecodeError::Entity(_))),
        "{err:?}"
    );
    // Predefined entities and character references are fine.
    let xml = session(
        "<Status code=\"200\"><StatusDescription>a&amp;b&#65;</StatusDescription></Status>",
    );
    let message = decode_ssp(xml.as_bytes(), &Limits::default()).expect("decodes");
    assert!(
        matches!(only_content(&message), Content::Status(s) if s.description.as_deref() == Some("a&bA"))
    );
}

#[test]
fn requests_from_another_domain_are_refused_with_901() {
    let message = decode("10-send-message-request.xml");
    let SspMessage::Session(s) = &message else {
        panic!("session expected")
    };
    let t = &s.transactions[0];
    assert_eq!(t.check_origin("a.example"), Ok(()));
    assert_eq!(t.check_origin("A.EXAMPLE"), Ok(()));
    assert_eq!(t.check_origin("c.example"), Err(StatusCode::AddressError));

    // MetaInfo says a.example but the sender is a user of a third domain.
    let xml = session(
        "<SendMessageRequest><MetaInfo clientOriginated=\"Yes\"><Requestor \
         serviceID=\"wv:@a.example\"/></MetaInfo><MessageInfo><Sender><User \
         userID=\"wv:mallory@c.example\"/></Sender></MessageInfo></SendMessageRequest>",
    );
    let SspMessage::Session(s) = decode_ssp(xml.as_bytes(), &Limits::default()).expect("ok") else {
        panic!("session expected")
    };
    assert_eq!(
        s.transactions[0].check_origin("a.example"),
        Err(StatusCode::AddressError)
    );

    // A user without domain in MetaInfo is not of the peer's domain either.
    let xml = session(
        "<SubscribeRequest><MetaInfo clientOriginated=\"Yes\"><Requestor \
         serviceID=\"wv:@a.example\"><User userID=\"wv:alice\"/></Requestor></MetaInfo>\
         </SubscribeRequest>",
    );
    let SspMessage::Session(s) = decode_ssp(xml.as_bytes(), &Limits::default()).expect("ok") else {
        panic!("session expected")
    };
    assert_eq!(
        s.transactions[0].check_origin("a.example"),
        Err(StatusCode::AddressError)
    );

    // A relayed request is checked against the first domain of its path.
    let message = decode("63-relayed-request.xml");
    let SspMessage::Session(s) = &message else {
        panic!("session expected")
    };
    assert_eq!(s.transactions[0].origin("a.example"), "h.example");
}

#[test]
fn responses_echo_the_transaction_id() {
    let message = decode("10-send-message-request.xml");
    let SspMessage::Session(s) = &message else {
        panic!("session expected")
    };
    let answer = s.transactions[0].respond(Content::Status(imps_protocol::ssp::Status::new(200)));
    assert_eq!(answer.mode, Mode::Response);
    assert_eq!(answer.transaction_id, "0000000042-7");
}

#[test]
fn unknown_entities_in_attributes_are_refused() {
    let xml = session("<Status code=\"&x;\"/>");
    let err = decode_ssp(xml.as_bytes(), &Limits::default()).expect_err("entity expanded");
    assert!(
        matches!(err, SspError::Xml(DecodeError::Entity(_))),
        "{err:?}"
    );
}

#[test]
fn group_properties_request_and_response_round_trip() {
    let request = session(
        "<GetGroupPropsRequest groupID=\"wv:bob/chat@b.example\"><MetaInfo clientOriginated=\"Yes\">\
         <Requestor serviceID=\"wv:@a.example\"><User userID=\"wv:alice@a.example\"/></Requestor>\
         </MetaInfo></GetGroupPropsRequest>",
    );
    let message = decode_ssp(request.as_bytes(), &Limits::default()).expect("decodes");
    let Content::GetGroupPropsRequest(r) = only_content(&message) else {
        panic!("{message:?}")
    };
    assert_eq!(r.group_id, "wv:bob/chat@b.example");
    assert_eq!(only_content(&message).check_origin("a.example"), Ok(()));
    assert_eq!(
        only_content(&message).check_origin("c.example"),
        Err(StatusCode::AddressError)
    );
    let response = session(
        "<GetGroupPropsResponse><Status code=\"200\"/><GroupProperties>\
         <Property><Name>Topic</Name><Value>rust</Value></Property></GroupProperties>\
         </GetGroupPropsResponse>",
    );
    let message = decode_ssp(response.as_bytes(), &Limits::default()).expect("decodes");
    let again = decode_ssp(&encode_ssp(&message), &Limits::default()).expect("re-decodes");
    assert_eq!(again, message);
    let Content::GetGroupPropsResponse(r) = only_content(&message) else {
        panic!("{message:?}")
    };
    assert_eq!(r.status.as_ref().map(|s| s.code), Some(200));
    let props = r.group_properties.as_ref().expect("properties");
    assert_eq!(props.elements().count(), 1);
}
