//! Presence in the simulation harness (two shards, virtual clock): publishing, subscribing,
//! proactive and reactive authorization, withdrawal, watcher lists, OnlineStatus following
//! sessions, contact-list subscriptions and coalescing. Every test places the watchers and
//! publishers on named shards so that the cross-shard paths are exercised.

mod common;

use common::{DOMAIN, World, id, user};
use imps_engine::record::Record;
use imps_engine::shard::Request;
use imps_engine::sim::SimClient;
use imps_protocol::primitives::*;
use imps_protocol::types::{ContactListId, UserId};
use imps_protocol::{Primitive, TransactionMode};

impl World {
    fn ok(&mut self, c: &mut SimClient, p: Primitive) {
        assert_eq!(code(&self.call(c, p)), 200);
    }

    /// Polls until nothing is left; returns every presence notified, as (publisher, list).
    fn notified(&mut self, c: &mut SimClient) -> Vec<(String, PresenceSubList)> {
        let mut out = Vec::new();
        for t in self.server_requests(c) {
            if let Primitive::PresenceNotificationRequest(n) = t {
                for p in n.presences {
                    let user = p.user_id.map(|u| u.0).unwrap_or_default();
                    for l in p.sub_lists {
                        out.push((user.clone(), l));
                    }
                }
            }
        }
        out
    }

    /// Polls until nothing is left; returns every server-originated request.
    fn server_requests(&mut self, c: &mut SimClient) -> Vec<Primitive> {
        self.requests(c).into_iter().map(|(_, p)| p).collect()
    }
}

fn code(p: &Primitive) -> u32 {
    match p {
        Primitive::Status(s) => s.result.code,
        Primitive::GetPresenceResponse(r) => r.result.as_ref().map_or(200, |r| r.code),
        other => panic!("unexpected {other:?}"),
    }
}

fn list_id(c: &SimClient, name: &str) -> ContactListId {
    ContactListId(format!("wv:{}/{name}@{DOMAIN}", c.user))
}

fn create_list(owner: &SimClient, name: &str, members: &[&SimClient]) -> Primitive {
    CreateListRequest {
        contact_list: list_id(owner, name),
        nick_list: Some(NickList {
            nick_names: vec![],
            user_ids: members.iter().map(|m| UserId(id(m))).collect(),
        }),
        properties: None,
    }
    .into()
}

fn attributes_for_list(owner: &SimClient, list: &str, names: &[&str]) -> Primitive {
    CreateAttributeListRequest {
        sub_list: PresenceSubList::naming(names.iter().copied()),
        user_ids: vec![],
        contact_lists: vec![list_id(owner, list)],
        default_list: None,
    }
    .into()
}

fn attributes_for_user(watcher: &SimClient, names: &[&str]) -> Primitive {
    CreateAttributeListRequest {
        sub_list: PresenceSubList::naming(names.iter().copied()),
        user_ids: vec![UserId(id(watcher))],
        contact_lists: vec![],
        default_list: None,
    }
    .into()
}

fn status_update(text: &str, alias: &str) -> Primitive {
    UpdatePresenceRequest {
        sub_list: PresenceSubList {
            status_text: Some(StatusText {
                qualifier: Some(true),
                value: Some(text.into()),
            }),
            alias: Some(Alias {
                qualifier: Some(true),
                value: Some(alias.into()),
            }),
            ..PresenceSubList::default()
        },
    }
    .into()
}

fn subscribe(publishers: &[&SimClient]) -> Primitive {
    SubscribePresenceRequest {
        users: publishers.iter().map(|p| user(&id(p))).collect(),
        ..SubscribePresenceRequest::default()
    }
    .into()
}

fn text_of(l: &PresenceSubList) -> Option<&str> {
    l.status_text.as_ref().and_then(|s| s.value.as_deref())
}

/// bob grants the members of his list `friends` OnlineStatus and StatusText.
fn bob_grants_friends(w: &mut World, bob: &mut SimClient, friends: &[&SimClient]) {
    let p = create_list(bob, "friends", friends);
    w.ok(bob, p);
    let p = attributes_for_list(bob, "friends", &["OnlineStatus", "StatusText"]);
    w.ok(bob, p);
}

