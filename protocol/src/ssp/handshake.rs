//! The session set-up state machine (SSP.md §3): a dialback in six steps over separate POSTs,
//! for both roles. Pure: time (`now`) and randomness (`rng`) are arguments; messages to send
//! are returned.
//!
//! ```text
//!  initiator A                                   responder B
//!  initiate()      1 SendSecretToken(A-secret) Request  ->  handle_setup: store, reply 2
//!  handle_setup <- 2 SendSecretToken(B-secret) Response
//!  reply 3         3 LoginRequest(MD5(B-secret)) Request ->  check MD5(own secret), reply 4
//!  handle_setup <- 4 LoginRequest(MD5(A-secret)) Response
//!  check, reply 5  5 LoginResponse(A-session, 200) Request -> live, reply 6
//!  handle_setup <- 6 LoginResponse(B-session, 200) Response: live
//! ```
//!
//! States of one [`PeerSession`]'s handshake:
//!
//! ```text
//!  Idle --initiate--> SentToken --2--> SentLogin --4--> SentLoginResponse --6--> Idle + live
//!  Idle --1--> SentTokenBack --3--> Verified --5--> Idle + live
//!  any --wrong digest/tid/domain, or handshake timeout--> Idle (no session)
//! ```
//!
//! Replies go to the peer's SSP URL from the peer table or its DNS (never back to the
//! connection a step came on): that is what makes step 2 a dialback.
//!
//! A step equal to one already consumed in the current handshake (a replay) is
//! [`Handled::Ignored`]. A live session survives a new handshake until it completes, so a
//! peer that forgot the session (it restarted) can set up a new one; locally
//! [`PeerSession::handle_session_lost`] drops the session and starts again. With a per-peer
//! shared secret both `LoginRequest`s must also carry the keyed digest of [`super::digest`].

use std::time::{Duration, Instant};

use rand_core::RngCore;

use super::common::{Status, domain_of_service_id};
use super::digest::{constant_time_eq, dialback_digest, keyed_digest};
use super::message::{
    LoginRequest, LoginResponse, Mode, SendSecretToken, SetupContent, SetupTransaction, SspMessage,
    Token,
};
use super::names;

/// How long an unfinished handshake is kept.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(60);
/// Baraza's session lifetime (`DEFAULT_EXPIRY`), seconds.
pub const DEFAULT_TIME_TO_LIVE: u32 = 86_400;

/// What we know about one peer domain, for one of our domains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerConfig {
    /// Our domain.
    pub local_domain: String,
    /// The peer's domain.
    pub peer_domain: String,
    /// Longest session we grant or ask for, seconds.
    pub time_to_live: u32,
    /// Extension: a secret shared with the peer; when set, both `LoginRequest`s must carry
    /// the matching keyed digest.
    pub shared_secret: Option<Vec<u8>>,
}

impl PeerConfig {
    /// A peer without shared secret, with Baraza's session lifetime.
    pub fn new(local_domain: impl Into<String>, peer_domain: impl Into<String>) -> Self {
        Self {
            local_domain: local_domain.into(),
            peer_domain: peer_domain.into(),
            time_to_live: DEFAULT_TIME_TO_LIVE,
            shared_secret: None,
        }
    }
}

/// Why a handshake step was refused. The pending handshake is dropped (no session); the
/// caller closes the connection without an answer, as Baraza does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// No peer is configured for the sending domain.
    #[error("no SSP peer {peer:?} for local domain {local:?}")]
    UnknownPeer {
        /// The sending domain.
        peer: String,
        /// Our domain.
        local: String,
    },
    /// The step names another domain than the peer's.
    #[error("step from {found:?} on the session with {expected:?}")]
    WrongDomain {
        /// The peer.
        expected: String,
        /// What the step says.
        found: String,
    },
    /// The step does not fit the handshake state (kept unchanged).
    #[error("unexpected handshake step {step} in state {state}")]
    UnexpectedStep {
        /// Step number 1–6.
        step: u8,
        /// The state's name.
        state: &'static str,
    },
    /// The step's transaction id is not the handshake's.
    #[error("unknown set-up transaction {0:?}")]
    UnknownTransaction(String),
    /// The MD5 dialback digest does not match our secret.
    #[error("wrong dialback digest from {0}")]
    WrongDigest(String),
    /// The keyed digest is missing or wrong.
    #[error("missing or wrong keyed digest from {0}")]
    WrongKeyedDigest(String),
    /// The peer answered with a failure status.
    #[error("peer refused the session with status {0}")]
    Refused(u16),
}

