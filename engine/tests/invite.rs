//! Invitations in the simulation harness (two shards): every type with its note, validity
//! and (SC) URL list reaching invitees on the other shard; answers as a request or as the
//! response to the server's InviteUser-Request, back to the inviter as Invite-Response;
//! offline invitees and inviters; a PR acceptance granting presence durably; cancellation;
//! expiry; and the refusals (423, 402, 531). Durability: acknowledged only once both sides
//! stored it; invitations, answers and cancellations held, and the limits survive a restart
//! (shards rebuilt from their logs); expiry after a restart. Invitations between shards end
//! to end, and redistribution, are in `invite_across_shards.rs`.

mod common;

use common::restart::Restarted;
use common::{DOMAIN, World, id, user};
use imps_engine::record::Record;
use imps_engine::shard::{Reply, Request};
use imps_engine::sim::SimClient;
use imps_protocol::common::{Recipient, Sender, UrlList};
use imps_protocol::primitives::*;
use imps_protocol::types::{GroupId, InviteId, Url};
use imps_protocol::{Message, Primitive, TransactionMode};

impl World {
    /// Server-originated requests waiting for `c`, with their TransactionIDs.
    fn inbox(&mut self, c: &mut SimClient) -> Vec<(String, Primitive)> {
        self.requests(c)
            .into_iter()
            .map(|(id, p)| (id.unwrap_or_default(), p))
            .collect()
    }
}

fn requests(m: Message) -> Vec<(String, Primitive)> {
    m.session
        .transactions
        .into_iter()
        .filter(|t| t.descriptor.mode == TransactionMode::Request)
        .map(|t| (t.descriptor.id.map(|i| i.0).unwrap_or_default(), t.content))
        .collect()
}

fn invite(invite_id: &str, kind: InviteType, to: &[&str]) -> InviteRequest {
    InviteRequest {
        invite_id: InviteId(invite_id.into()),
        invite_type: kind,
        recipient: Recipient {
            users: to.iter().map(|u| user(u)).collect(),
            ..Recipient::default()
        },
        note: Some(format!("note of {invite_id}")),
        ..InviteRequest::default()
    }
}

fn answer(invite_id: &str, acceptance: bool, note: &str) -> InviteUserResponse {
    InviteUserResponse {
        invite_id: InviteId(invite_id.into()),
        acceptance,
        sender: None,
        note: Some(note.into()),
        screen_name: None,
    }
}

fn invitations(inbox: &[(String, Primitive)]) -> Vec<&InviteUserRequest> {
    inbox
        .iter()
        .filter_map(|(_, p)| match p {
            Primitive::InviteUserRequest(r) => Some(&**r),
            _ => None,
        })
        .collect()
}

fn responses(inbox: &[(String, Primitive)]) -> Vec<&InviteResponse> {
    inbox
        .iter()
        .filter_map(|(_, p)| match p {
            Primitive::InviteResponse(r) => Some(&**r),
            _ => None,
        })
        .collect()
}

fn cancels(inbox: &[(String, Primitive)]) -> Vec<&CancelInviteUserRequest> {
    inbox
        .iter()
        .filter_map(|(_, p)| match p {
            Primitive::CancelInviteUserRequest(r) => Some(&**r),
            _ => None,
        })
        .collect()
}

fn sender_id(s: Option<&Sender>) -> Option<String> {
    s.and_then(|s| s.user.as_ref()).map(|u| u.user_id.0.clone())
}

