//! The in-memory SSP network of the federation tests: a few `Federation`s wired by a tiny
//! network that moves their POSTs, reports acknowledgements and failures, and a virtual
//! clock. Each domain plays its shards from a small directory: users (deliveries answered
//! 200 and a delivery report, 531 for unknown users), the presence of its users, the groups
//! it hosts with their members, and the remote requests it answers the way a shard would.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use imps_engine::federation::{
    Answer, DeliveryReport, Event, Federation, FederationConfig, GroupChangeAction, IncomingError,
    OutgoingMessage, PeerEntry, QueueChange, RemoteRequest, Transmit, TransmitKind,
};
use imps_protocol::StatusCode;
use imps_protocol::ssp::extension::UserProfile;
use imps_protocol::ssp::joined::Mapping;
use imps_protocol::ssp::{Payload, PresenceValue, Status};

pub(crate) struct Node {
    pub(crate) fed: Federation,
    pub(crate) users: Vec<String>,
    pub(crate) up: bool,
    /// Keep this node's POSTs for the test to move by hand.
    pub(crate) hold: bool,
    pub(crate) events: Vec<Event>,
    pub(crate) changes: Vec<QueueChange>,
    pub(crate) errors: Vec<IncomingError>,
    /// The presence of local users, by user id.
    pub(crate) presence: BTreeMap<String, PresenceValue>,
    /// Remote watchers refused by their user's authorization (answered 403).
    pub(crate) denied: BTreeSet<String>,
    /// Granted subscriptions: (remote watcher, local user).
    pub(crate) subscriptions: BTreeSet<(String, String)>,
    /// Hosted groups: group id → member → screen name.
    pub(crate) groups: BTreeMap<String, BTreeMap<String, String>>,
    /// Group change subscriptions: (member, group).
    pub(crate) group_watch: BTreeSet<(String, String)>,
    /// Remote requests are answered (false: left to the test).
    pub(crate) answering: bool,
    /// Rewrites this node's POST bodies on the way (to play another implementation).
    pub(crate) rewrite: Option<fn(&str) -> String>,
}

pub(crate) struct Net {
    pub(crate) nodes: Vec<Node>,
    pub(crate) now: Instant,
    /// Every POST moved, with its sender.
    pub(crate) posts: Vec<(String, Transmit)>,
}

pub(crate) fn url(domain: &str) -> String {
    format!("http://{domain}/ssp")
}

pub(crate) fn config(local: &str, peers: &[&str], routes: &[(&str, &str)]) -> FederationConfig {
    let mut c = FederationConfig::new(local);
    for p in peers {
        c.peers
            .push(PeerEntry::new(p, &url(p)).expect("peer entry"));
    }
    for (d, via) in routes {
        c.routes
            .push(format!("{d}={via}").parse().expect("route entry"));
    }
    c.queue_expiry = Duration::from_secs(600);
    c
}

pub(crate) fn seed(n: u8) -> [u8; 32] {
    [n; 32]
}

impl Net {
    pub(crate) fn new(configs: Vec<(FederationConfig, &[&str])>) -> Self {
        let nodes = configs
            .into_iter()
            .enumerate()
            .map(|(i, (c, users))| Node {
                fed: Federation::new(c, seed(i as u8 + 1)).expect("valid config"),
                users: users.iter().map(|u| u.to_string()).collect(),
                up: true,
                hold: false,
                events: Vec::new(),
                changes: Vec::new(),
                errors: Vec::new(),
                presence: BTreeMap::new(),
                denied: BTreeSet::new(),
                subscriptions: BTreeSet::new(),
                groups: BTreeMap::new(),
                group_watch: BTreeSet::new(),
                answering: true,
                rewrite: None,
            })
            .collect();
        Self {
            nodes,
            now: Instant::now(),
            posts: Vec::new(),
        }
    }

    pub(crate) fn index(&self, domain: &str) -> usize {
        self.nodes
            .iter()
            .position(|n| n.fed.local_domain() == domain)
            .expect("known domain")
    }

    pub(crate) fn node(&mut self, domain: &str) -> &mut Node {
        let i = self.index(domain);
        &mut self.nodes[i]
    }

