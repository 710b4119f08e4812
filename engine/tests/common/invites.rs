//! Invitation helpers shared by the invitation tests: the requests a client sends and the
//! server-originated requests it finds in its inbox.

use imps_engine::sim::SimClient;
use imps_protocol::Primitive;
use imps_protocol::common::{Recipient, Sender};
use imps_protocol::primitives::{
    CancelInviteRequest, CancelInviteUserRequest, InviteRequest, InviteResponse, InviteType,
    InviteUserRequest, InviteUserResponse, LogoutRequest,
};
use imps_protocol::types::InviteId;

use super::{World, user};

/// Server-originated requests waiting for `c`, with their TransactionIDs.
pub(crate) fn inbox(w: &mut World, c: &mut SimClient) -> Vec<(String, Primitive)> {
    w.requests(c)
        .into_iter()
        .map(|(id, p)| (id.unwrap_or_default(), p))
        .collect()
}

/// An Invite-Request of `kind` to the users `to`, with a note naming it.
pub(crate) fn invite(invite_id: &str, kind: InviteType, to: &[&str]) -> InviteRequest {
    InviteRequest {
        invite_id: InviteId(invite_id.into()),
        invite_type: kind,
        recipient: Recipient {
            users: to.iter().map(|u| user(u)).collect(),
            ..Recipient::default()
        },
        note: Some(format!("note of {invite_id}")),
        ..InviteRequest::default()
    }
}

/// An InviteUser-Response.
pub(crate) fn answer(invite_id: &str, acceptance: bool, note: &str) -> InviteUserResponse {
    InviteUserResponse {
        invite_id: InviteId(invite_id.into()),
        acceptance,
        sender: None,
        note: Some(note.into()),
        screen_name: None,
    }
}

/// A CancelInvite-Request for every invitee.
pub(crate) fn cancel_all(invite_id: &str) -> CancelInviteRequest {
    CancelInviteRequest {
        invite_id: InviteId(invite_id.into()),
        ..CancelInviteRequest::default()
    }
}

/// The InviteUser-Requests of an inbox.
pub(crate) fn invitations(inbox: &[(String, Primitive)]) -> Vec<&InviteUserRequest> {
    inbox
        .iter()
        .filter_map(|(_, p)| match p {
            Primitive::InviteUserRequest(r) => Some(&**r),
            _ => None,
        })
        .collect()
}

/// The Invite-Responses of an inbox.
pub(crate) fn responses(inbox: &[(String, Primitive)]) -> Vec<&InviteResponse> {
    inbox
        .iter()
        .filter_map(|(_, p)| match p {
            Primitive::InviteResponse(r) => Some(&**r),
            _ => None,
        })
        .collect()
}

/// The CancelInviteUser-Requests of an inbox.
pub(crate) fn cancels(inbox: &[(String, Primitive)]) -> Vec<&CancelInviteUserRequest> {
    inbox
        .iter()
        .filter_map(|(_, p)| match p {
            Primitive::CancelInviteUserRequest(r) => Some(&**r),
            _ => None,
        })
        .collect()
}

/// The user a Sender names.
pub(crate) fn sender_id(s: Option<&Sender>) -> Option<String> {
    s.and_then(|s| s.user.as_ref()).map(|u| u.user_id.0.clone())
}

/// Logs `c` out (answered with a Disconnect).
pub(crate) fn logout(w: &mut World, c: &mut SimClient) {
    assert!(matches!(
        w.call(c, LogoutRequest {}.into()),
        Primitive::Disconnect(_)
    ));
}