#[test]
fn an_invitation_reaches_the_invitee_and_the_answer_the_inviter() {
    let mut w = World::new(33);
    let mut alice = w.online("alice", 0);
    let mut bob = w.online("bob", 1);
    let mut req = invite("chat-1", InviteType::Im, &[&id(&bob)]);
    req.validity = Some(600);
    assert_eq!(w.status(&mut alice, req.into()), 200);
    let inbox = w.inbox(&mut bob);
    let got = invitations(&inbox);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].invite_id.0, "chat-1");
    assert_eq!(got[0].invite_type, InviteType::Im);
    assert_eq!(got[0].note.as_deref(), Some("note of chat-1"));
    assert_eq!(got[0].validity, Some(600));
    assert_eq!(sender_id(Some(&got[0].sender)), Some(id(&alice)));
    // bob accepts with a request of his own.
    assert_eq!(
        w.status(&mut bob, answer("chat-1", true, "sure").into()),
        200
    );
    let inbox = w.inbox(&mut alice);
    let r = responses(&inbox);
    assert_eq!(r.len(), 1);
    assert!(r[0].acceptance);
    assert_eq!(r[0].note.as_deref(), Some("sure"));
    assert_eq!(sender_id(r[0].sender.as_ref()), Some(id(&bob)));
    // Answered: the invitation is gone.
    assert_eq!(
        w.status(&mut bob, answer("chat-1", true, "again").into()),
        423
    );
    assert_eq!(
        w.status(
            &mut alice,
            CancelInviteRequest {
                invite_id: InviteId("chat-1".into()),
                ..CancelInviteRequest::default()
            }
            .into()
        ),
        423
    );
}

#[test]
fn shared_content_is_rejected_as_the_answer_to_the_servers_request() {
    let mut w = World::new(33);
    let mut alice = w.online("alice", 1);
    let mut bob = w.online("bob", 0);
    let mut req = invite("photos", InviteType::SharedContent, &[&id(&bob)]);
    let urls = UrlList {
        urls: vec![
            Url("http://pics.example/1.jpg".into()),
            Url("http://pics.example/2.jpg".into()),
        ],
    };
    req.url_list = Some(urls.clone());
    assert_eq!(w.status(&mut alice, req.into()), 200);
    let m = bob.poll(&mut w.sim).expect("a poll answer");
    let inbox = requests(m);
    let (tid, p) = inbox
        .iter()
        .find(|(_, p)| matches!(p, Primitive::InviteUserRequest(_)))
        .expect("an InviteUser-Request");
    let Primitive::InviteUserRequest(got) = p else {
        unreachable!()
    };
    assert_eq!(got.url_list.as_ref(), Some(&urls));
    let m = bob.message(vec![(
        TransactionMode::Response,
        Some(tid.clone()),
        answer("photos", false, "no thanks").into(),
    )]);
    let reply = bob.send(&mut w.sim, m);
    assert!(
        reply.is_none_or(|m| m.session.transactions.is_empty()),
        "an answer the server waited for gets nothing back"
    );
    let inbox = w.inbox(&mut alice);
    let r = responses(&inbox);
    assert_eq!(r.len(), 1);
    assert!(!r[0].acceptance);
    assert_eq!(r[0].note.as_deref(), Some("no thanks"));
}

#[test]
fn malformed_and_unknown_invitations_are_refused() {
    let mut w = World::new(33);
    let mut alice = w.online("alice", 0);
    let bob = w.offline("bob", 1);
    let to = [id(&bob)];
    let to: Vec<&str> = to.iter().map(String::as_str).collect();
    assert_eq!(
        w.status(&mut alice, invite("g", InviteType::Group, &to).into()),
        402
    );
    assert_eq!(
        w.status(
            &mut alice,
            invite("s", InviteType::SharedContent, &to).into()
        ),
        402
    );
    assert_eq!(
        w.status(&mut alice, invite("", InviteType::Im, &to).into()),
        402
    );
    assert_eq!(
        w.status(&mut alice, invite("x", InviteType::Us, &to).into()),
        402
    );
    let mut group = invite("g", InviteType::Group, &to);
    group.group_id = Some(GroupId(format!("wv:{}/fun@{DOMAIN}", alice.user)));
    assert_eq!(w.status(&mut alice, group.clone().into()), 200);
    assert_eq!(
        w.status(&mut alice, group.into()),
        423,
        "an InviteID already open"
    );
    // An unknown invitee: 531 for that one, alone or among others.
    let ghost = format!("wv:ghost@{DOMAIN}");
    assert_eq!(
        w.status(&mut alice, invite("u1", InviteType::Im, &[&ghost]).into()),
        531
    );
    let Primitive::Status(s) = w.call(
        &mut alice,
        invite("u2", InviteType::Im, &[&ghost, to[0]]).into(),
    ) else {
        panic!("a Status")
    };
    assert_eq!(s.result.code, 201);
    assert_eq!(s.result.detailed[0].code, 531);
    assert_eq!(s.result.detailed[0].user_ids[0].0, ghost);
    // Unknown IDs.
    assert_eq!(
        w.status(&mut alice, answer("nothing", true, "").into()),
        423
    );
    let cancel = CancelInviteRequest {
        invite_id: InviteId("nothing".into()),
        ..CancelInviteRequest::default()
    };
    assert_eq!(w.status(&mut alice, cancel.into()), 423);
}

