//! The recipient's requests about waiting messages: GetMessageList, GetMessage,
//! MessageDelivered (as a request in notify/get, as the answer to NewMessage in push),
//! RejectMessage, and SetDeliveryMethod.

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
        if req.group_id.is_some() {
            // Group messages arrive with groups; none wait yet.
            return response;
        }
        let Some(user) = self
            .sessions
            .get(slot)
            .and_then(|s| self.users.user(s.user))
        else {
            response.result = Some(CspResult::new(StatusCode::InvalidSession));
            return response;
        };
        let max = req.message_count.map_or(usize::MAX, |n| n as usize);
        let infos = user
            .im
            .iter()
            .flat_map(|m| m.letters.iter())
            .take(max)
            .map(|w| w.letter.info(Some(&user.id)))
            .collect();
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
        let Some(w) = user
            .im
            .as_ref()
            .and_then(|m| m.find(req.message_id.as_str()))
        else {
            return status(StatusCode::InvalidMessageId);
        };
        let letter = &w.letter;
        if let Some(c) = s.caps.as_deref() {
            if c.accepted_content_length != 0 && letter.size > c.accepted_content_length {
                return status(StatusCode::UnableToDeliver);
            }
            let want = letter.content_type.as_deref().unwrap_or("text/plain");
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
            message_info: letter.info(Some(&user.id)),
            content_data: letter.content.clone(),
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
            return StatusCode::InvalidMessageId;
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
                None => code = StatusCode::InvalidMessageId,
            }
        }
        code
    }

    /// `SetDeliveryMethod-Request` for the session (per group once groups land: 501).
    pub(crate) fn set_delivery_method(
        &mut self,
        slot: u32,
        req: &SetDeliveryMethodRequest,
    ) -> StatusCode {
        if req.group_id.is_some() {
            return StatusCode::NotImplemented;
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
