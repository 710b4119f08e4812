//! Instant messaging in the simulation harness (two shards, virtual clock): push and
//! notify/get delivery, reject, forward, delivery reports of each outcome, offline storage
//! then login, expiry, block and grant lists, contact-list recipients across shards,
//! duplicate retries, and durability before acknowledgement.

mod common;

use common::{DOMAIN, World, id, user};
use imps_engine::config::AccessConfig;
use imps_engine::record::Record;
use imps_engine::shard::{Reply, Request};
use imps_engine::sim::SimClient;
use imps_protocol::common::Recipient;
use imps_protocol::primitives::*;
use imps_protocol::types::{ContactListId, MessageId, UserId};
use imps_protocol::{Primitive, TransactionMode, Version};

impl World {
    fn send(
        &mut self,
        from: &mut SimClient,
        to: &[&str],
        text: &str,
        report: bool,
    ) -> SendMessageResponse {
        let p = self.call(from, message(to, text, report).into());
        match p {
            Primitive::SendMessageResponse(r) => *r,
            other => panic!("unexpected {other:?}"),
        }
    }

    /// The texts pushed to `c` (answering each with MessageDelivered).
    fn pushed(&mut self, c: &mut SimClient) -> Vec<String> {
        let mut texts = Vec::new();
        for (tid, p) in self.requests(c) {
            if let Primitive::NewMessage(m) = p {
                texts.push(m.content_data.clone().unwrap_or_default());
                let id = m.message_info.message_id.clone().expect("an ID");
                let answer = MessageDelivered { message_id: id };
                let msg = c.message(vec![(TransactionMode::Response, tid, answer.into())]);
                c.send(&mut self.sim, msg);
            }
        }
        texts
    }

    /// Delivery reports to `c`: (code, message ID).
    fn reports(&mut self, c: &mut SimClient) -> Vec<(u32, String)> {
        self.requests(c)
            .into_iter()
            .filter_map(|(_, p)| match p {
                Primitive::DeliveryReportRequest(r) => Some((
                    r.result.code,
                    r.message_info.message_id.map(|m| m.0).unwrap_or_default(),
                )),
                _ => None,
            })
            .collect()
    }
}

fn message(to: &[&str], text: &str, report: bool) -> SendMessageRequest {
    SendMessageRequest {
        delivery_report: Some(report),
        message_info: MessageInfo {
            recipient: Some(Recipient {
                users: to.iter().map(|t| user(t)).collect(),
                ..Recipient::default()
            }),
            ..MessageInfo::default()
        },
        content_data: Some(text.into()),
    }
}

fn status(p: Primitive) -> u32 {
    match p {
        Primitive::Status(s) => s.result.code,
        other => panic!("unexpected {other:?}"),
    }
}

fn notify_mode(w: &mut World, c: &mut SimClient) {
    let set = SetDeliveryMethodRequest {
        delivery_method: DeliveryMethod::Notify,
        accepted_content_length: None,
        group_id: None,
    };
    assert_eq!(status(w.call(c, set.into())), 200);
}

#[test]
fn push_across_shards_with_a_delivery_report() {
    let mut w = World::new(9);
    let mut alice = w.online("alice", 0);
    let mut bob = w.online("bob", 1);
    let r = w.send(&mut alice, &[&id(&bob)], "hello ÿ 😀", true);
    assert_eq!(r.result.code, 200);
    let mid = r.message_id.expect("a MessageID").0;
    assert_eq!(w.pushed(&mut bob), vec!["hello ÿ 😀".to_owned()]);
    assert_eq!(w.reports(&mut alice), vec![(200, mid)]);
}

#[test]
fn notify_get_list_get_and_delivered() {
    let mut w = World::new(9);
    let mut alice = w.online("alice", 0);
    let mut bob = w.online("bob", 1);
    notify_mode(&mut w, &mut bob);
    let mid = w
        .send(&mut alice, &[&id(&bob)], "pull me", true)
        .message_id
        .expect("id");
    let note = w.requests(&mut bob);
    assert!(
        matches!(&note[0].1, Primitive::MessageNotification(n) if n.message_info.message_id.as_ref() == Some(&mid)),
        "{note:?}"
    );
    let Primitive::GetMessageListResponse(list) =
        w.call(&mut bob, GetMessageListRequest::default().into())
    else {
        panic!("list expected")
    };
    assert_eq!(list.messages.len(), 1);
    let Primitive::GetMessageResponse(got) = w.call(
        &mut bob,
        GetMessageRequest {
            message_id: mid.clone(),
        }
        .into(),
    ) else {
        panic!("message expected")
    };
    assert_eq!(got.content_data.as_deref(), Some("pull me"));
    let delivered = MessageDelivered {
        message_id: mid.clone(),
    };
    assert_eq!(status(w.call(&mut bob, delivered.clone().into())), 200);
    assert_eq!(status(w.call(&mut bob, delivered.into())), 426, "only once");
    assert_eq!(w.reports(&mut alice), vec![(200, mid.0)]);
}