#[test]
fn an_offline_invitee_gets_it_at_login_and_an_offline_inviter_the_answer() {
    let mut w = World::new(33);
    let mut alice = w.online("alice", 1);
    let mut bob = w.offline("bob", 0);
    let req = invite("later", InviteType::Im, &[&id(&bob)]);
    assert_eq!(w.status(&mut alice, req.into()), 200);
    assert!(matches!(
        w.call(&mut alice, LogoutRequest {}.into()),
        Primitive::Disconnect(_)
    ));
    w.sim.advance(10_000);
    bob.login(&mut w.sim, "pw").expect("login");
    let inbox = w.inbox(&mut bob);
    let got = invitations(&inbox);
    assert_eq!(got.len(), 1, "{inbox:?}");
    assert_eq!(got[0].validity, Some(86_400 - 10), "the validity left");
    assert_eq!(w.status(&mut bob, answer("later", true, "hi").into()), 200);
    alice.login(&mut w.sim, "pw").expect("login");
    let inbox = w.inbox(&mut alice);
    assert_eq!(responses(&inbox).len(), 1, "held for alice's next login");
}

#[test]
fn an_accepted_presence_invitation_grants_presence_durably() {
    let mut w = World::new(33);
    let mut alice = w.online("alice", 0);
    let mut bob = w.online("bob", 1);
    let update = UpdatePresenceRequest {
        sub_list: PresenceSubList {
            status_text: Some(StatusText {
                qualifier: Some(true),
                value: Some("hi".into()),
            }),
            alias: Some(Alias {
                qualifier: Some(true),
                value: Some("b".into()),
            }),
            ..PresenceSubList::default()
        },
    };
    assert_eq!(w.status(&mut bob, update.into()), 200);
    let get: Primitive = GetPresenceRequest {
        users: vec![user(&id(&bob))],
        ..GetPresenceRequest::default()
    }
    .into();
    let Primitive::GetPresenceResponse(r) = w.call(&mut alice, get.clone()) else {
        panic!("a GetPresence-Response")
    };
    assert!(r.presences.is_empty(), "not authorized yet: {r:?}");
    let mut req = invite("see-me", InviteType::Presence, &[&id(&bob)]);
    req.sub_list = Some(PresenceSubList::naming(["StatusText"]));
    assert_eq!(w.status(&mut alice, req.into()), 200);
    assert_eq!(invitations(&w.inbox(&mut bob)).len(), 1);
    // The acceptance waits for the grant to be on disk, and so does alice's answer.
    w.sim.set_auto_durable(false);
    let m = bob.message(vec![(
        TransactionMode::Request,
        None,
        answer("see-me", true, "ok").into(),
    )]);
    let token = w.sim.submit(Request::csp(m));
    assert!(w.sim.take_reply(token).is_none(), "held until durable");
    assert!(
        w.inbox(&mut alice).is_empty(),
        "the answer waits for the grant"
    );
    w.sim.make_durable();
    assert!(w.sim.take_reply(token).is_some());
    w.sim.set_auto_durable(true);
    let logged = w.sim.log(1).iter().any(|r| {
        matches!(Record::from_bytes(r), Ok(Record::GrantPut(owner, watcher, g))
            if owner == id(&bob) && watcher == id(&alice) && g.accepted
                && g.attributes == Some(vec!["StatusText".to_owned()]))
    });
    assert!(logged, "the grant is stored");
    assert_eq!(responses(&w.inbox(&mut alice)).len(), 1);
    // alice now sees bob's presence: the attribute offered.
    let Primitive::GetPresenceResponse(r) = w.call(&mut alice, get) else {
        panic!("a GetPresence-Response")
    };
    assert_eq!(r.presences.len(), 1, "authorized: {r:?}");
    let seen = &r.presences[0].sub_lists[0];
    assert_eq!(
        seen.status_text.as_ref().and_then(|t| t.value.as_deref()),
        Some("hi")
    );
    assert!(seen.alias.is_none(), "only what was offered");
    let status = GetReactiveAuthStatusRequest { user_ids: vec![] };
    let Primitive::GetReactiveAuthStatusResponse(r) = w.call(&mut bob, status.into()) else {
        panic!("a status list")
    };
    let statuses = r.list.expect("a list").statuses;
    assert_eq!(statuses.len(), 1);
    assert_eq!(statuses[0].user_id.0, id(&alice));
    assert_eq!(statuses[0].state, ReactiveAuthState::Granted);
    // A rejected PR invitation grants nothing.
    let mut carol = w.online("carol", 1);
    let req = invite("see-me-too", InviteType::Presence, &[&id(&carol)]);
    assert_eq!(w.status(&mut alice, req.into()), 200);
    assert_eq!(
        w.status(&mut carol, answer("see-me-too", false, "no").into()),
        200
    );
    let status = GetReactiveAuthStatusRequest { user_ids: vec![] };
    let Primitive::GetReactiveAuthStatusResponse(r) = w.call(&mut carol, status.into()) else {
        panic!("a status list")
    };
    assert!(r.list.is_none());
}