#[test]
fn a_watcher_on_another_shard_sees_current_and_later_presence_within_its_grant() {
    let mut w = World::new(7);
    let mut alice = w.online("alice", 0);
    let mut bob = w.online("bob", 1);
    bob_grants_friends(&mut w, &mut bob, &[&alice]);
    w.ok(&mut bob, status_update("hello", "Bobby"));
    w.ok(&mut alice, subscribe(&[&bob]));
    let seen = w.notified(&mut alice);
    assert_eq!(seen.len(), 1, "{seen:?}");
    let (who, l) = &seen[0];
    assert_eq!(who, &id(&bob));
    assert_eq!(text_of(l), Some("hello"));
    assert_eq!(l.online_status.as_ref().and_then(|o| o.value), Some(true));
    assert!(l.alias.is_none(), "Alias is not authorized");
    // Later updates: only the changed, authorized attributes.
    w.ok(&mut bob, status_update("later", "B2"));
    let seen = w.notified(&mut alice);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].1.names(), vec!["StatusText"]);
    assert_eq!(text_of(&seen[0].1), Some("later"));
    // Unsubscribed: nothing more.
    let p = UnsubscribePresenceRequest {
        users: vec![user(&id(&bob))],
        contact_lists: vec![],
    };
    w.ok(&mut alice, p.into());
    w.ok(&mut bob, status_update("gone", "B3"));
    assert!(w.notified(&mut alice).is_empty());
    let (sent, received) = w.sim.shard(1).presence_deliveries();
    assert!(
        sent >= 1 && received == 0,
        "bob's shard sent to alice's shard"
    );
    assert!(w.sim.shard(0).presence_deliveries().1 >= 1);
}

#[test]
fn membership_in_several_lists_gives_the_union_and_an_own_list_overrides() {
    let mut w = World::new(7);
    let mut alice = w.online("alice", 0);
    let mut bob = w.online("bob", 1);
    let mut carol = w.online("carol", 0);
    let p = create_list(&bob, "a", &[&alice, &carol]);
    w.ok(&mut bob, p);
    let p = create_list(&bob, "b", &[&alice]);
    w.ok(&mut bob, p);
    let p = attributes_for_list(&bob, "a", &["StatusText"]);
    w.ok(&mut bob, p);
    let p = attributes_for_list(&bob, "b", &["Alias"]);
    w.ok(&mut bob, p);
    // carol's own list overrides the lists she is in.
    let p = attributes_for_user(&carol, &["Alias"]);
    w.ok(&mut bob, p);
    w.ok(&mut bob, status_update("t", "al"));
    w.ok(&mut alice, subscribe(&[&bob]));
    w.ok(&mut carol, subscribe(&[&bob]));
    let a = w.notified(&mut alice);
    assert_eq!(a[0].1.names(), vec!["StatusText", "Alias"], "union");
    let c = w.notified(&mut carol);
    assert_eq!(c[0].1.names(), vec!["Alias"], "individual override");
}

#[test]
fn unauthorized_users_see_nothing_and_proactive_grants_never_ask() {
    let mut w = World::new(7);
    let mut alice = w.online("alice", 0);
    let mut bob = w.online("bob", 1);
    let mut eve = w.online("eve", 0);
    bob_grants_friends(&mut w, &mut bob, &[&alice]);
    w.ok(&mut bob, status_update("secret", "b"));
    // eve: nothing proactive, so GetPresence shows nothing and bob is asked.
    let get = GetPresenceRequest {
        users: vec![user(&id(&bob))],
        ..GetPresenceRequest::default()
    };
    let Primitive::GetPresenceResponse(r) = w.call(&mut eve, get.clone().into()) else {
        panic!("GetPresence-Response expected")
    };
    assert!(r.presences.is_empty(), "{r:?}");
    w.ok(&mut eve, subscribe(&[&bob]));
    assert!(w.notified(&mut eve).is_empty());
    // alice is authorized proactively: GetPresence shows, and bob is asked only about eve.
    let Primitive::GetPresenceResponse(r) = w.call(&mut alice, get.into()) else {
        panic!("GetPresence-Response expected")
    };
    assert_eq!(r.presences.len(), 1);
    let asked: Vec<String> = w
        .server_requests(&mut bob)
        .into_iter()
        .filter_map(|p| match p {
            Primitive::PresenceAuthRequest(r) => Some(r.user_id.0),
            _ => None,
        })
        .collect();
    assert_eq!(asked, vec![id(&eve)]);
}

