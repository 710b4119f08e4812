//! Invitations between users of different shards (two shards, inviter and invitee placed
//! apart), end to end: the answer (accept, reject) back to the inviter, a cancellation
//! before the answer, an answer held for an inviter who logged out, an invitation held for
//! an invitee who was offline, expiry on the virtual clock, a restart of both shards between
//! the invitation and the answer, a group invitation, and an answer crossing a cancel. Also
//! redistribution, which moves invitations to the shards of their users.

mod common;

use common::invites::{
    answer, cancel_all, cancels, inbox, invitations, invite, logout, responses, sender_id,
};
use common::restart::Restarted;
use common::{DOMAIN, World, group_of, id};
use imps_engine::shard::{Reply, Request};
use imps_engine::sim::SimClient;
use imps_protocol::common::{Property, ScreenName};
use imps_protocol::primitives::*;
use imps_protocol::types::{GroupId, ScreenNameText};
use imps_protocol::{Primitive, TransactionMode};

/// alice on shard 0 invites bob on shard 1 to `invite_id` (IM); bob saw it.
fn invited(seed: u64, invite_id: &str) -> (World, SimClient, SimClient) {
    let mut w = World::new(seed);
    let mut alice = w.online("alice", 0);
    let mut bob = w.online("bob", 1);
    let req = invite(invite_id, InviteType::Im, &[&id(&bob)]);
    assert_eq!(w.status(&mut alice, req.into()), 200);
    let got = inbox(&mut w, &mut bob);
    let got = invitations(&got);
    assert_eq!(got.len(), 1, "bob, on the other shard, has it");
    assert_eq!(got[0].invite_id.0, invite_id);
    assert_eq!(sender_id(Some(&got[0].sender)), Some(id(&alice)));
    (w, alice, bob)
}

#[test]
fn an_acceptance_as_the_answer_to_the_servers_request_reaches_the_inviter() {
    let (mut w, mut alice, mut bob) = invited(50, "talk");
    // Invited again under another ID, answered as the response to the server's request.
    let req = invite("talk-2", InviteType::Im, &[&id(&bob)]);
    assert_eq!(w.status(&mut alice, req.into()), 200);
    let m = bob.poll(&mut w.sim).expect("a poll answer");
    let t = m
        .session
        .transactions
        .into_iter()
        .find(|t| matches!(t.content, Primitive::InviteUserRequest(_)))
        .expect("an InviteUser-Request");
    let tid = t.descriptor.id.map(|i| i.0);
    let m = bob.message(vec![(
        TransactionMode::Response,
        tid,
        answer("talk-2", true, "yes").into(),
    )]);
    bob.send(&mut w.sim, m);
    // And the first one as a request of bob's own.
    assert_eq!(w.status(&mut bob, answer("talk", true, "ok").into()), 200);
    let got = inbox(&mut w, &mut alice);
    let mut got: Vec<_> = responses(&got)
        .into_iter()
        .map(|r| {
            let from = sender_id(r.sender.as_ref());
            (r.invite_id.0.clone(), r.acceptance, r.note.clone(), from)
        })
        .collect();
    got.sort();
    let bob_id = Some(id(&bob));
    assert_eq!(
        got,
        [
            ("talk".into(), true, Some("ok".into()), bob_id.clone()),
            ("talk-2".into(), true, Some("yes".into()), bob_id),
        ]
    );
    // Closed on both shards.
    assert_eq!(w.status(&mut bob, answer("talk", false, "").into()), 423);
    assert_eq!(w.status(&mut alice, cancel_all("talk-2").into()), 423);
    assert_eq!(w.sim.shard(0).open_invitation_users(), 0);
    assert_eq!(w.sim.shard(1).open_invitation_users(), 0);
}

#[test]
fn a_rejection_reaches_the_inviter_once() {
    let (mut w, mut alice, mut bob) = invited(51, "game");
    assert_eq!(
        w.status(&mut bob, answer("game", false, "not now").into()),
        200
    );
    let got = inbox(&mut w, &mut alice);
    let r = responses(&got);
    assert_eq!(r.len(), 1, "{got:?}");
    assert!(!r[0].acceptance);
    assert_eq!(r[0].note.as_deref(), Some("not now"));
    assert_eq!(sender_id(r[0].sender.as_ref()), Some(id(&bob)));
    // A second answer is refused and tells alice nothing.
    assert_eq!(w.status(&mut bob, answer("game", true, "").into()), 423);
    assert!(inbox(&mut w, &mut alice).is_empty());
    // The InviteID is free again for alice.
    let again = invite("game", InviteType::Im, &[&id(&bob)]);
    assert_eq!(w.status(&mut alice, again.into()), 200);
}

