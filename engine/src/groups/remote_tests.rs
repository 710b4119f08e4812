//! Groups across domains in the simulation: a local group served to users of another domain
//! (joins under the group's rules, messages both ways, notices, forced leave), and a local
//! user's requests and messages for a group of another domain, with the desk played by the
//! test (what the shards hand it is read from the channel, its answers fed back).

use imps_protocol::common::{Group, Recipient, ScreenName};
use imps_protocol::primitives::*;
use imps_protocol::ssp::Status as SspStatus;
use imps_protocol::types::{GroupId, ScreenNameText, UserId};
use imps_protocol::{Primitive, TransactionMode, Version};

use crate::config::AccessConfig;
use crate::federation::{Answer, GroupChangeAction, GroupJoin, RemoteRequest};
use crate::peering::{FederationOp, FederationOut, RemoteLetter};
use crate::shard::{Admin, AdminDone, Reply, Request};
use crate::sim::{Sim, SimClient};

const GROUP: &str = "wv:bob/chat@b.test";
const ALICE: &str = "wv:alice@a.test";

fn world(domain: &str) -> (Sim, flume::Receiver<FederationOut>) {
    let config = AccessConfig {
        domain: domain.into(),
        ..AccessConfig::default()
    };
    let mut sim = Sim::new(2, config, 7);
    let (tx, rx) = flume::unbounded();
    for i in 0..2 {
        sim.shard_mut(i).set_federation(Some(tx.clone()));
    }
    (sim, rx)
}

fn online(sim: &mut Sim, name: &str) -> SimClient {
    assert!(sim.add_user(name, "pw"));
    let mut c = SimClient::new(name, Version::V1_2);
    c.login(sim, "pw").expect("login");
    c
}

fn fed(sim: &mut Sim, op: FederationOp) -> AdminDone {
    match sim.call(Request::Admin(Admin::Federation(op))) {
        Some(Reply::Admin(Ok(done))) => done,
        other => panic!("an admin answer expected, got {other:?}"),
    }
}

fn serve(sim: &mut Sim, request: RemoteRequest) -> (u16, Answer) {
    let op = FederationOp::Serve {
        target: GROUP.into(),
        request: Box::new(request),
    };
    match fed(sim, op) {
        AdminDone::Served { status, answer } => (status.code, *answer),
        other => panic!("Served expected, got {other:?}"),
    }
}

fn remote_join(user: &str, sname: &str) -> RemoteRequest {
    RemoteRequest::JoinGroup(GroupJoin {
        user: user.into(),
        group: GROUP.into(),
        screen_name: Some(sname.into()),
        joined_list: true,
        subscribe: true,
        own_properties: None,
    })
}

fn remote_message(sim: &mut Sim, sender: &str, text: &str) -> u16 {
    let op = FederationOp::GroupMessage {
        group: GROUP.into(),
        letter: Box::new(RemoteLetter {
            id: "r1".into(),
            sender: sender.into(),
            content_type: Some("text/plain".into()),
            content: Some(text.into()),
            ..RemoteLetter::default()
        }),
        to_screen_name: None,
    };
    match fed(sim, op) {
        AdminDone::Delivered(code) => code.code(),
        other => panic!("Delivered expected, got {other:?}"),
    }
}

fn to_group(text: &str) -> Primitive {
    SendMessageRequest {
        delivery_report: Some(false),
        message_info: MessageInfo {
            content_type: Some(imps_protocol::types::MimeType("text/plain".into())),
            recipient: Some(Recipient {
                groups: vec![Group {
                    group_id: Some(GroupId(GROUP.into())),
                    screen_name: None,
                }],
                ..Recipient::default()
            }),
            ..MessageInfo::default()
        },
        content_data: Some(text.into()),
    }
    .into()
}

/// Server-originated requests waiting for `c`.
fn inbox(sim: &mut Sim, c: &mut SimClient) -> Vec<Primitive> {
    c.server_requests(sim)
}

fn drain(rx: &flume::Receiver<FederationOut>) -> Vec<FederationOut> {
    rx.try_iter().collect()
}

