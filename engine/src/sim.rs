//! The simulation harness: several shards in one thread with a virtual clock, driven by
//! scripted clients. Domain tests run here with no sockets and no sleeping.
//!
//! ```text
//!   SimClient --encode/decode XML--> Sim::call --route--> Shard::handle_request(now)
//!                                        |  drain outputs: replies, mesh, log records
//!                                        |  records are made durable at once (or on demand)
//!   Sim::advance(ms) --> clock moves, due timers fire in order
//! ```

use hashbrown::HashMap;
use imps_protocol::primitives::{LoginRequest, LoginResponse, PollingRequest};
use imps_protocol::types::{Base64Text, SessionId, TransactionId, Url, UserId};
use imps_protocol::{
    Encoding, Message, Primitive, Session, SessionDescriptor, SessionType, StatusCode, Transaction,
    TransactionDescriptor, TransactionMode, Version, decode, encode,
};

use crate::access::cir::CirWake;
use crate::config::AccessConfig;
use crate::core::{Core, LogSeq, Millis, Output, Token};
use crate::credentials::{self, DigestScheme};
use crate::record::Profile;
use crate::shard::{Admin, AdminDone, Reply, Request, Shard, ShardSetup, route};

/// Several shards, one thread, a virtual clock.
#[derive(Debug)]
pub struct Sim {
    now: Millis,
    shards: Vec<Shard>,
    logs: Vec<Vec<Vec<u8>>>,
    auto_durable: bool,
    replies: HashMap<Token, Reply>,
    wakes: Vec<CirWake>,
    next_token: u64,
    domain: String,
}

impl Sim {
    /// `shards` shards with `config`; randomness derived from `seed`.
    pub fn new(shards: usize, config: AccessConfig, seed: u64) -> Self {
        let shards = shards.max(1);
        let domain = config.domain.clone();
        let cores = (0..shards)
            .map(|id| {
                let mut s = [0u8; 32];
                s[..8].copy_from_slice(&seed.to_le_bytes());
                s[8..16].copy_from_slice(&(id as u64).to_le_bytes());
                Shard::new(ShardSetup {
                    id,
                    shards,
                    config: config.clone(),
                    master_key: [0x5A; 32],
                    seed: s,
                    next_seq: LogSeq(1),
                })
            })
            .collect();
        Self {
            now: Millis(0),
            shards: cores,
            logs: vec![Vec::new(); shards],
            auto_durable: true,
            replies: HashMap::new(),
            wakes: Vec::new(),
            next_token: 1,
            domain,
        }
    }

    /// The virtual time.
    pub fn now(&self) -> Millis {
        self.now
    }

    /// Whether appended records become durable at once (default) or only on
    /// [`Sim::make_durable`].
    pub fn set_auto_durable(&mut self, on: bool) {
        self.auto_durable = on;
    }

    /// The shard at `i`.
    pub fn shard(&self, i: usize) -> &Shard {
        &self.shards[i]
    }

    /// Number of shards.
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// The shard at `i`, mutably (in-crate tests).
    #[cfg(test)]
    pub(crate) fn shard_mut(&mut self, i: usize) -> &mut Shard {
        &mut self.shards[i]
    }

    /// Records shard `i` appended so far.
    pub fn log(&self, i: usize) -> &[Vec<u8>] {
        &self.logs[i]
    }

    /// Session IDs woken so far (drained).
    pub fn take_wakes(&mut self) -> Vec<String> {
        self.take_cir_wakes()
            .into_iter()
            .map(|w| w.session_id.to_string())
            .collect()
    }

    /// Wake-ups so far, whole (drained).
    pub fn take_cir_wakes(&mut self) -> Vec<CirWake> {
        std::mem::take(&mut self.wakes)
    }

    /// Sends a request to its shard; the reply is collected by [`Sim::take_reply`].
    pub fn submit(&mut self, request: Request) -> Token {
        let token = Token(self.next_token);
        self.next_token += 1;
        let shard = route(&request, self.shards.len(), &self.domain);
        self.shards[shard].handle_request(self.now, token, request);
        self.drain();
        token
    }

    /// Sends a request to shard `shard`, whatever its route (as the federation desk does
    /// for an operation every shard runs), and returns its reply.
    pub fn call_on(&mut self, shard: usize, request: Request) -> Option<Reply> {
        let token = Token(self.next_token);
        self.next_token += 1;
        self.shards
            .get_mut(shard)?
            .handle_request(self.now, token, request);
        self.drain();
        if !self.replies.contains_key(&token) {
            self.make_durable();
        }
        self.take_reply(token)
    }

    /// The reply for `token`, once there is one.
    pub fn take_reply(&mut self, token: Token) -> Option<Reply> {
        self.replies.remove(&token)
    }

