//! The sans-IO shard: one core's slice of users and everything they own.
//!
//! A [`Shard`] is driven through [`crate::core::Core`]: requests (CSP messages or
//! administrative operations) come in with the current time, replies and log records come
//! out. Durable operations are answered only after [`Core::handle_durable`] covers their
//! record:
//!
//! ```text
//!   handle_request(PutUser) --> Output::Append(record #n)      (reply held back)
//!   handle_durable(upto >= n) --> Output::Reply(UserPut)
//! ```
//!
//! No clock reads, no I/O, no locks: time and randomness are given to it.

mod admin;
mod csp;
mod deferred;
mod log_failure;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::net::SocketAddr;

use hashbrown::HashMap;
use imps_protocol::{Message, Primitive};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

pub use admin::{Admin, AdminDone, AdminError};
pub(crate) use deferred::PartKind;

use crate::access::cir::CirWake;
use crate::access::login::Challenge;
use crate::access::service;
use crate::access::session::SessionTable;
use crate::access::session_id::parse_session_id;
use crate::config::AccessConfig;
use crate::core::{Core, LogSeq, Millis, Output, Token};
use crate::credentials::Sealer;
use crate::groups::group::Group;
use crate::groups::mesh::GroupMsg;
use crate::im::mesh::ImMsg;
use crate::invite::{Invitations, InviteMsg};
use crate::names::Names;
use crate::presence::mesh::PresenceMsg;
use crate::presence::publication::SessionRef;
use crate::record::{Record, RecordError, ShardImage};
use crate::routing::owner_of_key;
use crate::search::{SearchMsg, Searches, index::GroupIndex};
use crate::users::{Directory, UserIdx};
use deferred::{Collect, Deferred};

/// A CSP message from a client and where it came from.
#[derive(Debug)]
pub struct CspRequest {
    /// The message.
    pub message: Message,
    /// The client's address (for UDP wake-ups); `None` in-process.
    pub peer: Option<SocketAddr>,
}

/// A request to a shard.
#[derive(Debug)]
pub enum Request {
    /// A CSP message from a client.
    Csp(CspRequest),
    /// An operator's operation.
    Admin(Admin),
}

/// A shard's answer.
#[derive(Debug)]
pub enum Reply {
    /// The CSP answer; `None` means an empty HTTP 200 (idle poll, accepted client answer).
    Csp(Option<Message>),
    /// The outcome of an operator's operation.
    Admin(Result<AdminDone, AdminError>),
}

/// Messages between shards (sessions live on their user's shard; presence connects
/// watchers and publishers across shards).
#[derive(Debug)]
pub enum ShardMsg {
    /// Presence: watching, answers, fan-out batches.
    Presence(PresenceMsg),
    /// Messaging: posts, outcomes, delivery reports.
    Im(ImMsg),
    /// Groups: requests, answers, notices, group messages.
    Group(GroupMsg),
    /// Search: criteria to every shard, hits back.
    Search(SearchMsg),
    /// Invitations: deliveries, answers, cancellations.
    Invite(InviteMsg),
}

/// What a shard is built from.
#[derive(Debug, Clone)]
pub struct ShardSetup {
    /// This shard's index.
    pub id: usize,
    /// Number of shards.
    pub shards: usize,
    /// Policy.
    pub config: AccessConfig,
    /// The data directory's master key (seals passwords).
    pub master_key: [u8; 32],
    /// Seed of the shard's random generator (session IDs, nonces): from the OS in a server,
    /// fixed in a simulation.
    pub seed: [u8; 32],
    /// Sequence number of the next log record (after recovery).
    pub next_seq: LogSeq,
}