#[test]
fn a_remote_user_joins_a_local_group_and_messages_it_both_ways() {
    let (mut sim, rx) = world("b.test");
    let mut bob = online(&mut sim, "bob");
    let create = CreateGroupRequest {
        group_id: GroupId(GROUP.into()),
        properties: GroupProperties {
            properties: vec![imps_protocol::common::Property {
                name: "Name".into(),
                value: Some("chat".into()),
            }],
            welcome_note: None,
        },
        join_group: Some(true),
        screen_name: Some(ScreenName {
            sname: ScreenNameText("bob".into()),
            group_id: GroupId(GROUP.into()),
        }),
        subscribe_notification: Some(true),
    };
    assert!(
        matches!(bob.call(&mut sim, create.into()), Some(Primitive::Status(s)) if s.result.code == 200)
    );

    // Not joined yet: its messages are refused as a local non-member's.
    assert_eq!(remote_message(&mut sim, ALICE, "early"), 808);
    let (code, answer) = serve(&mut sim, remote_join(ALICE, "alice"));
    assert_eq!(code, 200);
    let Answer::Joined { joined, .. } = answer else {
        panic!("Joined expected, got {answer:?}");
    };
    assert!(joined.contains(&"bob".to_owned()) && joined.contains(&"alice".to_owned()));
    assert!(
        inbox(&mut sim, &mut bob)
            .iter()
            .any(|p| matches!(p, Primitive::GroupChangeNotice(n) if n.joined.is_some())),
        "bob hears of alice's join"
    );
    // The group's rules apply to remote users as to local ones.
    assert_eq!(serve(&mut sim, remote_join(ALICE, "again")).0, 807);
    assert_eq!(
        serve(&mut sim, remote_join("wv:carol@c.test", "bob")).0,
        811
    );
    let missing = RemoteRequest::GetJoinedUsers {
        user: ALICE.into(),
        group: "wv:bob/none@b.test".into(),
    };
    let op = FederationOp::Serve {
        target: "wv:bob/none@b.test".into(),
        request: Box::new(missing),
    };
    assert!(matches!(fed(&mut sim, op), AdminDone::Served { status, .. } if status.code == 800));
    let users = RemoteRequest::GetJoinedUsers {
        user: ALICE.into(),
        group: GROUP.into(),
    };
    let (code, answer) = serve(&mut sim, users);
    assert_eq!(code, 200);
    assert!(matches!(&answer, Answer::JoinedUsers { users, .. } if users.len() == 2));
    let props = RemoteRequest::GetGroupProps {
        user: ALICE.into(),
        group: GROUP.into(),
    };
    let (code, answer) = serve(&mut sim, props);
    assert_eq!(code, 200);
    let Answer::GroupProps {
        group_properties: Some(p),
        own_properties: Some(_),
    } = answer
    else {
        panic!("properties expected, got {answer:?}");
    };
    let p: GroupProperties =
        super::remote_payload::from_payload(&p, "GroupProperties").expect("CSP properties");
    assert!(p.properties.iter().any(|x| x.name == "Name"));
    let query = RemoteRequest::GroupChange {
        user: ALICE.into(),
        group: GROUP.into(),
        action: GroupChangeAction::Query,
    };
    assert_eq!(serve(&mut sim, query), (200, Answer::Subscribed(true)));
    drain(&rx);

    // Alice's message reaches bob from her screen name.
    assert_eq!(remote_message(&mut sim, ALICE, "hello from a"), 200);
    let got = inbox(&mut sim, &mut bob);
    let msg = got.iter().find_map(|p| match p {
        Primitive::NewMessage(m) => Some(m),
        _ => None,
    });
    let msg = msg.expect("bob gets alice's group message");
    assert_eq!(msg.content_data.as_deref(), Some("hello from a"));
    let sname = msg
        .message_info
        .sender
        .as_ref()
        .and_then(|s| s.group.as_ref());
    let sname = sname
        .and_then(|g| g.screen_name.as_ref())
        .map(|s| s.sname.0.as_str());
    assert_eq!(sname, Some("alice"));
    assert!(drain(&rx).is_empty(), "not echoed to its remote sender");

    // Bob's message goes to alice through the desk, the group as its sender.
    assert!(bob.call(&mut sim, to_group("hi a")).is_some());
    let out = drain(&rx);
    let send = out.iter().find_map(|o| match o {
        FederationOut::Send {
            letter, recipients, ..
        } => Some((letter, recipients)),
        _ => None,
    });
    let (letter, recipients) = send.expect("handed to the desk");
    assert_eq!(recipients, &vec![ALICE.to_owned()]);
    assert_eq!(letter.sender, GROUP);
    assert_eq!(letter.screen_name.as_deref(), Some("bob"));
    assert_eq!(letter.content.as_deref(), Some("hi a"));

    // Rejected: alice is made to leave, and told through her domain.
    let reject = RejectListRequest {
        group_id: GroupId(GROUP.into()),
        add_list: Some(EntityList {
            user_ids: vec![UserId(ALICE.into())],
            ..EntityList::default()
        }),
        remove_list: None,
    };
    assert!(bob.call(&mut sim, reject.into()).is_some());
    let out = drain(&rx);
    let left = out.iter().any(|o| {
        matches!(o,
        FederationOut::Request { request, .. }
            if matches!(&**request, RemoteRequest::LeftGroup { users, status: Some(s), .. }
                if users == &vec![ALICE.to_owned()] && s.code == 809))
    });
    assert!(left, "alice told of her removal: {out:?}");
    assert_eq!(remote_message(&mut sim, ALICE, "still here?"), 808);
    assert_eq!(serve(&mut sim, remote_join(ALICE, "alice")).0, 809);
}