#[test]
fn cancellation_reaches_invitees_who_saw_it() {
    let mut w = World::new(33);
    let mut alice = w.online("alice", 0);
    let mut bob = w.online("bob", 1);
    let mut carol = w.online("carol", 0);
    let mut dave = w.offline("dave", 1);
    let to = [id(&bob), id(&carol), id(&dave)];
    let to: Vec<&str> = to.iter().map(String::as_str).collect();
    let mut req = invite("party", InviteType::SharedContent, &to);
    req.url_list = Some(UrlList {
        urls: vec![Url("http://party.example/".into())],
    });
    assert_eq!(w.status(&mut alice, req.into()), 200);
    assert_eq!(invitations(&w.inbox(&mut bob)).len(), 1);
    // Cancelled for bob only.
    let cancel = CancelInviteRequest {
        invite_id: InviteId("party".into()),
        recipient: Some(Recipient {
            users: vec![user(&id(&bob))],
            ..Recipient::default()
        }),
        note: Some("sorry".into()),
        ..CancelInviteRequest::default()
    };
    assert_eq!(w.status(&mut alice, cancel.into()), 200);
    let inbox = w.inbox(&mut bob);
    let c = cancels(&inbox);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].invite_id.0, "party");
    assert_eq!(c[0].note.as_deref(), Some("sorry"));
    assert_eq!(sender_id(Some(&c[0].sender)), Some(id(&alice)));
    assert_eq!(w.status(&mut bob, answer("party", true, "").into()), 423);
    // Then for everyone left: carol (who saw it) is told; dave never saw it.
    assert_eq!(invitations(&w.inbox(&mut carol)).len(), 1);
    let all = CancelInviteRequest {
        invite_id: InviteId("party".into()),
        ..CancelInviteRequest::default()
    };
    assert_eq!(w.status(&mut alice, all.clone().into()), 200);
    assert_eq!(cancels(&w.inbox(&mut carol)).len(), 1);
    assert_eq!(w.status(&mut carol, answer("party", true, "").into()), 423);
    dave.login(&mut w.sim, "pw").expect("login");
    assert!(w.inbox(&mut dave).is_empty(), "nothing to tell dave");
    assert_eq!(
        w.status(&mut alice, all.into()),
        423,
        "nothing open any more"
    );
}