/// What handling a step produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// Send this to the peer; the handshake goes on.
    Reply(SspMessage),
    /// The session is live; send the message, if any.
    Established(Option<SspMessage>),
    /// A replayed step: nothing to do.
    Ignored,
}

/// A live session: the ids each side chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSession {
    /// Ours, `<n>@<local-domain>`: in the `Session` element of everything we send.
    pub local_session_id: String,
    /// The peer's: in the `Session` element of everything it sends.
    pub peer_session_id: String,
    /// Negotiated lifetime, seconds.
    pub time_to_live: u32,
    /// When it expires.
    pub expires_at: Instant,
}

#[derive(Debug, Clone)]
enum State {
    Idle,
    /// Initiator after step 1.
    SentToken {
        own: Vec<u8>,
        tid: String,
    },
    /// Initiator after step 3.
    SentLogin {
        own: Vec<u8>,
        peer: Vec<u8>,
        tid: String,
    },
    /// Initiator after step 5.
    SentLoginResponse {
        tid: String,
        sid: String,
        ttl: u32,
    },
    /// Responder after step 2.
    SentTokenBack {
        own: Vec<u8>,
        peer: Vec<u8>,
        tid: String,
    },
    /// Responder after step 4.
    Verified {
        tid: String,
        ttl: u32,
    },
}

impl State {
    fn name(&self) -> &'static str {
        match self {
            Self::Idle => "Idle",
            Self::SentToken { .. } => "SentToken",
            Self::SentLogin { .. } => "SentLogin",
            Self::SentLoginResponse { .. } => "SentLoginResponse",
            Self::SentTokenBack { .. } => "SentTokenBack",
            Self::Verified { .. } => "Verified",
        }
    }
}

/// The session with one peer domain, for one local domain, in either role.
#[derive(Debug, Clone)]
pub struct PeerSession {
    config: PeerConfig,
    state: State,
    started: Option<Instant>,
    consumed: Vec<SetupTransaction>,
    live: Option<LiveSession>,
}

