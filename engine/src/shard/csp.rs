//! One CSP message through a shard: find the session, answer each transaction in order,
//! attach queued server-originated transactions to polls, and set the Poll flag.

use std::net::SocketAddr;

use imps_protocol::common::CspResult;
use imps_protocol::primitives::{
    Disconnect, GetPresenceResponse, GetSpInfoRequest, GetSpInfoResponse, KeepAliveRequest,
    KeepAliveResponse, Logo, Status, VersionDiscoveryRequest, VersionDiscoveryResponse,
    VersionList,
};
use imps_protocol::types::{MimeType, SessionId, TransactionId, Url};
use imps_protocol::{
    Message, Primitive, Session as CspSession, SessionDescriptor, SessionType, StatusCode,
    Transaction, TransactionDescriptor, TransactionMode, Version,
};

use super::Shard;
use crate::access::outbox::Outgoing;
use crate::access::poll_pace::PollVerdict;
use crate::access::session::SessionState;
use crate::access::session_id::parse_session_id;
use crate::access::{capability, service};
use crate::core::Millis;

/// Where the message's session stands.
enum Found {
    /// No SessionID given.
    None,
    /// A live session in this slot.
    Live(u32),
    /// The SessionID is not (or no longer) valid: answer with this code.
    Gone(StatusCode),
}

fn status(code: StatusCode) -> Primitive {
    Status::new(code).into()
}

fn response(id: Option<TransactionId>, content: Primitive) -> Transaction {
    Transaction {
        descriptor: TransactionDescriptor {
            mode: TransactionMode::Response,
            id,
            poll: None,
        },
        content,
        ext_blocks: Vec::new(),
    }
}

/// A server-originated transaction as it goes to the client.
fn outgoing(o: Outgoing) -> Transaction {
    Transaction {
        descriptor: TransactionDescriptor {
            mode: TransactionMode::Request,
            id: Some(TransactionId(o.id)),
            poll: None,
        },
        content: o.primitive,
        ext_blocks: Vec::new(),
    }
}

impl Shard {
    fn find_session(&self, message: &Message) -> Found {
        let Some(sid) = &message.session.descriptor.session_id else {
            return Found::None;
        };
        match parse_session_id(sid.as_str()) {
            Some((shard, key)) if shard == self.id => match self.sessions.find(&key) {
                Some(slot) => Found::Live(slot),
                None => Found::Gone(
                    self.sessions
                        .ended(&key)
                        .unwrap_or(StatusCode::InvalidSession),
                ),
            },
            _ => Found::Gone(StatusCode::InvalidSession),
        }
    }

