//! Invitations across domains (issue 11). They take the paths of invitations between
//! shards; only the hop between the two users' shards is an SSP request (through the desk):
//!
//! ```text
//!   inviter's domain                                    invitee's domain
//!   Invite-Request: InvitationSent (every invitee)
//!     remote invitee --Invite (per invitee)-------->    serve_invite: as `receive` (531,
//!     Status part <-- its SSP status (outcome) -----    532, 507, 200: stored, delivered)
//!     (a failure: the invitee is no longer waited for)
//!   Invite-Response as for a local  <--InviteAnswer--   InviteUser-Response (closed on disk)
//!   answer (handle_answered)           (notice)
//!   CancelInvite-Request --CancelInvite (notice)---->   as a local cancel (`cancelled`)
//! ```
//!
//! SSP carries no URL list: a shared-content invitation reaches another domain without it.

use std::sync::Arc;

use imps_protocol::StatusCode;
use imps_protocol::node::Value;
use imps_protocol::primitives::{InviteType, InviteUserRequest, PresenceSubList};
use imps_protocol::raw::RawElement;
use imps_protocol::ssp::csp::presence_sub_list_element;
use imps_protocol::ssp::{Payload, Status, domain_of_id};
use imps_protocol::types::{GroupId, InviteId, UserId};

use super::inviter::sender;
use super::{DEFAULT_VALIDITY_S, MAX_VALIDITY_S};
use crate::core::Millis;
use crate::federation::{Answer, Invitation, InvitationAnswer, InvitationCancel, RemoteRequest};
use crate::peering::is_remote;
use crate::peering::service_side::{remote_failures, ssp_status};
use crate::record::Record;
use crate::shard::Shard;

/// The presence attributes an invitation offers, as SSP carries them (a CSP
/// `PresenceSubList` inside `AttributeList`).
fn attributes_payload(list: Option<&PresenceSubList>) -> Option<Payload> {
    let list = list?;
    match presence_sub_list_element(list) {
        Ok(element) => Some(Payload::of([element])),
        Err(e) => {
            tracing::debug!(error = %e, "presence attributes of an invitation not sent");
            None
        }
    }
}

/// The attributes an SSP `AttributeList` names: those of a `PresenceSubList` in it, or its
/// own elements.
fn sub_list_of(payload: Option<&Payload>) -> Option<PresenceSubList> {
    let payload = payload?;
    let mut names: Vec<&str> = Vec::new();
    for e in payload.elements() {
        if e.local_name() == "PresenceSubList" {
            names.extend(e.children.iter().filter_map(|c| match c {
                imps_protocol::raw::RawNode::Element(x) => Some(RawElement::local_name(x)),
                imps_protocol::raw::RawNode::Text(_) => None,
            }));
        } else {
            names.push(e.local_name());
        }
    }
    (!names.is_empty()).then(|| PresenceSubList::naming(names))
}

impl Shard {
    /// A user ID normalized in this domain (`None` when malformed).
    fn normalized(&self, user: &str) -> Option<String> {
        UserId::from(user).normalize(&self.config.domain).ok()
    }

    /// A user of domain `origin` (the remote party of a notice from there).
    fn user_of(&self, origin: &str, user: &str) -> Option<Arc<str>> {
        let id = self.normalized(user)?;
        let of_origin = domain_of_id(&id).is_some_and(|d| d.eq_ignore_ascii_case(origin));
        (of_origin && is_remote(&id, &self.config.domain)).then(|| Arc::from(id))
    }