    /// Sends a request and returns its reply (records made durable first if needed).
    pub fn call(&mut self, request: Request) -> Option<Reply> {
        let token = self.submit(request);
        if !self.replies.contains_key(&token) {
            self.make_durable();
        }
        self.take_reply(token)
    }

    /// Connects every shard to a federation desk played by the caller (see
    /// [`Shard::set_federation`]).
    pub fn set_federation(&mut self, desk: Option<flume::Sender<crate::peering::FederationOut>>) {
        for shard in &mut self.shards {
            shard.set_federation(desk.clone());
        }
    }

    /// Reports every appended record durable.
    pub fn make_durable(&mut self) {
        for i in 0..self.shards.len() {
            let upto = LogSeq(self.logs[i].len() as u64);
            self.shards[i].handle_durable(self.now, upto);
        }
        self.drain();
    }

    /// Moves the clock forward by `ms`, firing every timer that falls due on the way.
    pub fn advance(&mut self, ms: u64) {
        let end = self.now.plus(ms);
        loop {
            let next = self
                .shards
                .iter()
                .filter_map(Core::next_timer)
                .filter(|t| *t <= end)
                .min();
            let Some(at) = next else { break };
            self.now = self.now.max(at);
            for i in 0..self.shards.len() {
                if self.shards[i].next_timer().is_some_and(|t| t <= self.now) {
                    self.shards[i].handle_timer(self.now);
                }
            }
            self.drain();
        }
        self.now = end;
    }

    /// Creates an account (durably).
    pub fn add_user(&mut self, user: &str, password: &str) -> bool {
        matches!(
            self.call(Request::Admin(Admin::PutUser {
                user: user.into(),
                password: password.into(),
                profile: Profile::default(),
            })),
            Some(Reply::Admin(Ok(AdminDone::UserPut)))
        )
    }

    fn drain(&mut self) {
        loop {
            let mut progressed = false;
            for i in 0..self.shards.len() {
                while let Some(out) = self.shards[i].poll_output() {
                    progressed = true;
                    match out {
                        Output::Reply { token, reply } => {
                            self.replies.insert(token, reply);
                        }
                        Output::ToShard { shard, msg } => {
                            let now = self.now;
                            if let Some(dest) = self.shards.get_mut(shard) {
                                dest.handle_mesh(now, i, msg);
                            }
                        }
                        Output::Append(bytes) => {
                            self.logs[i].push(bytes);
                            if self.auto_durable {
                                let upto = LogSeq(self.logs[i].len() as u64);
                                self.shards[i].handle_durable(self.now, upto);
                            }
                        }
                        Output::Wake(w) => self.wakes.push(w),
                    }
                }
            }
            if !progressed {
                break;
            }
        }
    }
}

/// A scripted client: builds CSP messages for its session, sends them through the XML
/// codec, and keeps its SessionID.
#[derive(Debug, Clone)]
pub struct SimClient {
    /// The user ID it logs in as.
    pub user: String,
    /// Its ClientID URL.
    pub client: String,
    /// The CSP version it speaks.
    pub version: Version,
    /// Its session, once logged in.
    pub session: Option<SessionId>,
    /// The address its requests come from (`None`: in-process).
    pub peer: Option<std::net::SocketAddr>,
    next_tid: u64,
}

impl SimClient {
    /// A client for `user` speaking `version`.
    pub fn new(user: &str, version: Version) -> Self {
        Self {
            user: user.into(),
            client: "http://sim.example/client".into(),
            version,
            session: None,
            peer: None,
            next_tid: 1,
        }
    }

    /// The same user from another client application.
    pub fn with_client(mut self, client: &str) -> Self {
        self.client = client.into();
        self
    }

    /// A message carrying `transactions` (mode, content) in this client's session.
    pub fn message(
        &mut self,
        transactions: Vec<(TransactionMode, Option<String>, Primitive)>,
    ) -> Message {
        let session_type = if self.session.is_some() {
            SessionType::Inband
        } else {
            SessionType::Outband
        };
        let transactions = transactions
            .into_iter()
            .map(|(mode, id, content)| {
                let id = id.unwrap_or_else(|| {
                    let n = self.next_tid;
                    self.next_tid += 1;
                    format!("c{n}")
                });
                Transaction {
                    descriptor: TransactionDescriptor {
                        mode,
                        id: Some(TransactionId(id)),
                        poll: None,
                    },
                    content,
                    ext_blocks: Vec::new(),
                }
            })
            .collect();
        Message {
            version: self.version,
            session: Session {
                descriptor: SessionDescriptor {
                    session_type,
                    session_id: self.session.clone(),
                },
                transactions,
                poll: None,
                cir: None,
            },
        }
    }