    /// Answers a CSP message; `None` is an empty HTTP 200. Also gives the slot of the live
    /// session the message ran in.
    pub(crate) fn handle_csp(
        &mut self,
        now: Millis,
        message: Message,
        peer: Option<SocketAddr>,
    ) -> (Option<Message>, Option<u32>) {
        let version = message.version;
        let mut found = self.find_session(&message);
        let mut woken = false;
        if let Found::Live(slot) = found
            && let Some(s) = self.sessions.get_mut(slot)
        {
            s.last_active = now;
            s.version = version;
            woken = std::mem::take(&mut s.woken);
            if peer.is_some() {
                s.peer = peer;
            }
        }
        // A CIR wake-up invites the poll that follows it, whenever it comes.
        if woken && let Found::Live(slot) = found {
            self.sessions.invite_poll(slot);
        }
        // A session the server ended delivers its Disconnect now and is gone.
        let mut closing = None;
        if let Found::Live(slot) = found
            && let Some(SessionState::Closing(code)) = self.sessions.get(slot).map(|s| s.state)
        {
            closing = Some((slot, code));
        }
        let mut out: Vec<Transaction> = Vec::new();
        let mut poll_batch = 0usize;
        for t in message.session.transactions {
            let tid = t.descriptor.id.clone();
            if let Some((_, code)) = closing {
                if !matches!(t.content, Primitive::PollingRequest(_))
                    && t.descriptor.mode == TransactionMode::Request
                {
                    out.push(response(tid, status(code)));
                }
                continue;
            }
            if t.descriptor.mode == TransactionMode::Response {
                // The client answers a transaction the server started.
                match found {
                    Found::Live(slot) => {
                        // A PresenceAuth-Request may be answered with the decision itself,
                        // a NewMessage with MessageDelivered.
                        if let Primitive::PresenceAuthUser(decision) = &t.content
                            && let Some(idx) = self.sessions.get(slot).map(|s| s.user)
                        {
                            self.presence_auth_user(idx, decision);
                        }
                        if let Primitive::MessageDelivered(d) = &t.content {
                            self.message_delivered(now, slot, d.message_id.as_str());
                        }
                        if let Primitive::InviteUserResponse(r) = &t.content {
                            self.invite_user_response(slot, r);
                        }
                        let known = tid.as_ref().is_some_and(|id| {
                            self.sessions
                                .get_mut(slot)
                                .is_some_and(|s| s.outbox.answer(id.as_str()))
                        });
                        if !known {
                            out.push(response(tid, status(StatusCode::InvalidTransaction)));
                        }
                    }
                    Found::Gone(code) => out.push(response(tid, status(code))),
                    Found::None => out.push(response(tid, status(StatusCode::InvalidSession))),
                }
                continue;
            }
            self.collect.txn = out.len();
            self.collect.tid = tid.as_ref().map(|t| t.0.clone());
            if let Some(content) = self.answer(now, &mut found, version, t.content, &mut poll_batch)
            {
                out.push(response(tid, content));
            }
        }
        let mut session_id = message.session.descriptor.session_id.clone();
        let mut live_slot = match found {
            Found::Live(slot) => Some(slot),
            _ => None,
        };
        if let Some((slot, code)) = closing {
            if let Some(s) = self.sessions.get_mut(slot) {
                let queued = s.outbox.queued_len();
                out.extend(
                    s.outbox
                        .take_batch(queued, now, 0)
                        .into_iter()
                        .map(outgoing),
                );
            }
            self.end_session(now, slot, Some(code));
            live_slot = None;
        } else if let Some(slot) = live_slot
            && poll_batch > 0
        {
            let limit = self.config.outbox_limit;
            let per = self.config.presences_per_notification;
            self.presence_to_outbox(slot, per);
            if let Some(s) = self.sessions.get_mut(slot) {
                let batch = s.outbox.take_batch(poll_batch, now, limit);
                out.extend(batch.into_iter().map(outgoing));
            }
        }
        // A login in this message opened a session: the response names it.
        if let Found::Live(slot) = found
            && session_id.is_none()
            && let Some(s) = self.sessions.get(slot)
        {
            session_id = Some(SessionId(s.key.to_text(self.id)));
        }
        if out.is_empty() {
            return (None, live_slot);
        }
        let session_type = if message.session.descriptor.session_type == SessionType::Outband {
            SessionType::Outband
        } else {
            SessionType::Inband
        };
        let mut reply = Message {
            version,
            session: CspSession {
                descriptor: SessionDescriptor {
                    session_type,
                    session_id: if session_type == SessionType::Inband {
                        session_id
                    } else {
                        None
                    },
                },
                transactions: out,
                poll: None,
                cir: None,
            },
        };
        if let Some(slot) = live_slot
            && let Some(s) = self.sessions.get(slot)
        {
            reply.set_poll(self.has_queued(slot));
            // 1.2+: a session that agreed to standalone TCP wake-ups is told whether its
            // channel is up; the front-end, which holds the channels, turns this T into F
            // when it is not.
            let stcp = s
                .caps
                .as_ref()
                .is_some_and(|c| c.cir_methods.iter().any(|m| m == "STCP"));
            if stcp && version != Version::V1_1 {
                reply.session.cir = Some(true);
            }
        }
        // Poll=T invites the poll that follows.
        if let Some(slot) = live_slot
            && self.has_queued(slot)
        {
            self.sessions.invite_poll(slot);
        }
        (Some(reply), live_slot)
    }

