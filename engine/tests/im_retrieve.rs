//! Fetching announced messages (notify/get) in the simulation harness (two shards): a group
//! message announced to a session by MessageNotification stays fetchable with GetMessage
//! and MessageDelivered (and RejectMessage) even when the session leaves the group before
//! it fetches it, whether the notification was still queued or already polled; it is no
//! longer listed under the group, and it goes with the session.

mod common;

use common::{World, group_of};
use imps_engine::sim::SimClient;
use imps_protocol::Primitive;
use imps_protocol::common::{Group, Property, Recipient, ScreenName};
use imps_protocol::primitives::*;
use imps_protocol::types::{GroupId, MessageId, ScreenNameText};

fn create(g: &GroupId) -> Primitive {
    CreateGroupRequest {
        group_id: g.clone(),
        properties: GroupProperties {
            properties: vec![Property {
                name: "Name".into(),
                value: Some("Room".into()),
            }],
            welcome_note: None,
        },
        join_group: None,
        screen_name: None,
        subscribe_notification: None,
    }
    .into()
}

fn join(w: &mut World, c: &mut SimClient, g: &GroupId, sname: &str) {
    let req = JoinGroupRequest {
        group_id: g.clone(),
        screen_name: Some(ScreenName {
            sname: ScreenNameText(sname.into()),
            group_id: g.clone(),
        }),
        joined_request: Some(false),
        subscribe_notification: Some(false),
        own_properties: None,
    };
    match w.call(c, req.into()) {
        Primitive::JoinGroupResponse(_) => {}
        other => panic!("joined expected, got {other:?}"),
    }
}

fn leave(w: &mut World, c: &mut SimClient, g: &GroupId) {
    let req = LeaveGroupRequest {
        group_id: g.clone(),
    };
    match w.call(c, req.into()) {
        Primitive::LeaveGroupResponse(r) => assert_eq!(r.result.code, 200),
        other => panic!("left expected, got {other:?}"),
    }
}

fn say(w: &mut World, c: &mut SimClient, g: &GroupId, text: &str) {
    let req = SendMessageRequest {
        delivery_report: Some(false),
        message_info: MessageInfo {
            recipient: Some(Recipient {
                groups: vec![Group {
                    group_id: Some(g.clone()),
                    screen_name: None,
                }],
                ..Recipient::default()
            }),
            ..MessageInfo::default()
        },
        content_data: Some(text.into()),
    };
    match w.call(c, req.into()) {
        Primitive::SendMessageResponse(r) => assert_eq!(r.result.code, 200),
        other => panic!("sent expected, got {other:?}"),
    }
}

/// The MessageIDs announced to `c` (it polls).
fn announced(w: &mut World, c: &mut SimClient) -> Vec<MessageId> {
    w.requests(c)
        .into_iter()
        .filter_map(|(_, p)| match p {
            Primitive::MessageNotification(n) => n.message_info.message_id,
            _ => None,
        })
        .collect()
}

fn fetch(w: &mut World, c: &mut SimClient, id: &MessageId) -> Result<String, u32> {
    let req = GetMessageRequest {
        message_id: id.clone(),
    };
    match w.call(c, req.into()) {
        Primitive::GetMessageResponse(m) => Ok(m.content_data.unwrap_or_default()),
        Primitive::Status(s) => Err(s.result.code),
        other => panic!("unexpected {other:?}"),
    }
}

fn delivered(w: &mut World, c: &mut SimClient, id: &MessageId) -> u32 {
    let req = MessageDelivered {
        message_id: id.clone(),
    };
    w.status(c, req.into())
}

fn listed(w: &mut World, c: &mut SimClient, g: &GroupId) -> usize {
    let req = GetMessageListRequest {
        group_id: Some(g.clone()),
        message_count: None,
    };
    match w.call(c, req.into()) {
        Primitive::GetMessageListResponse(l) => l.messages.len(),
        other => panic!("a list expected, got {other:?}"),
    }
}

/// alice (shard 0) owns a room; bob (shard 1) talks in it; carol (shard 1) fetches her
/// messages (notify/get). All three joined.
fn room(seed: u64) -> (World, [SimClient; 3], GroupId) {
    let mut w = World::new(seed);
    let mut alice = w.online("alice", 0);
    let mut bob = w.online("bob", 1);
    let mut carol = w.online("carol", 1);
    let g = group_of(&alice.user, "room");
    assert_eq!(w.status(&mut alice, create(&g)), 200);
    join(&mut w, &mut alice, &g, "Al");
    join(&mut w, &mut bob, &g, "Bo");
    join(&mut w, &mut carol, &g, "Ca");
    let notify = SetDeliveryMethodRequest {
        delivery_method: DeliveryMethod::Notify,
        accepted_content_length: None,
        group_id: None,
    };
    assert_eq!(w.status(&mut carol, notify.into()), 200);
    (w, [alice, bob, carol], g)
}

#[test]
fn a_message_announced_before_leaving_is_fetched_after_it() {
    let (mut w, [_alice, mut bob, mut carol], g) = room(60);
    say(&mut w, &mut bob, &g, "one");
    say(&mut w, &mut bob, &g, "two");
    // carol leaves while both notifications still wait for her poll.
    leave(&mut w, &mut carol, &g);
    let ids = announced(&mut w, &mut carol);
    assert_eq!(ids.len(), 2, "announced: {ids:?}");
    assert_eq!(listed(&mut w, &mut carol, &g), 0, "no longer listed");
    assert_eq!(fetch(&mut w, &mut carol, &ids[0]), Ok("one".into()));
    assert_eq!(delivered(&mut w, &mut carol, &ids[0]), 200);
    assert_eq!(
        delivered(&mut w, &mut carol, &ids[0]),
        426,
        "delivered once"
    );
    assert_eq!(fetch(&mut w, &mut carol, &ids[0]), Err(426));
    let reject = RejectMessageRequest {
        message_ids: vec![ids[1].clone()],
    };
    assert_eq!(w.status(&mut carol, reject.into()), 200);
    assert_eq!(fetch(&mut w, &mut carol, &ids[1]), Err(426), "rejected");
    // Left: nothing new comes.
    say(&mut w, &mut bob, &g, "three");
    assert!(announced(&mut w, &mut carol).is_empty());
}

#[test]
fn a_message_polled_before_leaving_is_fetched_after_it_until_the_session_ends() {
    let (mut w, [_alice, mut bob, mut carol], g) = room(61);
    say(&mut w, &mut bob, &g, "hello");
    let ids = announced(&mut w, &mut carol);
    assert_eq!(ids.len(), 1);
    assert_eq!(listed(&mut w, &mut carol, &g), 1);
    leave(&mut w, &mut carol, &g);
    assert_eq!(fetch(&mut w, &mut carol, &ids[0]), Ok("hello".into()));
    // Not confirmed in this session: it goes with it (group mail is soft state).
    assert!(matches!(
        w.call(&mut carol, LogoutRequest {}.into()),
        Primitive::Disconnect(_)
    ));
    carol.login(&mut w.sim, "pw").expect("login");
    assert_eq!(fetch(&mut w, &mut carol, &ids[0]), Err(426));
}