    /// Posts `t` from node `from`: to the receiver if it is up, then the ack or failure back.
    pub(crate) fn deliver(&mut self, from: usize, t: &Transmit) {
        let to = self
            .nodes
            .iter()
            .position(|n| url(n.fed.local_domain()) == t.url);
        let now = self.now;
        let accepted = match to {
            Some(j) if self.nodes[j].up => {
                match self.nodes[j].fed.handle_incoming(now, None, &t.body) {
                    Ok(()) => true,
                    Err(e) => {
                        self.nodes[j].errors.push(e);
                        false
                    }
                }
            }
            _ => false,
        };
        let sender = &mut self.nodes[from].fed;
        if t.kind == TransmitKind::Response {
            return;
        }
        if accepted {
            sender.handle_ack(now, &t.peer_domain, &t.transaction_id);
        } else {
            sender.handle_send_failed(now, &t.peer_domain, &t.transaction_id);
        }
    }

    /// Plays the shards: answers deliveries from the user directory, keeps every event.
    pub(crate) fn serve_events(&mut self) -> bool {
        let now = self.now;
        let mut any = false;
        for node in &mut self.nodes {
            while let Some(c) = node.fed.poll_queue_change() {
                node.changes.push(c);
            }
            while let Some(e) = node.fed.poll_event() {
                any = true;
                if let Event::Request(r) = &e
                    && node.answering
                {
                    let (status, answer) = node.answer(&r.request);
                    node.fed
                        .answer_request(now, &r.inbound, Status::new(status), answer);
                }
                if let Event::DeliverGroupMessage(m) = &e {
                    let hosted = m.recipients.iter().all(|g| {
                        node.groups
                            .get(g)
                            .is_some_and(|members| members.contains_key(&m.sender))
                    });
                    let code = if hosted { 200 } else { 531 };
                    node.fed
                        .answer_message(now, &m.inbound, Status::new(code), None);
                }
                if let Event::DeliverMessage(m) = &e {
                    let known = m.recipients.iter().all(|r| node.users.contains(r));
                    let code = if known { 200 } else { 531 };
                    node.fed
                        .answer_message(now, &m.inbound, Status::new(code), None);
                    if known && m.delivery_report {
                        for r in &m.recipients {
                            let report = DeliveryReport {
                                original_sender: m.sender.clone(),
                                recipient: r.clone(),
                                message_id: m.message_id.clone(),
                                status: Status::new(200),
                                delivery_time: Some("2026-11-30T16:00:00Z".into()),
                            };
                            let q = node.fed.send_delivery_report(now, &report);
                            assert!(q.result.is_ok(), "report queued: {q:?}");
                        }
                    }
                }
                node.events.push(e);
            }
        }
        any
    }

    /// Moves POSTs and events until nothing moves.
    pub(crate) fn settle(&mut self) {
        for _ in 0..10_000 {
            let mut moved = self.serve_events();
            for i in 0..self.nodes.len() {
                if self.nodes[i].hold {
                    continue;
                }
                while let Some(mut t) = self.nodes[i].fed.poll_transmit() {
                    moved = true;
                    if let Some(rewrite) = self.nodes[i].rewrite {
                        t.body = rewrite(&String::from_utf8_lossy(&t.body)).into_bytes();
                    }
                    let from = self.nodes[i].fed.local_domain().to_owned();
                    self.posts.push((from, t.clone()));
                    self.deliver(i, &t);
                }
            }
            if !moved {
                return;
            }
        }
        panic!("the network does not settle");
    }

    /// Runs the clock forward by `d`, firing every timeout on the way.
    pub(crate) fn advance(&mut self, d: Duration) {
        let until = self.now + d;
        let mut ran_at = None;
        for _ in 0..100_000 {
            self.settle();
            let now = self.now;
            let next = self
                .nodes
                .iter()
                .filter_map(|n| n.fed.next_timeout(now))
                .min();
            match next {
                Some(t) if t <= until => {
                    // A timeout that stays due after it ran would make a runtime spin.
                    assert!(
                        t > now || ran_at != Some(now),
                        "a timeout stays due after it ran"
                    );
                    self.now = t.max(now);
                    ran_at = Some(self.now);
                    let now = self.now;
                    for n in &mut self.nodes {
                        n.fed.handle_timeout(now);
                    }
                }
                _ => break,
            }
        }
        self.now = until;
        let now = self.now;
        for n in &mut self.nodes {
            n.fed.handle_timeout(now);
        }
        self.settle();
    }