    /// Answers one client-originated transaction. `None`: nothing to answer in place (a
    /// Polling-Request, answered by the queued transactions).
    fn answer(
        &mut self,
        now: Millis,
        found: &mut Found,
        version: Version,
        content: Primitive,
        poll_batch: &mut usize,
    ) -> Option<Primitive> {
        // Outband primitives, with or without a session.
        match content {
            Primitive::LoginRequest(req) => {
                let resp = self.login(now, &req, version);
                if let Some(sid) = &resp.session_id
                    && let Some((_, key)) = parse_session_id(sid.as_str())
                    && let Some(slot) = self.sessions.find(&key)
                {
                    *found = Found::Live(slot);
                    self.deliver_pending_invitations(now, slot);
                }
                return Some(resp.into());
            }
            Primitive::GetSpInfoRequest(req) => {
                if let Found::Live(slot) = *found
                    && !self.agreed(slot, "GETSPI")
                {
                    return Some(status(StatusCode::ServiceNotAgreed));
                }
                return Some(self.sp_info(&req).into());
            }
            Primitive::VersionDiscoveryRequest(req) => return Some(version_discovery(&req).into()),
            _ => {}
        }
        let slot = match *found {
            Found::Live(slot) => slot,
            Found::Gone(code) => return Some(status(code)),
            Found::None => return Some(status(StatusCode::InvalidSession)),
        };
        if let Some(leaf) = service::leaf_of(&content)
            && !self.agreed(slot, leaf)
        {
            return Some(status(StatusCode::ServiceNotAgreed));
        }
        match content {
            Primitive::LogoutRequest(_) => {
                self.end_session(now, slot, None);
                *found = Found::None;
                Some(
                    Disconnect {
                        result: CspResult::new(StatusCode::Successful),
                    }
                    .into(),
                )
            }
            Primitive::KeepAliveRequest(req) => Some(self.keep_alive(slot, &req).into()),
            Primitive::PollingRequest(_) => {
                // A served poll is judged once per message (a second one collects nothing
                // more).
                if *poll_batch == 0 {
                    let queued = self.has_queued(slot);
                    let min_s = self.config.server_poll_min_s;
                    match self.sessions.judge_poll(slot, now, min_s, queued) {
                        PollVerdict::Served => {}
                        // Nothing is queued: an empty answer, without collecting.
                        PollVerdict::Early => return None,
                        PollVerdict::Refused => {
                            let mut result = CspResult::new(StatusCode::ServiceUnavailable);
                            result.description =
                                Some(format!("polling more often than ServerPollMin ({min_s} s)"));
                            return Some(
                                Status {
                                    result,
                                    client_id: None,
                                }
                                .into(),
                            );
                        }
                    }
                }
                let per_poll = self
                    .sessions
                    .get(slot)
                    .and_then(|s| s.caps.as_ref().map(|c| c.multi_trans))
                    .unwrap_or(1);
                *poll_batch = (*poll_batch).max(per_poll as usize);
                None
            }
            Primitive::ClientCapabilityRequest(req) => {
                let sid = self
                    .sessions
                    .get(slot)
                    .map(|s| s.key.to_text(self.id))
                    .unwrap_or_default();
                let (caps, resp) = capability::negotiate(&req, version, &self.config, &sid);
                if let Some(s) = self.sessions.get_mut(slot) {
                    s.caps = Some(Box::new(caps));
                }
                Some(resp.into())
            }
            Primitive::ServiceRequest(req) => {
                let (agreed, resp) = service::negotiate(&req, self.supported);
                if let Some(s) = self.sessions.get_mut(slot) {
                    s.agreed = Some(agreed);
                }
                Some(resp.into())
            }
            Primitive::GetListRequest(_) => {
                let idx = self.sessions.get(slot)?.user;
                Some(self.get_list(idx).into())
            }
            Primitive::CreateListRequest(req) => {
                let idx = self.sessions.get(slot)?.user;
                Some(self.create_list(idx, &req).into())
            }
            Primitive::DeleteListRequest(req) => {
                let idx = self.sessions.get(slot)?.user;
                Some(self.delete_list(idx, &req).into())
            }
            Primitive::ListManageRequest(req) => {
                let idx = self.sessions.get(slot)?.user;
                Some(self.list_manage(idx, &req, version == Version::V1_1).into())
            }
            Primitive::CreateAttributeListRequest(req) => {
                let idx = self.sessions.get(slot)?.user;
                Some(self.create_attribute_list(idx, &req).into())
            }
            Primitive::DeleteAttributeListRequest(req) => {
                let idx = self.sessions.get(slot)?.user;
                Some(self.delete_attribute_list(idx, &req).into())
            }
            Primitive::GetAttributeListRequest(req) => {
                let idx = self.sessions.get(slot)?.user;
                Some(self.get_attribute_list(idx, &req).into())
            }
            Primitive::SendMessageRequest(req) => {
                let tid = self.collect.tid.clone();
                Some(self.send_message(now, slot, tid.as_deref(), &req).into())
            }
            Primitive::ForwardMessageRequest(req) => {
                Some(status(self.forward_message(now, slot, &req)))
            }
            Primitive::SetDeliveryMethodRequest(req) => {
                Some(status(self.set_delivery_method(slot, &req)))
            }
            Primitive::GetMessageListRequest(req) => {
                Some(self.message_list(slot, &req, version).into())
            }
            Primitive::GetMessageRequest(req) => Some(self.get_message(slot, &req)),
            Primitive::MessageDelivered(req) => Some(status(self.message_delivered(
                now,
                slot,
                req.message_id.as_str(),
            ))),
            Primitive::RejectMessageRequest(req) => Some(status(self.reject_messages(slot, &req))),
            Primitive::GetBlockedListRequest(req) => {
                let idx = self.sessions.get(slot)?.user;
                Some(self.blocked_list(idx, &req, version).into())
            }
            Primitive::BlockEntityRequest(req) => {
                let idx = self.sessions.get(slot)?.user;
                Some(status(self.block_entity(idx, &req)))
            }
            group @ (Primitive::CreateGroupRequest(_)
            | Primitive::DeleteGroupRequest(_)
            | Primitive::JoinGroupRequest(_)
            | Primitive::LeaveGroupRequest(_)
            | Primitive::GetGroupPropsRequest(_)
            | Primitive::SetGroupPropsRequest(_)
            | Primitive::GetGroupMembersRequest(_)
            | Primitive::AddGroupMembersRequest(_)
            | Primitive::RemoveGroupMembersRequest(_)
            | Primitive::MemberAccessRequest(_)
            | Primitive::RejectListRequest(_)
            | Primitive::SubscribeGroupNoticeRequest(_)
            | Primitive::GetJoinedUsersRequest(_)) => {
                let id = group_of(&group)?.clone();
                let failed = self.forward_group_request(slot, version, &id, group);
                Some(status(failed.unwrap_or(StatusCode::Successful)))
            }
            Primitive::UpdatePresenceRequest(req) => {
                let idx = self.sessions.get(slot)?.user;
                Some(status(self.update_presence(idx, &req)))
            }
            Primitive::SubscribePresenceRequest(req) => Some(status(
                self.subscribe_presence(slot, &req)
                    .unwrap_or(StatusCode::Successful),
            )),
            Primitive::UnsubscribePresenceRequest(req) => {
                Some(status(self.unsubscribe_presence(slot, &req)))
            }
            Primitive::GetPresenceRequest(req) => match self.get_presence(slot, &req) {
                Some(code) => Some(status(code)),
                None => Some(GetPresenceResponse::default().into()),
            },
            Primitive::GetWatcherListRequest(req) => {
                let idx = self.sessions.get(slot)?.user;
                Some(self.watcher_list(now, idx, &req, version).into())
            }
            Primitive::PresenceAuthUser(req) => {
                let idx = self.sessions.get(slot)?.user;
                Some(status(self.presence_auth_user(idx, &req)))
            }
            Primitive::CancelAuthRequest(req) => {
                let idx = self.sessions.get(slot)?.user;
                Some(status(self.cancel_auth(idx, &req)))
            }
            Primitive::GetReactiveAuthStatusRequest(req) => {
                let idx = self.sessions.get(slot)?.user;
                Some(self.reactive_auth_status(idx, &req).into())
            }
            Primitive::SearchRequest(req) => Some(self.search(slot, &req)),
            Primitive::StopSearchRequest(req) => Some(status(self.stop_search(slot, &req))),
            Primitive::InviteRequest(req) => Some(status(self.invite(now, slot, &req))),
            Primitive::CancelInviteRequest(req) => Some(status(self.cancel_invite(slot, &req))),
            Primitive::InviteUserResponse(req) => {
                Some(status(self.invite_user_response(slot, &req)))
            }
            Primitive::Unsupported { .. } => Some(status(StatusCode::NotImplemented)),
            other if is_server_originated(&other) => Some(status(StatusCode::BadRequest)),
            _ => Some(status(StatusCode::NotImplemented)),
        }
    }

