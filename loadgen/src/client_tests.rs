//! The client state machine in virtual time against the trivial responder: no sockets, no
//! clock.

use super::*;
use crate::driver::loopback::Responder;
use crate::memory::log_in;
use crate::scenario::Scenario;
use crate::users::UserDirectory;
use imps_protocol::Message;

fn model(extra: &str) -> Model {
    let s = Scenario::parse(&format!("clients = 100\n{extra}")).unwrap();
    Model::new(&s, None, UserDirectory::prefix("user", "pw"))
}

/// Sends, answers with `r`, and follows up until the exchange ends; the kinds sent.
fn exchange(
    c: &mut SimClient,
    m: &Model,
    r: &mut Responder,
    first: Outgoing,
    now_us: u64,
) -> Vec<Kind> {
    let mut kinds = Vec::new();
    let mut next = Some(first);
    while let Some(out) = next.take() {
        kinds.push(out.kind);
        let answer = r.answer(&out.message);
        next = c
            .on_answer(m, Answer::Csp(answer), now_us, 0, &mut Vec::new())
            .and_then(|h| h.next);
    }
    kinds
}

#[test]
fn plain_login_walks_the_whole_sequence() {
    let m = model(
        "[login]\ndigest_fraction = 0.0\n[mix]\ncir_fraction = 0.0\n[contacts]\ndistribution = \"fixed\"\nn = 5",
    );
    let mut c = SimClient::new(&m, 3, 5);
    assert_eq!(c.phase(), Phase::Offline);
    let first = c.on_timer(&m, c.wake_ms(), 0).unwrap();
    let kinds = exchange(&mut c, &m, &mut Responder::new(10), first, 1_000);
    assert_eq!(
        kinds,
        vec![
            Kind::Login,
            Kind::Capability,
            Kind::Service,
            Kind::GetList,
            Kind::CreateList,
            Kind::AttributeList,
            Kind::Subscribe,
            Kind::UpdatePresence
        ]
    );
    assert_eq!(c.phase(), Phase::Online);
    assert!(c.session().is_some_and(|s| s.starts_with("0-")));
    assert_eq!(c.heap_bytes(), 0);
    assert!(c.wake_ms() != NO_TIMER && c.wake_ms() > 1);
}

#[test]
fn digest_login_answers_the_challenge() {
    let m = model("[login]\ndigest_fraction = 1.0\n[contacts]\ndistribution = \"fixed\"\nn = 0");
    let mut c = SimClient::new(&m, 0, 0);
    let first = c.on_timer(&m, c.wake_ms(), 0).unwrap();
    let kinds = exchange(&mut c, &m, &mut Responder::new(10), first, 0);
    // No contacts: no list, no subscription.
    assert_eq!(
        kinds,
        vec![
            Kind::Login,
            Kind::LoginDigest,
            Kind::Capability,
            Kind::Service,
            Kind::GetList,
            Kind::UpdatePresence
        ]
    );
    assert_eq!(c.phase(), Phase::Online);
}

#[test]
fn polls_keep_their_intended_times_when_answers_are_late() {
    // No actions, only polls every 30 s (ServerPollMin 10 s is lower).
    let m = model(
        "[mix]\ncir_fraction = 0.0\npoll_interval = \"30s\"\n[rates]\nupdate_presence = 0\nsend_message = 0\nlist_manage = 0\nget_presence = 0\nnetwork_drop = 0\nlogout = 0",
    );
    let mut r = Responder::new(10);
    let mut c = SimClient::new(&m, 1, 2);
    assert!(log_in(&mut c, &m, &mut r, &mut Vec::new()));
    let first_poll = c.wake_ms();
    let out = c.on_timer(&m, first_poll, 0).unwrap();
    assert_eq!(out.kind, Kind::Poll);
    // The next poll is 30 s after the intended time of this one.
    assert_eq!(c.wake_ms(), first_poll + 30_000);
    // It falls due while the first is still unanswered: nothing is sent then...
    assert!(c.on_timer(&m, first_poll + 30_000, 0).is_none());
    assert_eq!(c.wake_ms(), NO_TIMER);
    // ...the late answer (45 s after) ends the first poll, measured from its intended time...
    let late = u64::from(first_poll + 45_000) * 1000;
    let h = c
        .on_answer(&m, Answer::Csp(None), late, 0, &mut Vec::new())
        .unwrap();
    assert_eq!((h.kind, h.class), (Kind::Poll, Class::Ok));
    assert_eq!(h.intended_us, u64::from(first_poll) * 1000);
    // ...and the second poll is due at once, still stamped with its own intended time.
    assert_eq!(c.wake_ms(), first_poll + 30_000);
    let second = c.on_timer(&m, first_poll + 30_000, 0).unwrap();
    assert_eq!(second.kind, Kind::Poll);
    let h = c
        .on_answer(&m, Answer::Csp(None), late + 1000, 0, &mut Vec::new())
        .unwrap();
    assert_eq!(h.intended_us, u64::from(first_poll + 30_000) * 1000);
}