    pub(crate) fn send(&mut self, domain: &str, sender: &str, to: &str, report: bool) -> String {
        let now = self.now;
        let msg = OutgoingMessage {
            sender: sender.into(),
            recipients: vec![to.into()],
            message_id: Some(format!("m-{to}")),
            content_type: Some("text/plain".into()),
            content: b"Hello".to_vec(),
            delivery_report: report,
            date_time: None,
        };
        let queued = self.node(domain).fed.send_message(now, &msg);
        assert_eq!(queued.len(), 1);
        queued[0].result.clone().expect("queued")
    }
}

pub(crate) fn delivered(node: &Node) -> Vec<(String, Vec<String>, Vec<u8>)> {
    node.events
        .iter()
        .filter_map(|e| match e {
            Event::DeliverMessage(m) => {
                Some((m.sender.clone(), m.recipients.clone(), m.content.clone()))
            }
            _ => None,
        })
        .collect()
}

pub(crate) fn send_results(node: &Node) -> Vec<u16> {
    node.events
        .iter()
        .filter_map(|e| match e {
            Event::SendResult(r) => Some(r.status.code),
            _ => None,
        })
        .collect()
}

pub(crate) fn pair() -> Net {
    Net::new(vec![
        (config("a.test", &["b.test"], &[]), &["wv:alice@a.test"][..]),
        (config("b.test", &["a.test"], &[]), &["wv:bob@b.test"][..]),
    ])
}

/// Takes the next held POST of `domain` of the given kind, dropping the others.
pub(crate) fn take(net: &mut Net, domain: &str, kind: TransmitKind) -> Transmit {
    let node = net.node(domain);
    loop {
        let t = node.fed.poll_transmit().expect("a held POST");
        if t.kind == kind {
            return t;
        }
    }
}

/// Brings the a–b session up with one message, then holds a's POSTs.
pub(crate) fn live_pair_holding_a() -> Net {
    let mut net = pair();
    net.send("a.test", "wv:alice", "wv:bob@b.test", false);
    net.settle();
    net.nodes[0].hold = true;
    net
}

pub(crate) fn triangle(b_routes: &[(&str, &str)]) -> Net {
    Net::new(vec![
        (
            config("a.test", &["b.test"], &[("c.test", "b.test")]),
            &["wv:alice@a.test"][..],
        ),
        (config("b.test", &["a.test", "c.test"], b_routes), &[][..]),
        (
            config("c.test", &["b.test"], &[("a.test", "b.test")]),
            &["wv:carol@c.test"][..],
        ),
    ])
}

impl Node {
    /// How this domain's shards answer a remote request: (status, answer).
    pub(crate) fn answer(&mut self, request: &RemoteRequest) -> (u16, Answer) {
        let known = |users: &[String]| users.iter().all(|u| self.users.contains(u));
        match request {
            RemoteRequest::SubscribePresence { watcher, users, .. } => {
                if self.denied.contains(watcher) {
                    return (403, Answer::None);
                }
                if !known(users) {
                    return (531, Answer::None);
                }
                for u in users {
                    self.subscriptions.insert((watcher.clone(), u.clone()));
                }
                (200, Answer::None)
            }
            RemoteRequest::UnsubscribePresence { watcher, users } => {
                for u in users {
                    self.subscriptions.remove(&(watcher.clone(), u.clone()));
                }
                (200, Answer::None)
            }
            RemoteRequest::GetPresence {
                requester, users, ..
            } => {
                if self.denied.contains(requester) {
                    return (403, Answer::None);
                }
                let values = users
                    .iter()
                    .filter_map(|u| self.presence.get(u).cloned())
                    .collect();
                (200, Answer::Presence(values))
            }
            RemoteRequest::Invite(i) => (
                if known(std::slice::from_ref(&i.invited)) {
                    200
                } else {
                    531
                },
                Answer::None,
            ),
            RemoteRequest::JoinGroup(j) => match self.groups.get_mut(&j.group) {
                None => (800, Answer::None),
                Some(members) => {
                    let name = j.screen_name.clone().unwrap_or_else(|| j.user.clone());
                    members.insert(j.user.clone(), name);
                    if j.subscribe {
                        self.group_watch.insert((j.user.clone(), j.group.clone()));
                    }
                    let joined = if j.joined_list {
                        members.values().cloned().collect()
                    } else {
                        Vec::new()
                    };
                    (
                        200,
                        Answer::Joined {
                            joined,
                            welcome_note: None,
                        },
                    )
                }
            },
            RemoteRequest::LeaveGroup { user, group } => {
                match self.groups.get_mut(group).and_then(|m| m.remove(user)) {
                    Some(_) => {
                        self.group_watch.remove(&(user.clone(), group.clone()));
                        (200, Answer::None)
                    }
                    None => (808, Answer::None),
                }
            }
            RemoteRequest::GetJoinedUsers { group, .. } => match self.groups.get(group) {
                None => (800, Answer::None),
                Some(members) => (
                    200,
                    Answer::JoinedUsers {
                        admins: Vec::new(),
                        users: members
                            .iter()
                            .map(|(user, name)| Mapping {
                                screen_name: name.clone(),
                                user_id: Some(user.clone()),
                            })
                            .collect(),
                    },
                ),
            },
            RemoteRequest::GetGroupProps { group, .. } => match self.groups.get(group) {
                None => (800, Answer::None),
                Some(_) => (
                    200,
                    Answer::GroupProps {
                        group_properties: Some(Payload::default()),
                        own_properties: None,
                    },
                ),
            },
            RemoteRequest::GroupChange {
                user,
                group,
                action,
            } => {
                let key = (user.clone(), group.clone());
                match action {
                    GroupChangeAction::Subscribe => {
                        self.group_watch.insert(key);
                        (200, Answer::None)
                    }
                    GroupChangeAction::Unsubscribe => {
                        self.group_watch.remove(&key);
                        (200, Answer::None)
                    }
                    GroupChangeAction::Query => {
                        (200, Answer::Subscribed(self.group_watch.contains(&key)))
                    }
                }
            }
            RemoteRequest::GetUserProfile { users, .. } => (
                200,
                Answer::Profiles(
                    users
                        .iter()
                        .filter(|u| self.users.contains(u))
                        .map(|u| UserProfile {
                            user_id: u.clone(),
                            active: Some(true),
                            ..UserProfile::default()
                        })
                        .collect(),
                ),
            ),
            RemoteRequest::UpdateUserProfile { profile, .. } => (
                if known(std::slice::from_ref(&profile.user_id)) {
                    200
                } else {
                    531
                },
                Answer::None,
            ),
            _ => (501, Answer::None),
        }
    }
}