impl PeerSession {
    /// A session not yet set up.
    pub fn new(config: PeerConfig) -> Self {
        Self {
            config,
            state: State::Idle,
            started: None,
            consumed: Vec::new(),
            live: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &PeerConfig {
        &self.config
    }

    /// The live session, unless it expired by `now`.
    pub fn live(&self, now: Instant) -> Option<&LiveSession> {
        self.live.as_ref().filter(|l| now < l.expires_at)
    }

    /// True while a handshake is under way.
    pub fn is_handshaking(&self) -> bool {
        !matches!(self.state, State::Idle)
    }

    /// True when `session_id` (from a received `Session`) is the peer's live session.
    pub fn accepts(&self, now: Instant, session_id: &str) -> bool {
        self.live(now)
            .is_some_and(|l| l.peer_session_id == session_id)
    }

    /// Starts a handshake as initiator: step 1, to send to the peer's SSP URL. A pending
    /// handshake is abandoned; a live session stays until the new one completes.
    pub fn initiate(&mut self, now: Instant, rng: &mut impl RngCore) -> SspMessage {
        let own = random_secret(rng);
        let tid = random_id(rng);
        self.begin(now);
        self.state = State::SentToken {
            own: own.clone(),
            tid: tid.clone(),
        };
        setup(Mode::Request, tid, self.secret_token(own))
    }

    /// The peer said it does not know our session (unknown session, status 604): drops it and
    /// starts a new handshake (step 1).
    pub fn handle_session_lost(&mut self, now: Instant, rng: &mut impl RngCore) -> SspMessage {
        self.live = None;
        self.initiate(now, rng)
    }

    /// The next instant [`PeerSession::handle_timeout`] has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let handshake = self.started.map(|s| s + HANDSHAKE_TIMEOUT);
        let live = self.live.as_ref().map(|l| l.expires_at);
        match (handshake, live) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Drops an expired session and a handshake older than [`HANDSHAKE_TIMEOUT`].
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.live.as_ref().is_some_and(|l| now >= l.expires_at) {
            self.live = None;
        }
        if self.started.is_some_and(|s| now >= s + HANDSHAKE_TIMEOUT) {
            self.reset();
        }
    }

    /// Handles a received set-up step from the peer.
    pub fn handle_setup(
        &mut self,
        now: Instant,
        step: &SetupTransaction,
        rng: &mut impl RngCore,
    ) -> Result<Handled, HandshakeError> {
        if self.consumed.contains(step) {
            return Ok(Handled::Ignored);
        }
        self.handle_timeout(now);
        let sender = sender_domain(step);
        if !sender.eq_ignore_ascii_case(&self.config.peer_domain) {
            return Err(HandshakeError::WrongDomain {
                expected: self.config.peer_domain.clone(),
                found: sender.to_owned(),
            });
        }
        let result = match (&step.content, step.mode) {
            (SetupContent::SendSecretToken(t), Mode::Request) => self.on_token(now, step, t, rng),
            (SetupContent::SendSecretToken(t), Mode::Response) => self.on_token_back(t),
            (SetupContent::LoginRequest(l), Mode::Request) => self.on_login(step, l),
            (SetupContent::LoginRequest(l), Mode::Response) => self.on_login_back(step, l, rng),
            (SetupContent::LoginResponse(l), Mode::Request) => {
                self.on_login_response(now, step, l, rng)
            }
            (SetupContent::LoginResponse(l), Mode::Response) => {
                self.on_login_response_back(now, step, l)
            }
        };
        match &result {
            Ok(_) => self.consumed.push(step.clone()),
            Err(HandshakeError::UnexpectedStep { .. }) => {}
            Err(_) => self.reset(),
        }
        result
    }

    /// Step 1, as responder.
    fn on_token(
        &mut self,
        now: Instant,
        step: &SetupTransaction,
        t: &SendSecretToken,
        rng: &mut impl RngCore,
    ) -> Result<Handled, HandshakeError> {
        if let State::SentToken { .. } = self.state {
            // Both sides initiated: the smaller domain name stays initiator.
            if self.config.local_domain < self.config.peer_domain {
                return Err(self.unexpected(1));
            }
        }
        let own = random_secret(rng);
        let tid = random_id(rng);
        self.begin(now);
        self.state = State::SentTokenBack {
            own: own.clone(),
            peer: t.secret.value.clone(),
            tid: step.transaction_id.clone(),
        };
        Ok(Handled::Reply(setup(
            Mode::Response,
            tid,
            self.secret_token(own),
        )))
    }

    /// Step 2, as initiator.
    fn on_token_back(&mut self, t: &SendSecretToken) -> Result<Handled, HandshakeError> {
        let State::SentToken { own, tid } = &self.state else {
            return Err(self.unexpected(2));
        };
        let (own, tid) = (own.clone(), tid.clone());
        let peer = t.secret.value.clone();
        let login = self.login_request(self.config.time_to_live, &peer, &own, &peer);
        self.state = State::SentLogin {
            own,
            peer,
            tid: tid.clone(),
        };
        Ok(Handled::Reply(setup(Mode::Request, tid, login)))
    }

    /// Step 3, as responder.
    fn on_login(
        &mut self,
        step: &SetupTransaction,
        l: &LoginRequest,
    ) -> Result<Handled, HandshakeError> {
        let State::SentTokenBack { own, peer, tid } = &self.state else {
            return Err(self.unexpected(3));
        };
        if step.transaction_id != *tid {
            return Err(HandshakeError::UnknownTransaction(
                step.transaction_id.clone(),
            ));
        }
        self.verify(l, own, peer, own)?;
        let ttl = l
            .time_to_live
            .unwrap_or(self.config.time_to_live)
            .min(self.config.time_to_live);
        let tid = tid.clone();
        let login = self.login_request(ttl, peer, peer, own);
        self.state = State::Verified {
            tid: tid.clone(),
            ttl,
        };
        Ok(Handled::Reply(setup(Mode::Response, tid, login)))
    }

    /// Step 4, as initiator.
    fn on_login_back(
        &mut self,
        step: &SetupTransaction,
        l: &LoginRequest,
        rng: &mut impl RngCore,
    ) -> Result<Handled, HandshakeError> {
        let State::SentLogin { own, peer, tid } = &self.state else {
            return Err(self.unexpected(4));
        };
        if step.transaction_id != *tid {
            return Err(HandshakeError::UnknownTransaction(
                step.transaction_id.clone(),
            ));
        }
        self.verify(l, own, own, peer)?;
        let ttl = l
            .time_to_live
            .unwrap_or(self.config.time_to_live)
            .min(self.config.time_to_live);
        let sid = self.new_session_id(rng);
        let tid = tid.clone();
        let response = self.login_response(&sid, ttl);
        self.state = State::SentLoginResponse {
            tid: tid.clone(),
            sid,
            ttl,
        };
        Ok(Handled::Reply(setup(Mode::Request, tid, response)))
    }

    /// Step 5, as responder.
    fn on_login_response(
        &mut self,
        now: Instant,
        step: &SetupTransaction,
        l: &LoginResponse,
        rng: &mut impl RngCore,
    ) -> Result<Handled, HandshakeError> {
        let State::Verified { tid, ttl } = &self.state else {
            return Err(self.unexpected(5));
        };
        if step.transaction_id != *tid {
            return Err(HandshakeError::UnknownTransaction(
                step.transaction_id.clone(),
            ));
        }
        let (tid, ttl) = (tid.clone(), *ttl);
        self.check_response(l)?;
        let sid = self.new_session_id(rng);
        let reply = setup(Mode::Response, tid, self.login_response(&sid, ttl));
        self.establish(now, sid, l.session_id.clone(), ttl);
        Ok(Handled::Established(Some(reply)))
    }

    /// Step 6, as initiator.
    fn on_login_response_back(
        &mut self,
        now: Instant,
        step: &SetupTransaction,
        l: &LoginResponse,
    ) -> Result<Handled, HandshakeError> {
        let State::SentLoginResponse { tid, sid, ttl } = &self.state else {
            return Err(self.unexpected(6));
        };
        if step.transaction_id != *tid {
            return Err(HandshakeError::UnknownTransaction(
                step.transaction_id.clone(),
            ));
        }
        let (sid, ttl) = (sid.clone(), *ttl);
        self.check_response(l)?;
        self.establish(now, sid, l.session_id.clone(), ttl);
        Ok(Handled::Established(None))
    }

    fn check_response(&self, l: &LoginResponse) -> Result<(), HandshakeError> {
        if !l.status.is_success() {
            return Err(HandshakeError::Refused(l.status.code));
        }
        let domain = l.session_id.rsplit_once('@').map_or("", |(_, d)| d);
        if !domain.eq_ignore_ascii_case(&self.config.peer_domain) {
            return Err(HandshakeError::WrongDomain {
                expected: self.config.peer_domain.clone(),
                found: domain.to_owned(),
            });
        }
        Ok(())
    }

    /// Checks a received `LoginRequest`: MD5 of our secret, and the keyed digest if a shared
    /// secret is configured.
    fn verify(
        &self,
        l: &LoginRequest,
        own: &[u8],
        initiator_token: &[u8],
        responder_token: &[u8],
    ) -> Result<(), HandshakeError> {
        if !constant_time_eq(&l.digest.value, &dialback_digest(own)) {
            return Err(HandshakeError::WrongDigest(self.config.peer_domain.clone()));
        }
        if let Some(shared) = &self.config.shared_secret {
            let expected = keyed_digest(
                shared,
                &self.config.local_domain,
                &self.config.peer_domain,
                initiator_token,
                responder_token,
            );
            let ok = l
                .keyed_digest
                .as_ref()
                .is_some_and(|k| constant_time_eq(&k.value, &expected));
            if !ok {
                return Err(HandshakeError::WrongKeyedDigest(
                    self.config.peer_domain.clone(),
                ));
            }
        }
        Ok(())
    }

    fn login_request(
        &self,
        ttl: u32,
        peer: &[u8],
        initiator_token: &[u8],
        responder_token: &[u8],
    ) -> SetupContent {
        let keyed = self.config.shared_secret.as_ref().map(|shared| {
            Token::base64(keyed_digest(
                shared,
                &self.config.peer_domain,
                &self.config.local_domain,
                initiator_token,
                responder_token,
            ))
        });
        SetupContent::LoginRequest(LoginRequest {
            domain: self.config.local_domain.clone(),
            time_to_live: Some(ttl),
            digest: Token::base64(dialback_digest(peer)),
            keyed_digest: keyed,
        })
    }

    fn login_response(&self, sid: &str, ttl: u32) -> SetupContent {
        SetupContent::LoginResponse(LoginResponse {
            session_id: sid.to_owned(),
            time_to_live: Some(ttl),
            status: Status::new(200),
        })
    }

    fn secret_token(&self, own: Vec<u8>) -> SetupContent {
        SetupContent::SendSecretToken(SendSecretToken {
            domain: self.config.local_domain.clone(),
            protocol: Some(names::PROTOCOL_NAME.to_owned()),
            protocol_version: Some(names::PROTOCOL_VERSION.to_owned()),
            secret: Token::plain(own),
        })
    }

    fn new_session_id(&self, rng: &mut impl RngCore) -> String {
        format!("{}@{}", random_id(rng), self.config.local_domain)
    }

    fn establish(&mut self, now: Instant, local: String, peer: String, ttl: u32) {
        self.live = Some(LiveSession {
            local_session_id: local,
            peer_session_id: peer,
            time_to_live: ttl,
            expires_at: now + Duration::from_secs(u64::from(ttl)),
        });
        self.state = State::Idle;
        self.started = None;
    }

    fn begin(&mut self, now: Instant) {
        self.started = Some(now);
        self.consumed.clear();
    }

    fn reset(&mut self) {
        self.state = State::Idle;
        self.started = None;
    }

    fn unexpected(&self, step: u8) -> HandshakeError {
        HandshakeError::UnexpectedStep {
            step,
            state: self.state.name(),
        }
    }
}

/// The domain a set-up step says it comes from.
pub fn sender_domain(step: &SetupTransaction) -> &str {
    match &step.content {
        SetupContent::SendSecretToken(t) => &t.domain,
        SetupContent::LoginRequest(l) => &l.domain,
        SetupContent::LoginResponse(l) => l.session_id.rsplit_once('@').map_or("", |(_, d)| d),
    }
}

fn setup(mode: Mode, transaction_id: String, content: SetupContent) -> SspMessage {
    SspMessage::Setup(SetupTransaction {
        mode,
        transaction_id,
        content,
    })
}

/// A secret token: 16 random bytes as 32 lower-case hex digits (the shape of Baraza's MD5
/// hex secrets).
fn random_secret(rng: &mut impl RngCore) -> Vec<u8> {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    bytes
        .iter()
        .flat_map(|b| format!("{b:02x}").into_bytes())
        .collect()
}

/// A 64-bit random id in decimal.
fn random_id(rng: &mut impl RngCore) -> String {
    rng.next_u64().to_string()
}

/// The sessions with every configured peer, keyed by (peer domain, local domain). A step from
/// a domain that is not configured is refused ([`HandshakeError::UnknownPeer`]).
#[derive(Debug, Clone, Default)]
pub struct PeerSessions {
    sessions: std::collections::HashMap<(String, String), PeerSession>,
}

impl PeerSessions {
    /// No peers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a peer.
    pub fn add_peer(&mut self, config: PeerConfig) {
        let key = (
            config.peer_domain.to_ascii_lowercase(),
            config.local_domain.to_ascii_lowercase(),
        );
        self.sessions.insert(key, PeerSession::new(config));
    }