#[test]
fn reject_and_forward_are_reported() {
    let mut w = World::new(9);
    let mut alice = w.online("alice", 0);
    let mut bob = w.online("bob", 1);
    let mut carol = w.online("carol", 0);
    notify_mode(&mut w, &mut bob);
    let m1 = w
        .send(&mut alice, &[&id(&bob)], "no thanks", true)
        .message_id
        .expect("id");
    let m2 = w
        .send(&mut alice, &[&id(&bob)], "pass it on", true)
        .message_id
        .expect("id");
    let reject = RejectMessageRequest {
        message_ids: vec![m1.clone()],
    };
    assert_eq!(status(w.call(&mut bob, reject.into())), 200);
    let forward = ForwardMessageRequest {
        message_id: m2.clone(),
        recipient: Recipient {
            users: vec![user(&id(&carol))],
            ..Recipient::default()
        },
    };
    assert_eq!(status(w.call(&mut bob, forward.into())), 200);
    assert_eq!(w.pushed(&mut carol), vec!["pass it on".to_owned()]);
    let mut reports = w.reports(&mut alice);
    reports.sort();
    assert_eq!(reports, vec![(538, m1.0), (541, m2.0)]);
}

#[test]
fn offline_messages_are_durable_before_acknowledged_and_delivered_in_order_at_login() {
    let mut w = World::new(9);
    let mut alice = w.online("alice", 0);
    let mut bob = w.offline("bob", 1);
    w.sim.set_auto_durable(false);
    let m = alice.message(vec![(
        TransactionMode::Request,
        None,
        message(&[&id(&bob)], "first", false).into(),
    )]);
    let token = w.sim.submit(Request::csp(m));
    assert!(
        w.sim.take_reply(token).is_none(),
        "waits for bob's shard's disk"
    );
    w.sim.make_durable();
    let Some(Reply::Csp(Some(reply))) = w.sim.take_reply(token) else {
        panic!("answered once durable")
    };
    assert!(matches!(
        &reply.session.transactions[0].content,
        Primitive::SendMessageResponse(r) if r.result.code == 200
    ));
    w.sim.set_auto_durable(true);
    w.send(&mut alice, &[&id(&bob)], "second", false);
    let stored = w
        .sim
        .log(1)
        .iter()
        .filter(|r| matches!(Record::from_bytes(r), Ok(Record::LetterStored(..))))
        .count();
    assert_eq!(stored, 2);
    bob.login(&mut w.sim, "pw").expect("login");
    assert_eq!(
        w.pushed(&mut bob),
        vec!["first".to_owned(), "second".to_owned()]
    );
    let removed = w
        .sim
        .log(1)
        .iter()
        .filter(|r| matches!(Record::from_bytes(r), Ok(Record::LetterRemoved(..))))
        .count();
    assert_eq!(removed, 2, "delivery of stored messages is logged");
}

#[test]
fn unread_messages_expire_with_a_report() {
    let mut w = World::new(9);
    let mut alice = w.online("alice", 0);
    let bob = w.offline("bob", 1);
    let mut req = message(&[&id(&bob)], "soon stale", true);
    req.message_info.validity = Some(60);
    let Primitive::SendMessageResponse(r) = w.call(&mut alice, req.into()) else {
        panic!("response expected")
    };
    let mid = r.message_id.expect("id").0;
    w.sim.advance(30_000);
    alice.call(&mut w.sim, KeepAliveRequest::default().into());
    assert!(w.reports(&mut alice).is_empty());
    w.sim.advance(31_000);
    assert_eq!(w.reports(&mut alice), vec![(542, mid)]);
}

#[test]
fn a_shorter_validity_expires_first_and_the_longer_one_later() {
    let mut w = World::new(9);
    let mut alice = w.online("alice", 0);
    let bob = w.offline("bob", 1);
    let mut ids = Vec::new();
    for validity in [120, 60] {
        let mut req = message(&[&id(&bob)], "stale", true);
        req.message_info.validity = Some(validity);
        let Primitive::SendMessageResponse(r) = w.call(&mut alice, req.into()) else {
            panic!("response expected")
        };
        ids.push(r.message_id.expect("id").0);
    }
    w.sim.advance(61_000);
    assert_eq!(w.reports(&mut alice), vec![(542, ids[1].clone())]);
    w.sim.advance(30_000);
    alice.call(&mut w.sim, KeepAliveRequest::default().into());
    assert!(
        w.reports(&mut alice).is_empty(),
        "the longer one still waits"
    );
    w.sim.advance(30_000);
    assert_eq!(w.reports(&mut alice), vec![(542, ids[0].clone())]);
}