#[test]
fn reactive_acceptance_grants_and_cancellation_withdraws() {
    let mut w = World::new(7);
    let mut bob = w.online("bob", 1);
    let mut dave = w.online("dave", 0);
    w.ok(&mut bob, status_update("hi", "b"));
    w.ok(&mut dave, subscribe(&[&bob]));
    assert!(w.notified(&mut dave).is_empty());
    // bob accepts (as a Request), with specific attributes; the answer waits for the disk.
    w.sim.set_auto_durable(false);
    let accept = PresenceAuthUser {
        user_id: UserId(id(&dave)),
        acceptance: true,
        sub_list: Some(PresenceSubList::naming(["StatusText"])),
    };
    let m = bob.message(vec![(TransactionMode::Request, None, accept.into())]);
    let token = w.sim.submit(Request::csp(m));
    assert!(w.sim.take_reply(token).is_none(), "held until durable");
    w.sim.make_durable();
    assert!(w.sim.take_reply(token).is_some());
    w.sim.set_auto_durable(true);
    let logged = w.sim.log(1).iter().any(|r| {
        matches!(Record::from_bytes(r), Ok(Record::GrantPut(_, watcher, g)) if watcher == id(&dave) && g.accepted)
    });
    assert!(logged, "the decision is stored");
    let seen = w.notified(&mut dave);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].1.names(), vec!["StatusText"]);
    let status = GetReactiveAuthStatusRequest { user_ids: vec![] };
    let Primitive::GetReactiveAuthStatusResponse(r) = w.call(&mut bob, status.into()) else {
        panic!("status expected")
    };
    let statuses = r.list.expect("a list").statuses;
    assert_eq!(statuses.len(), 1);
    assert_eq!(statuses[0].state, ReactiveAuthState::Granted);
    // CancelAuth: dave sees no more.
    let cancel = CancelAuthRequest {
        user_id: UserId(id(&dave)),
    };
    w.ok(&mut bob, cancel.into());
    w.ok(&mut bob, status_update("after", "b"));
    assert!(w.notified(&mut dave).is_empty());
}

#[test]
fn a_decision_given_as_the_answer_to_the_servers_request_counts() {
    let mut w = World::new(7);
    let mut bob = w.online("bob", 1);
    let mut dave = w.online("dave", 0);
    w.ok(&mut dave, subscribe(&[&bob]));
    // bob logged in before the question: it is queued for him; answered as a Response.
    let m = bob.message(vec![(
        TransactionMode::Request,
        None,
        PollingRequest {}.into(),
    )]);
    let reply = bob.send(&mut w.sim, m).expect("an answer");
    let t = reply
        .session
        .transactions
        .iter()
        .find(|t| matches!(t.content, Primitive::PresenceAuthRequest(_)))
        .expect("a PresenceAuth-Request");
    let accept = PresenceAuthUser {
        user_id: UserId(id(&dave)),
        acceptance: true,
        sub_list: None,
    };
    let tid = t.descriptor.id.as_ref().map(|i| i.0.clone());
    let m = bob.message(vec![(TransactionMode::Response, tid, accept.into())]);
    bob.send(&mut w.sim, m);
    w.ok(&mut bob, status_update("now", "b"));
    let seen = w.notified(&mut dave);
    assert!(
        seen.iter().any(|(_, l)| text_of(l) == Some("now")),
        "{seen:?}"
    );
}

#[test]
fn withdrawing_a_proactive_grant_takes_effect_at_once() {
    let mut w = World::new(7);
    let mut alice = w.online("alice", 0);
    let mut bob = w.online("bob", 1);
    bob_grants_friends(&mut w, &mut bob, &[&alice]);
    w.ok(&mut alice, subscribe(&[&bob]));
    w.notified(&mut alice);
    // An update waits in alice's queue; then bob removes her from the list.
    w.ok(&mut bob, status_update("queued", "b"));
    let remove = ListManageRequest {
        contact_list: list_id(&bob, "friends"),
        add_nick_list: None,
        remove_nick_list: Some(RemoveNickList {
            user_ids: vec![UserId(id(&alice))],
        }),
        properties: None,
        receive_list: None,
    };
    let r = w.call(&mut bob, remove.into());
    assert!(matches!(r, Primitive::ListManageResponse(ref r) if r.result.code == 200));
    assert!(
        w.notified(&mut alice).is_empty(),
        "queued presence withdrawn"
    );
    w.ok(&mut bob, status_update("after", "b"));
    assert!(w.notified(&mut alice).is_empty());
    // The grant returns: the current presence is delivered at once.
    let add = ListManageRequest {
        contact_list: list_id(&bob, "friends"),
        add_nick_list: Some(NickList {
            nick_names: vec![],
            user_ids: vec![UserId(id(&alice))],
        }),
        remove_nick_list: None,
        properties: None,
        receive_list: None,
    };
    w.call(&mut bob, add.into());
    let seen = w.notified(&mut alice);
    assert_eq!(seen.len(), 1);
    assert_eq!(text_of(&seen[0].1), Some("after"));
}