#[test]
fn cir_clients_keep_alive_instead_of_polling_when_cir_is_agreed() {
    let m = model(
        "[mix]\ncir_fraction = 1.0\nkeep_alive = \"60s\"\n[rates]\nupdate_presence = 0\nsend_message = 0\nlist_manage = 0\nget_presence = 0\nnetwork_drop = 0\nlogout = 0",
    );
    let mut c = SimClient::new(&m, 1, 0);
    assert!(c.uses_cir());
    // The trivial responder agrees no CIR method: the client falls back to polling.
    assert!(log_in(&mut c, &m, &mut Responder::new(10), &mut Vec::new()));
    assert!(!c.has_channel());
    let out = c.on_timer(&m, c.wake_ms(), 0).unwrap();
    assert_eq!(out.kind, Kind::Poll);
}

/// A model whose clients only poll or keep alive (no actions), all asking for STCP.
fn cir_model() -> Model {
    model(
        "[mix]\ncir_fraction = 1.0\npush_fraction = 0.0\nkeep_alive = \"60s\"\npoll_interval = \"30s\"\n[rates]\nupdate_presence = 0\nsend_message = 0\nlist_manage = 0\nget_presence = 0\nnetwork_drop = 0\nlogout = 0",
    )
}

/// Logs `c` in against a responder agreeing STCP on port 3171; the channel it asked for.
fn log_in_with_channel(c: &mut SimClient, m: &Model, r: &mut Responder) -> CirAddress {
    r.stcp_port = Some(3171);
    let mut channel = None;
    let mut next = c.on_timer(m, c.wake_ms(), 0);
    while let Some(out) = next.take() {
        let answer = r.answer(&out.message);
        let h = c
            .on_answer(m, Answer::Csp(answer), 1_000, 0, &mut Vec::new())
            .unwrap();
        channel = channel.or(h.channel);
        next = h.next;
    }
    assert_eq!(c.phase(), Phase::Online);
    channel.expect("a channel asked for")
}

#[test]
fn a_cir_client_holds_a_channel_keeps_alive_and_polls_when_woken() {
    let m = cir_model();
    let mut r = Responder::new(10);
    let mut c = SimClient::new(&m, 1, 0);
    let channel = log_in_with_channel(&mut c, &m, &mut r);
    assert_eq!(channel.port, 3171);
    assert_eq!(channel.ip, Some("127.0.0.1".parse().unwrap()));
    assert!(c.has_channel());
    // Its timer sends keep-alives, 60 s apart, not polls.
    let at = c.wake_ms();
    let out = c.on_timer(&m, at, 0).unwrap();
    assert_eq!(out.kind, Kind::KeepAlive);
    assert_eq!(c.wake_ms(), at + 60_000);
    // A wake-up while the keep-alive is in flight: the poll is owed...
    assert!(c.on_wake(&m, u64::from(at) * 1000 + 5).is_none());
    assert!(c.owes_poll());
    // ...and sent as soon as the keep-alive is answered.
    let h = c
        .on_answer(
            &m,
            Answer::Csp(r.answer(&out.message)),
            u64::from(at) * 1000 + 9,
            0,
            &mut Vec::new(),
        )
        .unwrap();
    assert_eq!(h.kind, Kind::KeepAlive);
    let poll = h.next.expect("the owed poll");
    assert_eq!(poll.kind, Kind::Poll);
    assert!(!c.owes_poll());
    c.on_answer(
        &m,
        Answer::Csp(None),
        u64::from(at) * 1000 + 20,
        0,
        &mut Vec::new(),
    );
    // An idle client polls at once when woken.
    let now = u64::from(at + 1_000) * 1000;
    let poll = c.on_wake(&m, now).expect("a poll");
    assert_eq!(poll.kind, Kind::Poll);
    let h = c
        .on_answer(&m, Answer::Csp(None), now + 700, 0, &mut Vec::new())
        .unwrap();
    assert_eq!(
        (h.kind, h.class, h.intended_us),
        (Kind::Poll, Class::Ok, now)
    );
    // The channel is lost: the client polls from then on, the first one at once.
    assert!(c.on_channel_lost(&m, at + 2_000));
    assert!(!c.has_channel());
    assert_eq!(c.wake_ms(), at + 2_001);
    let out = c.on_timer(&m, at + 2_001, 0).unwrap();
    assert_eq!(out.kind, Kind::Poll);
    assert_eq!(c.wake_ms(), at + 2_001 + 30_000);
    // Wake-ups without a channel are stale.
    c.on_answer(
        &m,
        Answer::Csp(None),
        u64::from(at + 2_002) * 1000,
        0,
        &mut Vec::new(),
    );
    assert!(c.on_wake(&m, u64::from(at + 2_003) * 1000).is_none());
}