#[test]
fn block_beats_grant_and_a_grant_list_in_use_admits_only_granted() {
    let mut w = World::new(9);
    let mut alice = w.online("alice", 0);
    let mut bob = w.online("bob", 1);
    let mut eve = w.online("eve", 0);
    let lists = |block: &[&str], grant: &[&str]| BlockEntityRequest {
        block_list: Some(AccessList {
            in_use: Some(InUse(Some(true))),
            add_list: Some(EntityList {
                user_ids: block.iter().map(|u| UserId((*u).into())).collect(),
                ..EntityList::default()
            }),
            ..AccessList::default()
        }),
        grant_list: Some(AccessList {
            in_use: Some(InUse(Some(true))),
            add_list: Some(EntityList {
                user_ids: grant.iter().map(|u| UserId((*u).into())).collect(),
                ..EntityList::default()
            }),
            ..AccessList::default()
        }),
        ..BlockEntityRequest::default()
    };
    // eve is both blocked and granted: blocked wins. alice is granted.
    let set = lists(&[&id(&eve)], &[&id(&eve), &id(&alice)]);
    assert_eq!(status(w.call(&mut bob, set.into())), 200);
    let r = w.send(&mut eve, &[&id(&bob)], "let me in", true);
    assert_eq!(r.result.code, 532);
    assert_eq!(w.reports(&mut eve)[0].0, 532);
    assert_eq!(
        w.send(&mut alice, &[&id(&bob)], "hi", false).result.code,
        200
    );
    let Primitive::GetBlockedListResponse(b) = w.call(&mut bob, GetBlockedListRequest {}.into())
    else {
        panic!("lists expected")
    };
    let blocked = b
        .block_list
        .and_then(|l| l.entity_list)
        .expect("block list");
    assert_eq!(blocked.user_ids, vec![UserId(id(&eve))]);
    // A third user, neither blocked nor granted, is refused while the grant list is in use.
    let mut carol = w.online("carol", 1);
    assert_eq!(
        w.send(&mut carol, &[&id(&bob)], "hey", false).result.code,
        532
    );
}

#[test]
fn contact_list_recipients_across_shards_and_partial_success() {
    let mut w = World::new(9);
    let mut alice = w.online("alice", 0);
    let mut bob = w.online("bob", 1);
    let mut carol = w.online("carol", 0);
    let list = CreateListRequest {
        contact_list: ContactListId(format!("wv:{}/friends@{DOMAIN}", alice.user)),
        nick_list: Some(NickList {
            nick_names: vec![],
            user_ids: vec![UserId(id(&bob)), UserId(id(&carol))],
        }),
        properties: None,
    };
    assert_eq!(status(w.call(&mut alice, list.into())), 200);
    let mut req = message(&["wv:nobody@imps.local"], "to all", false);
    if let Some(r) = req.message_info.recipient.as_mut() {
        r.contact_lists
            .push(ContactListId(format!("wv:{}/friends@{DOMAIN}", alice.user)));
    }
    let Primitive::SendMessageResponse(r) = w.call(&mut alice, req.into()) else {
        panic!("response expected")
    };
    assert_eq!(r.result.code, 201);
    assert_eq!(r.result.detailed[0].code, 531);
    assert_eq!(w.pushed(&mut bob), vec!["to all".to_owned()]);
    assert_eq!(w.pushed(&mut carol), vec!["to all".to_owned()]);
}

#[test]
fn a_retried_send_is_delivered_once() {
    let mut w = World::new(9);
    let mut alice = w.online("alice", 0);
    let mut bob = w.online("bob", 1);
    let send = |alice: &mut SimClient, w: &mut World| {
        let m = alice.message(vec![(
            TransactionMode::Request,
            Some("retry-1".into()),
            message(&[&id(&bob)], "once", false).into(),
        )]);
        let reply = alice.send(&mut w.sim, m).expect("answer");
        match &reply.session.transactions[0].content {
            Primitive::SendMessageResponse(r) => r.message_id.clone(),
            other => panic!("unexpected {other:?}"),
        }
    };
    let first = send(&mut alice, &mut w);
    let again = send(&mut alice, &mut w);
    assert_eq!(first, again);
    assert_eq!(w.pushed(&mut bob), vec!["once".to_owned()]);
}