#[test]
fn the_watcher_list_has_every_subscriber_but_not_one_shot_readers() {
    let mut w = World::new(7);
    let mut alice = w.online("alice", 0);
    let mut bob = w.online("bob", 1);
    let mut eve = w.online("eve", 1);
    let mut carol = w.online("carol", 0);
    bob_grants_friends(&mut w, &mut bob, &[&alice]);
    w.ok(&mut alice, subscribe(&[&bob]));
    w.ok(&mut eve, subscribe(&[&bob]));
    let get = GetPresenceRequest {
        users: vec![user(&id(&bob))],
        ..GetPresenceRequest::default()
    };
    w.call(&mut carol, get.into());
    let list = GetWatcherListRequest {
        history_period: None,
        max_watcher_list: None,
    };
    let Primitive::GetWatcherListResponse(r) = w.call(&mut bob, list.clone().into()) else {
        panic!("watcher list expected")
    };
    let mut ids: Vec<String> = r
        .watchers
        .iter()
        .map(|x| x.user.user_id.0.clone())
        .collect();
    ids.sort();
    let mut expected = vec![id(&alice), id(&eve)];
    expected.sort();
    assert_eq!(ids, expected);
    // eve logs out: a former watcher, shown with a history period.
    let m = eve.message(vec![(
        TransactionMode::Request,
        None,
        LogoutRequest {}.into(),
    )]);
    eve.send(&mut w.sim, m);
    let with_history = GetWatcherListRequest {
        history_period: Some(1),
        max_watcher_list: None,
    };
    let Primitive::GetWatcherListResponse(r) = w.call(&mut bob, with_history.into()) else {
        panic!("watcher list expected")
    };
    let former: Vec<&str> = r
        .watchers
        .iter()
        .filter(|x| x.status == Some(WatcherStatus::Former))
        .map(|x| x.user.user_id.0.as_str())
        .collect();
    assert_eq!(former, vec![id(&eve).as_str()]);
}

#[test]
fn online_status_follows_sessions_unless_the_user_sets_it() {
    let mut w = World::new(7);
    let mut alice = w.online("alice", 0);
    let mut bob = w.online("bob", 1);
    bob_grants_friends(&mut w, &mut bob, &[&alice]);
    w.ok(&mut alice, subscribe(&[&bob]));
    w.notified(&mut alice);
    let m = bob.message(vec![(
        TransactionMode::Request,
        None,
        LogoutRequest {}.into(),
    )]);
    bob.send(&mut w.sim, m);
    let seen = w.notified(&mut alice);
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].1.online_status.as_ref().and_then(|o| o.value),
        Some(false)
    );
    bob.login(&mut w.sim, "pw").expect("login");
    let seen = w.notified(&mut alice);
    assert_eq!(
        seen[0].1.online_status.as_ref().and_then(|o| o.value),
        Some(true)
    );
    // bob sets OnlineStatus F himself: his sessions no longer change it.
    let set = UpdatePresenceRequest {
        sub_list: PresenceSubList {
            online_status: Some(OnlineStatus {
                qualifier: Some(true),
                value: Some(false),
            }),
            ..PresenceSubList::default()
        },
    };
    w.ok(&mut bob, set.into());
    w.notified(&mut alice);
    bob.login(&mut w.sim, "pw").expect("login again");
    assert!(w.notified(&mut alice).is_empty());
}

#[test]
fn a_contact_list_subscription_follows_membership_changes() {
    let mut w = World::new(7);
    let mut alice = w.online("alice", 0);
    let mut bob = w.online("bob", 1);
    let mut carol = w.online("carol", 1);
    let p = create_list(&alice, "friends", &[&bob]);
    w.ok(&mut alice, p);
    for publisher in [&mut bob, &mut carol] {
        let p = CreateAttributeListRequest {
            sub_list: PresenceSubList::naming(["StatusText"]),
            user_ids: vec![],
            contact_lists: vec![],
            default_list: Some(true),
        };
        w.ok(publisher, p.into());
        w.ok(publisher, status_update("here", "x"));
    }
    let sub = SubscribePresenceRequest {
        contact_lists: vec![list_id(&alice, "friends")],
        ..SubscribePresenceRequest::default()
    };
    w.ok(&mut alice, sub.into());
    let seen: Vec<String> = w.notified(&mut alice).into_iter().map(|(u, _)| u).collect();
    assert_eq!(seen, vec![id(&bob)]);
    let add = ListManageRequest {
        contact_list: list_id(&alice, "friends"),
        add_nick_list: Some(NickList {
            nick_names: vec![],
            user_ids: vec![UserId(id(&carol))],
        }),
        remove_nick_list: None,
        properties: None,
        receive_list: None,
    };
    w.call(&mut alice, add.into());
    let seen: Vec<String> = w.notified(&mut alice).into_iter().map(|(u, _)| u).collect();
    assert_eq!(seen, vec![id(&carol)], "a member added later is watched");
}

