//! Login: plain `Password` and the 4-way digest exchange, session creation and replacement.
//!
//! ```text
//!   Login-Request(Password)              --> 200 + SessionID           (plain)
//!   Login-Request(DigestSchema list)     --> challenge_code + Nonce + DigestSchema, no SessionID
//!   Login-Request(DigestBytes | Password) --> 200 + SessionID (nonce consumed, single use)
//! ```
//! Wrong credentials get 409, an unknown user 531, no session either way.

use imps_protocol::common::CspResult;
use imps_protocol::primitives::{
    DigestSchema, DigestSchemaList, Disconnect, LoginRequest, LoginResponse,
};
use imps_protocol::types::{SessionId, UserId};
use imps_protocol::{StatusCode, Version};

use super::outbox::Outgoing;
use super::session::{Session, SessionState};
use super::session_id::SessionKey;
use crate::core::Millis;
use crate::credentials::{self, DigestScheme};
use crate::shard::Shard;
use crate::users::UserIdx;

/// Seconds an expired session lingers to deliver its Disconnect 600.
const EXPIRED_GRACE_S: u32 = 60;

/// An outstanding digest challenge of a user.
#[derive(Debug, Clone)]
pub struct Challenge {
    /// The nonce sent.
    pub nonce: String,
    /// The scheme chosen (`None`: PWD, the password itself in the second request).
    pub scheme: Option<DigestScheme>,
    /// When it stops being valid.
    pub expires: Millis,
}

fn schema_of(scheme: Option<DigestScheme>) -> DigestSchema {
    match scheme {
        Some(DigestScheme::Md5) => DigestSchema::Md5,
        Some(DigestScheme::Sha1) => DigestSchema::Sha,
        None => DigestSchema::Pwd,
    }
}

/// The text a session remembers as its client (URL, MSISDN or bare ID).
pub fn client_key(req: &LoginRequest) -> String {
    let c = &req.client_id;
    c.url
        .as_ref()
        .map(|u| u.0.clone())
        .or_else(|| c.msisdn.clone())
        .or_else(|| c.text.clone())
        .unwrap_or_default()
}

impl Shard {
    fn login_failure(&self, req: &LoginRequest, code: StatusCode) -> LoginResponse {
        LoginResponse {
            client_id: req.client_id.clone(),
            result: CspResult::new(code),
            ..LoginResponse::default()
        }
    }

    /// Handles a Login-Request.
    pub(crate) fn login(
        &mut self,
        now: Millis,
        req: &LoginRequest,
        version: Version,
    ) -> LoginResponse {
        let Ok(id) = UserId::from(req.user_id.as_str()).normalize(&self.config.domain) else {
            return self.login_failure(req, StatusCode::UnknownUser);
        };
        let Some(idx) = self.users.find(&id) else {
            return self.login_failure(req, StatusCode::UnknownUser);
        };
        let password = match self
            .users
            .user(idx)
            .map(|u| self.sealer.open(&u.sealed_password))
        {
            Some(Ok(p)) => p,
            _ => return self.login_failure(req, StatusCode::ServerError),
        };
        let challenge = self
            .challenges
            .get(&idx)
            .filter(|c| c.expires > now)
            .cloned();
        let proven = if let Some(digest) = &req.digest_bytes {
            let Some(ch) = challenge else {
                return self.challenge(now, idx, req);
            };
            self.challenges.remove(&idx);
            match ch.scheme {
                Some(scheme) => credentials::verify_digest(scheme, &ch.nonce, &password, &digest.0),
                None => false,
            }
        } else if let Some(given) = &req.password {
            let pwd_challenge = challenge.is_some_and(|c| c.scheme.is_none());
            if pwd_challenge {
                self.challenges.remove(&idx);
            } else if !self.config.allow_plain_password {
                return self.login_failure(req, StatusCode::NoMatchingDigestScheme);
            }
            credentials::verify_password(&password, given)
        } else {
            return self.challenge(now, idx, req);
        };
        if !proven {
            return self.login_failure(req, StatusCode::InvalidPassword);
        }
        self.open_session(now, idx, req, version)
    }