/// One shard.
#[derive(Debug)]
pub struct Shard {
    pub(crate) id: usize,
    pub(crate) shards: usize,
    pub(crate) config: AccessConfig,
    pub(crate) users: Directory,
    pub(crate) sessions: SessionTable,
    pub(crate) challenges: HashMap<UserIdx, Challenge>,
    pub(crate) challenge_order: VecDeque<(Millis, UserIdx)>,
    pub(crate) rng: ChaCha20Rng,
    pub(crate) sealer: Sealer,
    pub(crate) supported: u64,
    pub(crate) next_txn: u64,
    pub(crate) outputs: VecDeque<Output<Shard>>,
    /// The last record appended while handling the current request (its answer waits).
    pending_record: Option<LogSeq>,
    next_seq: LogSeq,
    durable: LogSeq,
    held: VecDeque<(LogSeq, Token, Reply)>,
    /// User IDs met in presence (watchers, publishers), interned.
    pub(crate) names: Names,
    /// Fan-out batches being filled, per destination shard (reused).
    pub(crate) fanout: Vec<Vec<(SessionRef, u32)>>,
    /// Presence deliveries sent to watcher sessions (all shards).
    pub(crate) deliveries_sent: u64,
    /// Presence deliveries received for this shard's sessions.
    pub(crate) deliveries_received: u64,
    /// Parts opened by the request being handled.
    collect: Collect,
    /// Replies waiting for other shards, by query.
    deferred: HashMap<u64, Deferred>,
    next_query: u64,
    /// Messages to other shards that wait for records to be durable.
    held_mesh: VecDeque<(LogSeq, usize, ShardMsg)>,
    /// What waits for a record before it goes to the federation desk.
    held_desk: VecDeque<(LogSeq, crate::peering::FederationOut)>,
    /// Wall-clock milliseconds at `Millis(0)` (set by the runtime).
    pub(crate) epoch_ms: u64,
    /// The SSP federation desk (issue 11), when federation is on.
    pub(crate) federation: Option<flume::Sender<crate::peering::FederationOut>>,
    /// Mailboxes to look at for expired messages: (wall-clock ms, recipient); see
    /// `Shard::schedule_expiry`.
    pub(crate) expiries: BinaryHeap<Reverse<(u64, UserIdx)>>,
    /// Entries of `expiries` that are some mailbox's current one.
    pub(crate) expiry_entries: usize,
    /// MessageIDs: a random prefix per shard start and a counter.
    pub(crate) message_epoch: u32,
    pub(crate) next_message: u64,
    /// The groups this shard owns, by normalized GroupID.
    pub(crate) groups: HashMap<Box<str>, Group>,
    /// Private groups each owner has (owners live on this shard with their groups).
    pub(crate) owned_groups: HashMap<Box<str>, u32>,
    /// Group messages waiting for this shard's notify/get sessions, and their per-group
    /// delivery methods.
    pub(crate) group_mail: crate::groups::mail::GroupMail,
    /// Group messages handed to joined sessions (all shards).
    pub(crate) group_deliveries: u64,
    /// The searchable groups this shard owns, indexed.
    pub(crate) group_index: GroupIndex,
    /// Searches gathering hits, and finished ones kept for paging.
    pub(crate) searches: Searches,
    /// Open invitations of this shard's users (durable), as inviters and invitees.
    pub(crate) invitations: Invitations,
    /// How this shard's users joined groups of other domains (screen name, notices), to
    /// join again when the group's domain restarted.
    pub(crate) remote_joins: HashMap<(UserIdx, std::sync::Arc<str>), crate::federation::GroupJoin>,
}

impl Shard {
    /// A shard with no users.
    pub fn new(setup: ShardSetup) -> Self {
        let durable = LogSeq(setup.next_seq.0.saturating_sub(1));
        Self {
            id: setup.id,
            shards: setup.shards.max(1),
            users: Directory::default(),
            sessions: SessionTable::default(),
            challenges: HashMap::new(),
            challenge_order: VecDeque::new(),
            rng: ChaCha20Rng::from_seed(setup.seed),
            sealer: Sealer::new(&setup.master_key),
            supported: service::set_of(service::IMPLEMENTED.iter().copied()),
            next_txn: 1,
            config: setup.config,
            outputs: VecDeque::new(),
            pending_record: None,
            next_seq: setup.next_seq,
            durable,
            held: VecDeque::new(),
            names: Names::default(),
            fanout: Vec::new(),
            deliveries_sent: 0,
            deliveries_received: 0,
            collect: Collect::default(),
            deferred: HashMap::new(),
            next_query: 0,
            held_mesh: VecDeque::new(),
            held_desk: VecDeque::new(),
            epoch_ms: 0,
            federation: None,
            expiries: BinaryHeap::new(),
            expiry_entries: 0,
            message_epoch: 0,
            next_message: 0,
            groups: HashMap::new(),
            owned_groups: HashMap::new(),
            group_mail: Default::default(),
            group_deliveries: 0,
            group_index: GroupIndex::default(),
            searches: Searches::default(),
            invitations: Invitations::default(),
            remote_joins: HashMap::new(),
        }
        .with_message_epoch()
    }