/// The events of `node` that are results of local requests: (status, answer).
pub(crate) fn request_results(node: &Node) -> Vec<(u16, Answer)> {
    node.events
        .iter()
        .filter_map(|e| match e {
            Event::RequestResult(r) => Some((r.status.code, r.answer.clone())),
            _ => None,
        })
        .collect()
}

/// The notices `node` received.
pub(crate) fn notices(node: &Node) -> Vec<RemoteRequest> {
    node.events
        .iter()
        .filter_map(|e| match e {
            Event::Notice(n) => Some(n.notice.clone()),
            _ => None,
        })
        .collect()
}

/// The requests `node`'s shards were asked.
pub(crate) fn requests(node: &Node) -> Vec<RemoteRequest> {
    node.events
        .iter()
        .filter_map(|e| match e {
            Event::Request(r) => Some(r.request.clone()),
            _ => None,
        })
        .collect()
}

/// Number of POSTs sent from `from` whose body mentions `element`.
pub(crate) fn posts_with(net: &Net, from: &str, element: &str) -> usize {
    net.posts
        .iter()
        .filter(|(f, t)| f == from && String::from_utf8_lossy(&t.body).contains(element))
        .count()
}

// Shared by the services and agreement tests.

/// The group b.test hosts in the services tests.
pub(crate) const GROUP: &str = "wv:bob/chat@b.test";

pub(crate) fn subscribe(watcher: &str, user: &str) -> RemoteRequest {
    RemoteRequest::SubscribePresence {
        watcher: watcher.into(),
        users: vec![user.into()],
        attributes: None,
    }
}

/// a.test (alice, al) and b.test (bob, bert, the group `GROUP` with bob in it).
pub(crate) fn services_pair() -> Net {
    let mut net = pair();
    net.nodes[0].users.push("wv:al@a.test".into());
    let b = &mut net.nodes[1];
    b.users.push("wv:bert@b.test".into());
    b.groups.insert(
        GROUP.into(),
        [("wv:bob@b.test".to_owned(), "Bob".to_owned())].into(),
    );
    net
}

pub(crate) fn request(net: &mut Net, domain: &str, r: RemoteRequest) -> Result<String, StatusCode> {
    let now = net.now;
    let i = net.index(domain);
    net.nodes[i].fed.request(now, r).result
}

pub(crate) fn last_result(net: &Net, domain: &str) -> (u16, Answer) {
    request_results(&net.nodes[net.index(domain)])
        .pop()
        .expect("a request result")
}