    /// Starts (or restarts) the digest exchange.
    fn challenge(&mut self, now: Millis, idx: UserIdx, req: &LoginRequest) -> LoginResponse {
        let offered: Vec<&DigestSchema> = req.offered_schemas().collect();
        let mut chosen = None;
        for scheme in &self.config.digest_schemes {
            if offered.iter().any(|o| **o == schema_of(Some(*scheme))) {
                chosen = Some(Some(*scheme));
                break;
            }
        }
        if chosen.is_none()
            && self.config.allow_plain_password
            && offered.contains(&&DigestSchema::Pwd)
        {
            chosen = Some(None);
        }
        if chosen.is_none() && offered.is_empty() {
            // A client that names no schema gets the server's first choice.
            chosen = self.config.digest_schemes.first().map(|s| Some(*s));
        }
        let Some(scheme) = chosen else {
            return self.login_failure(req, StatusCode::NoMatchingDigestScheme);
        };
        let nonce = SessionKey::random(&mut self.rng).to_text(0)[2..].to_owned();
        let expires = now.plus(self.config.nonce_ttl_ms);
        self.challenges.insert(
            idx,
            Challenge {
                nonce: nonce.clone(),
                scheme,
                expires,
            },
        );
        self.challenge_order.push_back((expires, idx));
        let code = StatusCode::from_code(self.config.challenge_code);
        let mut result = CspResult::new(code);
        if code == StatusCode::Unauthorized {
            result.description = Some("Please complete authentication challenge".into());
        }
        LoginResponse {
            client_id: req.client_id.clone(),
            result,
            nonce: Some(nonce),
            digest_schema: Some(DigestSchemaList(vec![schema_of(scheme)])),
            ..LoginResponse::default()
        }
    }

    fn open_session(
        &mut self,
        now: Millis,
        idx: UserIdx,
        req: &LoginRequest,
        version: Version,
    ) -> LoginResponse {
        let client = client_key(req);
        // The same client logging in again replaces its old session; beyond the per-user
        // limit the oldest session goes.
        let existing: Vec<u32> = self
            .users
            .user(idx)
            .map(|u| u.sessions.clone())
            .unwrap_or_default();
        let mut live = Vec::new();
        for slot in existing {
            match self.sessions.get(slot) {
                Some(s) if s.state == SessionState::Active && *s.client == *client => {
                    self.close_session(now, slot, StatusCode::ForcedLogout);
                }
                Some(s) if s.state == SessionState::Active => live.push((s.last_active, slot)),
                _ => {}
            }
        }
        live.sort();
        while live.len() >= self.config.max_sessions_per_user.max(1) {
            let (_, slot) = live.remove(0);
            self.close_session(now, slot, StatusCode::ForcedLogout);
        }
        let ka = req
            .time_to_live
            .unwrap_or(self.config.keep_alive_default_s)
            .clamp(self.config.keep_alive_min_s, self.config.keep_alive_max_s);
        let key = SessionKey::random(&mut self.rng);
        let id_text: std::sync::Arc<str> = key.to_text(self.id).into();
        let slot = self.sessions.insert(Session {
            key,
            id_text: id_text.clone(),
            user: idx,
            client: client.into_boxed_str(),
            version,
            cookie: req.session_cookie.as_str().into(),
            keep_alive_s: ka,
            last_active: now,
            state: SessionState::Active,
            caps: None,
            agreed: None,
            outbox: Default::default(),
            peer: None,
            woken: false,
            armed: now,
            serial: 0,
            presence: None,
            groups: Vec::new(),
        });
        if let Some(u) = self.users.user_mut(idx) {
            u.sessions.push(slot);
        }
        self.follow_sessions(idx);
        self.deliver_pending_auth(idx, slot);
        self.deliver_waiting(idx, slot);
        let mut result = CspResult::new(StatusCode::Successful);
        result.description = Some("Successfully logged in.".into());
        LoginResponse {
            client_id: req.client_id.clone(),
            result,
            session_id: Some(SessionId(id_text.to_string())),
            keep_alive_time: Some(ka),
            capability_request: Some(true),
            ..LoginResponse::default()
        }
    }