    fn with_message_epoch(mut self) -> Self {
        self.message_epoch = rand_core::RngCore::next_u32(&mut self.rng);
        self
    }

    /// Sets the wall clock: milliseconds since the Unix epoch at `Millis(0)`.
    pub fn set_epoch_ms(&mut self, epoch_ms: u64) {
        self.epoch_ms = epoch_ms;
    }

    /// Sends a message to `shard`; when records were appended while handling the current
    /// input, it waits until they are durable (an acknowledgement never precedes the disk).
    pub(crate) fn send_after_records(&mut self, shard: usize, msg: ShardMsg) {
        match self.pending_record {
            Some(seq) if seq > self.durable => self.held_mesh.push_back((seq, shard, msg)),
            _ => self.outputs.push_back(Output::ToShard { shard, msg }),
        }
    }

    /// Hands `out` to the federation desk once the records of the current handler are
    /// durable (at once when there are none), as [`Shard::send_after_records`] does for
    /// other shards: what it tells another domain must not outlive a crash that loses those
    /// records. False when federation is off or the desk is gone.
    pub(crate) fn hand_to_desk(&mut self, out: crate::peering::FederationOut) -> bool {
        let Some(desk) = &self.federation else {
            return false;
        };
        if desk.is_disconnected() {
            return false;
        }
        match self.pending_record {
            Some(seq) if seq > self.durable => {
                self.held_desk.push_back((seq, out));
                true
            }
            _ => desk.send(out).is_ok(),
        }
    }

    /// Presence deliveries this shard sent to watcher sessions, and received for its own.
    pub fn presence_deliveries(&self) -> (u64, u64) {
        (self.deliveries_sent, self.deliveries_received)
    }

    /// Group messages this shard handed to joined sessions (on any shard).
    pub fn group_deliveries(&self) -> u64 {
        self.group_deliveries
    }

    /// This shard's index.
    pub fn id(&self) -> usize {
        self.id
    }

    /// Number of shards in the deployment.
    pub fn shards(&self) -> usize {
        self.shards
    }

    /// Number of accounts.
    pub fn user_count(&self) -> usize {
        self.users.len()
    }

    /// Number of live sessions.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// Applies a replayed record (recovery).
    pub fn apply(&mut self, record: Record) {
        match record {
            Record::UserPut(user) => {
                self.users.put(user);
            }
            Record::UserRemove(id) => {
                self.users.remove(&id);
            }
            Record::ContactListPut(owner, list) => self.store_contact_list(&owner, list),
            Record::ContactListRemove(owner, list) => self.drop_contact_list(&owner, &list),
            Record::AttributeListPut(owner, target, names) => {
                self.store_attribute_list(&owner, target, names);
            }
            Record::AttributeListRemove(owner, target) => {
                self.drop_attribute_list(&owner, &target);
            }
            Record::GrantPut(owner, watcher, grant) => {
                self.store_grant(&owner, &watcher, Some(grant));
            }
            Record::GrantRemove(owner, watcher) => self.store_grant(&owner, &watcher, None),
            Record::LetterStored(owner, letter) => self.store_letter(&owner, letter),
            Record::LetterRemoved(owner, id) => self.drop_letter(&owner, &id),
            Record::AccessListsPut(owner, lists) => self.store_access_lists(&owner, lists),
            Record::GroupPut(group) => self.store_group(group),
            Record::GroupRemove(id) => {
                self.drop_group(&id);
            }
            Record::InvitationSent(inviter, sent) => self.store_sent_invitation(&inviter, sent),
            Record::InviteesDone(inviter, id, invitees) => {
                self.drop_invitees(&inviter, &id, &invitees);
            }
            Record::InvitationReceived(invitee, received) => {
                self.store_received_invitation(&invitee, *received);
            }
            Record::InvitationClosed(invitee, inviter, id) => {
                self.close_received_invitation(&invitee, &inviter, &id);
            }
            Record::InvitationNoticeHeld(user, notice) => {
                self.hold_invitation_notice(&user, notice);
            }
            Record::InvitationsDelivered(user) => self.invitations_delivered(&user),
        }
    }

