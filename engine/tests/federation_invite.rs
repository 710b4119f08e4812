//! Invitations between two real `impsd` domains on loopback (issue 11): alice@a.test invites
//! bob@b.test, bob sees the InviteUser-Request and answers it, alice gets the Invite-Response;
//! a cancel reaches bob as CancelInviteUser-Request; an unknown remote invitee gets 531.

use std::time::{Duration, Instant};

mod federation_domains;

use federation_domains::*;

fn invite(id: &str, to: &str, note: &str) -> String {
    format!(
        "<Invite-Request><InviteID>{id}</InviteID><InviteType>IM</InviteType><Recipient><User>\
         <UserID>{to}</UserID></User></Recipient><InviteNote>{note}</InviteNote>\
         <Validity>600</Validity></Invite-Request>"
    )
}

/// The transaction of the server's request in `polled` that holds `what`.
fn transaction_of<'a>(polled: &'a str, what: &str) -> &'a str {
    polled
        .split("<Transaction>")
        .find(|t| t.contains(what))
        .and_then(|t| between(t, "<TransactionID>", "</TransactionID>"))
        .unwrap_or_else(|| panic!("no transaction with {what}: {polled}"))
}

#[test]
fn an_invitation_is_answered_and_cancelled_across_domains() {
    let (mut a, mut b) = pair();
    a.start();
    b.start();
    let alice = a.login("alice");
    let bob = b.login("bob");
    let started = Instant::now();
    let sent = a.csp(
        Some(&alice),
        "i1",
        &invite("chat-1", "wv:bob@b.test", "come chat"),
    );
    assert!(sent.contains("<Code>200</Code>"), "{sent}");
    assert!(started.elapsed() < Duration::from_secs(5), "bounded wait");
    let polled = b.poll_until(&bob, "InviteUser-Request");
    assert!(polled.contains("chat-1"), "{polled}");
    assert!(polled.contains("wv:alice@a.test"), "{polled}");
    assert!(polled.contains("come chat"), "{polled}");
    // bob accepts, as the answer to the server's request.
    let tid = transaction_of(&polled, "InviteUser-Request");
    let answered = b.csp(
        Some(&bob),
        tid,
        "<InviteUser-Response><InviteID>chat-1</InviteID><Acceptance>T</Acceptance>\
         <ResponseNote>gladly</ResponseNote></InviteUser-Response>",
    );
    assert!(!answered.contains("<Code>4"), "{answered}");
    let response = a.poll_until(&alice, "Invite-Response");
    assert!(response.contains("chat-1"), "{response}");
    assert!(
        response.contains("<Acceptance>T</Acceptance>"),
        "{response}"
    );
    assert!(response.contains("wv:bob@b.test"), "{response}");
    assert!(response.contains("gladly"), "{response}");
    // Answered: the invitation is closed on both sides.
    let again = a.csp(
        Some(&alice),
        "c0",
        "<CancelInvite-Request><InviteID>chat-1</InviteID></CancelInvite-Request>",
    );
    assert!(again.contains("<Code>423</Code>"), "{again}");

    // A second invitation, cancelled before bob answers.
    let sent = a.csp(
        Some(&alice),
        "i2",
        &invite("chat-2", "wv:bob@b.test", "maybe"),
    );
    assert!(sent.contains("<Code>200</Code>"), "{sent}");
    let polled = b.poll_until(&bob, "chat-2");
    assert!(polled.contains("InviteUser-Request"), "{polled}");
    let cancelled = a.csp(
        Some(&alice),
        "c1",
        "<CancelInvite-Request><InviteID>chat-2</InviteID><InviteNote>sorry</InviteNote>\
         </CancelInvite-Request>",
    );
    assert!(cancelled.contains("<Code>200</Code>"), "{cancelled}");
    let polled = b.poll_until(&bob, "CancelInviteUser-Request");
    assert!(polled.contains("chat-2"), "{polled}");
    assert!(polled.contains("wv:alice@a.test"), "{polled}");
    // An unknown user of the other domain.
    let sent = a.csp(
        Some(&alice),
        "i3",
        &invite("chat-3", "wv:nobody@b.test", "anyone?"),
    );
    assert!(sent.contains("<Code>531</Code>"), "{sent}");
    assert!(sent.contains("wv:nobody@b.test"), "{sent}");
    a.stop();
    b.stop();
}

#[test]
fn an_invitation_waits_for_an_offline_invitee_and_its_answer_for_an_offline_inviter() {
    let (mut a, mut b) = pair();
    a.start();
    b.start();
    let alice = a.login("alice");
    let sent = a.csp(
        Some(&alice),
        "i1",
        &invite("later", "wv:bob@b.test", "when you are back"),
    );
    assert!(sent.contains("<Code>200</Code>"), "{sent}");
    // bob's domain restarts before bob logs in: the invitation was stored durably.
    b.stop();
    b.start();
    let bob = b.login("bob");
    let polled = b.poll_until(&bob, "InviteUser-Request");
    assert!(polled.contains("later"), "{polled}");
    assert!(polled.contains("wv:alice@a.test"), "{polled}");
    // alice is gone when bob answers: the answer is held for her.
    let out = a.csp(Some(&alice), "bye", "<Logout-Request/>");
    assert!(out.contains("Disconnect"), "{out}");
    let tid = transaction_of(&polled, "InviteUser-Request");
    let answered = b.csp(
        Some(&bob),
        tid,
        "<InviteUser-Response><InviteID>later</InviteID><Acceptance>F</Acceptance>\
         </InviteUser-Response>",
    );
    assert!(!answered.contains("<Code>4"), "{answered}");
    // Delivered to a.test before alice is back (bounded).
    let deadline = Instant::now() + Duration::from_secs(8);
    loop {
        std::thread::sleep(Duration::from_millis(200));
        if b.metrics()
            .contains("imps_ssp_queue_depth{peer=\"a.test\"} 0")
        {
            break;
        }
        assert!(Instant::now() < deadline, "b.test's queue did not drain");
    }
    let alice = a.login("alice");
    let response = a.poll_until(&alice, "Invite-Response");
    assert!(response.contains("later"), "{response}");
    assert!(
        response.contains("<Acceptance>F</Acceptance>"),
        "{response}"
    );
    assert!(response.contains("wv:bob@b.test"), "{response}");
    a.stop();
    b.stop();
}