#[test]
fn unknown_users_are_reported_per_user() {
    let mut w = World::new(7);
    let mut alice = w.online("alice", 0);
    let bob = w.online("bob", 1);
    let sub = SubscribePresenceRequest {
        users: vec![user(&id(&bob)), user("wv:nobody@imps.local")],
        ..SubscribePresenceRequest::default()
    };
    let Primitive::Status(s) = w.call(&mut alice, sub.into()) else {
        panic!("status expected")
    };
    assert_eq!(s.result.code, 201);
    assert_eq!(s.result.detailed[0].code, 531);
    assert_eq!(s.result.detailed[0].user_ids[0].0, "wv:nobody@imps.local");
}

#[test]
fn a_burst_from_one_publisher_is_coalesced_to_its_latest_value() {
    let mut w = World::new(7);
    let mut alice = w.online("alice", 0);
    let mut bob = w.online("bob", 1);
    bob_grants_friends(&mut w, &mut bob, &[&alice]);
    w.ok(&mut alice, subscribe(&[&bob]));
    w.notified(&mut alice);
    for i in 0..500 {
        w.ok(&mut bob, status_update(&format!("v{i}"), "b"));
    }
    let seen = w.notified(&mut alice);
    assert_eq!(seen.len(), 1);
    assert_eq!(text_of(&seen[0].1), Some("v499"));
}

#[test]
fn subscribing_again_keeps_one_edge_per_session() {
    let mut w = World::new(7);
    let mut alice = w.online("alice", 0);
    let mut bob = w.online("bob", 1);
    bob_grants_friends(&mut w, &mut bob, &[&alice]);
    w.ok(&mut alice, subscribe(&[&bob]));
    w.ok(&mut alice, subscribe(&[&bob]));
    let before = w.sim.shard(1).presence_deliveries().0;
    w.ok(&mut bob, status_update("once", "b"));
    assert_eq!(w.sim.shard(1).presence_deliveries().0 - before, 1);
    // One unsubscribe ends it.
    let p = UnsubscribePresenceRequest {
        users: vec![user(&id(&bob))],
        contact_lists: vec![],
    };
    w.ok(&mut alice, p.into());
    let before = w.sim.shard(1).presence_deliveries().0;
    w.ok(&mut bob, status_update("none", "b"));
    assert_eq!(w.sim.shard(1).presence_deliveries().0, before);
}

#[test]
fn a_wake_up_not_acted_upon_is_repeated_by_the_next_update() {
    let mut w = World::new(31);
    let mut alice = w.online("alice", 0);
    let mut bob = w.online("bob", 1);
    bob_grants_friends(&mut w, &mut bob, &[&alice]);
    w.ok(&mut alice, subscribe(&[&bob]));
    w.notified(&mut alice);
    let alice_sid = alice.session.clone().expect("a session").0;
    w.sim.take_wakes();
    w.ok(&mut bob, status_update("one", "B"));
    assert_eq!(w.sim.take_wakes(), vec![alice_sid.clone()], "woken once");
    w.ok(&mut bob, status_update("two", "B"));
    assert!(
        w.sim.take_wakes().is_empty(),
        "not again before she is heard from"
    );
    // The wake-up is lost (no channel at that moment): alice only sends a keep-alive.
    let keep_alive = KeepAliveRequest { time_to_live: None };
    w.call(&mut alice, keep_alive.into());
    w.ok(&mut bob, status_update("three", "B"));
    assert_eq!(
        w.sim.take_wakes(),
        vec![alice_sid],
        "presence still waits: she is woken again"
    );
    let seen = w.notified(&mut alice);
    assert_eq!(seen.len(), 1, "one entry per publisher: {seen:?}");
    assert_eq!(text_of(&seen[0].1), Some("three"));
}