    /// Loads a snapshot image (recovery, before the log tail).
    pub fn restore(&mut self, image: ShardImage) {
        for user in image.users {
            self.users.put(user);
        }
        for (owner, list) in image.contact_lists {
            self.store_contact_list(&owner, list);
        }
        for (owner, target, names) in image.attribute_lists {
            self.store_attribute_list(&owner, target, names);
        }
        for (owner, watcher, grant) in image.grants {
            self.store_grant(&owner, &watcher, Some(grant));
        }
        for (owner, letter) in image.letters {
            self.store_letter(&owner, letter);
        }
        for (owner, lists) in image.access_lists {
            self.store_access_lists(&owner, lists);
        }
        for group in image.groups {
            self.store_group(group);
        }
        for (inviter, sent) in image.sent_invitations {
            self.store_sent_invitation(&inviter, sent);
        }
        for (invitee, received) in image.received_invitations {
            self.store_received_invitation(&invitee, received);
        }
        for (user, notice) in image.invitation_notices {
            self.hold_invitation_notice(&user, notice);
        }
    }

    /// After recovery: the next record appended gets `next`; everything before is durable.
    pub fn resume_log_at(&mut self, next: LogSeq) {
        self.next_seq = next;
        self.durable = LogSeq(next.0.saturating_sub(1));
    }

    /// The last record known to be durable.
    pub fn durable_log_seq(&self) -> LogSeq {
        self.durable
    }

    /// The sequence number the next appended record gets.
    pub fn next_log_seq(&self) -> LogSeq {
        self.next_seq
    }

    /// The durable state, for a snapshot.
    pub fn image(&self) -> ShardImage {
        ShardImage {
            users: self.users.records(),
            contact_lists: self.users.contact_lists(),
            attribute_lists: self.users.attribute_lists(),
            grants: self.users.grants(),
            letters: self.users.letters(),
            access_lists: self.users.access_lists(),
            groups: self.groups.values().map(|g| g.stored.clone()).collect(),
            sent_invitations: self.invitations.sent_records(),
            received_invitations: self.invitations.received_records(),
            invitation_notices: self.invitations.notice_records(),
        }
    }

    /// Appends a record for the request being handled; its answer is held until the record
    /// is durable. Fails when the record cannot be encoded (nothing was appended).
    pub(crate) fn append_record(&mut self, record: &Record) -> Result<(), RecordError> {
        let bytes = record.to_bytes()?;
        let seq = self.next_seq;
        self.next_seq = LogSeq(seq.0 + 1);
        self.outputs.push_back(Output::Append(bytes));
        self.pending_record = Some(seq);
        Ok(())
    }

    /// Answers the request being handled: at once, or, when its handling appended a
    /// record, once that record is durable (acknowledged means on disk).
    pub(crate) fn reply(&mut self, token: Token, reply: Reply) {
        match self.pending_record.take() {
            Some(seq) => self.held.push_back((seq, token, reply)),
            None => self.outputs.push_back(Output::Reply { token, reply }),
        }
    }

    /// Wakes the client of `slot` unless it was woken and has not come back since.
    pub(crate) fn wake(&mut self, slot: u32) {
        let Some(s) = self.sessions.get_mut(slot) else {
            return;
        };
        if s.woken {
            return;
        }
        s.woken = true;
        let caps = s.caps.as_deref();
        let agreed = |m: &str| caps.is_some_and(|c| c.cir_methods.iter().any(|x| x == m));
        let udp = match (agreed("SUDP"), s.peer, caps.and_then(|c| c.udp_port)) {
            (true, Some(peer), Some(port)) => Some(SocketAddr::new(peer.ip(), port)),
            _ => None,
        };
        let wake = CirWake {
            session_id: s.id_text.clone(),
            version: s.version,
            cookie: s.cookie.clone(),
            udp,
            tcp: agreed("STCP"),
            http: agreed("SHTTP"),
        };
        self.outputs.push_back(Output::Wake(wake));
    }

