//! Invitations across domains on the simulation: the shards' side of the desk read from the
//! channel `set_federation` gives, the desk's answers fed back as `Admin::Federation`.

use imps_protocol::common::{Recipient, User};
use imps_protocol::primitives::{
    AccessList, BlockEntityRequest, CancelInviteRequest, EntityList, InUse, InviteRequest,
    InviteType, InviteUserResponse, PresenceSubList,
};
use imps_protocol::ssp::Status;
use imps_protocol::types::{InviteId, UserId};
use imps_protocol::{Primitive, TransactionMode};

use crate::config::AccessConfig;
use crate::core::Token;
use crate::federation::{Answer, Invitation, InvitationAnswer, InvitationCancel, RemoteRequest};
use crate::peering::FederationOp;
use crate::peering::FederationOut;
use crate::shard::{Admin, AdminDone, Reply, Request};
use crate::sim::{Sim, SimClient};

const ALICE: &str = "wv:alice@imps.local";
const BOB: &str = "wv:bob@imps.local";
const REMOTE: &str = "wv:rob@b.test";

/// Two shards with federation on; `users` exist (password "pw").
fn world(users: &[&str]) -> (Sim, flume::Receiver<FederationOut>) {
    let mut sim = Sim::new(2, AccessConfig::default(), 7);
    let (tx, rx) = flume::unbounded();
    for i in 0..2 {
        sim.shard_mut(i).set_federation(Some(tx.clone()));
    }
    for u in users {
        assert!(sim.add_user(u, "pw"));
    }
    (sim, rx)
}

fn online(sim: &mut Sim, user: &str) -> SimClient {
    let mut c = SimClient::new(user, imps_protocol::Version::V1_2);
    c.login(sim, "pw").expect("login");
    c
}

/// The server-originated requests waiting for `c`.
fn inbox(sim: &mut Sim, c: &mut SimClient) -> Vec<Primitive> {
    c.server_requests(sim)
}

/// The requests handed to the desk so far: (query, part, request).
fn handed(rx: &flume::Receiver<FederationOut>) -> Vec<(u64, u32, RemoteRequest)> {
    rx.try_iter()
        .filter_map(|o| match o {
            FederationOut::Request {
                query,
                part,
                request,
                ..
            } => Some((query, part, *request)),
            _ => None,
        })
        .collect()
}

fn federation(sim: &mut Sim, op: FederationOp) -> AdminDone {
    match sim.call(Request::Admin(Admin::Federation(op))) {
        Some(Reply::Admin(Ok(done))) => done,
        other => panic!("an admin answer expected, got {other:?}"),
    }
}

fn invite_request(id: &str, to: &[&str]) -> InviteRequest {
    InviteRequest {
        invite_id: InviteId(id.into()),
        invite_type: InviteType::Presence,
        recipient: Recipient {
            users: to
                .iter()
                .map(|u| User {
                    user_id: UserId((*u).into()),
                    client_id: None,
                    friendly_name: None,
                })
                .collect(),
            ..Recipient::default()
        },
        sub_list: Some(PresenceSubList::naming(["OnlineStatus"])),
        note: Some(format!("note of {id}")),
        validity: Some(600),
        ..InviteRequest::default()
    }
}

/// Sends `p` from `c` without waiting for the answer.
fn submit(sim: &mut Sim, c: &mut SimClient, p: Primitive) -> Token {
    let m = c.message(vec![(TransactionMode::Request, None, p)]);
    sim.submit(Request::csp(m))
}

/// A Status: its code and its detailed results (code, users).
type Outcome = (u32, Vec<(u32, Vec<String>)>);

/// The Status of the answer to `token`, once there is one.
fn status_of(sim: &mut Sim, token: Token) -> Option<Outcome> {
    sim.make_durable();
    match sim.take_reply(token)? {
        Reply::Csp(Some(m)) => match &m.session.transactions.first()?.content {
            Primitive::Status(s) => Some((
                s.result.code,
                s.result
                    .detailed
                    .iter()
                    .map(|d| (d.code, d.user_ids.iter().map(|u| u.0.clone()).collect()))
                    .collect(),
            )),
            other => panic!("a Status expected, got {other:?}"),
        },
        other => panic!("a CSP reply expected, got {other:?}"),
    }
}

