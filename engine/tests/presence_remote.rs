//! Presence across domains in the simulation harness (two shards, virtual clock), with the
//! federation desk played by the test: what the shards hand to the desk is read from the
//! channel of [`Sim::set_federation`], and the desk's operations are fed back as
//! `Admin::Federation`. Local watchers of remote publishers, and remote watchers of local
//! publishers.

mod common;

use common::{World, id, user};
use imps_engine::core::Token;
use imps_engine::federation::{Answer, RemoteRequest};
use imps_engine::peering::{FederationOp, FederationOut};
use imps_engine::shard::{Admin, AdminDone, Reply, Request};
use imps_engine::sim::SimClient;
use imps_protocol::primitives::*;
use imps_protocol::ssp::csp::{presence_sub_list, presence_sub_list_element};
use imps_protocol::ssp::{DetailedResult, PresenceValue, Status};
use imps_protocol::types::{ContactListId, UserId};
use imps_protocol::{Limits, Primitive, TransactionMode};

const BOB: &str = "wv:bob@b.test";
const ZED: &str = "wv:zed@z.test";

fn text_and_alias(text: &str, alias: &str) -> PresenceSubList {
    PresenceSubList {
        status_text: Some(StatusText {
            qualifier: Some(true),
            value: Some(text.into()),
        }),
        alias: Some(Alias {
            qualifier: Some(true),
            value: Some(alias.into()),
        }),
        ..PresenceSubList::default()
    }
}

fn value(user: &str, list: &PresenceSubList) -> PresenceValue {
    PresenceValue {
        user_id: user.into(),
        sub_lists: vec![presence_sub_list_element(list).expect("encodes")],
    }
}

fn decoded(v: &PresenceValue) -> PresenceSubList {
    presence_sub_list(&v.sub_lists[0], &Limits::default()).expect("decodes")
}

fn text_of(l: &PresenceSubList) -> Option<&str> {
    l.status_text.as_ref().and_then(|s| s.value.as_deref())
}

/// A world whose shards hand their federation traffic to the returned channel.
fn federated() -> (World, flume::Receiver<FederationOut>) {
    let mut w = World::new(11);
    let (tx, rx) = flume::unbounded();
    w.sim.set_federation(Some(tx));
    (w, rx)
}

/// Sends `p` for `c` without waiting: the answer may wait for another domain.
fn submit(w: &mut World, c: &mut SimClient, p: Primitive) -> Token {
    let m = c.message(vec![(TransactionMode::Request, None, p)]);
    w.sim.submit(Request::csp(m))
}

/// The first transaction of the answer to `token`, once there is one.
fn answer(w: &mut World, token: Token) -> Option<Primitive> {
    w.sim.make_durable();
    match w.sim.take_reply(token)? {
        Reply::Csp(Some(m)) => m.session.transactions.into_iter().next().map(|t| t.content),
        other => panic!("{other:?}"),
    }
}

fn federation(w: &mut World, op: FederationOp) -> Option<Reply> {
    w.sim.call(Request::Admin(Admin::Federation(op)))
}

/// The one request handed to the desk: (query, part, request).
fn one_request(rx: &flume::Receiver<FederationOut>) -> (u64, u32, RemoteRequest) {
    let got: Vec<FederationOut> = rx.try_iter().collect();
    assert_eq!(got.len(), 1, "{got:?}");
    match got.into_iter().next() {
        Some(FederationOut::Request {
            query,
            part,
            request,
            ..
        }) => (query, part, *request),
        other => panic!("{other:?}"),
    }
}

/// The presence values handed to the desk: (watchers, value).
fn presence_out(rx: &flume::Receiver<FederationOut>) -> Vec<(Vec<String>, PresenceValue)> {
    rx.try_iter()
        .map(|o| match o {
            FederationOut::Presence { watchers, value } => (watchers, value),
            other => panic!("{other:?}"),
        })
        .collect()
}

fn outcome(
    query: u64,
    part: u32,
    request: RemoteRequest,
    status: Status,
    a: Answer,
) -> FederationOp {
    FederationOp::Outcome {
        user: request.actor().unwrap_or_default().to_owned(),
        query,
        part,
        request: Box::new(request),
        status,
        answer: Box::new(a),
    }
}

