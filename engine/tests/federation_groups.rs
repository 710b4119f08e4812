//! Groups across domains between real `impsd` processes on loopback (issue 11): bob@b.test
//! creates a group, alice@a.test joins it through her own server, and their group messages
//! cross the border both ways; her view of the joined users comes from b.test and her leave
//! reaches bob as a change notice. In memory: the SSP form of a group relaying its member's
//! message (the group as sender, the member's screen name), and its anti-spoofing.

mod federation_domains;
mod federation_net;

use federation_domains::*;
use imps_engine::federation::{Event, OutgoingMessage, TransmitKind};

const GROUP: &str = "wv:bob/chat@b.test";

fn to_group(text: &str) -> String {
    format!(
        "<SendMessage-Request><DeliveryReport>F</DeliveryReport><MessageInfo>\
         <ContentType>text/plain</ContentType><Recipient><Group><GroupID>{GROUP}</GroupID>\
         </Group></Recipient></MessageInfo><ContentData>{text}</ContentData>\
         </SendMessage-Request>"
    )
}

#[test]
fn a_user_of_another_domain_joins_a_group_and_messages_cross_both_ways() {
    let (mut a, mut b) = pair();
    a.start();
    b.start();
    let bob = b.login("bob");
    let created = b.csp(
        Some(&bob),
        "g1",
        &format!(
            "<CreateGroup-Request><GroupID>{GROUP}</GroupID><GroupProperties><Property>\
             <Name>Name</Name><Value>chat</Value></Property></GroupProperties>\
             <JoinGroup>T</JoinGroup><ScreenName><SName>bob</SName><GroupID>{GROUP}</GroupID>\
             </ScreenName><SubscribeNotification>T</SubscribeNotification>\
             </CreateGroup-Request>"
        ),
    );
    assert!(created.contains("<Code>200</Code>"), "{created}");

    // alice's join goes through a.test to b.test and comes back as her answer.
    let alice = a.login("alice");
    let joined = a.csp(
        Some(&alice),
        "j1",
        &format!(
            "<JoinGroup-Request><GroupID>{GROUP}</GroupID><ScreenName><SName>alice</SName>\
             <GroupID>{GROUP}</GroupID></ScreenName><JoinedRequest>T</JoinedRequest>\
             <SubscribeNotification>T</SubscribeNotification></JoinGroup-Request>"
        ),
    );
    assert!(joined.contains("JoinGroup-Response"), "{joined}");
    assert!(joined.contains("<SName>bob</SName>"), "{joined}");
    let notice = b.poll_until(&bob, "GroupChangeNotice");
    assert!(notice.contains("alice"), "{notice}");
    let users = a.csp(
        Some(&alice),
        "u1",
        &format!("<GetJoinedUsers-Request><GroupID>{GROUP}</GroupID></GetJoinedUsers-Request>"),
    );
    assert!(
        users.contains("<SName>bob</SName>") && users.contains("<SName>alice</SName>"),
        "{users}"
    );

    let props = a.csp(
        Some(&alice),
        "p1",
        &format!("<GetGroupProps-Request><GroupID>{GROUP}</GroupID></GetGroupProps-Request>"),
    );
    assert!(
        props.contains("<Name>Name</Name>") && props.contains("<Value>chat</Value>"),
        "{props}"
    );

    // alice -> group: bob gets it from her screen name.
    let sent = a.csp(Some(&alice), "m1", &to_group("hello group"));
    assert!(sent.contains("<Code>200</Code>"), "{sent}");
    let got = b.poll_until(&bob, "hello group");
    assert!(got.contains("<SName>alice</SName>"), "{got}");

    // bob -> group: alice gets it as a message to the group from "bob".
    let sent = b.csp(Some(&bob), "m2", &to_group("hi alice"));
    assert!(sent.contains("<Code>200</Code>"), "{sent}");
    let got = a.poll_until(&alice, "hi alice");
    assert!(got.contains(GROUP), "{got}");
    assert!(got.contains("<SName>bob</SName>"), "{got}");

    // Her leave reaches b.test: bob hears of it.
    let left = a.csp(
        Some(&alice),
        "l1",
        &format!("<LeaveGroup-Request><GroupID>{GROUP}</GroupID></LeaveGroup-Request>"),
    );
    assert!(left.contains("<Code>200</Code>"), "{left}");
    let notice = b.poll_until(&bob, "<Left>");
    assert!(notice.contains("alice"), "{notice}");
    a.stop();
    b.stop();
}

/// The messages of group `GROUP` that reached a.test: (screen name, recipients, content).
fn group_relayed(net: &federation_net::Net) -> Vec<(Option<String>, Vec<String>, Vec<u8>)> {
    net.nodes[net.index("a.test")]
        .events
        .iter()
        .filter_map(|e| match e {
            Event::DeliverMessage(m) if m.sender == GROUP => Some((
                m.screen_name.clone(),
                m.recipients.clone(),
                m.content.clone(),
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn a_group_relays_its_members_messages_with_their_screen_names_only_for_its_domain() {
    let mut net = federation_net::pair();
    let msg = OutgoingMessage {
        sender: GROUP.into(),
        recipients: vec!["wv:alice@a.test".into()],
        message_id: Some("g1".into()),
        content_type: Some("text/plain".into()),
        content: b"from carol".to_vec(),
        ..OutgoingMessage::default()
    };
    let now = net.now;
    let queued = net
        .node("b.test")
        .fed
        .send_group_message(now, &msg, Some("carol"));
    assert!(queued.iter().all(|q| q.result.is_ok()), "{queued:?}");
    net.settle();
    assert_eq!(
        group_relayed(&net),
        vec![(
            Some("carol".to_owned()),
            vec!["wv:alice@a.test".to_owned()],
            b"from carol".to_vec()
        )]
    );
    // b.test cannot speak for a group of another domain.
    let msg = OutgoingMessage {
        sender: "wv:x/chat@c.test".into(),
        message_id: Some("g2".into()),
        ..msg
    };
    let now = net.now;
    net.node("b.test").hold = true;
    let queued = net.node("b.test").fed.send_group_message(now, &msg, None);
    assert!(queued.iter().all(|q| q.result.is_ok()), "{queued:?}");
    let t = federation_net::take(&mut net, "b.test", TransmitKind::Request);
    let now = net.now;
    let a = net.index("a.test");
    net.nodes[a]
        .fed
        .handle_incoming(now, None, &t.body)
        .expect("accepted for processing");
    net.node("b.test").hold = false;
    net.settle();
    let a = &net.nodes[net.index("a.test")];
    assert_eq!(
        federation_net::delivered(a).len(),
        1,
        "the spoofed one is refused"
    );
}