    /// Hands `invitation` of `inviter` to the domain of each of the `remote` invitees, for
    /// part `at`: the answers to wait for, and the invitees it could not be handed for.
    pub(super) fn invite_remote(
        &mut self,
        at: (u64, u32),
        inviter: &str,
        invitation: &InviteUserRequest,
        remote: &[Arc<str>],
    ) -> (usize, Vec<(StatusCode, String)>) {
        let mut sent = 0;
        let mut failed = Vec::new();
        let attributes = attributes_payload(invitation.sub_list.as_ref());
        for invitee in remote {
            let request = RemoteRequest::Invite(Invitation {
                invite_id: invitation.invite_id.as_str().trim().to_owned(),
                inviting: inviter.to_owned(),
                invited: invitee.to_string(),
                invite_type: Some(invitation.invite_type.as_str().to_owned()),
                validity: invitation.validity,
                group_id: invitation.group_id.as_ref().map(|g| g.0.clone()),
                attributes: attributes.clone(),
                note: invitation.note.clone(),
            });
            if self.request_remote(at, request) {
                sent += 1;
            } else {
                failed.push((StatusCode::ServiceUnavailable, invitee.to_string()));
            }
        }
        if !failed.is_empty() {
            let names = failed.iter().map(|(_, u)| u.clone()).collect();
            self.invitees_gone(inviter, invitation.invite_id.as_str().trim(), names);
        }
        (sent, failed)
    }

    /// Tells the domains of the `remote` invitees that `inviter` withdrew `invite_id`.
    pub(super) fn cancel_remote(
        &mut self,
        inviter: &str,
        invite_id: &str,
        remote: &[Arc<str>],
        note: Option<&String>,
    ) {
        for invitee in remote {
            let notice = RemoteRequest::CancelInvite(InvitationCancel {
                invite_id: invite_id.to_owned(),
                canceling: inviter.to_owned(),
                canceled: invitee.to_string(),
                group_id: None,
                note: note.cloned(),
            });
            if !self.request_remote((0, 0), notice) {
                tracing::debug!(%inviter, %invitee, "remote cancel not sent: no federation");
            }
        }
    }

    /// Tells the domain of the remote `inviter` that `invitee` answered `invite_id`.
    pub(super) fn answer_remote(
        &mut self,
        inviter: &str,
        invitee: &str,
        invite_id: &str,
        acceptance: bool,
        note: Option<String>,
    ) {
        let notice = RemoteRequest::InviteAnswer(InvitationAnswer {
            invite_id: invite_id.to_owned(),
            inviting: inviter.to_owned(),
            responding: invitee.to_owned(),
            accepted: acceptance,
            note,
        });
        if !self.request_remote((0, 0), notice) {
            tracing::debug!(%inviter, %invitee, "remote answer not sent: no federation");
        }
    }

    /// `invitees` of `inviter`'s invitation `invite_id` are no longer waited for.
    fn invitees_gone(&mut self, inviter: &str, invite_id: &str, invitees: Vec<String>) {
        if self.waits_for(inviter, invite_id, &invitees) {
            // Not encodable: they stay waited for until the invitation expires.
            let done = Record::InviteesDone(inviter.to_owned(), invite_id.to_owned(), invitees);
            self.record_invitation(done);
        }
    }

    /// The outcome of an invitation request a local user sent to another domain: the
    /// Invite-Request's part is filled; an invitee who did not get it is no longer waited
    /// for (also when the failure comes late, with nobody waiting).
    pub(crate) fn invite_outcome(
        &mut self,
        _now: Millis,
        at: (u64, u32),
        request: RemoteRequest,
        status: Status,
    ) {
        match request {
            RemoteRequest::Invite(inv) => {
                let invitees = std::slice::from_ref(&inv.invited);
                let failed: Vec<String> = remote_failures(&status, invitees)
                    .into_iter()
                    .map(|(_, u)| u)
                    .collect();
                if !failed.is_empty() {
                    self.invitees_gone(&inv.inviting, &inv.invite_id, failed);
                }
                self.complete_remote_part(at, &status, invitees);
            }
            other => {
                tracing::debug!(code = status.code, request = ?other, "invitation notice outcome")
            }
        }
    }

    /// Serves an invitation of a user of another domain for a local invitee, as one from
    /// another shard: 200 once stored (and queued to the invitee's sessions, or kept for
    /// their next login), 531 unknown invitee, 532 the invitee blocks the inviter, 507 too
    /// many open invitations, 402 a malformed invitation.
    pub(crate) fn serve_invite(&mut self, now: Millis, request: RemoteRequest) -> (Status, Answer) {
        let RemoteRequest::Invite(inv) = request else {
            return (ssp_status(StatusCode::BadRequest), Answer::None);
        };
        let code = self.receive_remote(now, inv);
        (ssp_status(code), Answer::None)
    }