/// Every presence notified to `c`, as (publisher, list).
fn notified(w: &mut World, c: &mut SimClient) -> Vec<(String, PresenceSubList)> {
    let mut out = Vec::new();
    for (_, p) in w.requests(c) {
        if let Primitive::PresenceNotificationRequest(n) = p {
            for p in n.presences {
                let user = p.user_id.map(|u| u.0).unwrap_or_default();
                out.extend(p.sub_lists.into_iter().map(|l| (user.clone(), l)));
            }
        }
    }
    out
}

fn notice(watcher: &str, origin: &str, values: Vec<PresenceValue>) -> FederationOp {
    FederationOp::Notice {
        target: watcher.to_owned(),
        origin: origin.to_owned(),
        notice: Box::new(RemoteRequest::PresenceNotification {
            watchers: vec![watcher.to_owned()],
            values,
        }),
    }
}

fn code_of(p: &Primitive) -> u32 {
    match p {
        Primitive::Status(s) => s.result.code,
        Primitive::GetPresenceResponse(r) => r.result.as_ref().map_or(200, |r| r.code),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_local_watcher_of_a_remote_publisher_gets_what_it_asked_for_until_it_leaves() {
    let (mut w, rx) = federated();
    let mut alice = w.online("alice", 0);
    let carol = w.online("carol", 1);
    let subscribe = SubscribePresenceRequest {
        users: vec![user(BOB), user(&id(&carol))],
        sub_list: Some(PresenceSubList::naming(["StatusText"])),
        ..SubscribePresenceRequest::default()
    };
    let token = submit(&mut w, &mut alice, subscribe.into());
    assert_eq!(answer(&mut w, token), None, "waits for b.test");
    let (query, part, request) = one_request(&rx);
    match &request {
        RemoteRequest::SubscribePresence {
            watcher,
            users,
            attributes,
        } => {
            assert_eq!(*watcher, id(&alice));
            assert_eq!(*users, vec![BOB.to_owned()]);
            assert!(attributes.is_some(), "only StatusText is asked");
        }
        other => panic!("{other:?}"),
    }
    federation(
        &mut w,
        outcome(query, part, request, Status::new(200), Answer::None),
    );
    let got = answer(&mut w, token).expect("answered");
    assert_eq!(code_of(&got), 200, "{got:?}");

    // bob's value, filtered to StatusText; a value b.test sends for a user of c.test is
    // not believed.
    let values = vec![
        value(BOB, &text_and_alias("lunch", "bobby")),
        value("wv:eve@c.test", &text_and_alias("spoof", "eve")),
    ];
    federation(&mut w, notice(&id(&alice), "b.test", values));
    let got = notified(&mut w, &mut alice);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, BOB);
    assert_eq!(got[0].1.names(), vec!["StatusText"]);
    assert_eq!(text_of(&got[0].1), Some("lunch"));

    // Unsubscribed: b.test is told (nobody waits), later values are not shown.
    let unsubscribe = UnsubscribePresenceRequest {
        users: vec![user(BOB)],
        ..UnsubscribePresenceRequest::default()
    };
    assert_eq!(w.status(&mut alice, unsubscribe.into()), 200);
    let (query, _, request) = one_request(&rx);
    assert_eq!(query, 0);
    assert!(
        matches!(&request, RemoteRequest::UnsubscribePresence { users, .. } if *users == [BOB]),
        "{request:?}"
    );
    // A value that still comes (sent before the unsubscription arrived, or a server
    // restarted since the subscription) is not shown, and b.test is told again.
    let values = vec![value(BOB, &text_and_alias("later", "bobby"))];
    federation(&mut w, notice(&id(&alice), "b.test", values));
    assert!(notified(&mut w, &mut alice).is_empty());
    let (query, _, request) = one_request(&rx);
    assert_eq!(query, 0);
    assert!(
        matches!(&request, RemoteRequest::UnsubscribePresence { users, .. } if *users == [BOB]),
        "{request:?}"
    );
}

#[test]
fn a_session_that_ends_unsubscribes_only_what_no_other_session_watches() {
    let (mut w, rx) = federated();
    let mut alice = w.online("alice", 0);
    let mut second = SimClient::new(&alice.user, alice.version).with_client("second");
    second.login(&mut w.sim, "pw").expect("login");
    for c in [&mut alice, &mut second] {
        let subscribe = SubscribePresenceRequest {
            users: vec![user(BOB)],
            ..SubscribePresenceRequest::default()
        };
        let token = submit(&mut w, c, subscribe.into());
        let (query, part, request) = one_request(&rx);
        federation(
            &mut w,
            outcome(query, part, request, Status::new(200), Answer::None),
        );
        assert_eq!(answer(&mut w, token).map(|p| code_of(&p)), Some(200));
    }
    // Both sessions get bob's values.
    let values = vec![value(BOB, &text_and_alias("one", "b"))];
    federation(&mut w, notice(&id(&alice), "b.test", values));
    assert_eq!(notified(&mut w, &mut alice).len(), 1);
    assert_eq!(notified(&mut w, &mut second).len(), 1);
    // The first session leaves: the second still watches, nothing goes out.
    let out = w.call(&mut alice, LogoutRequest {}.into());
    assert!(matches!(out, Primitive::Disconnect(_)), "{out:?}");
    assert!(rx.try_iter().next().is_none());
    // The last one leaves: UnsubscribePresence.
    let out = w.call(&mut second, LogoutRequest {}.into());
    assert!(matches!(out, Primitive::Disconnect(_)), "{out:?}");
    let (query, _, request) = one_request(&rx);
    assert_eq!(query, 0);
    assert!(
        matches!(&request, RemoteRequest::UnsubscribePresence { watcher, users }
            if *watcher == id(&second) && *users == [BOB]),
        "{request:?}"
    );
}

#[test]
fn a_remote_failure_is_reported_per_user_and_the_watch_forgotten() {
    let (mut w, rx) = federated();
    let mut alice = w.online("alice", 0);
    let nobody = "wv:nobody@b.test";
    let subscribe = SubscribePresenceRequest {
        users: vec![user(BOB), user(nobody)],
        ..SubscribePresenceRequest::default()
    };
    let token = submit(&mut w, &mut alice, subscribe.into());
    let (query, part, request) = one_request(&rx);
    let mut status = Status::new(201);
    status.detailed.push(DetailedResult {
        code: 531,
        user_ids: vec![nobody.to_owned()],
        ..DetailedResult::default()
    });
    federation(&mut w, outcome(query, part, request, status, Answer::None));
    match answer(&mut w, token) {
        Some(Primitive::Status(s)) => {
            assert_eq!(s.result.code, 201, "{s:?}");
            assert_eq!(s.result.detailed[0].code, 531);
            assert_eq!(s.result.detailed[0].user_ids, vec![UserId(nobody.into())]);
        }
        other => panic!("{other:?}"),
    }
    let values = vec![
        value(BOB, &text_and_alias("here", "b")),
        value(nobody, &text_and_alias("ghost", "n")),
    ];
    federation(&mut w, notice(&id(&alice), "b.test", values));
    let got = notified(&mut w, &mut alice);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, BOB);
    let (_, _, request) = one_request(&rx);
    assert!(
        matches!(&request, RemoteRequest::UnsubscribePresence { users, .. } if *users == [nobody]),
        "{request:?}"
    );

    // GetPresence: the values of the answer, the failures per user; a timeout is 504.
    let get = GetPresenceRequest {
        users: vec![user(BOB), user(nobody)],
        ..GetPresenceRequest::default()
    };
    let token = submit(&mut w, &mut alice, get.clone().into());
    let (query, part, request) = one_request(&rx);
    let mut status = Status::new(201);
    status.detailed.push(DetailedResult {
        code: 531,
        user_ids: vec![nobody.to_owned()],
        ..DetailedResult::default()
    });
    let values = Answer::Presence(vec![value(BOB, &text_and_alias("read", "b"))]);
    federation(&mut w, outcome(query, part, request, status, values));
    match answer(&mut w, token) {
        Some(Primitive::GetPresenceResponse(r)) => {
            assert_eq!(r.result.as_ref().map(|r| r.code), Some(201), "{r:?}");
            assert_eq!(r.presences.len(), 1);
            assert_eq!(r.presences[0].user_id, Some(UserId(BOB.into())));
            assert_eq!(text_of(&r.presences[0].sub_lists[0]), Some("read"));
        }
        other => panic!("{other:?}"),
    }
    let token = submit(&mut w, &mut alice, get.into());
    let (query, part, request) = one_request(&rx);
    federation(
        &mut w,
        outcome(query, part, request, Status::new(504), Answer::None),
    );
    assert_eq!(answer(&mut w, token).map(|p| code_of(&p)), Some(504));
}