    /// Sends a message over the (simulated) wire: encoded to XML, decoded by the "server",
    /// answered, and the answer encoded and decoded again.
    pub fn send(&mut self, sim: &mut Sim, message: Message) -> Option<Message> {
        let wire = encode(&message);
        let decoded = decode(&wire, Encoding::Xml).ok()?;
        let request = match self.peer {
            Some(peer) => Request::csp_from(decoded, peer),
            None => Request::csp(decoded),
        };
        match sim.call(request)? {
            Reply::Csp(Some(reply)) => decode(&encode(&reply), Encoding::Xml).ok(),
            _ => None,
        }
    }

    /// Sends one request primitive and returns the first transaction's content of the answer.
    pub fn call(&mut self, sim: &mut Sim, primitive: Primitive) -> Option<Primitive> {
        let m = self.message(vec![(TransactionMode::Request, None, primitive)]);
        let reply = self.send(sim, m)?;
        reply
            .session
            .transactions
            .into_iter()
            .next()
            .map(|t| t.content)
    }

    /// Polls; returns the whole answer (`None` for an empty 200).
    pub fn poll(&mut self, sim: &mut Sim) -> Option<Message> {
        let m = self.message(vec![(
            TransactionMode::Request,
            None,
            PollingRequest {}.into(),
        )]);
        self.send(sim, m)
    }

    /// Polls until nothing more comes (at most 20 polls); the server-originated requests
    /// received, in order.
    pub fn server_requests(&mut self, sim: &mut Sim) -> Vec<imps_protocol::Primitive> {
        let mut out = Vec::new();
        for _ in 0..20 {
            let Some(m) = self.poll(sim) else { break };
            let got: Vec<_> = m
                .session
                .transactions
                .into_iter()
                .filter(|t| t.descriptor.mode == TransactionMode::Request)
                .map(|t| t.content)
                .collect();
            if got.is_empty() {
                break;
            }
            out.extend(got);
        }
        out
    }

    fn login_request(&self) -> LoginRequest {
        LoginRequest {
            user_id: UserId(self.user.clone()),
            client_id: imps_protocol::common::ClientId {
                url: Some(Url(self.client.clone())),
                ..Default::default()
            },
            session_cookie: format!("cookie-{}", self.user),
            ..LoginRequest::default()
        }
    }

    fn take_login(&mut self, answer: Option<Primitive>) -> Result<LoginResponse, StatusCode> {
        match answer {
            Some(Primitive::LoginResponse(r)) => {
                if let Some(sid) = &r.session_id {
                    self.session = Some(sid.clone());
                }
                Ok(*r)
            }
            Some(Primitive::Status(s)) => Err(s.result.status()),
            _ => Err(StatusCode::ServerError),
        }
    }

    /// Plain login; the Login-Response on success, the code otherwise.
    pub fn login(&mut self, sim: &mut Sim, password: &str) -> Result<LoginResponse, StatusCode> {
        self.session = None;
        let mut req = self.login_request();
        req.password = Some(password.into());
        let answer = self.call(sim, req.into());
        let r = self.take_login(answer)?;
        match r.result.status() {
            StatusCode::Successful => Ok(r),
            code => Err(code),
        }
    }

    /// 4-way digest login offering `schemas` (e.g. `"MD5"`, `"SHA"`); the final response.
    pub fn login_digest(
        &mut self,
        sim: &mut Sim,
        password: &str,
        schemas: &str,
    ) -> Result<LoginResponse, StatusCode> {
        use imps_protocol::node::Value as _;
        self.session = None;
        let mut first = self.login_request();
        let list = imps_protocol::primitives::DigestSchemaList::parse(schemas.into())
            .map_err(|_| StatusCode::InvalidParameter)?;
        first.digest_schemas = vec![list];
        let answer = self.call(sim, first.into());
        let challenge = self.take_login(answer)?;
        let nonce = challenge.nonce.clone().ok_or(challenge.result.status())?;
        let scheme = challenge
            .digest_schema
            .as_ref()
            .and_then(|l| l.0.first().cloned())
            .ok_or(StatusCode::NoMatchingDigestScheme)?;
        let mut second = self.login_request();
        use imps_protocol::primitives::DigestSchema;
        let hash = match scheme {
            DigestSchema::Md5 => Some(DigestScheme::Md5),
            DigestSchema::Sha => Some(DigestScheme::Sha1),
            _ => None,
        };
        match hash {
            Some(h) => {
                let proof = credentials::digest_bytes(h, &nonce, password);
                second.digest_bytes = Some(Base64Text(proof));
            }
            None => second.password = Some(password.into()),
        }
        let answer = self.call(sim, second.into());
        let r = self.take_login(answer)?;
        match r.result.status() {
            StatusCode::Successful => Ok(r),
            code => Err(code),
        }
    }
}
