//! The recipient's requests about waiting messages: GetMessageList, GetMessage,
//! MessageDelivered (as a request in notify/get, as the answer to NewMessage in push),
//! RejectMessage, and SetDeliveryMethod. Group messages a session fetches (see
//! [`crate::groups::mail`]) are found by the same requests.

use imps_protocol::common::CspResult;
use imps_protocol::primitives::{
    DeliveryMethod, GetMessageListRequest, GetMessageListResponse, GetMessageRequest,
    GetMessageResponse, MessageInfoList, RejectMessageRequest, SetDeliveryMethodRequest,
};
use imps_protocol::{Primitive, StatusCode, Version};

use crate::core::Millis;
use crate::shard::Shard;

impl Shard {
    /// `GetMessageList-Request`: what waits, oldest first.
    pub(crate) fn message_list(
        &self,
        slot: u32,
        req: &GetMessageListRequest,
        version: Version,
    ) -> GetMessageListResponse {
        let mut response = GetMessageListResponse::default();
        let Some(user) = self
            .sessions
            .get(slot)
            .and_then(|s| self.users.user(s.user))
        else {
            response.result = Some(CspResult::new(StatusCode::InvalidSession));
            return response;
        };
        let max = req.message_count.map_or(usize::MAX, |n| n as usize);
        let infos = match &req.group_id {
            Some(group) => {
                let (Ok(group), Some(session)) =
                    (group.normalize(&self.config.domain), self.session_ref(slot))
                else {
                    response.result = Some(CspResult::new(StatusCode::GroupMissing));
                    return response;
                };
                self.group_mail.list(session, &group, max)
            }
            None => user
                .im
                .iter()
                .flat_map(|m| m.letters.iter())
                .take(max)
                .map(|w| w.letter.info(Some(&user.id)))
                .collect(),
        };
        if version == Version::V1_3 {
            response.message_info_list = Some(MessageInfoList { messages: infos });
        } else {
            response.messages = infos;
        }
        response
    }

    /// `GetMessage-Request`: the content of a waiting message (it keeps waiting until
    /// MessageDelivered). 415 or 410 when the client cannot take its type or size.
    pub(crate) fn get_message(&self, slot: u32, req: &GetMessageRequest) -> Primitive {
        let status = |code| imps_protocol::primitives::Status::new(code).into();
        let Some(s) = self.sessions.get(slot) else {
            return status(StatusCode::InvalidSession);
        };
        let Some(user) = self.users.user(s.user) else {
            return status(StatusCode::InvalidSession);
        };
        let id = req.message_id.as_str();
        let (message_info, content_data) = match user.im.as_ref().and_then(|m| m.find(id)) {
            Some(w) => (w.letter.info(Some(&user.id)), w.letter.content.clone()),
            None => match self
                .session_ref(slot)
                .and_then(|r| self.group_mail.find(r, id))
            {
                Some(m) => (m.message_info.clone(), m.content_data.clone()),
                None => return status(StatusCode::InvalidMessageId),
            },
        };
        if let Some(c) = s.caps.as_deref() {
            let size = message_info.content_size.unwrap_or(0);
            if c.accepted_content_length != 0 && size > c.accepted_content_length {
                return status(StatusCode::UnableToDeliver);
            }
            let want = message_info
                .content_type
                .as_ref()
                .map_or("text/plain", |t| t.0.as_str());
            if !c.accepted_content_types.is_empty()
                && !c
                    .accepted_content_types
                    .iter()
                    .any(|t| t == "*" || t == "*/*" || t.eq_ignore_ascii_case(want))
            {
                return status(StatusCode::UnsupportedMediaType);
            }
        }
        GetMessageResponse {
            message_info,
            content_data,
        }
        .into()
    }

    /// MessageDelivered: the message leaves the mailbox; its sender is told (if asked).
    pub(crate) fn message_delivered(&mut self, now: Millis, slot: u32, id: &str) -> StatusCode {
        let Some(idx) = self.sessions.get(slot).map(|s| s.user) else {
            return StatusCode::InvalidSession;
        };
        let Some(me) = self.users.user(idx).map(|u| u.id.to_string()) else {
            return StatusCode::InvalidSession;
        };
        let Some(letter) = self.remove_letter(idx, id) else {
            // A group message: its report was the group's acceptance.
            return match self.session_ref(slot) {
                Some(r) if self.group_mail.take(r, id) => StatusCode::Successful,
                _ => StatusCode::InvalidMessageId,
            };
        };
        let at = self.wall_ms(now);
        self.report(&letter, &me, StatusCode::Successful, Some(at));
        StatusCode::Successful
    }

    /// `RejectMessage-Request`: the messages leave the mailbox; senders are told (538).
    pub(crate) fn reject_messages(&mut self, slot: u32, req: &RejectMessageRequest) -> StatusCode {
        let Some(idx) = self.sessions.get(slot).map(|s| s.user) else {
            return StatusCode::InvalidSession;
        };
        let Some(me) = self.users.user(idx).map(|u| u.id.to_string()) else {
            return StatusCode::InvalidSession;
        };
        let mut code = StatusCode::Successful;
        for id in &req.message_ids {
            match self.remove_letter(idx, id.as_str()) {
                Some(letter) => self.report(&letter, &me, StatusCode::MessageRejected, None),
                None => {
                    let taken = self
                        .session_ref(slot)
                        .is_some_and(|r| self.group_mail.take(r, id.as_str()));
                    if !taken {
                        code = StatusCode::InvalidMessageId;
                    }
                }
            }
        }
        code
    }

    /// `SetDeliveryMethod-Request` for the session, or for one group it has joined (808
    /// when it has not).
    pub(crate) fn set_delivery_method(
        &mut self,
        slot: u32,
        req: &SetDeliveryMethodRequest,
    ) -> StatusCode {
        if let Some(group) = &req.group_id {
            let Ok(group) = group.normalize(&self.config.domain) else {
                return StatusCode::GroupMissing;
            };
            let Some(session) = self.session_ref(slot) else {
                return StatusCode::InvalidSession;
            };
            let joined = self
                .sessions
                .get(slot)
                .and_then(|s| s.groups.iter().find(|g| ***g == *group).cloned());
            let Some(group) = joined else {
                return StatusCode::GroupNotJoined;
            };
            let push = req.delivery_method == DeliveryMethod::Push;
            self.group_mail.set_method(session, group, push);
            return StatusCode::Successful;
        }
        let Some(s) = self.sessions.get_mut(slot) else {
            return StatusCode::InvalidSession;
        };
        let caps = s.caps.get_or_insert_with(|| {
            Box::new(crate::access::session::Capabilities {
                push: true,
                multi_trans: 1,
                ..Default::default()
            })
        });
        caps.push = req.delivery_method == DeliveryMethod::Push;
        if let Some(len) = req.accepted_content_length {
            caps.accepted_content_length = len;
        }
        StatusCode::Successful
    }
}