#[test]
fn a_remote_watcher_of_a_local_publisher_is_served_within_its_grant() {
    let (mut w, rx) = federated();
    let mut bob = w.online("bob", 1);
    let grant = CreateAttributeListRequest {
        sub_list: PresenceSubList::naming(["StatusText"]),
        user_ids: vec![UserId(ZED.into())],
        contact_lists: vec![],
        default_list: None,
    };
    assert_eq!(w.status(&mut bob, grant.into()), 200);
    let update = UpdatePresenceRequest {
        sub_list: text_and_alias("first", "secret"),
    };
    assert_eq!(w.status(&mut bob, update.into()), 200);
    assert!(presence_out(&rx).is_empty(), "no remote watcher yet");

    let bob_id = id(&bob);
    let serve = |request: RemoteRequest| FederationOp::Serve {
        target: bob_id.clone(),
        request: Box::new(request),
    };
    let nobody = "wv:nobody@imps.local".to_owned();
    let subscribe = RemoteRequest::SubscribePresence {
        watcher: ZED.into(),
        users: vec![id(&bob), nobody.clone()],
        attributes: None,
    };
    match federation(&mut w, serve(subscribe)) {
        Some(Reply::Admin(Ok(AdminDone::Served { status, .. }))) => {
            assert_eq!(status.code, 201, "{status:?}");
            assert_eq!(status.detailed[0].code, 531);
            assert_eq!(status.detailed[0].user_ids, vec![nobody]);
        }
        other => panic!("{other:?}"),
    }
    // The current value at once, authorized attributes only.
    let out = presence_out(&rx);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].0, vec![ZED.to_owned()]);
    assert_eq!(out[0].1.user_id, id(&bob));
    assert_eq!(decoded(&out[0].1).names(), vec!["StatusText"]);
    assert_eq!(text_of(&decoded(&out[0].1)), Some("first"));
    // bob's watcher list names zed.
    let list = w.call(&mut bob, GetWatcherListRequest::default().into());
    assert!(format!("{list:?}").contains(ZED), "{list:?}");

    // A change reaches zed; an attribute zed may not see does not.
    let update = UpdatePresenceRequest {
        sub_list: text_and_alias("second", "secret"),
    };
    assert_eq!(w.status(&mut bob, update.into()), 200);
    let out = presence_out(&rx);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(text_of(&decoded(&out[0].1)), Some("second"));
    let alias_only = UpdatePresenceRequest {
        sub_list: PresenceSubList {
            alias: Some(Alias {
                qualifier: Some(true),
                value: Some("new secret".into()),
            }),
            ..PresenceSubList::default()
        },
    };
    assert_eq!(w.status(&mut bob, alias_only.into()), 200);
    assert!(presence_out(&rx).is_empty());

    // GetPresence reads the authorized value.
    let get = RemoteRequest::GetPresence {
        requester: ZED.into(),
        users: vec![id(&bob)],
        attributes: None,
    };
    match federation(&mut w, serve(get)) {
        Some(Reply::Admin(Ok(AdminDone::Served { status, answer }))) => {
            assert_eq!(status.code, 200);
            let Answer::Presence(values) = *answer else {
                panic!("{answer:?}")
            };
            assert_eq!(values.len(), 1);
            assert_eq!(decoded(&values[0]).names(), vec!["StatusText"]);
        }
        other => panic!("{other:?}"),
    }

    // Unsubscribed: nothing more goes out.
    let unsubscribe = RemoteRequest::UnsubscribePresence {
        watcher: ZED.into(),
        users: vec![id(&bob)],
    };
    match federation(&mut w, serve(unsubscribe)) {
        Some(Reply::Admin(Ok(AdminDone::Served { status, .. }))) => assert_eq!(status.code, 200),
        other => panic!("{other:?}"),
    }
    let update = UpdatePresenceRequest {
        sub_list: text_and_alias("third", "secret"),
    };
    assert_eq!(w.status(&mut bob, update.into()), 200);
    assert!(presence_out(&rx).is_empty());
}