    /// A fresh server transaction ID.
    pub(crate) fn txn_id(&mut self) -> String {
        use std::fmt::Write as _;
        let n = self.next_txn;
        self.next_txn += 1;
        let mut id = String::with_capacity(24);
        // Writing into a String cannot fail.
        let _ = write!(id, "s{}-{n}", self.id);
        id
    }
}

impl Request {
    /// A CSP message from an in-process client.
    pub fn csp(message: Message) -> Self {
        Request::Csp(CspRequest {
            message,
            peer: None,
        })
    }

    /// A CSP message that arrived from `peer`.
    pub fn csp_from(message: Message, peer: SocketAddr) -> Self {
        Request::Csp(CspRequest {
            message,
            peer: Some(peer),
        })
    }
}

impl Core for Shard {
    type Request = Request;
    type Reply = Reply;
    type Mesh = ShardMsg;
    type Wake = CirWake;

    fn handle_request(&mut self, now: Millis, token: Token, request: Request) {
        match request {
            Request::Csp(CspRequest { message, peer }) => {
                self.collect = Collect::default();
                let (reply, slot) = self.handle_csp(now, message, peer);
                self.finish_request(token, reply, slot);
            }
            Request::Admin(op) => self.handle_admin(now, token, op),
        }
    }

    fn handle_mesh(&mut self, now: Millis, from: usize, msg: ShardMsg) {
        self.pending_record = None;
        match msg {
            ShardMsg::Group(m) => self.handle_group_msg(now, from, m),
            ShardMsg::Search(m) => self.handle_search_msg(from, m),
            ShardMsg::Invite(m) => self.handle_invite_msg(from, m),
            ShardMsg::Im(m) => match m {
                ImMsg::Post {
                    query,
                    part,
                    letter,
                    recipients,
                } => self.handle_post(from, (query, part), &letter, recipients),
                ImMsg::Posted {
                    query,
                    part,
                    results,
                } => self.handle_posted(query, part, results),
                ImMsg::Report { sender, report } => self.handle_report(&sender, *report),
            },
            ShardMsg::Presence(p) => match p {
                PresenceMsg::Watch(w) => self.handle_watch(now, from, w),
                PresenceMsg::Watched(w) => self.handle_watched(w),
                PresenceMsg::Unwatch {
                    session,
                    publishers,
                } => self.handle_unwatch(now, session, &publishers),
                PresenceMsg::Deliver { snapshot, to } => self.handle_deliver(&snapshot, &to),
                PresenceMsg::Restrict { publisher, to } => self.handle_restrict(&publisher, &to),
            },
        }
        // Records appended here hold what this handler sent, never a later request's reply.
        self.pending_record = None;
    }

    fn handle_durable(&mut self, _now: Millis, upto: LogSeq) {
        self.durable = self.durable.max(upto);
        while let Some((seq, _, _)) = self.held_mesh.front() {
            if *seq > self.durable {
                break;
            }
            if let Some((_, shard, msg)) = self.held_mesh.pop_front() {
                self.outputs.push_back(Output::ToShard { shard, msg });
            }
        }
        while let Some((seq, _)) = self.held_desk.front() {
            if *seq > self.durable {
                break;
            }
            if let (Some((_, out)), Some(desk)) = (self.held_desk.pop_front(), &self.federation) {
                // A closed desk (shutting down) loses it, as a lost session would.
                let _ = desk.send(out);
            }
        }
        while let Some((seq, _, _)) = self.held.front() {
            if *seq > self.durable {
                break;
            }
            if let Some((_, token, reply)) = self.held.pop_front() {
                self.outputs.push_back(Output::Reply { token, reply });
            }
        }
    }

    fn handle_log_failed(&mut self, now: Millis, from: LogSeq) {
        self.log_failed(now, from);
    }