#[test]
fn a_dropped_cir_client_gives_up_its_channel_and_asks_again_at_its_next_login() {
    let m = model(
        "[login]\noffline = \"1s\"\n[mix]\ncir_fraction = 1.0\n[rates]\nupdate_presence = 0\nsend_message = 0\nlist_manage = 0\nget_presence = 0\nnetwork_drop = 1000\nlogout = 0",
    );
    let mut r = Responder::new(10);
    let mut c = SimClient::new(&m, 3, 0);
    log_in_with_channel(&mut c, &m, &mut r);
    let mut guard = 0;
    while c.phase() == Phase::Online {
        let at = c.wake_ms();
        if let Some(out) = c.on_timer(&m, at, 0) {
            let answer = r.answer(&out.message);
            c.on_answer(
                &m,
                Answer::Csp(answer),
                u64::from(at) * 1000,
                0,
                &mut Vec::new(),
            );
        }
        guard += 1;
        assert!(guard < 1000);
    }
    assert!(!c.has_channel() && !c.owes_poll());
    log_in_with_channel(&mut c, &m, &mut r);
    assert!(c.has_channel());
}

#[test]
fn unsupported_primitives_are_classified_and_the_sequence_goes_on() {
    let m = model("[contacts]\ndistribution = \"fixed\"\nn = 3\n[login]\ndigest_fraction = 0.0");
    let mut r = Responder::new(10);
    r.unsupported = vec!["SubscribePresence-Request", "CreateAttributeList-Request"];
    let mut c = SimClient::new(&m, 7, 3);
    let mut next = c.on_timer(&m, c.wake_ms(), 0);
    let mut classes = Vec::new();
    while let Some(out) = next.take() {
        let answer = r.answer(&out.message);
        let h = c
            .on_answer(&m, Answer::Csp(answer), 0, 0, &mut Vec::new())
            .unwrap();
        classes.push((h.kind, h.class));
        next = h.next;
    }
    assert!(classes.contains(&(Kind::Subscribe, Class::Unsupported)));
    assert!(classes.contains(&(Kind::AttributeList, Class::Unsupported)));
    assert_eq!(c.phase(), Phase::Online);
}