#[test]
fn an_unauthorized_remote_watcher_waits_for_the_publishers_decision() {
    let (mut w, rx) = federated();
    let mut bob = w.online("bob", 0);
    let update = UpdatePresenceRequest {
        sub_list: text_and_alias("hello", "b"),
    };
    assert_eq!(w.status(&mut bob, update.into()), 200);
    let subscribe = RemoteRequest::SubscribePresence {
        watcher: ZED.into(),
        users: vec![id(&bob)],
        attributes: None,
    };
    let op = FederationOp::Serve {
        target: id(&bob),
        request: Box::new(subscribe),
    };
    match federation(&mut w, op) {
        Some(Reply::Admin(Ok(AdminDone::Served { status, .. }))) => assert_eq!(status.code, 200),
        other => panic!("{other:?}"),
    }
    assert!(presence_out(&rx).is_empty(), "nothing authorized yet");
    // bob is asked, and accepts: zed gets the value at once.
    let asked = w.requests(&mut bob);
    assert!(
        asked
            .iter()
            .any(|(_, p)| matches!(p, Primitive::PresenceAuthRequest(r) if r.user_id.0 == ZED)),
        "{asked:?}"
    );
    let accept = PresenceAuthUser {
        user_id: UserId(ZED.into()),
        acceptance: true,
        ..PresenceAuthUser::default()
    };
    assert_eq!(w.status(&mut bob, accept.into()), 200);
    let out = presence_out(&rx);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(text_of(&decoded(&out[0].1)), Some("hello"));
}