    /// Ends a session from the server side: a Disconnect carrying `code` is queued and
    /// delivered on the client's next request (or poll), then the session is gone.
    pub(crate) fn close_session(&mut self, _now: Millis, slot: u32, code: StatusCode) {
        let id = self.txn_id();
        let limit = self.config.outbox_limit;
        let Some(s) = self.sessions.get_mut(slot) else {
            return;
        };
        if s.state != SessionState::Active {
            return;
        }
        s.state = SessionState::Closing(code);
        // The Disconnect must get through even to a full outbox.
        let disconnect = Outgoing {
            id,
            primitive: Disconnect {
                result: CspResult::new(code),
            }
            .into(),
        };
        if s.outbox.push(disconnect.clone(), limit).is_err() {
            let _ = s.outbox.take_batch(1, Millis(0), 0);
            let _ = s.outbox.push(disconnect, limit.max(1));
        }
        self.wake(slot);
    }

    /// Closes every session of a user (queued Disconnect); returns how many.
    pub(crate) fn close_user_sessions(
        &mut self,
        now: Millis,
        idx: UserIdx,
        code: StatusCode,
    ) -> usize {
        let slots = self
            .users
            .user(idx)
            .map(|u| u.sessions.clone())
            .unwrap_or_default();
        for &slot in &slots {
            self.close_session(now, slot, code);
        }
        slots.len()
    }

    /// Removes every session of a user at once; their next request gets `code`.
    pub(crate) fn end_user_sessions(&mut self, now: Millis, idx: UserIdx, code: StatusCode) {
        let slots = self
            .users
            .user(idx)
            .map(|u| u.sessions.clone())
            .unwrap_or_default();
        for slot in slots {
            self.end_session(now, slot, Some(code));
        }
    }

    /// Removes a session now, remembering `reason` for its next request.
    pub(crate) fn end_session(&mut self, now: Millis, slot: u32, reason: Option<StatusCode>) {
        let memory = self.config.ended_memory_ms;
        let Some(s) = self.sessions.remove(slot, reason, now, memory) else {
            return;
        };
        if let Some(u) = self.users.user_mut(s.user) {
            u.sessions.retain(|x| *x != slot);
        }
        self.presence_session_ended(slot, &s);
        if !s.groups.is_empty() {
            let r = crate::presence::publication::SessionRef {
                shard: u16::try_from(self.id).unwrap_or(u16::MAX),
                slot,
                serial: s.serial,
            };
            self.groups_session_ended(r, s.user, &s.groups);
        }
        self.follow_sessions(s.user);
        if self
            .users
            .user(s.user)
            .is_some_and(|u| u.sessions.is_empty())
        {
            self.persist_waiting(s.user);
        }
    }

    /// Expires idle sessions and old challenges.
    pub(crate) fn expire(&mut self, now: Millis) {
        for slot in self.sessions.expired(now) {
            match self.sessions.get(slot).map(|s| s.state) {
                Some(SessionState::Closing(code)) => self.end_session(now, slot, Some(code)),
                Some(SessionState::Active) => {
                    // Idle too long: a Disconnect 600 is queued (and the client woken); the
                    // session lingers a short grace time to deliver it, then is gone.
                    self.close_session(now, slot, StatusCode::SessionExpired);
                    if let Some(s) = self.sessions.get_mut(slot) {
                        s.last_active = now;
                        s.keep_alive_s = s.keep_alive_s.min(EXPIRED_GRACE_S);
                    }
                    self.sessions.arm(slot);
                }
                None => {}
            }
        }
        while let Some(&(at, idx)) = self.challenge_order.front() {
            if at > now {
                break;
            }
            self.challenge_order.pop_front();
            if self.challenges.get(&idx).is_some_and(|c| c.expires <= now) {
                self.challenges.remove(&idx);
            }
        }
    }
}