#[test]
fn a_remote_member_leaves_and_the_others_hear_of_it() {
    let (mut sim, rx) = world("b.test");
    let mut bob = online(&mut sim, "bob");
    let create = CreateGroupRequest {
        group_id: GroupId(GROUP.into()),
        properties: GroupProperties {
            properties: vec![imps_protocol::common::Property {
                name: "Name".into(),
                value: Some("chat".into()),
            }],
            welcome_note: None,
        },
        join_group: Some(true),
        screen_name: None,
        subscribe_notification: Some(true),
    };
    assert!(bob.call(&mut sim, create.into()).is_some());
    assert_eq!(serve(&mut sim, remote_join(ALICE, "alice")).0, 200);
    assert_eq!(
        serve(&mut sim, remote_join("wv:carol@c.test", "carol")).0,
        200
    );
    drain(&rx);
    let leave = RemoteRequest::LeaveGroup {
        user: ALICE.into(),
        group: GROUP.into(),
    };
    assert_eq!(serve(&mut sim, leave.clone()).0, 200);
    assert_eq!(serve(&mut sim, leave).0, 808);
    let out = drain(&rx);
    let told_carol = out.iter().any(|o| matches!(o,
        FederationOut::Request { request, .. }
            if matches!(&**request, RemoteRequest::GroupChangeNotice(n)
                if n.recipients == vec!["wv:carol@c.test".to_owned()] && n.left == vec!["alice".to_owned()])));
    assert!(told_carol, "carol hears alice left: {out:?}");
    assert!(
        inbox(&mut sim, &mut bob)
            .iter()
            .any(|p| matches!(p, Primitive::GroupChangeNotice(n) if n.left.is_some()))
    );
}