#[test]
fn a_followed_contact_list_watches_its_remote_members() {
    let (mut w, rx) = federated();
    let mut alice = w.online("alice", 0);
    let list = ContactListId(format!("wv:{}/friends@{}", alice.user, common::DOMAIN));
    let create = CreateListRequest {
        contact_list: list.clone(),
        nick_list: Some(NickList {
            nick_names: vec![],
            user_ids: vec![UserId(BOB.into())],
        }),
        properties: None,
    };
    assert_eq!(w.status(&mut alice, create.into()), 200);
    let subscribe = SubscribePresenceRequest {
        contact_lists: vec![list.clone()],
        ..SubscribePresenceRequest::default()
    };
    let token = submit(&mut w, &mut alice, subscribe.into());
    let (query, part, request) = one_request(&rx);
    assert!(
        matches!(&request, RemoteRequest::SubscribePresence { users, .. } if *users == [BOB]),
        "{request:?}"
    );
    federation(
        &mut w,
        outcome(query, part, request, Status::new(200), Answer::None),
    );
    assert_eq!(answer(&mut w, token).map(|p| code_of(&p)), Some(200));

    // A remote member added later is subscribed (nobody waits); a removed one unsubscribed.
    let dan = "wv:dan@b.test";
    let manage = |add: Option<&str>, remove: Option<&str>| ListManageRequest {
        contact_list: list.clone(),
        add_nick_list: add.map(|u| NickList {
            nick_names: vec![],
            user_ids: vec![UserId(u.into())],
        }),
        remove_nick_list: remove.map(|u| RemoveNickList {
            user_ids: vec![UserId(u.into())],
        }),
        properties: None,
        receive_list: None,
    };
    w.call(&mut alice, manage(Some(dan), None).into());
    let (query, _, request) = one_request(&rx);
    assert_eq!(query, 0);
    assert!(
        matches!(&request, RemoteRequest::SubscribePresence { users, .. } if *users == [dan]),
        "{request:?}"
    );
    let values = vec![value(dan, &text_and_alias("dan here", "d"))];
    federation(&mut w, notice(&id(&alice), "b.test", values));
    assert_eq!(notified(&mut w, &mut alice).len(), 1);
    w.call(&mut alice, manage(None, Some(BOB)).into());
    let (query, _, request) = one_request(&rx);
    assert_eq!(query, 0);
    assert!(
        matches!(&request, RemoteRequest::UnsubscribePresence { users, .. } if *users == [BOB]),
        "{request:?}"
    );
}