#[test]
fn invitations_expire_with_their_validity() {
    let mut w = World::new(33);
    let mut alice = w.online("alice", 1);
    let mut bob = w.online("bob", 0);
    let mut dave = w.offline("dave", 1);
    let mut req = invite("brief", InviteType::Im, &[&id(&bob), &id(&dave)]);
    req.validity = Some(60);
    assert_eq!(w.status(&mut alice, req.into()), 200);
    assert_eq!(invitations(&w.inbox(&mut bob)).len(), 1);
    w.sim.advance(59_000);
    assert_eq!(
        w.sim.shard(0).open_invitation_users(),
        1,
        "bob's, still open"
    );
    w.sim.advance(2_000);
    assert_eq!(
        w.status(&mut bob, answer("brief", true, "late").into()),
        423
    );
    let cancel = CancelInviteRequest {
        invite_id: InviteId("brief".into()),
        ..CancelInviteRequest::default()
    };
    assert_eq!(w.status(&mut alice, cancel.into()), 423);
    dave.login(&mut w.sim, "pw").expect("login");
    assert!(
        invitations(&w.inbox(&mut dave)).is_empty(),
        "expired before dave came"
    );
    // Soft state is gone with it.
    assert_eq!(w.sim.shard(0).open_invitation_users(), 0);
    assert_eq!(w.sim.shard(1).open_invitation_users(), 0);
}

fn cancel_all(invite_id: &str) -> CancelInviteRequest {
    CancelInviteRequest {
        invite_id: InviteId(invite_id.into()),
        ..CancelInviteRequest::default()
    }
}

fn logout(w: &mut World, c: &mut SimClient) {
    assert!(matches!(
        w.call(c, LogoutRequest {}.into()),
        Primitive::Disconnect(_)
    ));
}

/// The records of a log, decoded.
fn records(log: &[Vec<u8>]) -> Vec<Record> {
    log.iter()
        .map(|r| Record::from_bytes(r).expect("a record"))
        .collect()
}

#[test]
fn the_status_waits_until_both_sides_stored_the_invitation() {
    let mut w = World::new(38);
    let mut alice = w.online("alice", 0);
    let mut bob = w.offline("bob", 1);
    w.sim.set_auto_durable(false);
    let logged = w.sim.log(1).len();
    let m = alice.message(vec![(
        TransactionMode::Request,
        None,
        invite("x", InviteType::Im, &[&id(&bob)]).into(),
    )]);
    let token = w.sim.submit(Request::csp(m));
    assert!(
        w.sim.take_reply(token).is_none(),
        "held for the inviter's record"
    );
    assert!(matches!(
        records(w.sim.log(0)).last(),
        Some(Record::InvitationSent(inviter, s)) if *inviter == id(&alice) && s.id == "x"
            && s.invitees == vec![id(&bob)]
    ));
    assert_eq!(
        w.sim.log(1).len(),
        logged,
        "bob's shard hears of it once alice's record is on disk"
    );
    w.sim.make_durable();
    assert!(
        w.sim.take_reply(token).is_none(),
        "held for the invitee's record"
    );
    assert!(matches!(
        records(w.sim.log(1)).last(),
        Some(Record::InvitationReceived(invitee, r)) if *invitee == id(&bob)
            && r.inviter == id(&alice) && r.invite_id == "x" && !r.seen
    ));
    w.sim.make_durable();
    let Some(Reply::Csp(Some(m))) = w.sim.take_reply(token) else {
        panic!("an answer once both records are durable")
    };
    assert!(matches!(&m.session.transactions[0].content,
        Primitive::Status(s) if s.result.code == 200));
    // The answer too: acknowledged once it is stored.
    w.sim.set_auto_durable(true);
    bob.login(&mut w.sim, "pw").expect("login");
    assert_eq!(invitations(&w.inbox(&mut bob)).len(), 1);
    w.sim.set_auto_durable(false);
    let m = bob.message(vec![(
        TransactionMode::Request,
        None,
        answer("x", false, "no").into(),
    )]);
    let token = w.sim.submit(Request::csp(m));
    assert!(w.sim.take_reply(token).is_none(), "held for the record");
    assert!(matches!(
        records(w.sim.log(1)).last(),
        Some(Record::InvitationClosed(invitee, inviter, i)) if *invitee == id(&bob)
            && *inviter == id(&alice) && i == "x"
    ));
    w.sim.make_durable();
    assert!(w.sim.take_reply(token).is_some());
    w.sim.set_auto_durable(true);
    assert_eq!(responses(&w.inbox(&mut alice)).len(), 1);
}