#[test]
fn a_local_user_joins_a_remote_group_and_gets_its_messages() {
    let (mut sim, rx) = world("a.test");
    let mut alice = online(&mut sim, "alice");
    let join = JoinGroupRequest {
        group_id: GroupId(GROUP.into()),
        screen_name: Some(ScreenName {
            sname: ScreenNameText("alice".into()),
            group_id: GroupId(GROUP.into()),
        }),
        joined_request: Some(true),
        subscribe_notification: Some(true),
        own_properties: None,
    };
    let m = alice.message(vec![(TransactionMode::Request, None, join.into())]);
    let token = sim.submit(Request::csp(m));
    assert!(sim.take_reply(token).is_none(), "waits for b.test");
    let out = drain(&rx);
    let Some(FederationOut::Request {
        query,
        part,
        request,
        ..
    }) = out.into_iter().next()
    else {
        panic!("the join goes to the desk");
    };
    let RemoteRequest::JoinGroup(j) = &*request else {
        panic!("a JoinGroup expected, got {request:?}");
    };
    assert_eq!((j.user.as_str(), j.group.as_str()), (ALICE, GROUP));
    assert_eq!(j.screen_name.as_deref(), Some("alice"));
    let outcome = FederationOp::Outcome {
        user: ALICE.into(),
        query,
        part,
        request,
        status: SspStatus::new(200),
        answer: Box::new(Answer::Joined {
            joined: vec!["bob".into(), "alice".into()],
            welcome_note: None,
        }),
    };
    fed(&mut sim, outcome);
    let Some(Reply::Csp(Some(reply))) = sim.take_reply(token) else {
        panic!("alice answered");
    };
    let content = &reply.session.transactions[0].content;
    let Primitive::JoinGroupResponse(r) = content else {
        panic!("a JoinGroup-Response expected, got {content:?}");
    };
    let names = r
        .user_map_list
        .as_ref()
        .and_then(|l| l.user_mapping.as_ref());
    assert_eq!(names.map(|l| l.mappings.len()), Some(2));

    // The group relays bob's message: alice gets it as a group message from "bob".
    let letter = RemoteLetter {
        id: "g1".into(),
        sender: GROUP.into(),
        content_type: Some("text/plain".into()),
        content: Some("hi a".into()),
        screen_name: Some("bob".into()),
        ..RemoteLetter::default()
    };
    let deliver = FederationOp::Deliver {
        recipient: ALICE.into(),
        letter: Box::new(letter),
    };
    assert!(matches!(fed(&mut sim, deliver), AdminDone::Delivered(c) if c.code() == 200));
    let got = inbox(&mut sim, &mut alice);
    let msg = got.iter().find_map(|p| match p {
        Primitive::NewMessage(m) => Some(m),
        _ => None,
    });
    let msg = msg.expect("alice gets the group's message");
    assert_eq!(msg.content_data.as_deref(), Some("hi a"));
    let to_group = msg.message_info.recipient.as_ref().map(|r| r.groups.len());
    assert_eq!(to_group, Some(1));

    // Her own message to the group goes to b.test with her other remote recipients.
    let m = alice.message(vec![(
        TransactionMode::Request,
        None,
        to_group_msg("hello b"),
    )]);
    let _ = sim.submit(Request::csp(m));
    let out = drain(&rx);
    let sent = out.iter().any(|o| {
        matches!(o,
        FederationOut::Send { recipients, letter, .. }
            if recipients == &vec![GROUP.to_owned()] && letter.sender == ALICE)
    });
    assert!(sent, "to the group's domain: {out:?}");

    // A removal notice from b.test makes her session leave.
    let notice = FederationOp::Notice {
        target: ALICE.into(),
        origin: "b.test".into(),
        notice: Box::new(RemoteRequest::LeftGroup {
            group: GROUP.into(),
            users: vec![ALICE.into()],
            status: Some(SspStatus::new(809)),
            reason: None,
        }),
    };
    fed(&mut sim, notice);
    let got = inbox(&mut sim, &mut alice);
    assert!(
        got.iter()
            .any(|p| matches!(p, Primitive::LeaveGroupResponse(r) if r.result.code == 809)),
        "{got:?}"
    );
}

fn to_group_msg(text: &str) -> Primitive {
    to_group(text)
}