#[test]
fn a_cancel_before_the_answer_reaches_the_invitee_and_closes_it() {
    let (mut w, mut alice, mut bob) = invited(52, "movie");
    let cancel = CancelInviteRequest {
        note: Some("sold out".into()),
        ..cancel_all("movie")
    };
    assert_eq!(w.status(&mut alice, cancel.into()), 200);
    let got = inbox(&mut w, &mut bob);
    let told = cancels(&got);
    assert_eq!(told.len(), 1, "{got:?}");
    assert_eq!(told[0].invite_id.0, "movie");
    assert_eq!(told[0].note.as_deref(), Some("sold out"));
    assert_eq!(sender_id(Some(&told[0].sender)), Some(id(&alice)));
    // Too late to answer; alice hears nothing of it.
    assert_eq!(w.status(&mut bob, answer("movie", true, "").into()), 423);
    assert!(responses(&inbox(&mut w, &mut alice)).is_empty());
    assert_eq!(w.sim.shard(0).open_invitation_users(), 0);
    assert_eq!(w.sim.shard(1).open_invitation_users(), 0);
}

#[test]
fn an_answer_waits_for_the_inviters_next_login_once() {
    let (mut w, mut alice, mut bob) = invited(53, "walk");
    logout(&mut w, &mut alice);
    assert_eq!(
        w.status(&mut bob, answer("walk", true, "later").into()),
        200
    );
    w.sim.advance(5_000);
    alice.login(&mut w.sim, "pw").expect("login");
    let got = inbox(&mut w, &mut alice);
    let r = responses(&got);
    assert_eq!(r.len(), 1, "held for alice: {got:?}");
    assert!(r[0].acceptance);
    assert_eq!(r[0].invite_id.0, "walk");
    assert_eq!(r[0].note.as_deref(), Some("later"));
    assert_eq!(sender_id(r[0].sender.as_ref()), Some(id(&bob)));
    // Told once: not again at the login after.
    logout(&mut w, &mut alice);
    alice.login(&mut w.sim, "pw").expect("login");
    assert!(inbox(&mut w, &mut alice).is_empty());
    assert_eq!(w.sim.shard(0).open_invitation_users(), 0);
}

#[test]
fn an_offline_invitee_gets_it_at_login_and_can_answer() {
    let mut w = World::new(54);
    let mut alice = w.online("alice", 1);
    let mut bob = w.offline("bob", 0);
    let mut req = invite("coffee", InviteType::Im, &[&id(&bob)]);
    req.validity = Some(3_600);
    assert_eq!(w.status(&mut alice, req.into()), 200);
    w.sim.advance(60_000);
    bob.login(&mut w.sim, "pw").expect("login");
    let got = inbox(&mut w, &mut bob);
    let i = invitations(&got);
    assert_eq!(i.len(), 1, "{got:?}");
    assert_eq!(i[0].invite_id.0, "coffee");
    assert_eq!(i[0].note.as_deref(), Some("note of coffee"));
    assert_eq!(i[0].validity, Some(3_540), "the validity left");
    assert_eq!(sender_id(Some(&i[0].sender)), Some(id(&alice)));
    assert_eq!(
        w.status(&mut bob, answer("coffee", false, "no").into()),
        200
    );
    let got = inbox(&mut w, &mut alice);
    let r = responses(&got);
    assert_eq!(r.len(), 1, "{got:?}");
    assert!(!r[0].acceptance);
}

#[test]
fn an_invitation_expires_on_both_shards() {
    let mut w = World::new(55);
    let mut alice = w.online("alice", 0);
    let mut bob = w.online("bob", 1);
    let mut carol = w.offline("carol", 1);
    let mut req = invite("soon", InviteType::Im, &[&id(&bob), &id(&carol)]);
    req.validity = Some(30);
    assert_eq!(w.status(&mut alice, req.into()), 200);
    assert_eq!(invitations(&inbox(&mut w, &mut bob)).len(), 1);
    w.sim.advance(29_000);
    assert_eq!(w.sim.shard(0).open_invitation_users(), 1, "alice's");
    assert_eq!(w.sim.shard(1).open_invitation_users(), 2, "bob's, carol's");
    w.sim.advance(2_000);
    assert_eq!(w.sim.shard(0).open_invitation_users(), 0);
    assert_eq!(w.sim.shard(1).open_invitation_users(), 0);
    assert_eq!(w.status(&mut bob, answer("soon", true, "").into()), 423);
    assert_eq!(w.status(&mut alice, cancel_all("soon").into()), 423);
    carol.login(&mut w.sim, "pw").expect("login");
    assert!(inbox(&mut w, &mut carol).is_empty(), "expired before carol");
    assert!(inbox(&mut w, &mut alice).is_empty(), "no answer came");
}