#[test]
fn drops_and_session_loss_lead_to_a_later_login() {
    let m = model(
        "[login]\noffline = \"10s\"\n[rates]\nupdate_presence = 0\nsend_message = 0\nlist_manage = 0\nget_presence = 0\nnetwork_drop = 1000\nlogout = 0",
    );
    let mut r = Responder::new(10);
    let mut c = SimClient::new(&m, 2, 1);
    assert!(log_in(&mut c, &m, &mut r, &mut Vec::new()));
    // Fire timers until the drop comes (polls are answered empty).
    let mut guard = 0;
    while c.phase() == Phase::Online {
        let at = c.wake_ms();
        if let Some(out) = c.on_timer(&m, at, 0) {
            let answer = r.answer(&out.message);
            c.on_answer(
                &m,
                Answer::Csp(answer),
                u64::from(at) * 1000,
                0,
                &mut Vec::new(),
            );
        }
        guard += 1;
        assert!(guard < 1000);
    }
    assert_eq!(c.phase(), Phase::Offline);
    assert_eq!(c.session(), None);
    let out = c.on_timer(&m, c.wake_ms(), 0).unwrap();
    assert_eq!(out.kind, Kind::Login);
    // A transport failure mid-login: offline again, later retry.
    let h = c
        .on_answer(&m, Answer::Transport, 5_000_000, 0, &mut Vec::new())
        .unwrap();
    assert_eq!(h.class, Class::Error);
    assert_eq!(c.phase(), Phase::Offline);
    assert!(c.wake_ms() >= 5_000);
}

#[test]
fn session_end_codes_force_a_new_login() {
    let m = model("");
    let mut r = Responder::new(10);
    let mut c = SimClient::new(&m, 4, 2);
    assert!(log_in(&mut c, &m, &mut r, &mut Vec::new()));
    let out = loop {
        let at = c.wake_ms();
        if let Some(out) = c.on_timer(&m, at, 0) {
            break out;
        }
    };
    let sid = c.session().map(str::to_owned);
    let gone = imps_protocol::Message::single(
        m.version,
        sid.map(imps_protocol::types::SessionId),
        TransactionMode::Response,
        out.message.session.transactions[0].descriptor.id.clone(),
        imps_protocol::primitives::Status {
            result: imps_protocol::common::CspResult::new(StatusCode::InvalidSession),
            client_id: None,
        }
        .into(),
    );
    let h = c
        .on_answer(&m, Answer::Csp(Some(gone)), 1, 0, &mut Vec::new())
        .unwrap();
    assert_eq!(h.class, Class::Error);
    assert_eq!(c.phase(), Phase::Offline);
}

#[test]
fn notifications_are_measured_and_acknowledged() {
    use imps_protocol::primitives::{MessageInfo, NewMessage};
    let m = model("");
    let mut r = Responder::new(10);
    let mut c = SimClient::new(&m, 5, 2);
    assert!(log_in(&mut c, &m, &mut r, &mut Vec::new()));
    let out = loop {
        let at = c.wake_ms();
        if let Some(out) = c.on_timer(&m, at, 0) {
            break out;
        }
    };
    let mut answer = r
        .answer(&out.message)
        .unwrap_or_else(|| messages::request(m.version, c.session(), 1, messages::poll()));
    answer.session.transactions = vec![imps_protocol::Transaction {
        descriptor: imps_protocol::TransactionDescriptor {
            mode: TransactionMode::Request,
            id: Some(imps_protocol::types::TransactionId("s9".into())),
            poll: None,
        },
        content: NewMessage {
            message_info: MessageInfo::default(),
            content_data: Some(messages::stamp(77)),
        }
        .into(),
        ext_blocks: Vec::new(),
    }];
    answer.set_poll(true);
    let mut delivered = Vec::new();
    let h = c
        .on_answer(&m, Answer::Csp(Some(answer)), 9_000_000, 0, &mut delivered)
        .unwrap();
    assert_eq!(delivered, vec![Delivered::Message(77)]);
    let ack = h.next.expect("acknowledged");
    assert_eq!(ack.kind, Kind::Acknowledge);
    assert_eq!(
        ack.message.session.transactions[0].descriptor.mode,
        TransactionMode::Response
    );
    // Poll=T: once the acknowledgement is answered the client polls at once.
    let h = c
        .on_answer(&m, Answer::Csp(None), 9_000_000, 0, &mut Vec::new())
        .unwrap();
    assert_eq!(h.next.map(|n| n.kind), Some(Kind::Poll));
}

/// A server-originated request `content` in a poll answer for `c`.
fn server_request(m: &Model, c: &SimClient, content: imps_protocol::Primitive) -> Message {
    let mut answer = messages::request(m.version, c.session(), 1, content);
    answer.session.transactions[0].descriptor.id =
        Some(imps_protocol::types::TransactionId("srv1".into()));
    answer
}

