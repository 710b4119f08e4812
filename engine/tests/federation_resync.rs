//! Soft state held by a serving domain for another domain's users (remote presence
//! watchers, remote group members) comes back after the serving server restarts: the
//! restarted server sets up a session with its peers at start, the peer sees a new session
//! (`Event::PeerUp`) and its shards send their users' subscriptions and joins again.

use std::time::{Duration, Instant};

mod federation_domains;

use federation_domains::*;

const PA12: &str = "http://www.openmobilealliance.org/DTD/WV-PA1.2";
const GROUP: &str = "wv:bob/chat@b.test";

fn status_text(text: &str) -> String {
    format!(
        "<UpdatePresence-Request><PresenceSubList xmlns=\"{PA12}\"><StatusText><Qualifier>T\
         </Qualifier><PresenceValue>{text}</PresenceValue></StatusText></PresenceSubList>\
         </UpdatePresence-Request>"
    )
}

/// Polls `sid` until an answer contains `what` (a longer bound than `poll_until`: the
/// restarted server's greeting and the re-subscription come first).
fn poll_long(domain: &Domain, sid: &str, what: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut n = 0;
    loop {
        n += 1;
        let polled = domain.csp(Some(sid), &format!("lp{n}"), "<Polling-Request/>");
        if polled.contains(what) {
            return polled;
        }
        assert!(
            Instant::now() < deadline,
            "no {what} in time (last: {polled})"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_remote_watcher_gets_presence_again_after_the_publisher_domain_restarts() {
    let (mut a, mut b) = pair();
    a.start();
    b.start();
    let alice = a.login("alice");
    let bob = b.login("bob");
    let grant = format!(
        "<CreateAttributeList-Request><PresenceSubList xmlns=\"{PA12}\"><OnlineStatus/>\
         <StatusText/></PresenceSubList><UserID>wv:alice@a.test</UserID><DefaultList>F\
         </DefaultList></CreateAttributeList-Request>"
    );
    let answer = b.csp(Some(&bob), "grant", &grant);
    assert!(answer.contains("<Code>200</Code>"), "{answer}");
    let subscribe = "<SubscribePresence-Request><User><UserID>wv:bob@b.test</UserID></User>\
                     </SubscribePresence-Request>";
    let answer = a.csp(Some(&alice), "s1", subscribe);
    assert!(answer.contains("<Code>200</Code>"), "{answer}");
    b.csp(Some(&bob), "u1", &status_text("before restart"));
    a.poll_until(&alice, "before restart");

    b.stop();
    b.start();
    let bob = b.login("bob");
    // b.test knows alice as a watcher again without her asking.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut n = 0;
    loop {
        n += 1;
        let w = b.csp(Some(&bob), &format!("w{n}"), "<GetWatcherList-Request/>");
        if w.contains("wv:alice@a.test") {
            break;
        }
        assert!(Instant::now() < deadline, "alice not watching again: {w}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let updated = b.csp(Some(&bob), "u2", &status_text("after restart"));
    assert!(updated.contains("<Code>200</Code>"), "{updated}");
    let polled = poll_long(&a, &alice, "after restart");
    assert!(polled.contains("wv:bob@b.test"), "{polled}");
    a.stop();
    b.stop();
}

#[test]
fn a_remote_member_is_a_member_again_after_the_group_domain_restarts() {
    let (mut a, mut b) = pair();
    a.start();
    b.start();
    let bob = b.login("bob");
    let create = format!(
        "<CreateGroup-Request><GroupID>{GROUP}</GroupID><GroupProperties><Property>\
         <Name>Name</Name><Value>chat</Value></Property></GroupProperties>\
         <JoinGroup>T</JoinGroup><ScreenName><SName>bob</SName><GroupID>{GROUP}</GroupID>\
         </ScreenName><SubscribeNotification>T</SubscribeNotification></CreateGroup-Request>"
    );
    let created = b.csp(Some(&bob), "g1", &create);
    assert!(created.contains("<Code>200</Code>"), "{created}");
    let alice = a.login("alice");
    let join = format!(
        "<JoinGroup-Request><GroupID>{GROUP}</GroupID><ScreenName><SName>ally</SName>\
         <GroupID>{GROUP}</GroupID></ScreenName><JoinedRequest>T</JoinedRequest>\
         <SubscribeNotification>T</SubscribeNotification></JoinGroup-Request>"
    );
    let joined = a.csp(Some(&alice), "j1", &join);
    assert!(joined.contains("JoinGroup-Response"), "{joined}");

    b.stop();
    b.start();
    let bob = b.login("bob");
    // alice is a member again, under the screen name she chose.
    let users =
        format!("<GetJoinedUsers-Request><GroupID>{GROUP}</GroupID></GetJoinedUsers-Request>");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut n = 0;
    loop {
        n += 1;
        let got = b.csp(Some(&bob), &format!("ju{n}"), &users);
        if got.contains("<SName>ally</SName>") {
            break;
        }
        assert!(Instant::now() < deadline, "alice not a member again: {got}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // bob joins again himself (his session ended with the restart) and his message
    // reaches alice.
    let rejoin = format!(
        "<JoinGroup-Request><GroupID>{GROUP}</GroupID><ScreenName><SName>bob</SName>\
         <GroupID>{GROUP}</GroupID></ScreenName></JoinGroup-Request>"
    );
    b.csp(Some(&bob), "j2", &rejoin);
    let msg = format!(
        "<SendMessage-Request><DeliveryReport>F</DeliveryReport><MessageInfo>\
         <ContentType>text/plain</ContentType><Recipient><Group><GroupID>{GROUP}</GroupID>\
         </Group></Recipient></MessageInfo><ContentData>still here</ContentData>\
         </SendMessage-Request>"
    );
    let sent = b.csp(Some(&bob), "m1", &msg);
    assert!(sent.contains("<Code>200</Code>"), "{sent}");
    poll_long(&a, &alice, "still here");
    a.stop();
    b.stop();
}