    fn receive_remote(&mut self, now: Millis, inv: Invitation) -> StatusCode {
        let Some(invitee) = self.normalized(&inv.invited) else {
            return StatusCode::UnknownUser;
        };
        let Some(inviter) = self.normalized(&inv.inviting) else {
            return StatusCode::InvalidParameter;
        };
        if !is_remote(&inviter, &self.config.domain) {
            return StatusCode::InvalidParameter;
        }
        let id = inv.invite_id.trim();
        let kind = inv
            .invite_type
            .as_deref()
            .and_then(|t| InviteType::parse(t.trim().into()).ok());
        let (false, Some(invite_type)) = (id.is_empty(), kind) else {
            return StatusCode::InvalidParameter;
        };
        // The types a local Invite-Request may have (SSP carries no URL list for SC).
        match invite_type {
            InviteType::Group if inv.group_id.is_none() => return StatusCode::InvalidParameter,
            InviteType::Group
            | InviteType::SharedContent
            | InviteType::Presence
            | InviteType::Im => {}
            _ => return StatusCode::InvalidParameter,
        }
        let validity = match inv.validity {
            Some(0) | None => DEFAULT_VALIDITY_S,
            Some(v) => v.min(MAX_VALIDITY_S),
        };
        let expires_ms = self.wall_ms(now).saturating_add(u64::from(validity) * 1000);
        let invitation = Arc::new(InviteUserRequest {
            invite_id: InviteId(id.to_owned()),
            invite_type,
            sender: sender(&inviter),
            group_id: inv.group_id.map(GroupId),
            sub_list: sub_list_of(inv.attributes.as_ref()),
            url_list: None,
            note: inv.note,
            validity: Some(validity),
        });
        self.receive(
            &Arc::from(inviter),
            &invitation,
            expires_ms,
            &Arc::from(invitee),
        )
    }

    /// An invitation's answer (for a local inviter, who gets an Invite-Response as from a
    /// local invitee) or cancel (for a local invitee, whose invitation goes, told with a
    /// CancelInviteUser-Request if they may have seen it) from domain `origin`.
    pub(crate) fn invite_notice(&mut self, _now: Millis, origin: &str, notice: RemoteRequest) {
        match notice {
            RemoteRequest::InviteAnswer(a) => {
                let (Some(inviter), Some(invitee)) = (
                    self.normalized(&a.inviting),
                    self.user_of(origin, &a.responding),
                ) else {
                    tracing::debug!(%origin, answer = ?a, "remote invitation answer refused");
                    return;
                };
                let inviter = Arc::from(inviter);
                self.handle_answered(&inviter, &invitee, a.invite_id.trim(), a.accepted, a.note);
            }
            RemoteRequest::CancelInvite(c) => {
                let (Some(invitee), Some(inviter)) = (
                    self.normalized(&c.canceled),
                    self.user_of(origin, &c.canceling),
                ) else {
                    tracing::debug!(%origin, cancel = ?c, "remote invitation cancel refused");
                    return;
                };
                let invitee = Arc::from(invitee);
                self.cancelled(&inviter, c.invite_id.trim(), &invitee, c.note, None);
            }
            other => tracing::debug!(%origin, notice = ?other, "not an invitation notice"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offered_attributes_cross_as_a_presence_sub_list() {
        let list = PresenceSubList::naming(["OnlineStatus", "StatusText"]);
        let payload = attributes_payload(Some(&list)).expect("a payload");
        let back = sub_list_of(Some(&payload)).expect("attributes");
        assert_eq!(back.names(), list.names());
        // Bare attribute elements are read as well.
        let bare = Payload::of([RawElement {
            name: "OnlineStatus".into(),
            ..Default::default()
        }]);
        let got = sub_list_of(Some(&bare)).expect("attributes");
        assert_eq!(got.names(), vec!["OnlineStatus"]);
        assert!(sub_list_of(Some(&Payload::default())).is_none());
    }
}