#[test]
fn an_invitation_survives_a_restart_of_both_shards() {
    let mut w = World::new(34);
    let mut alice = w.online("alice", 0);
    let mut bob = w.offline("bob", 1);
    let mut trip = invite("trip", InviteType::Im, &[&id(&bob)]);
    trip.validity = Some(600);
    assert_eq!(w.status(&mut alice, trip.clone().into()), 200);
    let mut see = invite("see", InviteType::Presence, &[&id(&bob)]);
    see.sub_list = Some(PresenceSubList::naming(["StatusText"]));
    assert_eq!(w.status(&mut alice, see.into()), 200);
    w.sim.advance(1_000);
    let mut r = Restarted::from(&w.sim, 9_000);
    // The inviter's side: the InviteID is still open.
    r.login(&mut alice);
    assert_eq!(r.status(&mut alice, trip.into()), 423);
    // The invitee's side: shown at login, with the validity left.
    r.login(&mut bob);
    let inbox = r.requests(&mut bob);
    let got = invitations(&inbox);
    assert_eq!(got.len(), 2, "{inbox:?}");
    let trip = got.iter().find(|i| i.invite_id.0 == "trip").expect("trip");
    assert_eq!(trip.invite_type, InviteType::Im);
    assert_eq!(trip.note.as_deref(), Some("note of trip"));
    assert_eq!(trip.validity, Some(590));
    assert_eq!(sender_id(Some(&trip.sender)), Some(id(&alice)));
    let see = got.iter().find(|i| i.invite_id.0 == "see").expect("see");
    assert_eq!(see.invite_type, InviteType::Presence);
    assert_eq!(
        see.sub_list.as_ref().map(PresenceSubList::names),
        Some(vec!["StatusText"])
    );
    assert_eq!(r.status(&mut bob, answer("trip", true, "yes").into()), 200);
    assert_eq!(r.status(&mut bob, answer("see", true, "ok").into()), 200);
    let inbox = r.requests(&mut alice);
    let answers = responses(&inbox);
    assert_eq!(answers.len(), 2, "{inbox:?}");
    assert!(answers.iter().all(|a| a.acceptance));
    assert_eq!(answers[0].invite_id.0, "trip");
    assert_eq!(answers[0].note.as_deref(), Some("yes"));
    assert_eq!(sender_id(answers[0].sender.as_ref()), Some(id(&bob)));
    // The PR acceptance granted what the stored invitation named.
    assert!(records(r.log(1)).iter().any(|rec| matches!(rec,
        Record::GrantPut(owner, watcher, g) if *owner == id(&bob) && *watcher == id(&alice)
            && g.attributes == Some(vec!["StatusText".to_owned()]))));
    // Answered: gone on both sides.
    assert_eq!(
        r.status(&mut bob, answer("trip", true, "again").into()),
        423
    );
    assert_eq!(r.status(&mut alice, cancel_all("trip").into()), 423);
    assert_eq!(r.shard(0).open_invitation_users(), 0);
    assert_eq!(r.shard(1).open_invitation_users(), 0);
}