/// The first request `c` sends off its timers.
fn next_request(c: &mut SimClient, m: &Model) -> Outgoing {
    loop {
        let at = c.wake_ms();
        if let Some(out) = c.on_timer(m, at, 0) {
            break out;
        }
    }
}

#[test]
fn a_notify_get_client_fetches_and_confirms_what_it_is_told_of() {
    use imps_protocol::primitives::{GetMessageResponse, MessageInfo, MessageNotification};
    use imps_protocol::types::MessageId;
    let m = model("[mix]\npush_fraction = 0.0\ncir_fraction = 0.0");
    let mut r = Responder::new(10);
    let mut c = SimClient::new(&m, 5, 2);
    assert!(log_in(&mut c, &m, &mut r, &mut Vec::new()));
    let out = next_request(&mut c, &m);
    let note = |id: &str| {
        MessageNotification {
            message_info: MessageInfo {
                message_id: Some(MessageId(id.into())),
                ..MessageInfo::default()
            },
        }
        .into()
    };
    let mut answer = server_request(&m, &c, note("m1"));
    answer.session.transactions.push(
        server_request(&m, &c, note("m2"))
            .session
            .transactions
            .remove(0),
    );
    let h = c
        .on_answer(&m, Answer::Csp(Some(answer)), 2_000_000, 0, &mut Vec::new())
        .unwrap();
    assert_eq!(h.class, Class::Ok);
    assert_eq!(c.unfetched(), 2);
    assert!(c.heap_bytes() > 0);
    // Acknowledged first, then each message fetched and confirmed in turn.
    let mut sent = vec![out.kind];
    let mut next = h.next;
    let mut delivered = Vec::new();
    while let Some(out) = next.take() {
        sent.push(out.kind);
        let answer = match &out.message.session.transactions[0].content {
            imps_protocol::Primitive::GetMessageRequest(g) => {
                let mut a = messages::request(
                    m.version,
                    c.session(),
                    1,
                    GetMessageResponse {
                        message_info: MessageInfo {
                            message_id: Some(g.message_id.clone()),
                            ..MessageInfo::default()
                        },
                        content_data: Some(messages::stamp(1_000 + sent.len() as u64)),
                    }
                    .into(),
                );
                a.session.transactions[0].descriptor.mode = TransactionMode::Response;
                Some(a)
            }
            imps_protocol::Primitive::MessageDelivered(d) => {
                assert!(["m1", "m2"].contains(&d.message_id.0.as_str()));
                r.answer(&out.message)
            }
            _ => r.answer(&out.message),
        };
        let h = c
            .on_answer(&m, Answer::Csp(answer), 2_100_000, 0, &mut delivered)
            .unwrap();
        assert_eq!(h.class, Class::Ok, "{:?}", h.kind);
        next = h.next;
    }
    assert_eq!(
        sent,
        [
            out.kind,
            Kind::Acknowledge,
            Kind::GetMessage,
            Kind::MessageDelivered,
            Kind::GetMessage,
            Kind::MessageDelivered
        ]
    );
    assert_eq!(
        delivered,
        [Delivered::Message(1_003), Delivered::Message(1_005)]
    );
    assert_eq!((c.unfetched(), c.heap_bytes()), (0, 0));
}