fn outcome(sim: &mut Sim, (query, part): (u64, u32), request: RemoteRequest, code: u16) {
    let op = FederationOp::Outcome {
        user: ALICE.into(),
        query,
        part,
        request: Box::new(request),
        status: Status::new(code),
        answer: Box::new(Answer::None),
    };
    assert_eq!(federation(sim, op), AdminDone::Federated);
}

fn notice(sim: &mut Sim, target: &str, origin: &str, notice: RemoteRequest) {
    let op = FederationOp::Notice {
        target: target.into(),
        origin: origin.into(),
        notice: Box::new(notice),
    };
    assert_eq!(federation(sim, op), AdminDone::Federated);
}

fn serve(sim: &mut Sim, inv: Invitation) -> u16 {
    let op = FederationOp::Serve {
        target: inv.invited.clone(),
        request: Box::new(RemoteRequest::Invite(inv)),
    };
    match federation(sim, op) {
        AdminDone::Served { status, .. } => status.code,
        other => panic!("Served expected, got {other:?}"),
    }
}

fn remote_invitation(id: &str, to: &str) -> Invitation {
    Invitation {
        invite_id: id.into(),
        inviting: REMOTE.into(),
        invited: to.into(),
        invite_type: Some("PR".into()),
        validity: Some(300),
        group_id: None,
        attributes: None,
        note: Some("hi".into()),
    }
}

