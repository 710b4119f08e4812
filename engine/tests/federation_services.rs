//! The services other than IM across in-memory domains (the network is in `federation_net`):
//! remote presence subscription, batched notifications, fetch; invitations with their answers
//! and cancels; groups hosted in another domain; relay through an intermediate domain;
//! duplicates; expiry. The service agreement has its own file (`federation_agreement.rs`).

mod federation_net;

use std::time::Duration;

use federation_net::{
    GROUP, Net, last_result, live_pair_holding_a, notices, posts_with, request, request_results,
    requests, send_results, services_pair, subscribe, take, triangle,
};
use imps_engine::federation::{
    Answer, Event, GroupChangeAction, GroupJoin, GroupNotice, Invitation, InvitationAnswer,
    InvitationCancel, OutgoingMessage, RemoteRequest, TransmitKind,
};
use imps_protocol::StatusCode;
use imps_protocol::raw::{RawElement, RawNode};
use imps_protocol::ssp::PresenceValue;
use imps_protocol::ssp::extension::FeatureGroup;

/// A presence value of `user` with a status text.
fn value(user: &str, text: &str) -> PresenceValue {
    PresenceValue {
        user_id: user.into(),
        sub_lists: vec![RawElement {
            name: "StatusText".into(),
            attributes: Vec::new(),
            children: vec![RawNode::Text(text.into())],
        }],
    }
}

/// (user, status text) of each value.
fn texts(values: &[PresenceValue]) -> Vec<(String, String)> {
    values
        .iter()
        .map(|v| {
            let text = v
                .sub_lists
                .first()
                .map(RawElement::text)
                .unwrap_or_default();
            (v.user_id.clone(), text.trim().to_owned())
        })
        .collect()
}

/// A presence notice as (watchers, (user, status text) of each value).
type PresenceNotice = (Vec<String>, Vec<(String, String)>);