#[test]
fn bad_content_and_group_recipients_are_refused_clearly() {
    let mut w = World::new(9);
    let mut alice = w.online("alice", 0);
    let bob = w.offline("bob", 1);
    let mut wrong_size = message(&[&id(&bob)], "four", false);
    wrong_size.message_info.content_size = Some(99);
    let Primitive::SendMessageResponse(r) = w.call(&mut alice, wrong_size.into()) else {
        panic!()
    };
    assert_eq!(r.result.code, 402);
    let mut bad_base64 = message(&[&id(&bob)], "***", false);
    bad_base64.message_info.content_encoding = Some(imps_protocol::common::ContentEncoding::Base64);
    let Primitive::SendMessageResponse(r) = w.call(&mut alice, bad_base64.into()) else {
        panic!()
    };
    assert_eq!(r.result.code, 402);
    let mut to_group = message(&[], "group", false);
    if let Some(r) = to_group.message_info.recipient.as_mut() {
        r.groups.push(imps_protocol::common::Group {
            group_id: Some(imps_protocol::types::GroupId("wv:club@imps.local".into())),
            screen_name: None,
        });
    }
    let Primitive::SendMessageResponse(r) = w.call(&mut alice, to_group.into()) else {
        panic!()
    };
    assert_eq!(r.result.code, 800, "no such group");
    let get = GetMessageRequest {
        message_id: MessageId("nope".into()),
    };
    assert_eq!(status(w.call(&mut alice, get.into())), 426);
}

#[test]
fn stored_messages_and_access_lists_come_back_from_the_log() {
    use imps_engine::core::{Core, LogSeq, Millis, Output, Token};
    use imps_engine::shard::{Shard, ShardSetup};
    let mut w = World::new(9);
    let mut alice = w.online("alice", 0);
    let mut bob = w.offline("bob", 1);
    bob.login(&mut w.sim, "pw").expect("login");
    let block = BlockEntityRequest {
        block_list: Some(AccessList {
            in_use: Some(InUse(Some(true))),
            add_list: Some(EntityList {
                user_ids: vec![UserId("wv:eve@imps.local".into())],
                ..EntityList::default()
            }),
            ..AccessList::default()
        }),
        ..BlockEntityRequest::default()
    };
    assert_eq!(status(w.call(&mut bob, block.into())), 200);
    let logout = bob.message(vec![(
        TransactionMode::Request,
        None,
        LogoutRequest {}.into(),
    )]);
    bob.send(&mut w.sim, logout);
    w.send(&mut alice, &[&id(&bob)], "kept", false);
    // bob's shard restarts from its log.
    let mut fresh = Shard::new(ShardSetup {
        id: 1,
        shards: 2,
        config: AccessConfig::default(),
        master_key: [0x5A; 32],
        seed: [3; 32],
        next_seq: LogSeq(1),
    });
    for bytes in w.sim.log(1) {
        fresh.apply(Record::from_bytes(bytes).expect("record"));
    }
    let image = fresh.image();
    assert_eq!(image.letters.len(), 1);
    assert_eq!(image.access_lists.len(), 1);
    // bob logs in to the recovered shard: the stored message is pushed to him.
    let mut c = SimClient::new(&bob.user, Version::V1_2);
    let mut req = LoginRequest {
        user_id: UserId(bob.user.clone()),
        password: Some("pw".into()),
        session_cookie: "c".into(),
        ..LoginRequest::default()
    };
    req.client_id.url = Some(imps_protocol::types::Url("http://x/y".into()));
    let login = c.message(vec![(TransactionMode::Request, None, req.into())]);
    let call = |shard: &mut Shard, token: u64, m: imps_protocol::Message| {
        shard.handle_request(Millis(1), Token(token), Request::csp(m));
        shard.handle_durable(Millis(1), LogSeq(u64::MAX));
        let mut reply = None;
        while let Some(out) = shard.poll_output() {
            if let Output::Reply {
                reply: Reply::Csp(m),
                ..
            } = out
            {
                reply = m;
            }
        }
        reply.expect("an answer")
    };
    let answer = call(&mut fresh, 1, login);
    let Primitive::LoginResponse(r) = &answer.session.transactions[0].content else {
        panic!("login response expected")
    };
    c.session = r.session_id.clone();
    let poll = c.message(vec![(
        TransactionMode::Request,
        None,
        PollingRequest {}.into(),
    )]);
    let polled = call(&mut fresh, 2, poll);
    let texts: Vec<String> = polled
        .session
        .transactions
        .iter()
        .filter_map(|t| match &t.content {
            Primitive::NewMessage(m) => m.content_data.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(texts, vec!["kept".to_owned()]);
}