    /// True when the session may use `leaf`: it is implemented, and agreed when the session
    /// negotiated services.
    fn agreed(&self, slot: u32, leaf: &str) -> bool {
        let Some(bit) = service::bit(leaf) else {
            return false;
        };
        if self.supported & bit == 0 {
            return true; // not implemented: the dispatcher answers 501
        }
        match self.sessions.get(slot).and_then(|s| s.agreed) {
            Some(set) => set & bit != 0,
            None => true,
        }
    }

    fn keep_alive(&mut self, slot: u32, req: &KeepAliveRequest) -> KeepAliveResponse {
        let (min, max) = (self.config.keep_alive_min_s, self.config.keep_alive_max_s);
        let Some(s) = self.sessions.get_mut(slot) else {
            return KeepAliveResponse {
                result: CspResult::new(StatusCode::InvalidSession),
                keep_alive_time: None,
            };
        };
        let code = match req.time_to_live {
            Some(ttl) if (min..=max).contains(&ttl) => {
                s.keep_alive_s = ttl;
                StatusCode::Successful
            }
            Some(ttl) => {
                s.keep_alive_s = ttl.clamp(min, max);
                StatusCode::NewValueNotAccepted
            }
            None => StatusCode::Successful,
        };
        let ka = s.keep_alive_s;
        self.sessions.rearm(slot);
        KeepAliveResponse {
            result: CspResult::new(code),
            keep_alive_time: Some(ka),
        }
    }