/// The presence notices `domain` received.
fn presence_notices(net: &Net, domain: &str) -> Vec<PresenceNotice> {
    notices(&net.nodes[net.index(domain)])
        .into_iter()
        .filter_map(|n| match n {
            RemoteRequest::PresenceNotification { watchers, values } => {
                Some((watchers, texts(&values)))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_remote_subscription_is_authorised_by_the_users_domain() {
    let mut net = services_pair();
    net.nodes[1].denied.insert("wv:al@a.test".into());
    request(
        &mut net,
        "a.test",
        subscribe("wv:alice@a.test", "wv:bob@b.test"),
    )
    .expect("queued");
    net.settle();
    assert_eq!(last_result(&net, "a.test").0, 200);
    request(
        &mut net,
        "a.test",
        subscribe("wv:al@a.test", "wv:bob@b.test"),
    )
    .expect("queued");
    net.settle();
    assert_eq!(last_result(&net, "a.test").0, 403);
    request(
        &mut net,
        "a.test",
        subscribe("wv:alice@a.test", "wv:nobody@b.test"),
    )
    .expect("queued");
    net.settle();
    assert_eq!(last_result(&net, "a.test").0, 531);
    assert_eq!(
        net.nodes[1]
            .subscriptions
            .iter()
            .cloned()
            .collect::<Vec<_>>(),
        vec![("wv:alice@a.test".to_owned(), "wv:bob@b.test".to_owned())]
    );
    // Both sides agreed on the default feature groups after the handshake.
    for n in &net.nodes {
        assert!(n.events.iter().any(|e| matches!(e,
            Event::Agreed { features, .. } if features.contains(&FeatureGroup::Presence))));
    }
    // A local user cannot be the target, nor a remote one the actor.
    assert_eq!(
        request(
            &mut net,
            "a.test",
            subscribe("wv:alice@a.test", "wv:al@a.test")
        ),
        Err(StatusCode::InvalidParameter)
    );
    assert_eq!(
        request(
            &mut net,
            "a.test",
            subscribe("wv:eve@c.test", "wv:bob@b.test")
        ),
        Err(StatusCode::InvalidParameter)
    );
}

#[test]
fn presence_notifications_are_batched_per_peer() {
    let mut net = services_pair();
    request(
        &mut net,
        "a.test",
        subscribe("wv:alice@a.test", "wv:bob@b.test"),
    )
    .expect("queued");
    net.settle();
    let before = posts_with(&net, "b.test", "PresenceNotification");
    let now = net.now;
    let watchers = ["wv:alice@a.test".to_owned(), "wv:al@a.test".to_owned()];
    let b = &mut net.nodes[1].fed;
    for i in 0..10 {
        let refused = b.notify_presence(now, &watchers, value("wv:bob@b.test", &format!("n{i}")));
        assert!(refused.is_empty());
    }
    b.notify_presence(now, &watchers[..1], value("wv:bert@b.test", "busy"));
    let refused = b.notify_presence(
        now,
        &["wv:x@z.test".to_owned()],
        value("wv:bob@b.test", "x"),
    );
    assert_eq!(
        refused,
        vec![("wv:x@z.test".to_owned(), StatusCode::DomainNotSupported)]
    );
    // Nothing leaves before the batching delay.
    net.settle();
    assert_eq!(posts_with(&net, "b.test", "PresenceNotification"), before);
    net.advance(Duration::from_secs(1));
    // 21 changes for two watchers: one POST, two notifications (the watchers see different
    // values), latest value per user.
    assert_eq!(
        posts_with(&net, "b.test", "PresenceNotification"),
        before + 1
    );
    let mut got = presence_notices(&net, "a.test");
    got.sort();
    assert_eq!(
        got,
        vec![
            (
                vec!["wv:al@a.test".to_owned()],
                vec![("wv:bob@b.test".to_owned(), "n9".to_owned())]
            ),
            (
                vec!["wv:alice@a.test".to_owned()],
                vec![
                    ("wv:bob@b.test".to_owned(), "n9".to_owned()),
                    ("wv:bert@b.test".to_owned(), "busy".to_owned())
                ]
            ),
        ]
    );
    // The notices were answered 200 by a's federation.
    let results: Vec<u16> = request_results(&net.nodes[1]).iter().map(|r| r.0).collect();
    assert_eq!(results, vec![200, 200]);
}

#[test]
fn unsubscribe_and_get_presence_reach_the_users_domain() {
    let mut net = services_pair();
    net.nodes[1]
        .presence
        .insert("wv:bob@b.test".into(), value("wv:bob@b.test", "lunch"));
    request(
        &mut net,
        "a.test",
        subscribe("wv:alice@a.test", "wv:bob@b.test"),
    )
    .expect("queued");
    net.settle();
    assert_eq!(net.nodes[1].subscriptions.len(), 1);
    let unsubscribe = RemoteRequest::UnsubscribePresence {
        watcher: "wv:alice@a.test".into(),
        users: vec!["wv:bob@b.test".into()],
    };
    request(&mut net, "a.test", unsubscribe).expect("queued");
    net.settle();
    assert_eq!(last_result(&net, "a.test").0, 200);
    assert!(net.nodes[1].subscriptions.is_empty());
    let get = RemoteRequest::GetPresence {
        requester: "wv:alice@a.test".into(),
        users: vec!["wv:bob@b.test".into()],
        attributes: None,
    };
    request(&mut net, "a.test", get).expect("queued");
    net.settle();
    let (code, answer) = last_result(&net, "a.test");
    assert_eq!(code, 200);
    let Answer::Presence(values) = answer else {
        panic!("presence expected: {answer:?}")
    };
    assert_eq!(
        texts(&values),
        vec![("wv:bob@b.test".to_owned(), "lunch".to_owned())]
    );
}

#[test]
fn an_invitation_its_answer_and_its_cancel_cross_domains() {
    let mut net = services_pair();
    let invitation = Invitation {
        invite_id: "inv-1".into(),
        inviting: "wv:alice@a.test".into(),
        invited: "wv:bob@b.test".into(),
        invite_type: Some("IM".into()),
        note: Some("chat?".into()),
        ..Invitation::default()
    };
    request(
        &mut net,
        "a.test",
        RemoteRequest::Invite(invitation.clone()),
    )
    .expect("queued");
    net.settle();
    assert_eq!(last_result(&net, "a.test").0, 200);
    assert_eq!(
        requests(&net.nodes[1]),
        vec![RemoteRequest::Invite(invitation.clone())]
    );
    // bob accepts: the answer reaches alice as a notice.
    let answer = InvitationAnswer {
        invite_id: "inv-1".into(),
        inviting: "wv:alice@a.test".into(),
        responding: "wv:bob@b.test".into(),
        accepted: true,
        note: Some("sure".into()),
    };
    request(
        &mut net,
        "b.test",
        RemoteRequest::InviteAnswer(answer.clone()),
    )
    .expect("queued");
    net.settle();
    assert_eq!(
        notices(&net.nodes[0]),
        vec![RemoteRequest::InviteAnswer(answer)]
    );
    // alice withdraws a second invitation.
    let cancel = InvitationCancel {
        invite_id: "inv-2".into(),
        canceling: "wv:alice@a.test".into(),
        canceled: "wv:bob@b.test".into(),
        group_id: None,
        note: None,
    };
    request(
        &mut net,
        "a.test",
        RemoteRequest::CancelInvite(cancel.clone()),
    )
    .expect("queued");
    net.settle();
    assert_eq!(
        notices(&net.nodes[1]),
        vec![RemoteRequest::CancelInvite(cancel)]
    );
    // An invitation for an unknown user: 531.
    let unknown = Invitation {
        invite_id: "inv-3".into(),
        invited: "wv:nobody@b.test".into(),
        ..invitation
    };
    request(&mut net, "a.test", RemoteRequest::Invite(unknown)).expect("queued");
    net.settle();
    assert_eq!(last_result(&net, "a.test").0, 531);
}

#[test]
fn a_group_in_another_domain_is_joined_used_and_left() {
    let mut net = services_pair();
    let join = GroupJoin {
        user: "wv:alice@a.test".into(),
        group: GROUP.into(),
        screen_name: Some("Ali".into()),
        joined_list: true,
        subscribe: true,
        own_properties: None,
    };
    request(&mut net, "a.test", RemoteRequest::JoinGroup(join)).expect("queued");
    net.settle();
    assert_eq!(
        last_result(&net, "a.test"),
        (
            200,
            Answer::Joined {
                joined: vec!["Ali".into(), "Bob".into()],
                welcome_note: None
            }
        )
    );
    // A message to the group.
    let now = net.now;
    let msg = OutgoingMessage {
        sender: "wv:alice@a.test".into(),
        recipients: vec![GROUP.into()],
        content: b"hi all".to_vec(),
        ..OutgoingMessage::default()
    };
    assert!(net.nodes[0].fed.send_message(now, &msg)[0].result.is_ok());
    net.settle();
    assert_eq!(send_results(&net.nodes[0]), vec![200]);
    let group_messages: Vec<_> = net.nodes[1]
        .events
        .iter()
        .filter_map(|e| match e {
            Event::DeliverGroupMessage(m) => Some((m.sender.clone(), m.recipients.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        group_messages,
        vec![("wv:alice@a.test".to_owned(), vec![GROUP.to_owned()])]
    );
    // Members, properties and the change subscription.
    let members = RemoteRequest::GetJoinedUsers {
        user: "wv:alice@a.test".into(),
        group: GROUP.into(),
    };
    request(&mut net, "a.test", members).expect("queued");
    net.settle();
    let (code, Answer::JoinedUsers { users, .. }) = last_result(&net, "a.test") else {
        panic!("joined users expected")
    };
    assert_eq!(code, 200);
    let names: Vec<(String, Option<String>)> = users
        .into_iter()
        .map(|m| (m.screen_name, m.user_id))
        .collect();
    assert!(names.contains(&("Ali".into(), Some("wv:alice@a.test".into()))));
    let props = RemoteRequest::GetGroupProps {
        user: "wv:alice@a.test".into(),
        group: GROUP.into(),
    };
    request(&mut net, "a.test", props).expect("queued");
    net.settle();
    assert!(matches!(
        last_result(&net, "a.test"),
        (
            200,
            Answer::GroupProps {
                group_properties: Some(_),
                ..
            }
        )
    ));
    let query = RemoteRequest::GroupChange {
        user: "wv:alice@a.test".into(),
        group: GROUP.into(),
        action: GroupChangeAction::Query,
    };
    request(&mut net, "a.test", query).expect("queued");
    net.settle();
    assert_eq!(last_result(&net, "a.test"), (200, Answer::Subscribed(true)));
    // The group's domain tells alice about a change.
    let notice = GroupNotice {
        group: GROUP.into(),
        recipients: vec!["wv:alice@a.test".into()],
        joined: vec!["Bert".into()],
        ..GroupNotice::default()
    };
    request(
        &mut net,
        "b.test",
        RemoteRequest::GroupChangeNotice(notice.clone()),
    )
    .expect("queued");
    net.settle();
    assert_eq!(
        notices(&net.nodes[0]),
        vec![RemoteRequest::GroupChangeNotice(notice)]
    );
    // alice leaves; then she is removed from a group she is not in anymore (a kick).
    let leave = RemoteRequest::LeaveGroup {
        user: "wv:alice@a.test".into(),
        group: GROUP.into(),
    };
    request(&mut net, "a.test", leave).expect("queued");
    net.settle();
    assert_eq!(last_result(&net, "a.test").0, 200);
    assert_eq!(net.nodes[1].groups[GROUP].len(), 1);
    let kicked = RemoteRequest::LeftGroup {
        group: GROUP.into(),
        users: vec!["wv:al@a.test".into()],
        status: None,
        reason: Some("bye".into()),
    };
    request(&mut net, "b.test", kicked.clone()).expect("queued");
    net.settle();
    assert_eq!(notices(&net.nodes[0]).last(), Some(&kicked));
    // Not a member any more: the group refuses her message.
    let now = net.now;
    net.nodes[0].fed.send_message(now, &msg);
    net.settle();
    assert_eq!(send_results(&net.nodes[0]), vec![200, 531]);
}

#[test]
fn a_domain_cannot_notify_for_a_group_or_user_of_another_domain() {
    let mut net = live_pair_holding_a();
    net.nodes[1].hold = true;
    let notice = GroupNotice {
        group: "wv:eve/club@c.test".into(),
        recipients: vec!["wv:alice@a.test".into()],
        ..GroupNotice::default()
    };
    // b's federation does not check what its shards send; a's refuses it with 901.
    request(&mut net, "b.test", RemoteRequest::GroupChangeNotice(notice)).expect("queued");
    let t = take(&mut net, "b.test", TransmitKind::Request);
    let now = net.now;
    net.nodes[0]
        .fed
        .handle_incoming(now, None, &t.body)
        .expect("accepted");
    net.nodes[1]
        .fed
        .handle_ack(now, &t.peer_domain, &t.transaction_id);
    net.nodes[1].hold = false;
    net.nodes[0].hold = false;
    net.settle();
    assert!(notices(&net.nodes[0]).is_empty());
    assert_eq!(last_result(&net, "b.test").0, 901);
}

#[test]
fn presence_is_relayed_through_an_intermediate_domain() {
    let mut net = triangle(&[]);
    request(
        &mut net,
        "c.test",
        subscribe("wv:carol@c.test", "wv:alice@a.test"),
    )
    .expect("queued");
    net.settle();
    assert_eq!(last_result(&net, "c.test").0, 200);
    assert_eq!(net.nodes[0].subscriptions.len(), 1);
    let now = net.now;
    let refused = net.nodes[0].fed.notify_presence(
        now,
        &["wv:carol@c.test".to_owned()],
        value("wv:alice@a.test", "here"),
    );
    assert!(refused.is_empty());
    net.advance(Duration::from_secs(1));
    assert_eq!(
        presence_notices(&net, "c.test"),
        vec![(
            vec!["wv:carol@c.test".to_owned()],
            vec![("wv:alice@a.test".to_owned(), "here".to_owned())]
        )]
    );
    // A group of a.test joined from c.test, and a message to it, through b.test.
    let room = "wv:alice/room@a.test".to_owned();
    net.nodes[0].groups.insert(room.clone(), Default::default());
    let join = GroupJoin {
        user: "wv:carol@c.test".into(),
        group: room.clone(),
        ..GroupJoin::default()
    };
    request(&mut net, "c.test", RemoteRequest::JoinGroup(join)).expect("queued");
    net.settle();
    assert_eq!(last_result(&net, "c.test").0, 200);
    assert!(net.nodes[0].groups[&room].contains_key("wv:carol@c.test"));
    let now = net.now;
    let msg = OutgoingMessage {
        sender: "wv:carol@c.test".into(),
        recipients: vec![room],
        content: b"hello room".to_vec(),
        ..OutgoingMessage::default()
    };
    assert!(net.nodes[2].fed.send_message(now, &msg)[0].result.is_ok());
    net.settle();
    assert_eq!(send_results(&net.nodes[2]), vec![200]);
    // The relay only passed things on.
    let b = &net.nodes[1];
    assert!(requests(b).is_empty() && notices(b).is_empty());
    assert_eq!(request_results(&net.nodes[0]), vec![(200, Answer::None)]);
}

#[test]
fn a_retried_request_is_processed_once() {
    let mut net = live_pair_holding_a();
    net.nodes[1].hold = true;
    let invitation = Invitation {
        invite_id: "inv-9".into(),
        inviting: "wv:alice@a.test".into(),
        invited: "wv:bob@b.test".into(),
        ..Invitation::default()
    };
    request(&mut net, "a.test", RemoteRequest::Invite(invitation)).expect("queued");
    let t = take(&mut net, "a.test", TransmitKind::Request);
    let now = net.now;
    for _ in 0..3 {
        net.nodes[1]
            .fed
            .handle_incoming(now, None, &t.body)
            .expect("accepted");
        net.serve_events();
    }
    assert_eq!(requests(&net.nodes[1]).len(), 1);
    let first = take(&mut net, "b.test", TransmitKind::Response);
    let again = take(&mut net, "b.test", TransmitKind::Response);
    assert_eq!(first.body, again.body, "the retry gets the same answer");
    net.nodes[0]
        .fed
        .handle_ack(now, &t.peer_domain, &t.transaction_id);
    net.nodes[0]
        .fed
        .handle_incoming(now, None, &first.body)
        .expect("answer");
    net.serve_events();
    assert_eq!(request_results(&net.nodes[0]), vec![(200, Answer::None)]);
}

#[test]
fn requests_and_notices_for_a_peer_that_stays_down_expire_with_a_report() {
    let mut net = services_pair();
    net.nodes[1].up = false;
    request(
        &mut net,
        "a.test",
        subscribe("wv:alice@a.test", "wv:bob@b.test"),
    )
    .expect("queued");
    let now = net.now;
    net.nodes[0].fed.notify_presence(
        now,
        &["wv:bob@b.test".to_owned()],
        value("wv:alice@a.test", "away"),
    );
    net.advance(Duration::from_secs(599));
    assert!(request_results(&net.nodes[0]).is_empty());
    assert_eq!(net.nodes[0].fed.queued("b.test"), 2);
    net.advance(Duration::from_secs(3));
    let results: Vec<(u16, bool)> = net.nodes[0]
        .events
        .iter()
        .filter_map(|e| match e {
            Event::RequestResult(r) => Some((
                r.status.code,
                matches!(r.request, RemoteRequest::PresenceNotification { .. }),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(results, vec![(503, false), (503, true)]);
    assert_eq!(net.nodes[0].fed.queued("b.test"), 0);
}

#[test]
fn user_profiles_are_fetched_and_updated_in_the_users_domain() {
    let mut net = services_pair();
    let get = RemoteRequest::GetUserProfile {
        requester: "wv:alice@a.test".into(),
        users: vec!["wv:bob@b.test".into(), "wv:nobody@b.test".into()],
    };
    request(&mut net, "a.test", get).expect("queued");
    net.settle();
    let (code, Answer::Profiles(profiles)) = last_result(&net, "a.test") else {
        panic!("profiles expected")
    };
    assert_eq!(code, 200);
    assert_eq!(profiles.len(), 1);
    assert_eq!(profiles[0].user_id, "wv:bob@b.test");
    assert_eq!(profiles[0].active, Some(true));
    let mut update = profiles[0].clone();
    update.settings.push(("location".into(), "hidden".into()));
    request(
        &mut net,
        "a.test",
        RemoteRequest::UpdateUserProfile {
            requester: "wv:alice@a.test".into(),
            profile: update,
        },
    )
    .expect("queued");
    net.settle();
    assert_eq!(last_result(&net, "a.test").0, 200);
}