#[test]
fn answers_and_cancels_cross_shards_after_a_restart() {
    let mut w = World::new(56);
    let mut alice = w.online("alice", 0);
    let mut bob = w.online("bob", 1);
    for i in ["yes", "no", "off"] {
        let req = invite(i, InviteType::Im, &[&id(&bob)]);
        assert_eq!(w.status(&mut alice, req.into()), 200);
    }
    assert_eq!(invitations(&inbox(&mut w, &mut bob)).len(), 3);
    w.sim.advance(1_000);
    let mut r = Restarted::from(&w.sim, 5_000);
    r.login(&mut alice);
    r.login(&mut bob);
    assert_eq!(invitations(&r.requests(&mut bob)).len(), 3, "still open");
    assert_eq!(r.status(&mut bob, answer("yes", true, "y").into()), 200);
    assert_eq!(r.status(&mut bob, answer("no", false, "n").into()), 200);
    assert_eq!(r.status(&mut alice, cancel_all("off").into()), 200);
    let got = r.requests(&mut alice);
    let mut answers: Vec<_> = responses(&got)
        .iter()
        .map(|a| (a.invite_id.0.clone(), a.acceptance))
        .collect();
    answers.sort();
    assert_eq!(answers, [("no".into(), false), ("yes".into(), true)]);
    let got = r.requests(&mut bob);
    let told = cancels(&got);
    assert_eq!(told.len(), 1, "{got:?}");
    assert_eq!(told[0].invite_id.0, "off");
    assert_eq!(r.status(&mut bob, answer("off", true, "").into()), 423);
    assert_eq!(r.shard(0).open_invitation_users(), 0);
    assert_eq!(r.shard(1).open_invitation_users(), 0);
    // What was answered stays answered after another restart.
    let mut again = r.again(1_000);
    again.login(&mut alice);
    again.login(&mut bob);
    assert!(again.requests(&mut alice).is_empty());
    assert!(again.requests(&mut bob).is_empty());
    assert_eq!(again.status(&mut bob, answer("yes", true, "").into()), 423);
}

#[test]
fn a_group_invitation_names_the_group_on_the_other_shard() {
    let mut w = World::new(57);
    let mut alice = w.online("alice", 0);
    let mut bob = w.online("bob", 1);
    let g = group_of(&alice.user, "club");
    let create = CreateGroupRequest {
        group_id: g.clone(),
        properties: GroupProperties {
            properties: vec![Property {
                name: "Name".into(),
                value: Some("Club".into()),
            }],
            welcome_note: None,
        },
        join_group: None,
        screen_name: None,
        subscribe_notification: None,
    };
    assert_eq!(w.status(&mut alice, create.into()), 200);
    let mut req = invite("club", InviteType::Group, &[&id(&bob)]);
    req.group_id = Some(g.clone());
    assert_eq!(w.status(&mut alice, req.into()), 200);
    let got = inbox(&mut w, &mut bob);
    let i = invitations(&got);
    assert_eq!(i.len(), 1, "{got:?}");
    assert_eq!(i[0].invite_type, InviteType::Group);
    assert_eq!(i[0].group_id.as_ref(), Some(&g));
    assert_eq!(
        w.status(&mut bob, answer("club", true, "coming").into()),
        200
    );
    let got = inbox(&mut w, &mut alice);
    let r = responses(&got);
    assert_eq!(r.len(), 1, "{got:?}");
    assert!(r[0].acceptance);
    // The group it named is there to join, on alice's shard.
    let join = JoinGroupRequest {
        group_id: g.clone(),
        screen_name: Some(ScreenName {
            sname: ScreenNameText("Bob".into()),
            group_id: g.clone(),
        }),
        joined_request: Some(false),
        subscribe_notification: Some(false),
        own_properties: None,
    };
    match w.call(&mut bob, join.into()) {
        Primitive::JoinGroupResponse(_) => {}
        other => panic!("joined expected, got {other:?}"),
    }
    // A group invitation without a GroupID is malformed.
    let bare = invite("bare", InviteType::Group, &[&id(&bob)]);
    assert_eq!(w.status(&mut alice, bare.into()), 402);
}