    /// The session with `peer` for `local`.
    pub fn session(&self, peer: &str, local: &str) -> Option<&PeerSession> {
        self.sessions
            .get(&(peer.to_ascii_lowercase(), local.to_ascii_lowercase()))
    }

    /// The session with `peer` for `local`, mutable.
    pub fn session_mut(&mut self, peer: &str, local: &str) -> Option<&mut PeerSession> {
        self.sessions
            .get_mut(&(peer.to_ascii_lowercase(), local.to_ascii_lowercase()))
    }

    /// Handles a set-up step received by `local`.
    pub fn handle_setup(
        &mut self,
        now: Instant,
        local: &str,
        step: &SetupTransaction,
        rng: &mut impl RngCore,
    ) -> Result<Handled, HandshakeError> {
        let peer = domain_of_service_id(sender_domain(step)).to_owned();
        match self.session_mut(&peer, local) {
            Some(session) => session.handle_setup(now, step, rng),
            None => Err(HandshakeError::UnknownPeer {
                peer,
                local: local.to_owned(),
            }),
        }
    }

    /// The session a received `Session` block belongs to: the peer is the domain of its
    /// session id, which must be that peer's live session.
    pub fn find_live(&self, now: Instant, local: &str, session_id: &str) -> Option<&PeerSession> {
        let peer = session_id.rsplit_once('@')?.1;
        self.session(peer, local)
            .filter(|s| s.accepts(now, session_id))
    }

    /// Runs [`PeerSession::handle_timeout`] on every session.
    pub fn handle_timeout(&mut self, now: Instant) {
        for session in self.sessions.values_mut() {
            session.handle_timeout(now);
        }
    }
}
