//! Members of another domain in a local group (issue 11). A remote member is a
//! [`JoinedUser`] like any other, whose session is a stand-in on no shard
//! ([`REMOTE_SHARD`]): the group's rules (roles, reject list, limits, screen names) apply to
//! it unchanged, and the fan-outs to sessions skip it. What the group sends its sessions
//! reaches remote members through the federation desk instead:
//!
//! ```text
//!   group message   --> FederationOut::Send (query 0), the group as sender and the
//!                       poster's screen name --> SendMessageRequest to each member
//!   change notice   --> RemoteRequest::GroupChangeNotice, one per domain
//!   forced leave    --> RemoteRequest::LeftGroup, one per domain
//! ```

use std::sync::Arc;

use imps_protocol::{Primitive, Version};

use super::group::JoinedUser;
use super::ops::Asker;
use super::remote_payload::to_payload;
use crate::federation::{GroupNotice, RemoteRequest};
use crate::im::mailbox::Letter;
use crate::peering::service_side::ssp_status;
use crate::peering::{FederationOut, RemoteLetter};
use crate::presence::publication::SessionRef;
use crate::shard::Shard;

/// The shard number of a remote member's stand-in session: no shard has it.
pub(crate) const REMOTE_SHARD: u16 = u16::MAX;

/// True for the stand-in session of a member of another domain.
pub(crate) fn is_remote(session: SessionRef) -> bool {
    session.shard == REMOTE_SHARD
}

/// The users of `members` grouped by domain (lower case), first seen first.
fn by_domain(members: Vec<String>) -> Vec<Vec<String>> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for m in members {
        let d = m
            .rsplit_once('@')
            .map_or("", |(_, d)| d)
            .to_ascii_lowercase();
        match out.iter_mut().find(|(x, _)| *x == d) {
            Some((_, list)) => list.push(m),
            None => out.push((d, vec![m])),
        }
    }
    out.into_iter().map(|(_, l)| l).collect()
}

impl Shard {
    /// Who asks, for a request of the remote `user` about `group`: their stand-in session
    /// when joined, else a fresh one (unique in the group).
    pub(super) fn remote_asker(&self, user: &str, group: &str) -> Asker {
        let joined = self.groups.get(group).map(|g| g.joined.as_slice());
        let joined = joined.unwrap_or_default();
        let session = joined
            .iter()
            .find(|j| is_remote(j.session) && *j.user == *user)
            .map(|j| j.session)
            .unwrap_or_else(|| {
                let slot = joined
                    .iter()
                    .filter(|j| is_remote(j.session))
                    .map(|j| j.session.slot.saturating_add(1))
                    .max()
                    .unwrap_or(0);
                SessionRef {
                    shard: REMOTE_SHARD,
                    slot,
                    serial: 0,
                }
            });
        Asker {
            session,
            user: Arc::from(user),
            version: Version::V1_3,
            group: Arc::from(group),
        }
    }

    /// The remote members of `group` that `pick` picks.
    pub(super) fn remote_members(
        &self,
        group: &str,
        pick: impl Fn(&JoinedUser) -> bool,
    ) -> Vec<String> {
        self.groups.get(group).map_or_else(Vec::new, |g| {
            g.joined
                .iter()
                .filter(|j| is_remote(j.session) && pick(j))
                .map(|j| j.user.to_string())
                .collect()
        })
    }

    /// Hands what the group sends its sessions (`primitive`) to its remote `members`: a
    /// change notice, or a forced leave (unsolicited LeaveGroup-Response).
    pub(super) fn notify_remote_members(
        &mut self,
        group: &str,
        primitive: &Primitive,
        members: Vec<String>,
    ) {
        if members.is_empty() {
            return;
        }
        for users in by_domain(members) {
            let request = match primitive {
                Primitive::LeaveGroupResponse(r) => RemoteRequest::LeftGroup {
                    group: group.to_owned(),
                    users,
                    status: Some(ssp_status(super::remote::csp_code(r.result.code))),
                    reason: r.result.description.clone(),
                },
                Primitive::GroupChangeNotice(n) => {
                    let names = |s: &[imps_protocol::common::ScreenName]| {
                        s.iter().map(|s| s.sname.0.clone()).collect::<Vec<_>>()
                    };
                    RemoteRequest::GroupChangeNotice(GroupNotice {
                        group: group.to_owned(),
                        recipients: users,
                        joined: n
                            .joined
                            .as_ref()
                            .map(|j| names(&j.screen_names))
                            .unwrap_or_default(),
                        left: n
                            .left
                            .as_ref()
                            .map(|l| names(&l.screen_names))
                            .unwrap_or_default(),
                        group_properties: n
                            .properties
                            .as_ref()
                            .and_then(|p| to_payload(p, "GroupProperties")),
                        own_properties: n
                            .own_properties
                            .as_ref()
                            .and_then(|p| to_payload(p, "OwnProperties")),
                    })
                }
                other => {
                    tracing::debug!(%group, primitive = ?other, "not for remote members");
                    return;
                }
            };
            // Nobody waits (query 0); a closed desk (shutting down) loses the notice.
            self.request_remote((0, 0), request);
        }
    }

    /// Hands a message posted to `group` by `screen_name` to its remote `members`, the
    /// group as sender.
    pub(super) fn post_to_remote_members(
        &mut self,
        group: &str,
        letter: &Letter,
        screen_name: Option<&str>,
        members: Vec<String>,
    ) {
        if members.is_empty() || self.federation.is_none() {
            return;
        }
        self.group_deliveries += members.len() as u64;
        let out = FederationOut::Send {
            shard: self.id,
            query: 0,
            part: 0,
            letter: RemoteLetter {
                id: letter.id.to_string(),
                sender: group.to_owned(),
                content_type: letter.content_type.as_deref().map(str::to_owned),
                content: letter.content.clone(),
                base64: letter.base64,
                report: false,
                screen_name: screen_name.map(str::to_owned),
            },
            recipients: members,
        };
        // A closed desk (shutting down) loses the message, as a lost session would.
        self.hand_to_desk(out);
    }
}

#[cfg(test)]
mod tests {
    use super::by_domain;

    #[test]
    fn members_are_grouped_by_domain() {
        let members = ["wv:a@x.test", "wv:b@y.test", "wv:c@X.test"].map(String::from);
        assert_eq!(
            by_domain(members.to_vec()),
            vec![
                vec!["wv:a@x.test".to_owned(), "wv:c@X.test".to_owned()],
                vec!["wv:b@y.test".to_owned()]
            ]
        );
    }
}