#[test]
fn redistribution_moves_invitations_to_their_users_shards() {
    use imps_engine::config::AccessConfig;
    use imps_engine::core::LogSeq;
    use imps_engine::persist::{Provisioner, load_shard, redistribute};
    use imps_engine::record::ShardImage;
    use imps_engine::routing::owner_of_key;
    use imps_engine::storage::{DataDir, write_snapshot};
    let mut w = World::new(39);
    let mut alice = w.online("alice", 0);
    let mut bob = w.online("bob", 1);
    let carol = w.offline("carol", 0);
    let mut dave = w.online("dave", 1);
    let mut club = invite("club", InviteType::Group, &[&id(&bob), &id(&carol)]);
    club.group_id = Some(GroupId(format!("wv:{}/club@{DOMAIN}", alice.user)));
    assert_eq!(w.status(&mut alice, club.into()), 200);
    let dinner = invite("dinner", InviteType::Im, &[&id(&alice)]);
    assert_eq!(w.status(&mut dave, dinner.into()), 200);
    assert_eq!(invitations(&inbox(&mut w, &mut bob)).len(), 1);
    logout(&mut w, &mut alice);
    assert_eq!(w.status(&mut bob, answer("club", true, "in").into()), 200);
    // The simulation's two shards as a data directory, redistributed to three.
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    Provisioner::open(&data, Some(2), AccessConfig::default())
        .expect("data directory")
        .finish()
        .expect("provisioned");
    let dir = DataDir::open_existing(&data).expect("data directory");
    let mut before = ShardImage::default();
    for i in 0..2u16 {
        let image = w.sim.shard(usize::from(i)).image();
        let bytes = image.to_bytes().expect("image");
        write_snapshot(&dir.shard_dir(i), LogSeq(1), &bytes).expect("snapshot");
        before.sent_invitations.extend(image.sent_invitations);
        before
            .received_invitations
            .extend(image.received_invitations);
        before.invitation_notices.extend(image.invitation_notices);
    }
    assert_eq!(before.sent_invitations.len(), 2, "alice's and dave's");
    assert_eq!(before.received_invitations.len(), 2, "carol's and alice's");
    assert_eq!(before.invitation_notices.len(), 1, "bob's answer for alice");
    let moved = redistribute(&data, 3, AccessConfig::default()).expect("redistributed");
    assert_eq!((moved.from, moved.to), (2, 3));
    let dir = DataDir::open_existing(&data).expect("data directory");
    let key = dir.master_key().expect("key");
    let mut after = ShardImage::default();
    for i in 0..3u16 {
        let (shard, _) = load_shard(&dir, i, AccessConfig::default(), key, [5; 32]).expect("load");
        let image = shard.image();
        let owners = image
            .sent_invitations
            .iter()
            .map(|(u, _)| u)
            .chain(image.received_invitations.iter().map(|(u, _)| u))
            .chain(image.invitation_notices.iter().map(|(u, _)| u));
        for user in owners {
            assert_eq!(owner_of_key(user, 3).0, i, "{user} lives on its shard");
        }
        after.sent_invitations.extend(image.sent_invitations);
        after
            .received_invitations
            .extend(image.received_invitations);
        after.invitation_notices.extend(image.invitation_notices);
    }
    // The same invitations, none lost or doubled (compared as sorted text).
    let all = |i: &ShardImage| {
        let sent = i.sent_invitations.iter().map(|x| format!("{x:?}"));
        let received = i.received_invitations.iter().map(|x| format!("{x:?}"));
        let notices = i.invitation_notices.iter().map(|x| format!("{x:?}"));
        let mut all: Vec<String> = sent.chain(received).chain(notices).collect();
        all.sort();
        all
    };
    assert_eq!(all(&before), all(&after));
}

#[test]
fn an_answer_crossing_a_cancel_leaves_both_shards_closed_and_quiet() {
    let (mut w, mut alice, mut bob) = invited(58, "race");
    w.sim.set_auto_durable(false);
    // Both sent before either shard's record is durable: each message waits for its
    // sender's record, so each reaches a shard that has already closed the invitation.
    let m = alice.message(vec![(
        TransactionMode::Request,
        None,
        cancel_all("race").into(),
    )]);
    let cancel = w.sim.submit(Request::csp(m));
    let m = bob.message(vec![(
        TransactionMode::Request,
        None,
        answer("race", true, "yes").into(),
    )]);
    let answered = w.sim.submit(Request::csp(m));
    w.sim.make_durable();
    w.sim.make_durable();
    w.sim.set_auto_durable(true);
    for token in [cancel, answered] {
        let Some(Reply::Csp(Some(m))) = w.sim.take_reply(token) else {
            panic!("an answer once the records are durable")
        };
        assert!(matches!(&m.session.transactions[0].content,
            Primitive::Status(s) if s.result.code == 200));
    }
    // The answer came after the cancel: alice is not told; bob is not told of a cancel of
    // what he already answered.
    assert!(inbox(&mut w, &mut alice).is_empty());
    assert!(inbox(&mut w, &mut bob).is_empty());
    assert_eq!(w.status(&mut bob, answer("race", false, "").into()), 423);
    assert_eq!(w.status(&mut alice, cancel_all("race").into()), 423);
    assert_eq!(w.sim.shard(0).open_invitation_users(), 0);
    assert_eq!(w.sim.shard(1).open_invitation_users(), 0);
}