    fn handle_timer(&mut self, now: Millis) {
        self.pending_record = None;
        self.expire(now);
        self.expire_letters(now);
        self.expire_invitations(now);
        self.pending_record = None;
    }

    fn poll_output(&mut self) -> Option<Output<Self>> {
        self.outputs.pop_front()
    }

    fn next_timer(&self) -> Option<Millis> {
        let sessions = self.sessions.next_deadline();
        let challenges = self.challenge_order.front().map(|(at, _)| *at);
        let invitations = self.next_invitation_expiry();
        [sessions, challenges, self.next_expiry(), invitations]
            .into_iter()
            .flatten()
            .min()
    }
}

/// The shard a request must go to, among `shards`.
pub fn route(request: &Request, shards: usize, domain: &str) -> usize {
    let shards = shards.max(1);
    let by_user = |id: &str| -> usize {
        let key = imps_protocol::types::UserId::from(id)
            .normalize(domain)
            .unwrap_or_else(|_| id.to_owned());
        usize::from(owner_of_key(&key, u16::try_from(shards).unwrap_or(u16::MAX)).0)
    };
    match request {
        Request::Csp(CspRequest { message, .. }) => {
            if let Some(sid) = &message.session.descriptor.session_id
                && let Some((shard, _)) = parse_session_id(sid.as_str())
            {
                return if shard < shards { shard } else { 0 };
            }
            for t in &message.session.transactions {
                if let Primitive::LoginRequest(login) = &t.content {
                    return by_user(login.user_id.as_str());
                }
            }
            0
        }
        Request::Admin(Admin::CheckSession { session_id }) => parse_session_id(session_id)
            .map(|(shard, _)| if shard < shards { shard } else { 0 })
            .unwrap_or(0),
        Request::Admin(op) => op.user().map_or(0, by_user),
    }
}

#[cfg(test)]
mod tests {
    use imps_protocol::Version;
    use imps_protocol::primitives::{CapabilityList, CirMethod, ClientCapabilityRequest};

    use crate::access::session_id::parse_session_id;
    use crate::config::AccessConfig;
    use crate::sim::{Sim, SimClient};

    #[test]
    fn wake_ups_are_coalesced_until_the_client_comes_back() {
        let config = AccessConfig {
            cir_udp: true,
            cir_tcp: Some(("127.0.0.1".into(), 3171)),
            ..AccessConfig::default()
        };
        let mut sim = Sim::new(1, config, 5);
        sim.add_user("alice", "pw");
        let mut alice = SimClient::new("alice", Version::V1_2);
        alice.peer = Some("10.1.2.3:5555".parse().unwrap());
        alice.login(&mut sim, "pw").unwrap();
        alice.call(
            &mut sim,
            ClientCapabilityRequest {
                client_id: None,
                capability_list: Some(CapabilityList {
                    supported_cir_methods: vec![CirMethod::Sudp, CirMethod::Stcp],
                    udp_port: Some(4000),
                    ..CapabilityList::default()
                }),
            }
            .into(),
        );
        let (_, key) = parse_session_id(alice.session.as_ref().unwrap().as_str()).unwrap();
        let slot = sim.shard(0).sessions.find(&key).unwrap();
        sim.shard_mut(0).wake(slot);
        sim.shard_mut(0).wake(slot);
        let mut wakes = Vec::new();
        while let Some(out) = crate::core::Core::poll_output(sim.shard_mut(0)) {
            if let crate::core::Output::Wake(w) = out {
                wakes.push(w);
            }
        }
        assert_eq!(wakes.len(), 1, "coalesced");
        let w = &wakes[0];
        assert_eq!(w.udp, Some("10.1.2.3:4000".parse().unwrap()));
        assert!(w.tcp && !w.http);
        assert_eq!(w.wvci(), "WVCI 1.2 cookie-alice");
        // The client comes back: the next wake-up goes out again.
        alice.poll(&mut sim);
        sim.shard_mut(0).wake(slot);
        let again = crate::core::Core::poll_output(sim.shard_mut(0));
        assert!(matches!(again, Some(crate::core::Output::Wake(_))));
    }
}