#[test]
fn a_new_session_with_the_publishers_domain_subscribes_again() {
    let (mut w, rx) = federated();
    let mut alice = w.online("alice", 0);
    let mut second = SimClient::new(&alice.user, alice.version).with_client("second");
    second.login(&mut w.sim, "pw").expect("login");
    let mut asked = Vec::new();
    for (c, users, names) in [
        (&mut alice, vec![user(BOB), user(ZED)], "StatusText"),
        (&mut second, vec![user(BOB)], "OnlineStatus"),
    ] {
        let subscribe = SubscribePresenceRequest {
            users,
            sub_list: Some(PresenceSubList::naming([names])),
            ..SubscribePresenceRequest::default()
        };
        let token = submit(&mut w, c, subscribe.into());
        let got: Vec<FederationOut> = rx.try_iter().collect();
        for o in got {
            let FederationOut::Request {
                query,
                part,
                request,
                ..
            } = o
            else {
                panic!("{o:?}");
            };
            asked.push((*request).clone());
            federation(
                &mut w,
                outcome(query, part, *request, Status::new(200), Answer::None),
            );
        }
        assert_eq!(answer(&mut w, token).map(|p| code_of(&p)), Some(200));
    }
    // The last request to b.test carried the union of what both sessions want.
    let union = asked
        .iter()
        .rev()
        .find_map(|r| match r {
            RemoteRequest::SubscribePresence {
                users, attributes, ..
            } if *users == [BOB] => Some(attributes.clone()),
            _ => None,
        })
        .expect("a subscription to b.test");
    for shard in 0..w.sim.shard_count() {
        let op = FederationOp::PeerUp {
            domain: "b.test".into(),
        };
        let reply = w.sim.call_on(shard, Request::Admin(Admin::Federation(op)));
        assert!(matches!(
            reply,
            Some(Reply::Admin(Ok(AdminDone::Federated)))
        ));
    }
    let (query, _, request) = one_request(&rx);
    assert_eq!(query, 0, "nobody waits");
    assert_eq!(
        request,
        RemoteRequest::SubscribePresence {
            watcher: id(&alice),
            users: vec![BOB.to_owned()],
            attributes: union,
        }
    );
}

#[test]
fn a_repeated_remote_subscription_updates_the_watcher_and_sends_the_value_again() {
    let (mut w, rx) = federated();
    let mut bob = w.online("bob", 1);
    let grant = CreateAttributeListRequest {
        sub_list: PresenceSubList::naming(["StatusText"]),
        user_ids: vec![UserId(ZED.into())],
        contact_lists: vec![],
        default_list: None,
    };
    assert_eq!(w.status(&mut bob, grant.into()), 200);
    let update = UpdatePresenceRequest {
        sub_list: text_and_alias("here", "secret"),
    };
    assert_eq!(w.status(&mut bob, update.into()), 200);
    for _ in 0..2 {
        let subscribe = RemoteRequest::SubscribePresence {
            watcher: ZED.into(),
            users: vec![id(&bob)],
            attributes: None,
        };
        let op = FederationOp::Serve {
            target: id(&bob),
            request: Box::new(subscribe),
        };
        match federation(&mut w, op) {
            Some(Reply::Admin(Ok(AdminDone::Served { status, .. }))) => {
                assert_eq!(status.code, 200, "{status:?}")
            }
            other => panic!("{other:?}"),
        }
        // The current value each time (the watcher's domain may have lost it).
        let out = presence_out(&rx);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(text_of(&decoded(&out[0].1)), Some("here"));
    }
    // One watcher, whose changes reach it once.
    let list = w.call(&mut bob, GetWatcherListRequest::default().into());
    assert_eq!(format!("{list:?}").matches(ZED).count(), 1, "{list:?}");
    let update = UpdatePresenceRequest {
        sub_list: text_and_alias("there", "secret"),
    };
    assert_eq!(w.status(&mut bob, update.into()), 200);
    let out = presence_out(&rx);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].0, vec![ZED.to_owned()]);
}