#[test]
fn rooms_are_joined_talked_in_left_and_created() {
    let m = model(
        "[groups]\nrooms = 4\n[mix]\ncir_fraction = 0.0\npoll_interval = \"1h\"\n[rates]\nupdate_presence = 0\nsend_message = 0\nlist_manage = 0\nget_presence = 0\nnetwork_drop = 0\nlogout = 0\njoin_group = 10\ngroup_message = 10\nleave_group = 10\ncreate_group = 10",
    );
    let mut r = Responder::new(10);
    let mut c = SimClient::new(&m, 6, 1);
    assert!(log_in(&mut c, &m, &mut r, &mut Vec::new()));
    let mut kinds = Vec::new();
    for _ in 0..400 {
        let out = next_request(&mut c, &m);
        let group = match &out.message.session.transactions[0].content {
            imps_protocol::Primitive::JoinGroupRequest(j) => Some(j.group_id.0.clone()),
            imps_protocol::Primitive::LeaveGroupRequest(l) => Some(l.group_id.0.clone()),
            imps_protocol::Primitive::CreateGroupRequest(g) => Some(g.group_id.0.clone()),
            imps_protocol::Primitive::SendMessageRequest(s) => s
                .message_info
                .recipient
                .as_ref()
                .and_then(|r| r.groups.first())
                .and_then(|g| g.group_id.as_ref())
                .map(|g| g.0.clone()),
            _ => None,
        };
        // Every group request names the room the client is in (or goes to).
        let room = c.room();
        match (out.kind, room) {
            (Kind::JoinGroup, Some(k)) => {
                assert!((1..=4).contains(&k));
                assert_eq!(
                    group,
                    Some(messages::room_id("lg", u32::from(k), "imps.local"))
                );
            }
            (Kind::CreateGroup, Some(0)) => {
                assert_eq!(group.as_deref(), Some("wv:user7/room@imps.local"));
            }
            (Kind::GroupMessage, Some(_)) => assert!(group.is_some()),
            (Kind::LeaveGroup, None) => assert!(group.is_some()),
            (Kind::Poll, _) => assert!(group.is_none()),
            other => panic!("{other:?}"),
        }
        kinds.push(out.kind);
        let at = u64::from(c.wake_ms().min(1 << 30)) * 1000;
        c.on_answer(
            &m,
            Answer::Csp(r.answer(&out.message)),
            at,
            0,
            &mut Vec::new(),
        );
    }
    for k in [
        Kind::JoinGroup,
        Kind::CreateGroup,
        Kind::GroupMessage,
        Kind::LeaveGroup,
    ] {
        assert!(kinds.contains(&k), "{k:?} never sent");
    }
    // A failed join leaves the client in no room.
    loop {
        let out = next_request(&mut c, &m);
        if out.kind == Kind::JoinGroup {
            break;
        }
        c.on_answer(
            &m,
            Answer::Csp(r.answer(&out.message)),
            0,
            0,
            &mut Vec::new(),
        );
    }
    assert!(c.room().is_some_and(|k| k > 0));
    c.on_answer(&m, Answer::Http(500), 0, 0, &mut Vec::new());
    assert_eq!(c.room(), None);
}

#[test]
fn state_is_small() {
    assert!(
        std::mem::size_of::<SimClient>() <= 112,
        "{}",
        std::mem::size_of::<SimClient>()
    );
    let long = "x".repeat(100);
    assert!(SessionKey::new(&long).heap_bytes() == 100);
    assert_eq!(SessionKey::new(&long).as_str(), Some(long.as_str()));
    assert_eq!(SessionKey::new("0-abc").as_str(), Some("0-abc"));
}

#[test]
fn stamps_older_than_the_session_are_not_end_to_end_times() {
    use imps_protocol::primitives::{MessageInfo, NewMessage};
    let m = model("[mix]\ncir_fraction = 0.0");
    let mut r = Responder::new(10);
    let mut c = SimClient::new(&m, 8, 2);
    // Logged in at 100 s past the epoch.
    let session_start = 100_000_000;
    let mut next = c.on_timer(&m, c.wake_ms(), session_start);
    while let Some(out) = next.take() {
        let answer = r.answer(&out.message);
        next = c
            .on_answer(
                &m,
                Answer::Csp(answer),
                1_000,
                session_start,
                &mut Vec::new(),
            )
            .and_then(|h| h.next);
    }
    assert_eq!(c.phase(), Phase::Online);
    next_request(&mut c, &m);
    // A message stored while the user was offline (stamped before the session), and one
    // sent during it: only the second is an end-to-end time.
    let new_message = |at: u64| {
        NewMessage {
            message_info: MessageInfo::default(),
            content_data: Some(messages::stamp(at)),
        }
        .into()
    };
    let mut answer = server_request(&m, &c, new_message(session_start - 5_000_000));
    let live = server_request(&m, &c, new_message(session_start + 2_000_000));
    answer
        .session
        .transactions
        .extend(live.session.transactions);
    let mut delivered = Vec::new();
    c.on_answer(&m, Answer::Csp(Some(answer)), 9_000_000, 0, &mut delivered);
    assert_eq!(delivered, [Delivered::Message(session_start + 2_000_000)]);
}