#[test]
fn a_cancel_after_a_restart_reaches_those_who_saw_the_invitation() {
    let mut w = World::new(35);
    let mut alice = w.online("alice", 1);
    let mut bob = w.online("bob", 0);
    let mut dave = w.offline("dave", 0);
    let mut erin = w.offline("erin", 1);
    let to = [id(&bob), id(&dave), id(&erin)];
    let to: Vec<&str> = to.iter().map(String::as_str).collect();
    let urls = UrlList {
        urls: vec![Url("http://party.example/".into())],
    };
    let mut req = invite("party", InviteType::SharedContent, &to);
    req.url_list = Some(urls.clone());
    assert_eq!(w.status(&mut alice, req.into()), 200);
    // bob saw it at once, dave at a later login; erin never.
    assert_eq!(invitations(&w.inbox(&mut bob)).len(), 1);
    dave.login(&mut w.sim, "pw").expect("login");
    assert_eq!(invitations(&w.inbox(&mut dave)).len(), 1);
    logout(&mut w, &mut dave);
    let mut r = Restarted::from(&w.sim, 1_000);
    r.login(&mut alice);
    let cancel = CancelInviteRequest {
        note: Some("called off".into()),
        url_list: Some(urls.clone()),
        ..cancel_all("party")
    };
    assert_eq!(r.status(&mut alice, cancel.clone().into()), 200);
    for c in [&mut bob, &mut dave] {
        r.login(c);
        let inbox = r.requests(c);
        assert!(invitations(&inbox).is_empty(), "{inbox:?}");
        let told = cancels(&inbox);
        assert_eq!(told.len(), 1, "{}: {inbox:?}", c.user);
        assert_eq!(told[0].invite_id.0, "party");
        assert_eq!(told[0].note.as_deref(), Some("called off"));
        assert_eq!(told[0].url_list.as_ref(), Some(&urls));
        assert_eq!(sender_id(Some(&told[0].sender)), Some(id(&alice)));
        assert_eq!(r.status(c, answer("party", true, "").into()), 423);
    }
    r.login(&mut erin);
    assert!(r.requests(&mut erin).is_empty(), "nothing to tell erin");
    assert_eq!(r.status(&mut erin, answer("party", true, "").into()), 423);
    assert_eq!(r.status(&mut alice, cancel.into()), 423);
}

#[test]
fn answers_and_cancellations_held_for_offline_users_survive_a_restart_once() {
    let mut w = World::new(37);
    let mut alice = w.online("alice", 0);
    let mut bob = w.online("bob", 1);
    let mut carol = w.online("carol", 1);
    let req = invite("lunch", InviteType::Im, &[&id(&bob), &id(&carol)]);
    assert_eq!(w.status(&mut alice, req.into()), 200);
    assert_eq!(invitations(&w.inbox(&mut bob)).len(), 1);
    assert_eq!(invitations(&w.inbox(&mut carol)).len(), 1);
    // carol leaves, then alice cancels for her: held for carol.
    logout(&mut w, &mut carol);
    let cancel = CancelInviteRequest {
        recipient: Some(Recipient {
            users: vec![user(&id(&carol))],
            ..Recipient::default()
        }),
        ..cancel_all("lunch")
    };
    assert_eq!(w.status(&mut alice, cancel.into()), 200);
    // alice leaves, then bob answers: held for alice.
    logout(&mut w, &mut alice);
    assert_eq!(
        w.status(&mut bob, answer("lunch", false, "busy").into()),
        200
    );
    let mut r = Restarted::from(&w.sim, 1_000);
    r.login(&mut alice);
    let inbox = r.requests(&mut alice);
    let got = responses(&inbox);
    assert_eq!(got.len(), 1, "{inbox:?}");
    assert!(!got[0].acceptance);
    assert_eq!(got[0].note.as_deref(), Some("busy"));
    assert_eq!(sender_id(got[0].sender.as_ref()), Some(id(&bob)));
    r.login(&mut carol);
    let inbox = r.requests(&mut carol);
    assert_eq!(cancels(&inbox).len(), 1, "{inbox:?}");
    assert!(invitations(&inbox).is_empty());
    // Delivered: another restart has nothing left to tell.
    let mut again = r.again(1_000);
    for c in [&mut alice, &mut carol] {
        again.login(c);
        let inbox = again.requests(c);
        assert!(inbox.is_empty(), "{}: {inbox:?}", c.user);
    }
    assert_eq!(again.shard(0).open_invitation_users(), 0);
    assert_eq!(again.shard(1).open_invitation_users(), 0);
}

