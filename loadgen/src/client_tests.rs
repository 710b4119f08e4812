//! The client state machine in virtual time against the trivial responder: no sockets, no
//! clock.

use super::*;
use crate::driver::loopback::Responder;
use crate::memory::log_in;
use crate::scenario::Scenario;
use crate::users::UserDirectory;

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
    assert!(!c.uses_cir());
    let out = c.on_timer(&m, c.wake_ms(), 0).unwrap();
    assert_eq!(out.kind, Kind::Poll);
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
    c.on_answer(&m, Answer::Csp(None), 9_000_000, 0, &mut Vec::new());
    assert_eq!(c.wake_ms(), 9_000);
}

#[test]
fn state_is_small() {
    assert!(
        std::mem::size_of::<SimClient>() <= 96,
        "{}",
        std::mem::size_of::<SimClient>()
    );
    let long = "x".repeat(100);
    assert!(SessionKey::new(&long).heap_bytes() == 100);
    assert_eq!(SessionKey::new(&long).as_str(), Some(long.as_str()));
    assert_eq!(SessionKey::new("0-abc").as_str(), Some("0-abc"));
}
