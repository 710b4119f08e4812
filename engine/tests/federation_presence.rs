//! Presence across domains between two real `impsd` (issue 11): a watcher of `a.test`
//! subscribes to a publisher of `b.test`, gets his changes as PresenceNotification-Request,
//! reads them with GetPresence, and stops getting them once unsubscribed; an unknown remote
//! user is 531.

use std::time::{Duration, Instant};

mod federation_domains;

use federation_domains::*;

const PA12: &str = "http://www.openmobilealliance.org/DTD/WV-PA1.2";

fn user(id: &str) -> String {
    format!("<User><UserID>{id}</UserID></User>")
}

fn subscribe(id: &str) -> String {
    format!(
        "<SubscribePresence-Request>{}</SubscribePresence-Request>",
        user(id)
    )
}

fn status_text(text: &str) -> String {
    format!(
        "<UpdatePresence-Request><PresenceSubList xmlns=\"{PA12}\"><StatusText><Qualifier>T\
         </Qualifier><PresenceValue>{text}</PresenceValue></StatusText><Alias><Qualifier>T\
         </Qualifier><PresenceValue>hidden-{text}</PresenceValue></Alias></PresenceSubList>\
         </UpdatePresence-Request>"
    )
}

/// bob lets alice of a.test see his OnlineStatus and StatusText (not his Alias).
fn grant_alice(b: &Domain, bob: &str) {
    let grant = format!(
        "<CreateAttributeList-Request><PresenceSubList xmlns=\"{PA12}\"><OnlineStatus/>\
         <StatusText/></PresenceSubList><UserID>wv:alice@a.test</UserID><DefaultList>F\
         </DefaultList></CreateAttributeList-Request>"
    );
    let answer = b.csp(Some(bob), "grant", &grant);
    assert!(answer.contains("<Code>200</Code>"), "{answer}");
}

/// Asks `domain` until `check` holds of the answer to `content` (bounded).
fn until(domain: &Domain, sid: &str, content: &str, check: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(8);
    let mut n = 0;
    loop {
        n += 1;
        let answer = domain.csp(Some(sid), &format!("ask{n}"), content);
        if check(&answer) {
            return answer;
        }
        assert!(Instant::now() < deadline, "not in time (last: {answer})");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_remote_watcher_gets_presence_until_unsubscribed() {
    let (mut a, mut b) = pair();
    a.start();
    b.start();
    let alice = a.login("alice");
    let bob = b.login("bob");
    grant_alice(&b, &bob);
    let updated = b.csp(Some(&bob), "u1", &status_text("at lunch"));
    assert!(updated.contains("<Code>200</Code>"), "{updated}");

    // The subscription is answered once b.test has; bob's current value follows.
    let answer = a.csp(Some(&alice), "s1", &subscribe("wv:bob@b.test"));
    assert!(answer.contains("<Code>200</Code>"), "{answer}");
    let polled = a.poll_until(&alice, "at lunch");
    assert!(polled.contains("PresenceNotification-Request"), "{polled}");
    assert!(polled.contains("wv:bob@b.test"), "{polled}");
    assert!(!polled.contains("hidden"), "Alias is not granted: {polled}");
    // bob's watcher list names the remote watcher.
    let watchers = b.csp(Some(&bob), "w1", "<GetWatcherList-Request/>");
    assert!(watchers.contains("wv:alice@a.test"), "{watchers}");

    // A later change reaches alice.
    b.csp(Some(&bob), "u2", &status_text("back at work"));
    let polled = a.poll_until(&alice, "back at work");
    assert!(!polled.contains("hidden"), "{polled}");

    // GetPresence reads the current value, authorized attributes only.
    let get = format!(
        "<GetPresence-Request>{}</GetPresence-Request>",
        user("wv:bob@b.test")
    );
    let got = a.csp(Some(&alice), "g1", &get);
    assert!(got.contains("GetPresence-Response"), "{got}");
    assert!(got.contains("back at work"), "{got}");
    assert!(got.contains("wv:bob@b.test"), "{got}");
    assert!(!got.contains("hidden"), "{got}");

    // Unsubscribed: bob's watcher list forgets alice and his changes no longer reach her.
    let unsubscribe = format!(
        "<UnsubscribePresence-Request>{}</UnsubscribePresence-Request>",
        user("wv:bob@b.test")
    );
    let answer = a.csp(Some(&alice), "x1", &unsubscribe);
    assert!(answer.contains("<Code>200</Code>"), "{answer}");
    until(&b, &bob, "<GetWatcherList-Request/>", |w| {
        !w.contains("wv:alice@a.test")
    });
    b.csp(Some(&bob), "u3", &status_text("gone fishing"));
    std::thread::sleep(Duration::from_millis(1500));
    let polled = a.csp(Some(&alice), "p-after", "<Polling-Request/>");
    assert!(!polled.contains("gone fishing"), "{polled}");

    // A user b.test does not know: 531.
    let answer = a.csp(Some(&alice), "s2", &subscribe("wv:nobody@b.test"));
    assert!(answer.contains("<Code>531</Code>"), "{answer}");
    assert!(answer.contains("wv:nobody@b.test"), "{answer}");
    a.stop();
    b.stop();
}

#[test]
fn a_remote_watcher_that_logs_out_is_forgotten_by_the_publisher() {
    let (mut a, mut b) = pair();
    a.start();
    b.start();
    let alice = a.login("alice");
    let bob = b.login("bob");
    grant_alice(&b, &bob);
    let answer = a.csp(Some(&alice), "s1", &subscribe("wv:bob@b.test"));
    assert!(answer.contains("<Code>200</Code>"), "{answer}");
    until(&b, &bob, "<GetWatcherList-Request/>", |w| {
        w.contains("wv:alice@a.test")
    });
    let out = a.csp(Some(&alice), "bye", "<Logout-Request/>");
    assert!(
        out.contains("Disconnect") || out.contains("Status"),
        "{out}"
    );
    until(&b, &bob, "<GetWatcherList-Request/>", |w| {
        !w.contains("wv:alice@a.test")
    });
    a.stop();
    b.stop();
}