#[test]
fn invitations_expire_after_a_restart() {
    let mut w = World::new(36);
    let mut alice = w.online("alice", 0);
    let mut bob = w.offline("bob", 1);
    let mut dave = w.offline("dave", 0);
    let mut req = invite("brief", InviteType::Im, &[&id(&bob), &id(&dave)]);
    req.validity = Some(60);
    assert_eq!(w.status(&mut alice, req.into()), 200);
    // Down 10 s: bob gets it with 50 s left, then it expires.
    let mut r = Restarted::from(&w.sim, 10_000);
    r.login(&mut bob);
    let inbox = r.requests(&mut bob);
    let got = invitations(&inbox);
    assert_eq!(got.len(), 1, "{inbox:?}");
    assert_eq!(got[0].validity, Some(50));
    r.advance(49_000);
    assert_eq!(r.shard(1).open_invitation_users(), 1, "bob's, still open");
    r.advance(2_000);
    assert_eq!(
        r.status(&mut bob, answer("brief", true, "late").into()),
        423
    );
    r.login(&mut alice);
    assert_eq!(r.status(&mut alice, cancel_all("brief").into()), 423);
    r.login(&mut dave);
    assert!(invitations(&r.requests(&mut dave)).is_empty());
    assert_eq!(r.shard(0).open_invitation_users(), 0);
    assert_eq!(r.shard(1).open_invitation_users(), 0);
    // Down past the validity: expired when the shards come back.
    let mut r = Restarted::from(&w.sim, 61_000);
    r.login(&mut bob);
    assert!(invitations(&r.requests(&mut bob)).is_empty());
    assert_eq!(
        r.status(&mut bob, answer("brief", true, "late").into()),
        423
    );
    r.login(&mut alice);
    assert_eq!(r.status(&mut alice, cancel_all("brief").into()), 423);
    assert_eq!(r.shard(0).open_invitation_users(), 0);
    assert_eq!(r.shard(1).open_invitation_users(), 0);
}

#[test]
fn the_limits_hold_after_a_restart() {
    use imps_engine::invite::{MAX_RECEIVED, MAX_SENT};
    let mut w = World::new(40);
    let mut alice = w.online("alice", 0);
    let bob = w.offline("bob", 1);
    let mut carol = w.offline("carol", 0);
    assert_eq!(MAX_SENT, MAX_RECEIVED, "one inviter fills both");
    for i in 0..MAX_SENT {
        let req = invite(&format!("i{i}"), InviteType::Im, &[&id(&bob)]);
        assert_eq!(w.status(&mut alice, req.into()), 200);
    }
    let mut r = Restarted::from(&w.sim, 1_000);
    r.login(&mut alice);
    let more = invite("one-more", InviteType::Im, &[&id(&bob)]);
    assert_eq!(r.status(&mut alice, more.clone().into()), 507, "alice's");
    r.login(&mut carol);
    assert_eq!(r.status(&mut carol, more.into()), 507, "bob's");
    assert_eq!(r.shard(0).image().sent_invitations.len(), MAX_SENT);
    assert_eq!(r.shard(1).image().received_invitations.len(), MAX_RECEIVED);
}