#[test]
fn a_local_members_last_session_leaves_the_remote_group() {
    let (mut sim, rx) = world("a.test");
    let mut alice = online(&mut sim, "alice");
    let join = JoinGroupRequest {
        group_id: GroupId(GROUP.into()),
        screen_name: None,
        joined_request: None,
        subscribe_notification: None,
        own_properties: None,
    };
    let m = alice.message(vec![(TransactionMode::Request, None, join.into())]);
    let token = sim.submit(Request::csp(m));
    let Some(FederationOut::Request {
        query,
        part,
        request,
        ..
    }) = drain(&rx).into_iter().next()
    else {
        panic!("the join goes to the desk");
    };
    let outcome = FederationOp::Outcome {
        user: ALICE.into(),
        query,
        part,
        request: request.clone(),
        status: SspStatus::new(200),
        answer: Box::new(Answer::None),
    };
    fed(&mut sim, outcome);
    assert!(sim.take_reply(token).is_some());
    // A join answered when nobody waits (sent again after b.test restarted) while her
    // session is a member: she stays.
    let late = FederationOp::Outcome {
        user: ALICE.into(),
        query: 0,
        part: 0,
        request,
        status: SspStatus::new(200),
        answer: Box::new(Answer::None),
    };
    fed(&mut sim, late.clone());
    let leaves = |out: Vec<FederationOut>| {
        out.iter()
            .filter(|o| {
                matches!(o, FederationOut::Request { request, .. }
                if matches!(&**request, RemoteRequest::LeaveGroup { user, group }
                    if user == ALICE && group == GROUP))
            })
            .count()
    };
    assert_eq!(leaves(drain(&rx)), 0);
    // Her session ends: she leaves the group at b.test.
    assert!(alice.call(&mut sim, LogoutRequest {}.into()).is_some());
    assert_eq!(leaves(drain(&rx)), 1);
    // Joined late (nobody waits) and no session is a member: left again at once.
    fed(&mut sim, late);
    assert_eq!(leaves(drain(&rx)), 1);
}

#[test]
fn a_new_session_with_the_group_domain_joins_its_groups_again() {
    let (mut sim, rx) = world("a.test");
    let mut alice = online(&mut sim, "alice");
    let join = JoinGroupRequest {
        group_id: GroupId(GROUP.into()),
        screen_name: Some(ScreenName {
            sname: ScreenNameText("ally".into()),
            group_id: GroupId(GROUP.into()),
        }),
        joined_request: Some(true),
        subscribe_notification: Some(true),
        own_properties: None,
    };
    let m = alice.message(vec![(TransactionMode::Request, None, join.into())]);
    let token = sim.submit(Request::csp(m));
    let Some(FederationOut::Request {
        query,
        part,
        request,
        ..
    }) = drain(&rx).into_iter().next()
    else {
        panic!("the join goes to the desk");
    };
    let outcome = FederationOp::Outcome {
        user: ALICE.into(),
        query,
        part,
        request,
        status: SspStatus::new(200),
        answer: Box::new(Answer::None),
    };
    fed(&mut sim, outcome);
    assert!(sim.take_reply(token).is_some());
    let peer_up = |domain: &str| FederationOp::PeerUp {
        domain: domain.into(),
    };
    let mut joins = Vec::new();
    for shard in 0..2 {
        let op = Request::Admin(Admin::Federation(peer_up("b.test")));
        assert!(matches!(
            sim.call_on(shard, op),
            Some(Reply::Admin(Ok(AdminDone::Federated)))
        ));
        joins.extend(drain(&rx).into_iter().filter_map(|o| match o {
            FederationOut::Request {
                query: 0, request, ..
            } => match *request {
                RemoteRequest::JoinGroup(j) => Some(j),
                _ => None,
            },
            _ => None,
        }));
    }
    assert_eq!(joins.len(), 1, "{joins:?}");
    assert_eq!(
        (joins[0].user.as_str(), joins[0].group.as_str()),
        (ALICE, GROUP)
    );
    assert_eq!(joins[0].screen_name.as_deref(), Some("ally"));
    assert!(joins[0].subscribe && !joins[0].joined_list);
    // Answered 807 (b.test still knew her): nothing changes, nothing is sent.
    let known = FederationOp::Outcome {
        user: ALICE.into(),
        query: 0,
        part: 0,
        request: Box::new(RemoteRequest::JoinGroup(joins[0].clone())),
        status: SspStatus::new(807),
        answer: Box::new(Answer::None),
    };
    fed(&mut sim, known);
    assert!(drain(&rx).is_empty());
    // Another domain's new session asks nothing of b.test's groups.
    for shard in 0..2 {
        sim.call_on(shard, Request::Admin(Admin::Federation(peer_up("c.test"))));
    }
    assert!(drain(&rx).is_empty());
}