#[test]
fn a_remote_invitee_gets_the_invitation_and_the_answer_reaches_the_inviter() {
    let (mut sim, rx) = world(&["alice", "bob"]);
    let mut alice = online(&mut sim, "alice");
    let token = submit(
        &mut sim,
        &mut alice,
        invite_request("i1", &[REMOTE, BOB]).into(),
    );
    let mut out = handed(&rx);
    assert_eq!(out.len(), 1, "one request for the remote invitee");
    let (query, part, request) = out.remove(0);
    let RemoteRequest::Invite(inv) = &request else {
        panic!("an Invite expected, got {request:?}");
    };
    assert_eq!(
        (
            inv.invite_id.as_str(),
            inv.inviting.as_str(),
            inv.invited.as_str()
        ),
        ("i1", ALICE, REMOTE)
    );
    assert_eq!(inv.invite_type.as_deref(), Some("PR"));
    assert_eq!(inv.validity, Some(600));
    assert_eq!(inv.note.as_deref(), Some("note of i1"));
    assert!(inv.attributes.is_some(), "the offered attributes go along");
    assert!(query != 0, "the Status waits for the remote answer");
    assert_eq!(status_of(&mut sim, token), None, "not answered yet");
    outcome(&mut sim, (query, part), request, 200);
    assert_eq!(status_of(&mut sim, token), Some((200, Vec::new())));
    // An answer claimed by another domain than the invitee's is not taken.
    let answer = InvitationAnswer {
        invite_id: "i1".into(),
        inviting: ALICE.into(),
        responding: REMOTE.into(),
        accepted: true,
        note: Some("sure".into()),
    };
    notice(
        &mut sim,
        ALICE,
        "c.test",
        RemoteRequest::InviteAnswer(answer.clone()),
    );
    assert!(inbox(&mut sim, &mut alice).is_empty());
    notice(
        &mut sim,
        ALICE,
        "b.test",
        RemoteRequest::InviteAnswer(answer.clone()),
    );
    let got = inbox(&mut sim, &mut alice);
    let responses: Vec<_> = got
        .iter()
        .filter_map(|p| match p {
            Primitive::InviteResponse(r) => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(responses.len(), 1, "{got:?}");
    assert!(responses[0].acceptance);
    assert_eq!(responses[0].invite_id.0, "i1");
    assert_eq!(responses[0].note.as_deref(), Some("sure"));
    let from = responses[0].sender.as_ref().and_then(|s| s.user.as_ref());
    assert_eq!(from.map(|u| u.user_id.0.as_str()), Some(REMOTE));
    // Answered once: a repeat is not shown again.
    notice(
        &mut sim,
        ALICE,
        "b.test",
        RemoteRequest::InviteAnswer(answer),
    );
    assert!(inbox(&mut sim, &mut alice).is_empty());
}

#[test]
fn an_unknown_remote_invitee_fails_its_part_and_is_no_longer_waited_for() {
    let (mut sim, rx) = world(&["alice"]);
    let mut alice = online(&mut sim, "alice");
    let token = submit(&mut sim, &mut alice, invite_request("i2", &[REMOTE]).into());
    let (query, part, request) = handed(&rx).remove(0);
    outcome(&mut sim, (query, part), request, 531);
    assert_eq!(
        status_of(&mut sim, token),
        Some((531, vec![(531, vec![REMOTE.to_owned()])]))
    );
    // Nothing open any more: the cancel is refused.
    let cancel = CancelInviteRequest {
        invite_id: InviteId("i2".into()),
        ..CancelInviteRequest::default()
    };
    let token = submit(&mut sim, &mut alice, cancel.into());
    assert_eq!(status_of(&mut sim, token).map(|s| s.0), Some(423));
}

#[test]
fn a_cancel_of_a_remote_invitee_leaves_as_a_notice() {
    let (mut sim, rx) = world(&["alice"]);
    let mut alice = online(&mut sim, "alice");
    let token = submit(&mut sim, &mut alice, invite_request("i3", &[REMOTE]).into());
    let (query, part, request) = handed(&rx).remove(0);
    outcome(&mut sim, (query, part), request, 200);
    assert_eq!(status_of(&mut sim, token).map(|s| s.0), Some(200));
    let cancel = CancelInviteRequest {
        invite_id: InviteId("i3".into()),
        note: Some("sorry".into()),
        ..CancelInviteRequest::default()
    };
    let token = submit(&mut sim, &mut alice, cancel.into());
    assert_eq!(status_of(&mut sim, token).map(|s| s.0), Some(200));
    let out = handed(&rx);
    assert_eq!(
        out,
        vec![(
            0,
            0,
            RemoteRequest::CancelInvite(InvitationCancel {
                invite_id: "i3".into(),
                canceling: ALICE.into(),
                canceled: REMOTE.into(),
                group_id: None,
                note: Some("sorry".into()),
            })
        )]
    );
}

#[test]
fn a_remote_invitation_is_delivered_answered_and_cancelled_like_a_local_one() {
    let (mut sim, rx) = world(&["alice", "bob"]);
    assert_eq!(
        serve(&mut sim, remote_invitation("r1", "wv:nobody@imps.local")),
        531
    );
    // Offline: kept for the next login.
    assert_eq!(serve(&mut sim, remote_invitation("r1", BOB)), 200);
    let mut bob = online(&mut sim, "bob");
    let got = inbox(&mut sim, &mut bob);
    let invitations: Vec<_> = got
        .iter()
        .filter_map(|p| match p {
            Primitive::InviteUserRequest(r) => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(invitations.len(), 1, "{got:?}");
    let from = invitations[0]
        .sender
        .user
        .as_ref()
        .map(|u| u.user_id.0.as_str());
    assert_eq!(from, Some(REMOTE));
    assert_eq!(invitations[0].invite_type, InviteType::Presence);
    // Online: queued at once.
    assert_eq!(serve(&mut sim, remote_invitation("r2", BOB)), 200);
    assert_eq!(inbox(&mut sim, &mut bob).len(), 1);
    // bob's answer goes back to the inviter's domain as a notice.
    let answer = InviteUserResponse {
        invite_id: InviteId("r1".into()),
        acceptance: false,
        sender: None,
        note: Some("no".into()),
        screen_name: None,
    };
    assert_eq!(
        bob.call(&mut sim, answer.clone().into()).map(|p| match p {
            Primitive::Status(s) => s.result.code,
            _ => 0,
        }),
        Some(200)
    );
    assert_eq!(
        handed(&rx),
        vec![(
            0,
            0,
            RemoteRequest::InviteAnswer(InvitationAnswer {
                invite_id: "r1".into(),
                inviting: REMOTE.into(),
                responding: BOB.into(),
                accepted: false,
                note: Some("no".into()),
            })
        )]
    );
    // A cancel of r2 from the inviter's domain reaches bob; the invitation is gone.
    let cancel = InvitationCancel {
        invite_id: "r2".into(),
        canceling: REMOTE.into(),
        canceled: BOB.into(),
        group_id: None,
        note: Some("never mind".into()),
    };
    notice(&mut sim, BOB, "b.test", RemoteRequest::CancelInvite(cancel));
    let got = inbox(&mut sim, &mut bob);
    assert!(
        matches!(&got[..], [Primitive::CancelInviteUserRequest(c)] if c.invite_id.0 == "r2"),
        "{got:?}"
    );
    let late = InviteUserResponse {
        invite_id: InviteId("r2".into()),
        ..answer
    };
    let code = bob.call(&mut sim, late.into()).map(|p| match p {
        Primitive::Status(s) => s.result.code,
        _ => 0,
    });
    assert_eq!(code, Some(423));
}

#[test]
fn the_invitees_block_list_applies_to_a_remote_inviter() {
    let (mut sim, _rx) = world(&["bob"]);
    let mut bob = online(&mut sim, "bob");
    let block = BlockEntityRequest {
        block_list: Some(AccessList {
            in_use: Some(InUse(Some(true))),
            add_list: Some(EntityList {
                user_ids: vec![UserId(REMOTE.into())],
                ..EntityList::default()
            }),
            ..AccessList::default()
        }),
        ..BlockEntityRequest::default()
    };
    let code = bob.call(&mut sim, block.into()).map(|p| match p {
        Primitive::Status(s) => s.result.code,
        _ => 0,
    });
    assert_eq!(code, Some(200));
    assert_eq!(serve(&mut sim, remote_invitation("r3", BOB)), 532);
    assert!(inbox(&mut sim, &mut bob).is_empty());
    // A malformed invitation is refused.
    let mut bad = remote_invitation("", BOB);
    bad.inviting = "wv:rob@b.test".into();
    assert_eq!(serve(&mut sim, bad), 402);
}

#[test]
fn a_late_failure_drops_the_remote_invitee_and_a_lost_desk_fails_at_once() {
    let (mut sim, rx) = world(&["alice"]);
    let mut alice = online(&mut sim, "alice");
    let token = submit(&mut sim, &mut alice, invite_request("i4", &[REMOTE]).into());
    let (query, part, request) = handed(&rx).remove(0);
    // The desk's wait is over: the queued invitation counts as delivered.
    outcome(&mut sim, (query, part), request.clone(), 200);
    assert_eq!(status_of(&mut sim, token).map(|s| s.0), Some(200));
    // Its failure comes later, with nobody waiting: the invitee is no longer waited for,
    // and an answer claimed for it is not shown.
    outcome(&mut sim, (0, 0), request, 503);
    let answer = InvitationAnswer {
        invite_id: "i4".into(),
        inviting: ALICE.into(),
        responding: REMOTE.into(),
        accepted: true,
        note: None,
    };
    notice(
        &mut sim,
        ALICE,
        "b.test",
        RemoteRequest::InviteAnswer(answer),
    );
    assert!(inbox(&mut sim, &mut alice).is_empty());
    // The desk is gone: 503 for the remote invitee at once.
    drop(rx);
    let token = submit(&mut sim, &mut alice, invite_request("i5", &[REMOTE]).into());
    assert_eq!(
        status_of(&mut sim, token),
        Some((503, vec![(503, vec![REMOTE.to_owned()])]))
    );
    let cancel = CancelInviteRequest {
        invite_id: InviteId("i5".into()),
        ..CancelInviteRequest::default()
    };
    let token = submit(&mut sim, &mut alice, cancel.into());
    assert_eq!(status_of(&mut sim, token).map(|s| s.0), Some(423));
}

#[test]
fn a_remote_invitation_leaves_only_once_its_record_is_durable() {
    let (mut sim, rx) = world(&["alice"]);
    let mut alice = online(&mut sim, "alice");
    sim.set_auto_durable(false);
    let token = submit(&mut sim, &mut alice, invite_request("i9", &[REMOTE]).into());
    assert!(
        handed(&rx).is_empty(),
        "another domain hears of the invitation only once it is on disk here"
    );
    sim.make_durable();
    let mut out = handed(&rx);
    assert_eq!(out.len(), 1, "{out:?}");
    let (query, part, request) = out.remove(0);
    assert!(matches!(&request, RemoteRequest::Invite(i) if i.invite_id == "i9"));
    outcome(&mut sim, (query, part), request, 200);
    assert_eq!(status_of(&mut sim, token), Some((200, Vec::new())));
}