    fn sp_info(&self, req: &GetSpInfoRequest) -> GetSpInfoResponse {
        let info = &self.config.sp_info;
        GetSpInfoResponse {
            client_id: req.client_id.clone(),
            name: info.name.clone(),
            logo: match (&info.logo_content_type, &info.logo_base64) {
                (Some(t), Some(data)) => Some(Logo {
                    content_type: MimeType(t.clone()),
                    content_size: None,
                    content_encoding: Some(imps_protocol::common::ContentEncoding::Base64),
                    content_data: data.clone(),
                }),
                _ => None,
            },
            description: info.description.clone(),
            url: info.url.clone().map(Url),
        }
    }
}

fn version_discovery(_req: &VersionDiscoveryRequest) -> VersionDiscoveryResponse {
    VersionDiscoveryResponse {
        result: Some(CspResult::new(StatusCode::Successful)),
        version_list: Some(VersionList {
            versions: ["1.1", "1.2", "1.3"].map(String::from).to_vec(),
        }),
    }
}

/// The group a group request is about.
fn group_of(p: &Primitive) -> Option<&imps_protocol::types::GroupId> {
    Some(match p {
        Primitive::CreateGroupRequest(r) => &r.group_id,
        Primitive::DeleteGroupRequest(r) => &r.group_id,
        Primitive::JoinGroupRequest(r) => &r.group_id,
        Primitive::LeaveGroupRequest(r) => &r.group_id,
        Primitive::GetGroupPropsRequest(r) => &r.group_id,
        Primitive::SetGroupPropsRequest(r) => &r.group_id,
        Primitive::GetGroupMembersRequest(r) => &r.group_id,
        Primitive::AddGroupMembersRequest(r) => &r.group_id,
        Primitive::RemoveGroupMembersRequest(r) => &r.group_id,
        Primitive::MemberAccessRequest(r) => &r.group_id,
        Primitive::RejectListRequest(r) => &r.group_id,
        Primitive::SubscribeGroupNoticeRequest(r) => &r.group_id,
        Primitive::GetJoinedUsersRequest(r) => &r.group_id,
        _ => return None,
    })
}

/// Primitives only a server sends; a client sending them as a request is confused.
fn is_server_originated(p: &Primitive) -> bool {
    matches!(
        p,
        Primitive::LoginResponse(_)
            | Primitive::Disconnect(_)
            | Primitive::KeepAliveResponse(_)
            | Primitive::GetSpInfoResponse(_)
            | Primitive::ClientCapabilityResponse(_)
            | Primitive::ServiceResponse(_)
            | Primitive::PresenceNotificationRequest(_)
            | Primitive::NewMessage(_)
            | Primitive::MessageNotification(_)
            | Primitive::InviteUserRequest(_)
            | Primitive::GroupChangeNotice(_)
    )
}
